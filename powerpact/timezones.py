"""A shop's time zone, as every page and export reads it.

Shopify names each shop's zone by its IANA name (``Shop.ianaTimezone``) and PowerPact
stores it as given. A name this server's tz database does not know (an unknown key, a
zone newer than the database, a stored typo) reads as UTC: the documented fallback, so a
stored bad value shows times in UTC instead of breaking a page or an export.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)
FALLBACK_ZONE = "UTC"


def known_zone(name: str | None) -> ZoneInfo | None:
    """The zone ``name`` names, or None if it names none."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def shop_zone(name: str | None) -> ZoneInfo:
    """The zone to show a shop's times in: its own, or UTC if its name is unknown (said
    once per name in the log, not once per time shown)."""
    zone = known_zone(name)
    if zone is None:
        log.warning("unknown time zone %r: showing times in %s", name, FALLBACK_ZONE)
        return ZoneInfo(FALLBACK_ZONE)
    return zone


def local_days(zone: ZoneInfo, days: int, now: datetime) -> list[date]:
    """The last ``days`` calendar days in ``zone``, oldest first, ending with today there."""
    today = now.astimezone(zone).date()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The moment ``day`` begins in ``zone``, in UTC (23 or 25 hours from the next one across
    a change of clocks)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
