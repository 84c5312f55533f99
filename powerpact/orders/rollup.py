"""How many OrderSyncs, per partner, hour or day of creation, status and failure reason,
and how many retail orders first seen per hour: read without counting ``order_syncs``.

Two tables hold the counts: ``order_sync_hour_counts`` per (partner, the UTC hour of
``created_at``, status, reason) and ``order_sync_day_counts`` per (partner, the UTC day,
status, reason); ``reason`` is the failure reason of a failed OrderSync ('' when none is
recorded) and '' for any other status. ``retail_order_firsts`` holds each retail order's
first OrderSync time (the least ``created_at`` of its OrderSyncs) and
``retail_order_hour_counts`` how many retail orders were first seen in each UTC hour: a
retail order split between partners, or given a partner later by an edit, counts once.
Triggers on ``order_syncs`` (migrations 0015 and 0025) keep them in the transaction of
every change: an OrderSync inserted or deleted, or its status, failure reason, partner,
retail order or ``created_at`` updated, by whatever path (the ORM, a Core UPDATE such as
a send's, a partner's deletion cascading to its orders, plain SQL). The seam is the
database, so no code path can forget it; ``tests/orders/conftest.py`` checks the counts
against a recount after every order test, and ``tests/orders/test_rollup.py`` and
``test_home_counts.py`` drive random changes through every kind of statement.

Locks: a change locks the count rows of its partner's hour and day until it commits
(an upsert: ``INSERT ... ON CONFLICT DO UPDATE``), the keys of one statement in key
order. Different partners' orders, and orders of other hours or days, are other rows;
changes of one partner's orders of one hour wait for each other at the count row, as
the send already serializes a partner's orders on its row.

Readers:

- ``status_counts``: the order tables' counts by status, from a whole UTC hour on (the
  whole days from the day table, the hours of the first day from the hour table): at
  most 31 days' and 23 hours' rows per partner and status, whatever the table's size.
- The charts' statement, ``hours_per_day``: the hour counts summed per period of a
  shop's days (``charts_data`` reads it). An order counts on the day it was created; a
  status is the one it has now. A day is the zone's, from one local midnight to the next
  (23 or 25 hours across a change of clocks); an hour is given to the day its start falls
  in, which is exact in every zone whose offset is whole hours (a zone at :30 or :45
  shifts half an hour's orders to a neighbouring day).

- The home's figures: ``failed_by_reason`` (failed OrderSyncs by reason since any
  moment, exact: whole days and hours from the counts, the minutes before the first whole
  hour from ``order_syncs``), ``retail_orders_per_period`` (retail orders first seen per
  local day, an hour to the day its start falls in) and ``retail_orders_since`` ("orders
  today": the whole hours' counts and the first minutes from ``retail_order_firsts``).

A retail order's first is refreshed from its OrderSyncs (the index that begins with
``bubbly_order_id``) whenever a change touches one of them, and the hour counts move from
the stored first to the new one; so any statement, however many rows, leaves them exact.
On PostgreSQL the retail order's row in ``retail_order_firsts`` is locked first (a
placeholder inserted if it has none), so a second transaction changing the same retail
order waits, then reads what the first committed.

``reconcile_counts`` recounts a window from ``order_syncs`` and corrects any drift (a
change made with triggers off, by hand); the orders' daily task runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    ScalarSelect,
    Select,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from powerpact.db_types import UTCDateTime, time_slot, utcnow
from powerpact.extensions import db
from powerpact.models import (
    OrderStatus,
    OrderSync,
    OrderSyncDayCount,
    OrderSyncHourCount,
    RetailOrderFirst,
    RetailOrderHourCount,
)

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
RECONCILE_DAYS = 31  # the order tables' 30 days, and the day the window starts in
LOGGED_CORRECTIONS = 20
# pg_advisory_xact_lock key: one reconciliation at a time ("PPRC" in ASCII).
RECONCILE_LOCK = 0x50505243

CountTable = type[OrderSyncHourCount] | type[OrderSyncDayCount]


@dataclass(frozen=True)
class Correction:
    """A count row that was wrong: its key, what it said and what the rows say."""

    table: str
    partner_shop_domain: str
    bucket: datetime | date
    status: str
    stored: int
    actual: int
    reason: str = ""

    def __str__(self) -> str:
        key = " ".join(
            part
            for part in (
                self.partner_shop_domain,
                self.bucket.isoformat(),
                self.status,
                self.reason,
            )
            if part
        )
        return f"{self.table} {key}: {self.stored} -> {self.actual}"


@dataclass(frozen=True)
class Reconciled:
    """What a reconciliation found wrong and corrected (nothing, normally)."""

    since: datetime | None
    corrections: list[Correction]
    # The retail orders' counts: hour rows corrected, and retail orders whose stored first
    # OrderSync time was wrong (refreshed, which moves their hour counts).
    retail_corrections: list[Correction] = field(default_factory=list)
    firsts_refreshed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "corrected": len(self.corrections),
            "retail_corrected": len(self.retail_corrections) + self.firsts_refreshed,
        }


def floor_hour(moment: datetime) -> datetime:
    """The start of ``moment``'s hour, in UTC."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC day."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _status_counts_statement(*, one_partner: bool) -> Select[Any]:
    """The counts by status from ``:first_day`` (day rows) and of the hours from ``:since``
    to ``:first_day`` (hour rows), of ``:partner`` if ``one_partner``. Built once: a page
    binds its values (building the statement cost more than running it)."""
    days = select(OrderSyncDayCount.status, OrderSyncDayCount.orders).where(
        OrderSyncDayCount.day >= bindparam("first_day", type_=Date())
    )
    hours = select(OrderSyncHourCount.status, OrderSyncHourCount.orders).where(
        OrderSyncHourCount.hour >= bindparam("since", type_=UTCDateTime()),
        OrderSyncHourCount.hour < bindparam("first_day_start", type_=UTCDateTime()),
    )
    if one_partner:
        days = days.where(OrderSyncDayCount.partner_shop_domain == bindparam("partner"))
        hours = hours.where(OrderSyncHourCount.partner_shop_domain == bindparam("partner"))
    both = union_all(days, hours).subquery()
    return select(both.c.status, func.sum(both.c.orders)).group_by(both.c.status)


