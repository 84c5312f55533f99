"""SMTP settings from the environment; the password never shown."""

from __future__ import annotations

import pytest

from powerpact.config import ConfigError, Settings, SmtpSettings


def test_no_smtp_setting_means_the_maildir():
    assert SmtpSettings.from_env({}) is None


def test_smtp_url_with_user_password_port_and_tls():
    found = SmtpSettings.from_env(
        {"SMTP_URL": "smtp://mailer%40shop:p%40ss word@mail.example.com:2525?tls=none"}
    )
    assert found == SmtpSettings(
        host="mail.example.com", port=2525, user="mailer@shop", password="p@ss word", tls="none"
    )
    assert "p@ss" not in repr(found)


@pytest.mark.parametrize(
    ("url", "port", "tls"),
    [
        ("smtp://mail.example.com", 587, "starttls"),
        ("smtps://mail.example.com", 465, "ssl"),
        ("smtp://mail.example.com?tls=ssl", 465, "ssl"),
    ],
)
def test_smtp_url_defaults(url, port, tls):
    found = SmtpSettings.from_url(url)
    assert (found.port, found.tls, found.user, found.password) == (port, tls, None, None)


def test_smtp_parts_from_their_own_variables():
    found = SmtpSettings.from_env(
        {
            "SMTP_HOST": "smtp.example.com",
            "SMTP_PORT": "2587",
            "SMTP_USER": "u",
            "SMTP_PASSWORD": "secret-pw",
            "SMTP_TLS": "STARTTLS",
        }
    )
    assert found == SmtpSettings("smtp.example.com", 2587, "u", "secret-pw", "starttls")
    assert "secret-pw" not in repr(found)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"SMTP_URL": "http://mail.example.com"}, "SMTP_URL must look like"),
        ({"SMTP_URL": "smtp://mail.example.com?tls=maybe"}, "SMTP TLS must be one of"),
        ({"SMTP_URL": "smtp://mail.example.com:notaport"}, "port that is not a number"),
        ({"SMTP_HOST": "h", "SMTP_PORT": "99999"}, "SMTP_PORT must be a port number"),
    ],
)
def test_a_wrong_smtp_setting_stops_start_up_with_one_line(env, complaint):
    with pytest.raises(ConfigError) as refused:
        SmtpSettings.from_env(env)
    assert complaint in str(refused.value)
    assert "secret" not in str(refused.value)


def test_the_settings_carry_smtp_and_the_sender(tmp_path):
    settings = Settings.from_env(
        {
            "POWERPACT_INSTANCE_DIR": str(tmp_path),
            "SMTP_URL": "smtp://u:topsecret@mail.example.com",
            "MAIL_FROM": "Bubbly <ops@bubbly.example>",
        }
    )
    assert settings.smtp is not None and settings.smtp.host == "mail.example.com"
    assert settings.mail_from == "Bubbly <ops@bubbly.example>"
    assert "topsecret" not in repr(settings)
