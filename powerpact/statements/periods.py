"""A statement's period: calendar days in the retail store's time zone.

A period runs from the start of its first day to the start of the day after its last, in
the retail store's zone (``timezones.start_of_day``), so a month across a change of clocks
is as long as the clocks make it (743 or 745 hours) and consecutive periods leave no gap
and no overlap. A calendar month is the default; any range of whole days is one too.

In a URL a month is ``2026-03`` and a range ``2026-03-01..2026-03-15`` (both days
included). Anything else is no period: the view answers 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from powerpact.db_types import utcnow
from powerpact.timezones import start_of_day

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
LONGEST = timedelta(days=3660)  # ten years: a statement is read, not a data dump
MONTH_KEY = re.compile(r"([0-9]{4})-([0-9]{2})")
RANGE_KEY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})")


@dataclass(frozen=True, order=True)
class Period:
    """The days from ``start`` up to the day before ``end``."""

    start: date
    end: date  # the day after the last

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = date(year, month, 1)
        return cls(start, date(year + month // 12, month % 12 + 1, 1))

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls.month(day.year, day.month)

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """The days from ``first`` to ``last``, both included."""
        return cls(first, last + timedelta(days=1))

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self == Period.month_of(self.start)

    @property
    def key(self) -> str:
        """The period as its URL names it."""
        if self.is_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        """``March 2026``, or ``Mar 01, 2026 to Mar 15, 2026``."""
        return f"{self.start:%B %Y}" if self.is_month else self.days_label

    @property
    def days_label(self) -> str:
        """The first and the last day: ``Mar 01, 2026 to Mar 31, 2026``."""
        return f"{day_label(self.start)} to {day_label(self.last)}"

    def previous_month(self) -> Period:
        return Period.month_of(self.start - timedelta(days=1))

    def next_month(self) -> Period:
        return Period.month_of(self.end)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as instants (UTC): from the start of its first day, up to the start of
        the day after its last, in ``zone``."""
        return start_of_day(self.start, zone), start_of_day(self.end, zone)

    def is_closed(self, zone: ZoneInfo, now: datetime) -> bool:
        """Whether the period is over: nothing sent or credited from now on can land in it."""
        return self.bounds(zone)[1] <= now


def day_label(day: date) -> str:
    """A day as ``local_time`` writes one: ``Mar 01, 2026``."""
    return f"{day:%b %d, %Y}"


def parse_period(text: str) -> Period | None:
    """The period a URL names (``2026-03``, ``2026-03-01..2026-03-15``), or None."""
    try:
        if match := MONTH_KEY.fullmatch(text):
            period = Period.month(int(match[1]), int(match[2]))
        elif match := RANGE_KEY.fullmatch(text):
            period = Period.days(date.fromisoformat(match[1]), date.fromisoformat(match[2]))
        else:
            return None
    except ValueError:  # month 13, February 30th, a year past 9999
        return None
    return period if is_reasonable(period) else None


def is_reasonable(period: Period) -> bool:
    return (
        FIRST_DAY <= period.start < period.end <= LAST_DAY + timedelta(days=1)
        and period.end - period.start <= LONGEST
    )


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone).date()


def current_month(zone: ZoneInfo, now: datetime | None = None) -> Period:
    return Period.month_of(today_in(zone, now))


def recent_months(zone: ZoneInfo, count: int, now: datetime | None = None) -> list[Period]:
    """The last ``count`` months in ``zone``, the current one first."""
    months = [current_month(zone, now)]
    while len(months) < count:
        months.append(months[-1].previous_month())
    return months
