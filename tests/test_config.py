import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from powerpact.config import (
    DEVELOPMENT_DEFAULTS,
    PROJECT_ROOT,
    SANDBOX_ADMIN_ORIGIN,
    ConfigError,
    Settings,
    fernet_key_weakness,
    normalise_database_url,
    secret_weakness,
)
from powerpact.reliability.processes import free_port
from powerpact.sandbox.config import SandboxConfig

GOOD_PRODUCTION = {
    "POWERPACT_ENV": "production",
    "DATABASE_URL": "postgres://u:p@db.internal:5432/powerpact",
    "REDIS_URL": "redis://kv.internal:6379",
    "SECRET_KEY": secrets.token_urlsafe(48),
    "SHOPIFY_API_KEY": "key",
    "SHOPIFY_API_SECRET": "shpss_" + secrets.token_hex(16),
    "SHOPIFY_ADMIN_ORIGIN": "https://{shop}",
    "APP_URL": "https://powerpact.onrender.com",
    "RETAIL_SHOP": "bubbly.myshopify.com",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def test_production_settings_are_read_and_normalised():
    settings = Settings.from_env(GOOD_PRODUCTION)
    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://u:p@db.internal:5432/powerpact"
    assert settings.flask_config()["SESSION_COOKIE_SECURE"] is True


def test_production_names_every_missing_setting_in_one_message():
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k not in {"SHOPIFY_API_SECRET", "REDIS_URL"}}
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env(env)
    message = str(excinfo.value)
    assert "SHOPIFY_API_SECRET is not set" in message
    assert "REDIS_URL is not set" in message
    assert "DATABASE_URL" not in message


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", "short", "SECRET_KEY is weak"),
        ("SHOPIFY_API_SECRET", "abc", "SHOPIFY_API_SECRET is weak"),
        ("DATABASE_URL", "sqlite:///x.db", "must point at PostgreSQL"),
        ("APP_URL", "http://powerpact.example", "https://"),
        ("RETAIL_SHOP", "evil.com", "*.myshopify.com"),
        ("TOKEN_ENCRYPTION_KEYS", "not-a-key", "not a Fernet key"),
    ],
)
def test_production_refuses_weak_settings(name, value, complaint):
    with pytest.raises(ConfigError, match="cannot start in production") as excinfo:
        Settings.from_env({**GOOD_PRODUCTION, name: value})
    assert complaint in str(excinfo.value)


def test_development_generates_and_keeps_its_own_secrets(tmp_path):
    env = {"POWERPACT_INSTANCE_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert not first.is_production
    assert first.database_url == f"sqlite:///{tmp_path / 'powerpact.db'}"
    assert first.redis_url is None
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.token_encryption_keys == second.token_encryption_keys
    Fernet(first.token_encryption_keys[0])
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_several_encryption_keys_are_split_in_order(tmp_path):
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {"POWERPACT_INSTANCE_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEYS": f"{k1}, {k2}"}
    assert Settings.from_env(env).token_encryption_keys == (k1, k2)


def test_other_database_urls_are_left_alone():
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"


def test_the_delivery_sweep_age_defaults_to_three_minutes_and_can_be_set():
    assert Settings.from_env(GOOD_PRODUCTION).delivery_sweep_after_seconds == 180
    env = {**GOOD_PRODUCTION, "DELIVERY_SWEEP_AFTER_SECONDS": "20"}
    assert Settings.from_env(env).delivery_sweep_after_seconds == 20


def test_the_partner_search_lag_defaults_to_ten_seconds_and_can_be_set():
    assert Settings.from_env(GOOD_PRODUCTION).partner_search_lag_seconds == 10.0
    env = {**GOOD_PRODUCTION, "PARTNER_SEARCH_LAG_SECONDS": "2.5"}
    assert Settings.from_env(env).partner_search_lag_seconds == 2.5


# Issue 18, finding 5: weak production settings, an unknown POWERPACT_ENV.

ALL_ZERO_FERNET_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", "a" * 32, "SECRET_KEY is weak: fewer than 8 different characters"),
        ("SECRET_KEY", "secret" * 6, "SECRET_KEY is weak: fewer than 8 different characters"),
        ("SECRET_KEY", "0123456789abcdef" * 2, "SECRET_KEY is weak: one piece repeated"),
        ("SHOPIFY_API_SECRET", "secretsecretsecret", "SHOPIFY_API_SECRET is weak: under 32"),
        ("SHOPIFY_API_SECRET", SandboxConfig.api_secret, "SHOPIFY_API_SECRET is a development"),
        ("SHOPIFY_API_KEY", "powerpact-dev-key", "SHOPIFY_API_KEY is a development default"),
        ("SHOPIFY_ADMIN_ORIGIN", "http://{shop}", "SHOPIFY_ADMIN_ORIGIN must be an https://"),
        ("SHOPIFY_ADMIN_ORIGIN", SANDBOX_ADMIN_ORIGIN, "SHOPIFY_ADMIN_ORIGIN must be an https://"),
        ("SHOPIFY_ADMIN_ORIGIN", "https://admin.example.com", "must contain {shop}"),
        ("TOKEN_ENCRYPTION_KEYS", ALL_ZERO_FERNET_KEY, "TOKEN_ENCRYPTION_KEYS holds a weak key"),
    ],
)
def test_production_refuses_development_defaults_weak_secrets_and_plain_http(
    name, value, complaint
):
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env({**GOOD_PRODUCTION, name: value})
    assert complaint in str(excinfo.value)


