"""The figures of the stock sync chart: changes applied and errors per hour, from the sync
runs (``sync_runs``) of both kinds, the hourly sync and the coalesced webhook writes.

Hours are the viewing shop's: the window starts at the top of a local hour, and each run
falls in the hour its start is in (``db_types.time_slot``). Across a change of clocks the
repeated hour shows twice, each with its own runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from powerpact.db_types import time_slot, utcnow
from powerpact.extensions import db
from powerpact.models import RunStatus, SyncRun

HOURS = 7 * 24
STOCK_KINDS = ("inventory", "inventory_webhook")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SyncHour:
    """What the stock syncs that started in one hour did. ``start`` is aware (UTC);
    ``errors`` counts each error a run recorded, and a run that failed without recording
    one as one."""

    start: datetime
    runs: int
    changed: int
    errors: int


def hours_window(hours: int, zone: ZoneInfo, now: datetime) -> list[datetime]:
    """The starts (UTC) of the last ``hours`` hours in ``zone``, oldest first, ending with
    the hour under way."""
    local = now.astimezone(zone)
    past_the_hour = timedelta(
        minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    last = (now - past_the_hour).astimezone(UTC)
    return [last - HOUR * back for back in range(hours - 1, -1, -1)]


def sync_health_per_hour(
    hours: int, zone: ZoneInfo, *, now: datetime | None = None
) -> list[SyncHour]:
    """Stock syncs per hour over the last ``hours`` hours in ``zone``, zeros included."""
    starts = hours_window(hours, zone, now or utcnow())
    first, end = starts[0], starts[-1] + HOUR
    index = time_slot(SyncRun.started_at, [*starts, end]).label("hour")
    errors = case(
        (and_(SyncRun.status == RunStatus.FAILED, SyncRun.error_count == 0), 1),
        else_=SyncRun.error_count,
    )
    statement = (
        select(index, func.count(), func.sum(SyncRun.changed), func.sum(errors))
        .where(
            SyncRun.kind.in_(STOCK_KINDS),
            SyncRun.started_at >= first,
            SyncRun.started_at < end,
        )
        .group_by(index)
    )
    found = {
        int(hour): (int(runs), int(changed or 0), int(failed or 0))
        for hour, runs, changed, failed in db.session.execute(statement)
    }
    return [
        SyncHour(start, *found.get(position, (0, 0, 0))) for position, start in enumerate(starts)
    ]
