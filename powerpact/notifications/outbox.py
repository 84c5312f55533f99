"""Emitting an event: one outbox row per (event, recipient), made exactly once.

The row's key is ``(event_key, recipient)`` (a unique constraint). An event emitted again,
by a retry, a repeat or another worker at the same moment, inserts nothing: the insert is
``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL's, and SQLite's, which the
demo runs on, through SQLAlchemy's dialect ``insert``), so only the statement that made a
row gets its id back, and only that id is handed to the send task. The caller commits and
then enqueues the ids (``tasks.enqueue_sends``); a row whose enqueue was lost (the queue
down) is found by the sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import NotificationKind, NotificationOutbox, OutboxStatus
from powerpact.notifications.preferences import recipients_of

OUTBOX = NotificationOutbox.__table__
CHUNK = 1000  # rows per INSERT: far under PostgreSQL's 65,535 parameters


@dataclass(frozen=True)
class Event:
    """Something to tell a shop: its kind, its key (the same event, the same key) and facts."""

    kind: NotificationKind
    shop_domain: str
    key: str
    payload: dict[str, Any]


def insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> list[int]:
    """Insert outbox rows; a row whose (event, recipient) exists is skipped. The new ids."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    made: list[int] = []
    for start in range(0, len(rows), CHUNK):
        statement = (
            dialect_insert(OUTBOX)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["event_key", "recipient"])
            .returning(OUTBOX.c.id)
        )
        made.extend(db.session.execute(statement).scalars())
    return made


def emit(events: Sequence[Event]) -> list[int]:
    """Make the outbox rows of ``events`` for each shop's recipients of that kind; the ids
    of the rows this call made (none for an event already emitted). The caller commits."""
    recipients = recipients_of(e.shop_domain for e in events)
    now = utcnow()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        found = recipients.get(event.shop_domain)
        for address in found.for_kind(event.kind) if found else ():
            rows.setdefault(
                (event.key, address),
                {
                    "event_key": event.key,
                    "recipient": address,
                    "kind": event.kind,
                    "shop_domain": event.shop_domain,
                    "payload": event.payload,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                },
            )
    # In key order: two transactions inserting the same keys wait for each other in one order.
    return insert_ignoring_duplicates([rows[key] for key in sorted(rows)])
