"""The stock history: each retail level PowerPact wrote (``stock_changes``), kept 90 days.

The sync records the rows (``sync.record_history``); this module reads them, one variant's
levels per day for its chart and its newest changes, and prunes what is older than
``RETENTION`` in batches, so that a night with millions of old rows never holds one long
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import StockChange

RETENTION = timedelta(days=90)
PRUNE_BATCH = 5_000
DAYS = 30
NEWEST = 50


@dataclass(frozen=True)
class StockDay:
    """A variant's retail level at the end of one day (the viewing shop's), and how many
    levels PowerPact wrote that day."""

    day: date
    level: int
    changes: int


def prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the stock changes older than ``RETENTION``, ``batch`` rows a transaction (the
    oldest first, by the index on ``at``); how many were deleted."""
    cutoff = (now or utcnow()) - RETENTION
    deleted = 0
    while True:
        ids = list(
            db.session.scalars(
                select(StockChange.id)
                .where(StockChange.at < cutoff)
                .order_by(StockChange.at)
                .limit(batch)
            )
        )
        if not ids:
            return deleted
        db.session.execute(delete(StockChange).where(StockChange.id.in_(ids)))
        db.session.commit()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted


def newest_changes(product_map_id: int, limit: int = NEWEST) -> list[StockChange]:
    """The variant's newest stock changes, newest first."""
    return list(
        db.session.scalars(
            select(StockChange)
            .where(StockChange.product_map_id == product_map_id)
            .order_by(StockChange.at.desc(), StockChange.id.desc())
            .limit(limit)
        )
    )


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def stock_per_day(
    product_map_id: int,
    current: int | None,
    zone: ZoneInfo,
    *,
    days: int = DAYS,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[StockDay]:
    """The variant's retail level at the end of each of the last ``days`` days in ``zone``
    (today: now), oldest first, from the day of ``since`` (its import) if that is later:
    there was no retail stock to draw before it. Before the first change in the window the
    level is that change's ``before`` (or the last change before the window's ``after``);
    with no change at all, the level known now (``current``, 0 if unknown)."""
    today = (now or utcnow()).astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    if since is not None:
        first_day = min(max(first_day, since.astimezone(zone).date()), today)
    days = (today - first_day).days + 1
    start = local_day_start(first_day, zone)
    earlier = db.session.scalar(
        select(StockChange.after)
        .where(StockChange.product_map_id == product_map_id, StockChange.at < start)
        .order_by(StockChange.at.desc(), StockChange.id.desc())
        .limit(1)
    )
    changes = list(
        db.session.execute(
            select(StockChange.at, StockChange.before, StockChange.after)
            .where(StockChange.product_map_id == product_map_id, StockChange.at >= start)
            .order_by(StockChange.at, StockChange.id)
        )
    )
    if earlier is not None:
        level = earlier
    elif changes:
        level = changes[0].before
    else:
        level = current or 0
    result = []
    position = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        end = local_day_start(day + timedelta(days=1), zone)
        written = 0
        while position < len(changes) and changes[position].at < end:
            level = changes[position].after
            written += 1
            position += 1
        result.append(StockDay(day, level, written))
    return result
