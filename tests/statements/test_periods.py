"""A statement's period: calendar days in the retail store's zone, exact across a change of
clocks, named in URLs as a month or a range of days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from powerpact.statements.periods import Period, current_month, parse_period, recent_months

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # clocks move by half an hour


def hours(period: Period, zone: ZoneInfo) -> float:
    start, end = period.bounds(zone)
    return (end - start) / timedelta(hours=1)


def test_a_month_runs_from_local_midnight_to_local_midnight():
    start, end = Period.month(2026, 1).bounds(NEW_YORK)
    assert start == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert end == datetime(2026, 2, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "month", "expected"),
    [
        (NEW_YORK, 3, 31 * 24 - 1),  # clocks go forward on March 8th, 2026
        (NEW_YORK, 11, 30 * 24 + 1),  # and back on November 1st
        (LONDON, 3, 31 * 24 - 1),  # forward on March 29th
        (LONDON, 10, 31 * 24 + 1),  # back on October 25th
        (LORD_HOWE, 4, 30 * 24 + 0.5),  # back half an hour on April 5th
        (LONDON, 6, 30 * 24),
    ],
)
def test_a_month_across_a_change_of_clocks_is_as_long_as_the_clocks_make_it(zone, month, expected):
    assert hours(Period.month(2026, month), zone) == expected


def test_consecutive_months_leave_no_gap_and_no_overlap_across_a_change_of_clocks():
    month = Period.month(2025, 12)
    for _ in range(14):
        following = month.next_month()
        assert month.bounds(LONDON)[1] == following.bounds(LONDON)[0]
        assert following.previous_month() == month
        month = following


def test_the_change_of_clocks_night_belongs_to_its_local_day():
    """1:30 on November 1st happens twice in New York; both are in November, and 23:30 on
    October 31st (03:30 UTC on November 1st) is in October."""
    october, november = Period.month(2026, 10), Period.month(2026, 11)
    late_october = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    first, second = (
        datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=NEW_YORK).astimezone(UTC) for fold in (0, 1)
    )
    start, end = october.bounds(NEW_YORK)
    assert start <= late_october < end
    start, end = november.bounds(NEW_YORK)
    assert start <= first < second < end


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026-03", Period(date(2026, 3, 1), date(2026, 4, 1))),
        ("2026-12", Period(date(2026, 12, 1), date(2027, 1, 1))),
        ("2026-03-01..2026-03-15", Period(date(2026, 3, 1), date(2026, 3, 16))),
        ("2026-03-10..2026-03-10", Period(date(2026, 3, 10), date(2026, 3, 11))),
        ("2026-03-01..2026-03-31", Period.month(2026, 3)),
    ],
)
def test_a_url_names_a_month_or_a_range_of_days(text, period):
    assert parse_period(text) == period
    assert parse_period(period.key) == period


def test_a_range_that_is_a_whole_month_is_named_as_the_month():
    assert parse_period("2026-02-01..2026-02-28").key == "2026-02"
    assert parse_period("2026-02-01..2026-02-27").key == "2026-02-01..2026-02-27"


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "2026-3",
        "26-03",
        "2026-02-30..2026-03-01",
        "2026-03-15..2026-03-01",
        "1999-12",
        "9999-12",
        "2000-01-01..2026-01-01",
        "\uff12\uff10\uff12\uff16-03",  # full-width digits
        "2026-03.csv",
        "",
        "x" * 300,
        "2026-03-01..",
        "' OR 1=1--",
    ],
)
def test_anything_else_is_no_period(text):
    assert parse_period(text) is None


def test_labels():
    assert Period.month(2026, 3).label == "March 2026"
    assert parse_period("2026-03-01..2026-03-15").label == "Mar 01, 2026 to Mar 15, 2026"


def test_the_current_month_is_the_zones():
    """At 02:00 UTC on April 1st it is still March 31st in New York."""
    now = datetime(2026, 4, 1, 2, tzinfo=UTC)
    assert current_month(NEW_YORK, now) == Period.month(2026, 3)
    assert current_month(ZoneInfo("UTC"), now) == Period.month(2026, 4)
    assert recent_months(NEW_YORK, 3, now) == [
        Period.month(2026, 3),
        Period.month(2026, 2),
        Period.month(2026, 1),
    ]
    assert Period.month(2026, 3).is_closed(NEW_YORK, datetime(2026, 4, 1, 4, tzinfo=UTC))
    assert not Period.month(2026, 3).is_closed(NEW_YORK, now)
