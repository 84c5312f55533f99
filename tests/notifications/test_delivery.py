"""Sending a row: over SMTP to a real (in-process) server, into the maildir by default,
and again after a failure, with the outcome recorded."""

from __future__ import annotations

import mailbox
import smtplib
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from powerpact.config import SmtpSettings
from powerpact.models import FailureReason, NotificationKind, NotificationOutbox, OutboxStatus
from powerpact.notifications import delivery
from powerpact.notifications.events import order_failure_events
from powerpact.notifications.messages import build_message
from powerpact.notifications.outbox import emit
from powerpact.notifications.preferences import mute
from powerpact.notifications.tasks import emit_and_enqueue, send_notification_task
from powerpact.notifications.transport import (
    TRANSPORT_KEY,
    MaildirTransport,
    SmtpTransport,
    describe_error,
)
from powerpact.worker import create_worker_app
from tests.factories import OrderSyncFactory, PartnerStoreFactory, RetailStoreFactory


@pytest.fixture
def failed_order(db_session):
    RetailStoreFactory()
    partner = PartnerStoreFactory(
        name="North Star Roasters",
        contact_email="owner@north-star.example",
        timezone="America/Los_Angeles",
    )
    return OrderSyncFactory(
        partner=partner,
        failed=True,
        bubbly_order_name="#1042",
        last_order_failure_reason=FailureReason.INSUFFICIENT_INVENTORY,
    )


def test_a_failed_order_reaches_the_smtp_server_once_with_text_html_and_unsubscribe(
    app, failed_order, smtp_inbox, db_session
):
    assert emit_and_enqueue(order_failure_events()) == 1  # huey runs it inline in tests
    assert emit_and_enqueue(order_failure_events()) == 0  # found again: nothing new
    assert len(smtp_inbox.messages) == 1
    message = smtp_inbox.messages[0]
    assert smtp_inbox.envelopes[0][1] == ["owner@north-star.example"]
    assert message["Subject"] == "Order #1042 could not be sent to North Star Roasters"
    assert message["From"].startswith("Bubbly via PowerPact")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:5000/notifications/unsubscribe/"
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "lack of stock" in text
    assert "PST" in text or "PDT" in text  # the partner's own zone
    assert "http://127.0.0.1:5000/partner/orders?status=failed&shop=" in text
    assert "<strong>#1042</strong>" in html
    row = db_session.scalar(select(NotificationOutbox))
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    assert row.sent_at is not None


def test_a_message_waiting_when_its_recipient_unsubscribes_is_withdrawn(
    app, failed_order, smtp_inbox, db_session, monkeypatch
):
    monkeypatch.setattr(delivery, "transport", lambda: pytest.fail("nothing is sent"))
    (outbox_id,) = emit(order_failure_events())
    db_session.commit()
    assert mute(failed_order.partner_shop_domain, NotificationKind.ORDER_FAILED)
    db_session.commit()
    assert delivery.send_one(outbox_id).startswith("withdrawn")
    row = db_session.get(NotificationOutbox, outbox_id)
    assert (row.status, row.attempts) == (OutboxStatus.WITHDRAWN, 0)
    assert delivery.pending_to_sweep() == []


def test_without_smtp_the_message_lands_in_the_maildir(app, failed_order, tmp_path, db_session):
    app.extensions[TRANSPORT_KEY] = MaildirTransport(tmp_path / "mail")
    try:
        assert emit_and_enqueue(order_failure_events()) == 1
    finally:
        app.extensions.pop(TRANSPORT_KEY)
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    [message] = list(box)
    assert message["To"] == "owner@north-star.example"
    assert message.is_multipart()