STATUS_COUNTS = _status_counts_statement(one_partner=False)
PARTNER_STATUS_COUNTS = _status_counts_statement(one_partner=True)


def status_counts(since: datetime, partner_domain: str | None = None) -> dict[str, int]:
    """OrderSyncs created from ``since`` (a whole UTC hour) on, by status (each status, 0
    when none), of one partner or of all.

    Reads the whole UTC days from the day table and the hours before the first of them
    from the hour table: one indexed range of each, flat in the number of orders.
    """
    if since != floor_hour(since):
        raise ValueError(f"since must be a whole UTC hour, not {since.isoformat()}")
    first_whole_day = floor_day(since) if since == floor_day(since) else floor_day(since) + DAY
    values: dict[str, Any] = {
        "first_day": first_whole_day.date(),
        "since": since,
        "first_day_start": first_whole_day,
    }
    statement = STATUS_COUNTS
    if partner_domain:
        statement, values["partner"] = PARTNER_STATUS_COUNTS, partner_domain
    counts = {s.value: 0 for s in OrderStatus}
    for status, orders in db.session.execute(statement, values):
        counts[OrderStatus(status).value] += int(orders)
    return counts


def hours_per_day(
    edges: Sequence[datetime] | Sequence[BindParameter[datetime]],
    *,
    partner_domain: str | BindParameter[str] | None = None,
    by_partner: bool = False,
) -> Select[Any]:
    """(partner or "", period, orders): the hour counts summed per period between
    consecutive ``edges`` (a shop's local midnights, ``timezones.start_of_day``), an hour
    going to the period its start falls in. The hours are summed first (over statuses,
    and partners unless ``by_partner``), so the period's CASE (``db_types.time_slot``, the
    same SQL on PostgreSQL and SQLite) runs once per hour, not once per count row."""
    table = OrderSyncHourCount
    partner = table.partner_shop_domain if by_partner else literal("")
    hourly = select(partner.label("partner"), table.hour, func.sum(table.orders).label("orders"))
    hourly = hourly.where(table.hour >= edges[0], table.hour < edges[-1])
    if partner_domain is not None:
        hourly = hourly.where(table.partner_shop_domain == partner_domain)
    summed = hourly.group_by(partner, table.hour).subquery()
    period = time_slot(summed.c.hour, edges)
    return select(summed.c.partner, period, func.sum(summed.c.orders)).group_by(
        summed.c.partner, period
    )


