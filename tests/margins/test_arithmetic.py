"""The margins' arithmetic, to the cent: a line's figures, a credit spread over an order's
lines, the margin percent, the period's weeks. Pure: no database."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from powerpact.margins.figures import (
    EN_DASH,
    Figures,
    LineFacts,
    MarginFilters,
    MarginRow,
    Sort,
    credit_shares,
    margin_percent,
    period_of,
    sorted_rows,
)

D = Decimal


def test_a_line_earns_its_retail_value_less_its_partner_value():
    # 2 x 15.00 at retail less a 3.00 discount; 2 x 10.00 at the partner's price less its
    # share of that discount (10%): 2.00
    figures = LineFacts(2, D("18.00"), D("27.00")).figures()
    assert (figures.units, figures.revenue, figures.cost) == (2, D("27.00"), D("18.00"))
    assert figures.margin == D("9.00")
    assert figures.margin_percent == D("33.3")


@pytest.mark.parametrize(
    ("margin", "revenue", "percent"),
    [
        ("9.00", "27.00", "33.3"),
        ("2.00", "3.00", "66.7"),
        ("1.00", "8.00", "12.5"),
        ("0.01", "1000.00", "0.0"),
        ("-4.50", "10.00", "-45.0"),
        ("0.00", "12.00", "0.0"),
        ("1.25", "1000.00", "0.1"),  # 0.125 rounds half to even
        ("1.35", "1000.00", "0.1"),  # 0.135 rounds down to 0.1
    ],
)
def test_the_margin_percent_has_one_decimal_place(margin, revenue, percent):
    assert margin_percent(D(margin), D(revenue)) == D(percent)


def test_no_revenue_has_no_margin_percent():
    assert margin_percent(D("-5.00"), D("0")) is None
    figures = Figures(units=1, cost=D("5.00"))
    assert figures.margin == D("-5.00") and figures.margin_percent is None


def test_a_credit_of_one_unit_of_a_single_line_nets_that_unit_exactly():
    (share,) = credit_shares([LineFacts(2, D("18.00"), D("27.00"))], D("9.00"), "USD")
    assert share == Figures(units=-1, revenue=D("-13.50"), cost=D("-9.00"), refunded=D("13.50"))
    netted = LineFacts(2, D("18.00"), D("27.00")).figures()
    netted.add(share)
    assert (netted.units, netted.revenue, netted.cost, netted.margin) == (
        1,
        D("13.50"),
        D("9.00"),
        D("4.50"),
    )


def test_a_credit_over_several_lines_is_spread_by_value_and_adds_up_exactly():
    lines = [
        LineFacts(1, D("10.00"), D("15.00")),
        LineFacts(3, D("20.00"), D("26.00")),
        LineFacts(1, D("3.33"), D("4.99")),
    ]
    shares = credit_shares(lines, D("10.00"), "USD")
    assert sum((s.cost for s in shares), D(0)) == D("-10.00")
    assert [s.cost for s in shares] == [D("-3.00"), D("-6.00"), D("-1.00")]
    # each line loses the same fraction of its retail revenue as of its partner value
    assert [s.refunded for s in shares] == [D("4.50"), D("7.80"), D("1.50")]
    assert [s.units for s in shares] == [0, -1, 0]


def test_a_whole_refund_leaves_nothing_and_a_credit_beyond_the_lines_is_capped():
    line = LineFacts(2, D("18.00"), D("27.00"))
    for credited in (D("18.00"), D("25.00")):
        figures = line.figures()
        figures.add(credit_shares([line], credited, "USD")[0])
        assert figures == Figures(units=0, revenue=D(0), cost=D(0), refunded=D("27.00"))


def test_no_credit_or_a_negative_one_takes_nothing():
    line = LineFacts(2, D("18.00"), D("27.00"))
    for credited in (D("0"), D("-3.00")):
        assert credit_shares([line], credited, "USD") == [Figures()]


def test_a_free_line_takes_no_part_of_a_credit():
    lines = [LineFacts(1, D("0.00"), D("0.00")), LineFacts(1, D("8.00"), D("12.00"))]
    shares = credit_shares(lines, D("8.00"), "USD")
    assert shares[0] == Figures()
    assert shares[1].cost == D("-8.00") and shares[1].units == -1


def test_a_line_whose_retail_price_is_not_known_nets_only_its_units():
    line = LineFacts(2, D("18.00"), None)
    figures = line.figures()
    assert figures == Figures(units=2, unknown_units=2)
    assert figures.all_unknown
    figures.add(credit_shares([line], D("9.00"), "USD")[0])
    assert figures == Figures(units=1, unknown_units=1)


def test_estimated_units_are_counted_and_netted():
    line = LineFacts(2, D("18.00"), D("27.00"), estimated=True)
    figures = line.figures()
    assert figures.estimated_units == 2
    figures.add(credit_shares([line], D("9.00"), "USD")[0])
    assert figures.estimated_units == 1


def test_a_zero_decimal_currency_is_spread_in_whole_yen():
    lines = [LineFacts(1, D("1000"), D("1500")), LineFacts(1, D("2000"), D("2900"))]
    shares = credit_shares(lines, D("1000"), "JPY")
    assert [s.cost for s in shares] == [D("-333"), D("-667")]
    assert [s.refunded for s in shares] == [D("500"), D("967")]


def test_the_period_is_cut_into_monday_weeks_in_the_stores_zone():
    now = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday
    period = period_of(30, ZoneInfo("America/New_York"), now)
    assert (period.first_day, period.last_day) == (date(2026, 2, 17), date(2026, 3, 18))
    assert period.week_starts == (
        date(2026, 2, 17),
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    )
    assert period.week_labels == tuple(
        label.replace("-", EN_DASH)
        for label in ("Feb 17-22", "Feb 23-Mar 1", "Mar 2-8", "Mar 9-15", "Mar 16-18")
    )
    # New York's midnight, in UTC: 05:00 before the clocks change on Mar 8, 04:00 after
    assert period.edges[0] == datetime(2026, 2, 17, 5, 0, tzinfo=UTC)
    assert period.edges[-1] == datetime(2026, 3, 19, 4, 0, tzinfo=UTC)
    assert period.week_of(datetime(2026, 3, 9, 3, 59, tzinfo=UTC)) == 2  # still Sunday there
    assert period.week_of(datetime(2026, 3, 9, 4, 0, tzinfo=UTC)) == 3
    assert period.label == "Feb 17, 2026 to Mar 18, 2026"
    assert len(period_of(90, ZoneInfo("UTC"), now).week_starts) == 14


def row(name, **figures):
    return MarginRow(name, name, "USD", None, None, Figures(**figures))


def test_rows_sort_by_margin_and_the_rows_without_a_percent_go_last():
    rows = [
        row("a", revenue=D("10"), cost=D("8")),
        row("b", revenue=D("30"), cost=D("20")),
        row("c", cost=D("1")),
        row("d", revenue=D("5"), cost=D("1")),
    ]
    assert [r.name for r in sorted_rows(rows, Sort.MARGIN, True)] == ["b", "d", "a", "c"]
    assert [r.name for r in sorted_rows(rows, Sort.MARGIN, False)] == ["c", "a", "d", "b"]
    by_percent = sorted_rows(rows, Sort.MARGIN_PERCENT, False)
    assert [r.name for r in by_percent] == ["a", "b", "d", "c"]


def test_the_filters_read_only_what_they_know():
    filters = MarginFilters.from_args(
        {"days": "90", "partner": "alice.myshopify.com", "level": "variant", "sort": "units"}
    )
    assert (filters.days, filters.partner, filters.level, filters.sort) == (
        90,
        "alice.myshopify.com",
        "variant",
        "units",
    )
    odd = MarginFilters.from_args(
        {"days": "7", "partner": "x'; drop", "level": "shop", "sort": "id", "dir": "up"}
    )
    assert odd == MarginFilters()
    assert MarginFilters().query_args() == {}
    # sorting by the column already sorted turns it round; another column starts highest first
    assert MarginFilters().sorted_by(Sort.MARGIN) == {"dir": "asc"}
    assert MarginFilters().sorted_by(Sort.UNITS) == {"sort": "units"}
    assert MarginFilters().sorted_by(Sort.NAME) == {"sort": "name"}
    by_name = MarginFilters.from_args({"sort": "name"})
    assert not by_name.descending and by_name.sorted_by(Sort.NAME) == {
        "sort": "name",
        "dir": "desc",
    }
