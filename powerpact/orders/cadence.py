"""When a partner's orders go out: at once, at a daily cutoff, or in a weekly master order.

Windows are computed in the partner's own time zone (daylight saving included)
and returned in UTC. An order belongs to the window whose cutoff is the first
one strictly after the moment it became ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from powerpact.models import Cadence
from powerpact.timezones import known_zone


class InvalidCutoff(ValueError):
    """A cutoff setting that cannot be used (unknown time zone, weekday out of range)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def zone(name: str) -> ZoneInfo:
    found = known_zone(name)
    if found is None:
        raise InvalidCutoff(f"unknown time zone {name!r}")
    return found


def _at(day: date, cutoff: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, cutoff, tzinfo=tz).astimezone(UTC)


def daily_window(moment: datetime, cutoff: time, tz_name: str) -> Window:
    """The day-long window holding ``moment``, ending at the next local cutoff."""
    tz = zone(tz_name)
    local_day = moment.astimezone(tz).date()
    end = _at(local_day, cutoff, tz)
    if end <= moment:
        end = _at(local_day + timedelta(days=1), cutoff, tz)
    start = _at(end.astimezone(tz).date() - timedelta(days=1), cutoff, tz)
    return Window(start, end)


def weekly_window(moment: datetime, weekday: int, cutoff: time, tz_name: str) -> Window:
    """The week-long window holding ``moment``, ending at the next ``weekday`` cutoff (0=Monday)."""
    if not 0 <= weekday <= 6:
        raise InvalidCutoff("the weekly cutoff day must be 0 (Monday) to 6 (Sunday)")
    tz = zone(tz_name)
    local_day = moment.astimezone(tz).date()
    days_ahead = (weekday - local_day.weekday()) % 7
    end = _at(local_day + timedelta(days=days_ahead), cutoff, tz)
    if end <= moment:
        end = _at(local_day + timedelta(days=days_ahead + 7), cutoff, tz)
    start = _at(end.astimezone(tz).date() - timedelta(days=7), cutoff, tz)
    return Window(start, end)


def window_for(
    cadence: Cadence, moment: datetime, *, weekday: int, cutoff: time, tz_name: str
) -> Window | None:
    """The batching window of ``moment`` for a cadence; None for ``immediate``."""
    if cadence == Cadence.DAILY:
        return daily_window(moment, cutoff, tz_name)
    if cadence == Cadence.WEEKLY:
        return weekly_window(moment, weekday, cutoff, tz_name)
    return None