def ceil_hour(moment: datetime) -> datetime:
    """The start of the first whole UTC hour from ``moment`` on (``moment`` if whole)."""
    hour = floor_hour(moment)
    return hour if hour == moment else hour + HOUR


def retail_orders_per_period(edges: list[datetime]) -> Select[int, int]:
    """(period, orders): the retail orders first seen (the hour of their first OrderSync,
    ``RetailOrderHourCount``) in each period between consecutive ``edges``, an hour going
    to the period its start falls in, as ``hours_per_day``."""
    table = RetailOrderHourCount
    period = time_slot(table.hour, edges)
    return (
        select(period, func.sum(table.orders))
        .where(table.hour >= edges[0], table.hour < edges[-1])
        .group_by(period)
    )


def retail_orders_since(since: datetime) -> ScalarSelect[int]:
    """How many retail orders were first seen from ``since`` on, exactly, whatever the
    minute: the whole hours' counts, and the first minutes before the first whole hour
    from the stored firsts (an indexed range of at most an hour)."""
    first_hour = ceil_hour(since)
    hours = select(RetailOrderHourCount.orders.label("orders")).where(
        RetailOrderHourCount.hour >= first_hour
    )
    minutes = select(func.count().label("orders")).where(
        RetailOrderFirst.first_at >= since, RetailOrderFirst.first_at < first_hour
    )
    both = union_all(hours, minutes).subquery()
    return select(func.coalesce(func.sum(both.c.orders), 0)).scalar_subquery()


def failed_by_reason(since: datetime, partner_domain: str | None = None) -> dict[str, int]:
    """The OrderSyncs created from ``since`` on that are failed now, by failure reason (''
    when none is recorded), of one partner or all; reasons with none left out. Exact at any
    ``since``: the whole UTC days from the day counts, the whole hours before the first of
    them from the hour counts, and the minutes before the first whole hour from
    ``order_syncs`` (at most an hour's rows, by the status and time index)."""
    first_hour = ceil_hour(since)
    first_day = floor_day(first_hour)
    if first_day != first_hour:
        first_day += DAY
    day, hour = OrderSyncDayCount, OrderSyncHourCount
    failed = OrderStatus.FAILED
    days = select(day.reason.label("reason"), day.orders.label("orders")).where(
        day.status == failed, day.day >= first_day.date()
    )
    hours = select(hour.reason, hour.orders).where(
        hour.status == failed, hour.hour >= first_hour, hour.hour < first_day
    )
    failure = func.coalesce(type_coerce(OrderSync.last_order_failure_reason, String()), "")
    minutes = (
        select(failure, func.count())
        .where(
            OrderSync.status == failed,
            OrderSync.created_at >= since,
            OrderSync.created_at < first_hour,
        )
        .group_by(OrderSync.last_order_failure_reason)
    )
    if partner_domain is not None:
        days = days.where(day.partner_shop_domain == partner_domain)
        hours = hours.where(hour.partner_shop_domain == partner_domain)
        minutes = minutes.where(OrderSync.partner_shop_domain == partner_domain)
    both = union_all(days, hours, minutes).subquery()
    statement = select(both.c.reason, func.sum(both.c.orders)).group_by(both.c.reason)
    counts = {str(reason): int(orders) for reason, orders in db.session.execute(statement)}
    return {reason: orders for reason, orders in counts.items() if orders}


