"""Which partner orders may already exist: a send's start, committed before ``orderCreate``.

A crash between Shopify's answer to ``orderCreate`` and our commit loses the
send's whole transaction, the attempt's own record with it. So the start of each
send is committed first, on a connection of its own (the send's transaction holds
the partner's row lock until its end), and the next send of the same partner
order learns from it that the order may exist already (``push.py`` says what it
does then).

On SQLite (the embedded demo) a second connection cannot write while the send's
transaction holds the database's write lock, so nothing is recorded there and
every send is treated as one that may follow an uncertain attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert

from powerpact.extensions import db
from powerpact.models import SendAttempt

ATTEMPTS = SendAttempt.__table__


@dataclass(frozen=True)
class EarlierAttempt:
    """Earlier sends of the same partner order began, the first at ``first``, the latest
    at ``latest`` (None: not known when). An order one of them made was created after
    ``first``, and may still be on its way from Shopify shortly after ``latest``."""

    first: datetime | None
    latest: datetime | None


UNKNOWN = EarlierAttempt(None, None)
UPSERT = (
    pg_insert(ATTEMPTS)
    .on_conflict_do_update(
        index_elements=[ATTEMPTS.c.identifier],
        set_={
            "previous_started_at": ATTEMPTS.c.last_started_at,
            "last_started_at": pg_insert(ATTEMPTS).excluded.last_started_at,
            "attempts": ATTEMPTS.c.attempts + 1,
        },
    )
    .returning(ATTEMPTS.c.first_started_at, ATTEMPTS.c.previous_started_at, ATTEMPTS.c.attempts)
)


def record_start(identifier: str, partner_domain: str, now: datetime) -> EarlierAttempt | None:
    """Commit that the send of ``identifier`` begins ``now``; say what began before it.

    None means no send of it ever began: no partner order can carry it. One
    autocommitted statement on a pooled connection of its own.
    """
    if db.engine.dialect.name != "postgresql":
        return UNKNOWN
    values = {
        "identifier": identifier,
        "partner_shop_domain": partner_domain,
        "first_started_at": now,
        "last_started_at": now,
        "attempts": 1,
    }
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        first, previous, attempts = connection.execute(UPSERT, values).one()
    return None if attempts == 1 else EarlierAttempt(first, previous)