def test_the_development_defaults_the_code_ships_are_the_ones_refused():
    assert Settings.shopify_api_key in DEVELOPMENT_DEFAULTS
    assert SandboxConfig.api_secret in DEVELOPMENT_DEFAULTS


def test_generated_secrets_of_every_shape_shopify_and_render_use_pass():
    """The rule must never refuse a real secret: 32 hex (Shopify's older app secrets, the
    smallest alphabet in use: fewer than 8 different characters about once in 30 million),
    ``shpss_`` + 32 hex, url-safe base64 (``secrets.token_urlsafe``, Render's generated)."""
    for _ in range(300):
        for secret in (
            secrets.token_hex(16),
            "shpss_" + secrets.token_hex(16),
            secrets.token_urlsafe(32),
        ):
            assert secret_weakness(secret) is None, secret
        assert fernet_key_weakness(Fernet.generate_key().decode()) is None


@pytest.mark.parametrize("mode", ["prod", "staging", "dev", "test"])
def test_an_unknown_powerpact_env_stops_start_up(mode, tmp_path):
    env = {**GOOD_PRODUCTION, "POWERPACT_ENV": mode, "POWERPACT_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="POWERPACT_ENV") as excinfo:
        Settings.from_env(env)
    assert "production or development" in str(excinfo.value)
    assert not (tmp_path / "dev-secrets.json").exists()


def test_development_is_the_default_and_can_be_named(tmp_path):
    base = {"POWERPACT_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).env == "development"
    assert Settings.from_env({**base, "POWERPACT_ENV": "development"}).env == "development"
    assert Settings.from_env({**GOOD_PRODUCTION, "POWERPACT_ENV": " Production"}).is_production


def test_every_problem_is_one_line_of_its_own():
    env = {
        **GOOD_PRODUCTION,
        "SECRET_KEY": "a" * 32,
        "SHOPIFY_API_KEY": "powerpact-dev-key",
        "SHOPIFY_ADMIN_ORIGIN": "http://{shop}",
    }
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env(env)
    lines = str(excinfo.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith("PowerPact cannot start in production: ") for line in lines)


def start_up_output(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POWERPACT_", "FLASK_"))}
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


WEAK_PRODUCTION = {
    **GOOD_PRODUCTION,
    "SECRET_KEY": "a" * 32,
    "SHOPIFY_API_KEY": "powerpact-dev-key",
}
REFUSALS = [
    "PowerPact cannot start in production: SECRET_KEY is weak: fewer than 8 different characters",
    "PowerPact cannot start in production: SHOPIFY_API_KEY is a development default",
]


def test_the_wsgi_entry_point_says_what_is_wrong_without_a_traceback():
    result = start_up_output([sys.executable, "-c", "import wsgi"], WEAK_PRODUCTION)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for refusal in REFUSALS:
        assert refusal in result.stderr


@pytest.mark.parametrize("preload", [["--preload"], []], ids=["as-on-render", "no-preload"])
def test_gunicorn_stops_once_with_one_line_per_problem_and_no_traceback(preload):
    """With ``--preload`` wsgi.py stops the master; without it the config hook does (a
    worker that fails to build the app would otherwise be forked again for ever)."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "wsgi:app", *preload]
    command += ["--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"]
    result = start_up_output(command, WEAK_PRODUCTION)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for refusal in REFUSALS:
        assert sum(refusal in line for line in output.splitlines()) == 1, output


def test_the_huey_consumer_stops_with_one_line_per_problem_and_no_traceback():
    command = [str(Path(sys.executable).parent / "huey_consumer"), "powerpact.tasks.huey"]
    result = start_up_output(command, {**WEAK_PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for refusal in REFUSALS:
        assert sum(refusal in line for line in output.splitlines()) == 1, output