def _buckets(table: CountTable) -> tuple[Any, ColumnElement[Any]]:
    """The table's bucket column and the same bucket computed from ``OrderSync.created_at``,
    as the triggers compute it."""
    postgresql = db.engine.dialect.name == "postgresql"
    if table is OrderSyncHourCount:
        hour = (
            func.date_trunc("hour", OrderSync.created_at, "UTC")
            if postgresql
            else func.strftime("%Y-%m-%d %H:00:00.000000", OrderSync.created_at)
        )
        return OrderSyncHourCount.hour, type_coerce(hour, UTCDateTime())
    day = (
        cast(func.timezone("UTC", OrderSync.created_at), Date)
        if postgresql
        else func.date(OrderSync.created_at)
    )
    return OrderSyncDayCount.day, type_coerce(day, Date())


def reason_key() -> ColumnElement[str]:
    """An OrderSync's ``reason`` in the count tables' key, as the triggers compute it: its
    failure reason when failed ('' when none is recorded), '' for any other status."""
    return case(
        (
            OrderSync.status == OrderStatus.FAILED,
            func.coalesce(type_coerce(OrderSync.last_order_failure_reason, String()), ""),
        ),
        else_="",
    )


def _drift(table: CountTable, since: datetime | None) -> Select[Any]:
    """Each count row of ``table`` from ``since`` (a whole UTC day, or None: every row) that
    differs from a recount of ``order_syncs``: key, stored, actual. One statement, so both
    sides are read from one snapshot."""
    bucket, computed = _buckets(table)
    stored = select(
        table.partner_shop_domain.label("partner"),
        bucket.label("bucket"),
        table.status.label("status"),
        table.reason.label("reason"),
        table.orders.label("stored"),
        literal(0).label("actual"),
    )
    reason = reason_key()
    actual = select(
        OrderSync.partner_shop_domain,
        computed,
        OrderSync.status,
        reason,
        literal(0),
        func.count(),
    ).group_by(OrderSync.partner_shop_domain, computed, OrderSync.status, reason)
    if since is not None:
        start = since if table is OrderSyncHourCount else since.date()
        stored = stored.where(bucket >= start)
        actual = actual.where(OrderSync.created_at >= since)
    both = union_all(stored, actual).subquery()
    key = (both.c.partner, both.c.bucket, both.c.status, both.c.reason)
    return (
        select(
            *key,
            func.sum(both.c.stored).label("stored"),
            func.sum(both.c.actual).label("actual"),
        )
        .group_by(*key)
        .having(func.sum(both.c.stored) != func.sum(both.c.actual))
        .order_by(*key)
    )


