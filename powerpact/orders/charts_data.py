"""The figures the order charts draw: partner orders per day and partner, retail orders per
day, failed orders by reason.

Each is one query over a bounded window. A day is a calendar day
in the viewing shop's time zone (``powerpact.timezones``): from one local midnight to the
next, as instants, and the database puts each ``created_at`` between them
(``db_types.time_slot``). Days without orders are filled in with zeros, so a chart's bars
line up with its days. The signatures take the shop (or none), the number of days and the zone,
and return rows. Each reads the counts the database keeps (``rollup.py``), not
``order_syncs``: the same time at ten million orders as at a thousand.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, bindparam, select

from powerpact.db_types import edge_parameters, edge_values, utcnow
from powerpact.extensions import db
from powerpact.models import FailureReason, PartnerStore
from powerpact.orders.rollup import failed_by_reason, hours_per_day, retail_orders_per_period
from powerpact.timezones import local_days, start_of_day

DAYS = 30


@dataclass(frozen=True)
class PartnerOrdersOnDay:
    """How many partner orders (OrderSyncs) one partner was given on one day."""

    day: date
    partner_domain: str
    partner_name: str
    orders: int


@dataclass(frozen=True)
class RetailOrdersOnDay:
    """How many retail orders with a partner's products were first captured on one day."""

    day: date
    orders: int


@dataclass(frozen=True)
class FailuresForReason:
    """How many of the window's orders are failed for one reason (None: none recorded)."""

    reason: FailureReason | None
    orders: int


def window(days: int, zone: ZoneInfo, now: datetime | None) -> tuple[list[date], list[datetime]]:
    """The window's days in ``zone``, and their local midnights (UTC) with the next day's."""
    dates = local_days(zone, days, now or utcnow())
    edges = [start_of_day(day, zone) for day in dates]
    return dates, [*edges, start_of_day(dates[-1] + timedelta(days=1), zone)]


def partner_orders_per_day(
    shop: str | None, days: int, zone: ZoneInfo, *, now: datetime | None = None
) -> list[PartnerOrdersOnDay]:
    """Partner orders per day and partner over the last ``days`` days in ``zone``, zeros
    included: every partner with an order in the window, or ``shop`` alone (with its zeros
    even if it had none). Ordered by partner name, then day.

    Read from the hourly order counts (``rollup.hours_per_day``), not ``order_syncs``: the
    same time at ten million orders as at a thousand. An hour counts on the day its start
    falls in (exact in every zone whose offset is whole hours)."""
    dates, edges = window(days, zone, now)
    values: dict[str, object] = {**edge_values(edges), "shop": shop}
    statement = partner_orders_statement(len(edges), one_shop=shop is not None)
    counts: dict[tuple[date, str], int] = {}
    names: dict[str, str] = {}
    for period, domain, name, count in db.session.execute(statement, values):
        counts[dates[period], domain] = int(count)
        names[domain] = name or domain
    if shop is not None and shop not in names:
        names[shop] = (
            db.session.scalar(select(PartnerStore.name).where(PartnerStore.shop_domain == shop))
            or shop
        )
    partners = sorted(names, key=lambda domain: (names[domain].lower(), domain))
    return [
        PartnerOrdersOnDay(day, domain, names[domain], counts.get((day, domain), 0))
        for domain in partners
        for day in dates
    ]


@functools.lru_cache(maxsize=64)
def partner_orders_statement(edge_count: int, *, one_shop: bool) -> Select[Any]:
    """(period, partner domain, partner name, orders) over ``edge_count`` edges bound as
    ``db_types.edge_parameters``, of one partner (bound as ``shop``) or of all: built once
    for each window length, as the partner page asks for it on every load."""
    shop = bindparam("shop", type_=String()) if one_shop else None
    per_day = hours_per_day(
        edge_parameters(edge_count), partner_domain=shop, by_partner=True
    ).subquery()
    partner, slot, orders = per_day.c
    return select(slot, PartnerStore.shop_domain, PartnerStore.name, orders).join(
        PartnerStore, PartnerStore.shop_domain == partner
    )


def retail_orders_per_day(
    days: int, zone: ZoneInfo, *, now: datetime | None = None
) -> list[RetailOrdersOnDay]:
    """Retail orders per day over the last ``days`` days in ``zone``, zeros included.

    A retail order counts once, on the day its first OrderSync was recorded: an order that
    gained a partner later (an edit) is not counted again on that later day, and one first
    seen before the window is not counted in it. Read from the retail orders' hourly counts
    (``rollup.retail_orders_per_period``): an hour counts on the day its start falls in.
    """
    dates, edges = window(days, zone, now)
    counts = {
        dates[slot]: int(count)
        for slot, count in db.session.execute(retail_orders_per_period(edges))
    }
    return [RetailOrdersOnDay(day, counts.get(day, 0)) for day in dates]


def failures_by_reason(
    days: int = DAYS, *, shop: str | None = None, now: datetime | None = None
) -> list[FailuresForReason]:
    """The orders of the last ``days`` days (as the order desk counts them: created since
    this moment ``days`` days ago) now failed, by reason, the most frequent first. Read
    from the counts (``rollup.failed_by_reason``)."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = [
        FailuresForReason(FailureReason(reason) if reason else None, count)
        for reason, count in failed_by_reason(since, shop).items()
    ]
    return sorted(rows, key=lambda row: (-row.orders, row.reason or ""))
