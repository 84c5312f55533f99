"""Sending an email: over SMTP when it is configured, else into a maildir under ``instance/``.

SMTP is the standard library's ``smtplib`` (STARTTLS or TLS from the start with the system's
certificate checks, ``ssl.create_default_context``), with the settings of
``config.SmtpSettings``. One connection is kept per thread and opened again when the
server closed it. The default, with no SMTP configured, writes each message to
``instance/mail`` (``mailbox.Maildir``), which ``/dev/mail`` lists in the demo. The
password is never logged: errors are reported by their class and the server's reply.
"""

from __future__ import annotations

import logging
import mailbox
import smtplib
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flask import current_app

from powerpact.config import Settings, SmtpSettings

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class MaildirTransport:
    """Each message a file in a maildir: what the demo and a development machine use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def box(self) -> mailbox.Maildir:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path, create=True)

    def send(self, message: EmailMessage) -> None:
        self.box().add(message)


class SmtpTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.local = threading.local()

    def connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.tls == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if s.user:
                connection.login(s.user, s.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage) -> None:
        connection: smtplib.SMTP | None = getattr(self.local, "connection", None)
        if connection is not None:
            try:
                connection.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self.local.connection = None  # closed while idle: open it again, once
        connection = self.connect()
        self.local.connection = connection
        try:
            connection.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.local.connection = None
            raise

    def close(self) -> None:
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            try:
                connection.quit()
            except smtplib.SMTPException:
                log.debug("SMTP connection already closed")


def maildir_path(settings: Settings) -> Path:
    return settings.instance_dir / "mail"


TRANSPORT_KEY = "powerpact.mail_transport"


def transport() -> Transport:
    """The app's transport, made once per app (a test may put its own in ``extensions``)."""
    app = current_app
    found: Transport | None = app.extensions.get(TRANSPORT_KEY)
    if found is None:
        settings: Settings = app.config["POWERPACT"]
        found = (
            SmtpTransport(settings.smtp)
            if settings.smtp
            else MaildirTransport(maildir_path(settings))
        )
        app.extensions[TRANSPORT_KEY] = found
    return found


def describe_error(exc: BaseException) -> str:
    """An error as stored and logged: its class and the server's words, never a password."""
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"[:1000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{type(exc).__name__}: {len(exc.recipients)} recipient(s) refused"
    return f"{type(exc).__name__}: {exc}"[:1000]
