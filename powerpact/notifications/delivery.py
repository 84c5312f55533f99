"""Sending one outbox row and recording the outcome; what the sweep sends again.

``send_one`` locks the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a second worker given
the same id skips it), sends it unless it was sent, and records ``sent_at``, the attempts
and the status in the same transaction. A row whose recipient no longer wants its kind (an
unsubscribe, or an address taken off, after the row was made and before it went, say while
an SMTP server refused it) is ``withdrawn`` instead: the link stops the next email, whatever
is still waiting. A failure records the attempt and the error (the
SMTP server's reply, never a password) and raises ``SendFailed``, so the task's retries try
again; after ``MAX_ATTEMPTS`` the row is ``failed`` and stays so.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import NotificationOutbox, OutboxStatus
from powerpact.notifications.messages import build_message
from powerpact.notifications.preferences import recipients_of
from powerpact.notifications.transport import describe_error, transport

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
SWEEP_AFTER = timedelta(minutes=5)  # a row still pending this long after its last try
SWEEP_LIMIT = 1000


class SendFailed(Exception):
    """The message was not sent this time; the task's retry sends it again."""


def send_one(outbox_id: int) -> str:
    row = db.session.scalar(
        select(NotificationOutbox)
        .where(NotificationOutbox.id == outbox_id)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        db.session.rollback()
        return "absent or being sent"
    if row.status != OutboxStatus.PENDING:
        db.session.rollback()
        return f"already {row.status.value}"
    if not still_wanted(row):
        row.status = OutboxStatus.WITHDRAWN
        db.session.commit()
        return "withdrawn: the recipient no longer wants it"
    row.attempts += 1
    row.last_attempt_at = utcnow()
    try:
        transport().send(build_message(row))
    except Exception as exc:
        row.last_error = describe_error(exc)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
        db.session.commit()
        log.warning(
            "notification %s to %s not sent (attempt %s): %s",
            outbox_id,
            row.kind.value,
            row.attempts,
            row.last_error,
        )
        if row.status == OutboxStatus.FAILED:
            return "failed: gave up"
        raise SendFailed(row.last_error) from None
    row.status = OutboxStatus.SENT
    row.sent_at = utcnow()
    row.last_error = None
    db.session.commit()
    return "sent"


def still_wanted(row: NotificationOutbox) -> bool:
    """Is the row's address still one its shop gets its kind of email at?"""
    found = recipients_of([row.shop_domain]).get(row.shop_domain)
    return found is not None and row.recipient in found.for_kind(row.kind)


def pending_to_sweep(limit: int = SWEEP_LIMIT) -> list[int]:
    """Rows still pending a while after they were made or last tried: their enqueue was lost
    (the queue was down) or their retries ran out in a worker that died."""
    cutoff = utcnow() - SWEEP_AFTER
    return list(
        db.session.scalars(
            select(NotificationOutbox.id)
            .where(
                NotificationOutbox.status == OutboxStatus.PENDING,
                NotificationOutbox.created_at < cutoff,
                or_(
                    NotificationOutbox.last_attempt_at.is_(None),
                    NotificationOutbox.last_attempt_at < cutoff,
                ),
            )
            .order_by(NotificationOutbox.id)
            .limit(limit)
        )
    )
