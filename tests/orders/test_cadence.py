from datetime import UTC, datetime, time

import pytest

from powerpact.models import Cadence
from powerpact.orders.cadence import InvalidCutoff, daily_window, weekly_window, window_for


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_daily_window_ends_at_the_next_local_cutoff():
    # 17:00 in New York is 22:00 UTC in November (EST, UTC-5)
    window = daily_window(utc(2026, 11, 20, 21, 59), time(17), "America/New_York")
    assert window.start == utc(2026, 11, 19, 22, 0)
    assert window.end == utc(2026, 11, 20, 22, 0)
    after = daily_window(utc(2026, 11, 20, 22, 0), time(17), "America/New_York")
    assert after.start == window.end
    assert after.end == utc(2026, 11, 21, 22, 0)


def test_daily_window_across_a_local_midnight_that_is_another_utc_day():
    # 23:30 UTC on the 20th is already the 21st in Tokyo (UTC+9)
    window = daily_window(utc(2026, 11, 20, 23, 30), time(9), "Asia/Tokyo")
    assert window.end == utc(2026, 11, 21, 0, 0)
    assert window.contains(utc(2026, 11, 20, 23, 30))


def test_daily_window_over_a_daylight_saving_change_is_23_hours_long():
    # Europe/Berlin springs forward on 2026-03-29
    window = daily_window(utc(2026, 3, 29, 12), time(17), "Europe/Berlin")
    assert window.start == utc(2026, 3, 28, 16)  # 17:00 CET
    assert window.end == utc(2026, 3, 29, 15)  # 17:00 CEST
    assert (window.end - window.start).total_seconds() == 23 * 3600


def test_weekly_window_ends_on_the_cutoff_weekday():
    # Friday 2026-11-20 at 12:00 in London, cutoff Fridays 15:00
    window = weekly_window(utc(2026, 11, 20, 12), 4, time(15), "Europe/London")
    assert window.end == utc(2026, 11, 20, 15)
    assert window.start == utc(2026, 11, 13, 15)
    later = weekly_window(utc(2026, 11, 20, 15, 0, 1), 4, time(15), "Europe/London")
    assert later.end == utc(2026, 11, 27, 15)


def test_window_for_each_cadence():
    moment = utc(2026, 11, 20, 12)
    kwargs = {"weekday": 0, "cutoff": time(8), "tz_name": "UTC"}
    assert window_for(Cadence.IMMEDIATE, moment, **kwargs) is None
    assert window_for(Cadence.DAILY, moment, **kwargs).end == utc(2026, 11, 21, 8)
    assert window_for(Cadence.WEEKLY, moment, **kwargs).end == utc(2026, 11, 23, 8)


def test_bad_cutoffs_are_refused():
    with pytest.raises(InvalidCutoff, match="unknown time zone"):
        daily_window(utc(2026, 1, 1), time(9), "Mars/Olympus")
    with pytest.raises(InvalidCutoff, match="Monday"):
        weekly_window(utc(2026, 1, 1), 7, time(9), "UTC")
