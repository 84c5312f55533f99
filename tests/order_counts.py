"""The order count tables (``powerpact/orders/rollup.py``) against a recount in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import (
    OrderStatus,
    OrderSync,
    OrderSyncDayCount,
    OrderSyncHourCount,
    RetailOrderFirst,
    RetailOrderHourCount,
)

Key = tuple[str, datetime | date, str, str]


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def recounted() -> tuple[Counter[Key], Counter[Key]]:
    """(hour counts, day counts) of the OrderSyncs as the session sees them now, keyed by
    partner, hour or day, status and reason (the failure reason of a failed one, else '')."""
    db.session.flush()
    hours: Counter[Key] = Counter()
    days: Counter[Key] = Counter()
    rows = db.session.execute(
        select(
            OrderSync.partner_shop_domain,
            OrderSync.created_at,
            OrderSync.status,
            OrderSync.last_order_failure_reason,
        )
    )
    for partner, created, status, failure in rows:
        created = created.astimezone(UTC)
        reason = (failure.value if failure else "") if status == OrderStatus.FAILED else ""
        hours[(partner, hour_of(created), status.value, reason)] += 1
        days[(partner, created.date(), status.value, reason)] += 1
    return hours, days


def stored() -> tuple[Counter[Key], Counter[Key]]:
    """(hour counts, day counts) as the count tables hold them, rows of 0 left out (read as
    rows, not entities, so that no object the session holds stands in for the table)."""
    db.session.flush()
    hours: Counter[Key] = Counter()
    days: Counter[Key] = Counter()
    h, d = OrderSyncHourCount, OrderSyncDayCount
    for partner, hour, status, reason, orders in db.session.execute(
        select(h.partner_shop_domain, h.hour, h.status, h.reason, h.orders).where(h.orders != 0)
    ):
        hours[(partner, hour, status.value, reason)] = orders
    for partner, day, status, reason, orders in db.session.execute(
        select(d.partner_shop_domain, d.day, d.status, d.reason, d.orders).where(d.orders != 0)
    ):
        days[(partner, day, status.value, reason)] = orders
    return hours, days


def retail_recounted() -> tuple[dict[str, datetime], Counter[datetime]]:
    """(each retail order's first OrderSync time, retail orders first seen per hour)."""
    db.session.flush()
    firsts: dict[str, datetime] = {}
    for order, created in db.session.execute(
        select(OrderSync.bubbly_order_id, OrderSync.created_at)
    ):
        created = created.astimezone(UTC)
        firsts[order] = min(firsts.get(order, created), created)
    return firsts, Counter(hour_of(first) for first in firsts.values())


def retail_stored() -> tuple[dict[str, datetime], Counter[datetime]]:
    """The same as the tables hold them, hours of 0 left out."""
    db.session.flush()
    firsts = {
        order: first.astimezone(UTC)
        for order, first in db.session.execute(
            select(RetailOrderFirst.bubbly_order_id, RetailOrderFirst.first_at)
        )
    }
    hours: Counter[datetime] = Counter()
    for hour, orders in db.session.execute(
        select(RetailOrderHourCount.hour, RetailOrderHourCount.orders).where(
            RetailOrderHourCount.orders != 0
        )
    ):
        hours[hour] = orders
    return firsts, hours


def assert_counts_match() -> None:
    expected, actual = recounted(), stored()
    assert actual[0] == expected[0], "hour counts differ from a recount"
    assert actual[1] == expected[1], "day counts differ from a recount"
    retail_expected, retail_actual = retail_recounted(), retail_stored()
    assert retail_actual[0] == retail_expected[0], "retail order firsts differ from a recount"
    assert retail_actual[1] == retail_expected[1], "retail order hours differ from a recount"
