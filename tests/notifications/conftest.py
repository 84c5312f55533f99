"""A real SMTP server in this process (aiosmtpd), and the app's transport pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from powerpact.config import SmtpSettings
from powerpact.notifications.transport import TRANSPORT_KEY, SmtpTransport


class Inbox:
    """What the server received: each message parsed, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = 0  # answer the next N messages with 451

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SmtpSettings(host="127.0.0.1", port=port, tls="none", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def smtp_inbox(app, smtp_server) -> Iterator[Inbox]:
    """The app sends over SMTP to the in-process server for this test."""
    inbox, settings = smtp_server
    transport = SmtpTransport(settings)
    app.extensions[TRANSPORT_KEY] = transport
    try:
        yield inbox
    finally:
        transport.close()
        app.extensions.pop(TRANSPORT_KEY, None)
