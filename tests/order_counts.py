"""The order count tables (``powerpact/orders/rollup.py``) against a recount in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderSync, OrderSyncDayCount, OrderSyncHourCount

Key = tuple[str, datetime | date, str]


def recounted() -> tuple[Counter[Key], Counter[Key]]:
    """(hour counts, day counts) of the OrderSyncs as the session sees them now."""
    db.session.flush()
    hours: Counter[Key] = Counter()
    days: Counter[Key] = Counter()
    rows = db.session.execute(
        select(OrderSync.partner_shop_domain, OrderSync.created_at, OrderSync.status)
    )
    for partner, created, status in rows:
        created = created.astimezone(UTC)
        hours[(partner, created.replace(minute=0, second=0, microsecond=0), status.value)] += 1
        days[(partner, created.date(), status.value)] += 1
    return hours, days


def stored() -> tuple[Counter[Key], Counter[Key]]:
    """(hour counts, day counts) as the count tables hold them, rows of 0 left out (read as
    rows, not entities, so that no object the session holds stands in for the table)."""
    db.session.flush()
    hours: Counter[Key] = Counter()
    days: Counter[Key] = Counter()
    h, d = OrderSyncHourCount, OrderSyncDayCount
    for partner, hour, status, orders in db.session.execute(
        select(h.partner_shop_domain, h.hour, h.status, h.orders).where(h.orders != 0)
    ):
        hours[(partner, hour, status.value)] = orders
    for partner, day, status, orders in db.session.execute(
        select(d.partner_shop_domain, d.day, d.status, d.orders).where(d.orders != 0)
    ):
        days[(partner, day, status.value)] = orders
    return hours, days


def assert_counts_match() -> None:
    expected, actual = recounted(), stored()
    assert actual[0] == expected[0], "hour counts differ from a recount"
    assert actual[1] == expected[1], "day counts differ from a recount"