def _corrections(table: CountTable, since: datetime | None) -> list[Correction]:
    """Find ``table``'s drift from ``since`` and add the difference to each wrong row."""
    bucket_name = "hour" if table is OrderSyncHourCount else "day"
    drift = _drift(table, since)
    columns = ["partner_shop_domain", bucket_name, "status", "reason", "orders"]
    if db.engine.dialect.name == "postgresql":
        # The drift and its correction in one statement: a commit between a separate
        # read and write would look like drift. Each row gets what it lacked added to
        # whatever it holds by then (changes committed since were counted by the triggers).
        found = drift.cte("drift")
        upsert = pg_insert(table).from_select(
            columns,
            select(
                found.c.partner,
                found.c.bucket,
                found.c.status,
                found.c.reason,
                found.c.actual - found.c.stored,
            ),
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=columns[:4], set_={"orders": table.orders + upsert.excluded.orders}
        )
        statement = select(found).add_cte(upsert.cte("corrected"))
        rows = db.session.execute(statement).all()
    else:
        rows = db.session.execute(drift).all()
        for partner, bucket, status, reason, stored, actual in rows:
            sqlite_upsert = sqlite_insert(table).values(
                {
                    columns[0]: partner,
                    columns[1]: bucket,
                    "status": status,
                    "reason": reason,
                    "orders": actual - stored,
                }
            )
            db.session.execute(
                sqlite_upsert.on_conflict_do_update(
                    index_elements=columns[:4],
                    set_={"orders": table.orders + sqlite_upsert.excluded.orders},
                )
            )
    emptied = delete(table).where(table.orders == 0)
    if since is not None:
        bucket, _ = _buckets(table)
        emptied = emptied.where(bucket >= (since if table is OrderSyncHourCount else since.date()))
    db.session.execute(emptied)
    return [
        Correction(
            table.__tablename__, partner, bucket, OrderStatus(status).value, stored, actual, reason
        )
        for partner, bucket, status, reason, stored, actual in rows
    ]


def _utc_hour(moment: Any) -> ColumnElement[datetime]:
    """The start of a time column's UTC hour, as the triggers compute it."""
    if db.engine.dialect.name == "postgresql":
        return type_coerce(func.date_trunc("hour", moment, "UTC"), UTCDateTime())
    return type_coerce(func.strftime("%Y-%m-%d %H:00:00.000000", moment), UTCDateTime())


def _refresh_firsts(since: datetime | None) -> int:
    """Set each retail order's stored first (``RetailOrderFirst``) to the least
    ``created_at`` of its OrderSyncs, for the retail orders with an OrderSync created from
    ``since`` or a stored first from then (None: all); return how many were wrong. The
    hour counts are corrected after, from the firsts (``_retail_corrections``)."""
    first = RetailOrderFirst
    actual = select(
        OrderSync.bubbly_order_id.label("order"),
        literal(None, UTCDateTime()).label("stored"),
        func.min(OrderSync.created_at).label("actual"),
    )
    stored = select(first.bubbly_order_id, first.first_at, literal(None, UTCDateTime()))
    if since is not None:
        touched = union_all(
            select(OrderSync.bubbly_order_id).where(OrderSync.created_at >= since),
            select(first.bubbly_order_id).where(first.first_at >= since),
        )
        actual = actual.where(OrderSync.bubbly_order_id.in_(touched))
        stored = stored.where(first.bubbly_order_id.in_(touched))
    both = union_all(actual.group_by(OrderSync.bubbly_order_id), stored).subquery()
    drift = (
        select(
            both.c.order,
            func.max(both.c.stored).label("stored"),
            func.max(both.c.actual).label("actual"),
        )
        .group_by(both.c.order)
        .having(func.max(both.c.stored).is_distinct_from(func.max(both.c.actual)))
    )
    if db.engine.dialect.name == "postgresql":
        found = drift.cte("drift")
        upsert = pg_insert(first).from_select(
            ["bubbly_order_id", "first_at"],
            select(found.c.order, found.c.actual).where(found.c.actual.is_not(None)),
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["bubbly_order_id"], set_={"first_at": upsert.excluded.first_at}
        )
        removed = delete(first).where(
            first.bubbly_order_id.in_(select(found.c.order).where(found.c.actual.is_(None)))
        )
        statement = (
            select(func.count())
            .select_from(found)
            .add_cte(upsert.cte("refreshed"))
            .add_cte(removed.cte("removed"))
        )
        return int(db.session.scalar(statement) or 0)
    rows = db.session.execute(drift).all()
    for order, _, actual_first in rows:
        db.session.execute(delete(first).where(first.bubbly_order_id == order))
        if actual_first is not None:
            db.session.execute(
                sqlite_insert(first).values(bubbly_order_id=order, first_at=actual_first)
            )
    return len(rows)