def test_a_refused_send_is_recorded_and_tried_again_until_it_goes(
    app, failed_order, smtp_inbox, db_session
):
    [outbox_id] = emit(order_failure_events())
    db_session.commit()
    smtp_inbox.refuse = 2
    for attempt in (1, 2):
        with pytest.raises(delivery.SendFailed, match="451"):
            delivery.send_one(outbox_id)
        row = db_session.get(NotificationOutbox, outbox_id)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        assert "451" in row.last_error
    assert delivery.send_one(outbox_id) == "sent"
    assert delivery.send_one(outbox_id) == "already sent"
    row = db_session.get(NotificationOutbox, outbox_id)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, None)
    assert len(smtp_inbox.messages) == 1


def test_the_task_retries_on_smtp_failure(app, failed_order, smtp_inbox, db_session):
    """The task raises so Huey retries it (``retries=5``): the first run fails, the retry
    Huey scheduled sends it."""
    [outbox_id] = emit(order_failure_events())
    db_session.commit()
    smtp_inbox.refuse = 1
    assert send_notification_task.retries == 5
    with pytest.raises(delivery.SendFailed):
        send_notification_task.call_local(outbox_id)
    assert send_notification_task.call_local(outbox_id) == "sent"
    assert len(smtp_inbox.messages) == 1


def test_after_its_last_attempt_a_row_is_failed_and_not_retried(
    app, failed_order, smtp_inbox, db_session, monkeypatch
):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 2)
    [outbox_id] = emit(order_failure_events())
    smtp_inbox.refuse = 5
    with pytest.raises(delivery.SendFailed):
        delivery.send_one(outbox_id)
    assert delivery.send_one(outbox_id) == "failed: gave up"
    assert db_session.get(NotificationOutbox, outbox_id).status == OutboxStatus.FAILED
    assert delivery.send_one(outbox_id) == "already failed"


def test_the_sweep_finds_rows_whose_enqueue_was_lost(app, failed_order, db_session, time_machine):
    time_machine.move_to(failed_order.updated_at, tick=False)
    [outbox_id] = emit(order_failure_events())
    assert delivery.pending_to_sweep() == []  # just made: its own enqueue is on its way
    time_machine.shift(delivery.SWEEP_AFTER * 2)
    assert delivery.pending_to_sweep() == [outbox_id]


def test_smtp_login_failure_never_shows_the_password(smtp_server):
    _, settings = smtp_server
    secret = "hunter2-very-secret"
    with_password = SmtpSettings(
        settings.host, settings.port, user="bob", password=secret, tls="none"
    )
    assert secret not in repr(with_password)
    transport = SmtpTransport(with_password)
    with pytest.raises(smtplib.SMTPException) as caught:
        transport.connect()  # the server offers no AUTH without TLS
    assert secret not in describe_error(caught.value)


def test_the_worker_app_renders_the_message(app, failed_order, db_session):
    """A Huey worker runs the send in the lean app (no blueprints): the message still has
    its parts and its links."""
    [outbox_id] = emit(order_failure_events())
    row = db_session.get(NotificationOutbox, outbox_id)
    worker = create_worker_app(settings=app.config["POWERPACT"])
    with worker.app_context():
        message = build_message(row)
    assert "/partner/orders?status=failed&shop=" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None


def test_huey_schedules_the_retry_of_a_refused_send_and_the_retry_sends_it(
    app, failed_order, smtp_inbox, db_session, time_machine
):
    """Through Huey itself (immediate mode, as in these tests): the failed run is put back
    on the schedule with one retry fewer, and running that retry sends the message."""
    [outbox_id] = emit(order_failure_events())
    db_session.commit()
    smtp_inbox.refuse = 1
    huey = send_notification_task.huey
    huey.storage.flush_schedule()
    try:
        send_notification_task(outbox_id)
        assert smtp_inbox.messages == []
        [retry] = huey.scheduled()
        assert (retry.args, retry.retries) == ((outbox_id,), 4)
        time_machine.move_to(retry.eta.replace(tzinfo=UTC) + timedelta(seconds=1), tick=False)
        huey.execute(retry)
    finally:
        huey.storage.flush_schedule()
    assert len(smtp_inbox.messages) == 1
    assert db_session.get(NotificationOutbox, outbox_id).attempts == 2