def _retail_corrections(since: datetime | None) -> list[Correction]:
    """Correct ``RetailOrderHourCount`` from ``since`` (None: all) to the stored firsts
    counted per hour (added differences, as ``_corrections``)."""
    table, first = RetailOrderHourCount, RetailOrderFirst
    hour = _utc_hour(first.first_at)
    stored = select(
        table.hour.label("hour"), table.orders.label("stored"), literal(0).label("actual")
    )
    actual = select(hour, literal(0), func.count()).group_by(hour)
    if since is not None:
        stored = stored.where(table.hour >= since)
        actual = actual.where(first.first_at >= since)
    both = union_all(stored, actual).subquery()
    drift = (
        select(
            both.c.hour,
            func.sum(both.c.stored).label("stored"),
            func.sum(both.c.actual).label("actual"),
        )
        .group_by(both.c.hour)
        .having(func.sum(both.c.stored) != func.sum(both.c.actual))
        .order_by(both.c.hour)
    )
    if db.engine.dialect.name == "postgresql":
        found = drift.cte("drift")
        upsert = pg_insert(table).from_select(
            ["hour", "orders"], select(found.c.hour, found.c.actual - found.c.stored)
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["hour"], set_={"orders": table.orders + upsert.excluded.orders}
        )
        rows = db.session.execute(select(found).add_cte(upsert.cte("corrected"))).all()
    else:
        rows = db.session.execute(drift).all()
        for bucket, stored_orders, actual_orders in rows:
            sqlite_upsert = sqlite_insert(table).values(
                hour=bucket, orders=actual_orders - stored_orders
            )
            db.session.execute(
                sqlite_upsert.on_conflict_do_update(
                    index_elements=["hour"],
                    set_={"orders": table.orders + sqlite_upsert.excluded.orders},
                )
            )
    emptied = delete(table).where(table.orders == 0)
    if since is not None:
        emptied = emptied.where(table.hour >= since)
    db.session.execute(emptied)
    return [
        Correction(table.__tablename__, "", bucket, "", stored_orders, actual_orders)
        for bucket, stored_orders, actual_orders in rows
    ]


def reconcile_counts(days: int | None = RECONCILE_DAYS) -> Reconciled:
    """Recount the OrderSyncs created in the last ``days`` whole UTC days (today included;
    None: every OrderSync, as to fill empty tables) and correct the count rows that differ,
    logging each correction (the first few one by one). Commits.

    Changes committed while it runs are safe: the triggers count them, and a correction
    adds a difference read in one snapshot with the rows it recounts.
    """
    since = None if days is None else floor_day(utcnow()) - (days - 1) * DAY
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECONCILE_LOCK})
    corrections = [
        *_corrections(OrderSyncHourCount, since),
        *_corrections(OrderSyncDayCount, since),
    ]
    if db.engine.dialect.name == "postgresql":
        # A retail order's first is a value, not a sum of differences: no trigger may
        # change one between this recount and its correction. The lock waits for the
        # transactions that changed them to commit, and holds the next ones until this
        # one does (orders captured meanwhile wait; the window's recount takes seconds).
        db.session.execute(
            text(
                "LOCK TABLE retail_order_firsts, retail_order_hour_counts"
                " IN SHARE ROW EXCLUSIVE MODE"
            )
        )
    firsts_refreshed = _refresh_firsts(since)
    retail = _retail_corrections(since)
    db.session.commit()
    if firsts_refreshed or retail:
        log.warning(
            "retail order counts: %d firsts and %d hour rows corrected",
            firsts_refreshed,
            len(retail),
        )
    for correction in corrections[:LOGGED_CORRECTIONS]:
        log.warning("order counts corrected: %s", correction)
    if corrections:
        log.warning(
            "order counts: %d rows corrected since %s",
            len(corrections),
            since.isoformat() if since else "the first order",
        )
    else:
        log.info("order counts: none drifted since %s", since.isoformat() if since else "ever")
    return Reconciled(since, corrections, retail, firsts_refreshed)
