"""The charts as drawn: plain SVG with an accessible name, the table's figures the bars'."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from powerpact import charts
from powerpact.inventory.charts_data import SyncHour, hours_window
from powerpact.models import FailureReason
from powerpact.orders.charts_data import FailuresForReason, PartnerOrdersOnDay, RetailOrdersOnDay

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 7, 1) + timedelta(days=n) for n in range(30)]


def partner_rows(name: str, values: list[int]) -> list[PartnerOrdersOnDay]:
    domain = f"{name.lower().replace(' ', '-')}.myshopify.com"
    return [PartnerOrdersOnDay(day, domain, name, v) for day, v in zip(DAYS, values, strict=True)]


def sample_orders(*names: str) -> charts.Chart:
    partners = [
        row
        for index, name in enumerate(names)
        for row in partner_rows(name, [(day + index) % 4 for day in range(30)])
    ]
    retail = [RetailOrdersOnDay(day, 1 + n % 3) for n, day in enumerate(DAYS)]
    return charts.orders_chart(retail, partners)


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314  # the app's own output


def bar_figures(svg: str) -> dict[tuple[str, str], int]:
    """(slot, series) -> value, read from each bar's tooltip."""
    figures = {}
    for bar in parse(svg).iter(f"{SVG}g"):
        if bar.get("class") == "bar":
            slot_and_series, _, value = bar.findtext(f"{SVG}title").rpartition(": ")
            slot, _, series = slot_and_series.rpartition(", ")
            figures[slot, series] = int(value.replace(",", ""))
    return figures


def table_figures(chart: charts.Chart) -> dict[tuple[str, str], int]:
    return {
        (label, column.name): value
        for label, values in chart.rows()
        for column, value in zip(chart.series, values, strict=True)
        if column.drawn and value
    }


def test_the_orders_chart_is_plain_svg_named_and_described():
    chart = sample_orders("Alice Roasters", "Bob Beans")
    [svg] = chart.svgs
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert root.get("aria-labelledby") == title.get("id") == "chart-orders-title"
    assert title.text == "Orders per day"
    desc = root.find(f"{SVG}desc")
    assert root.get("aria-describedby") == desc.get("id")
    assert desc.text == (
        "In the last 30 days, 60 retail orders became 88 partner orders: Alice Roasters 43, "
        "Bob Beans 45. The busiest day was Jul 3, with 3 retail orders."
    )
    assert [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}image")] == []
    assert not re.search(r"https?:|//|href", svg.replace(f'xmlns="{SVG[1:-1]}"', ""))
    assert root.find(f".//{SVG}g[@class='tooltip']") is None  # the box pygal's script fills


def test_the_table_holds_the_figures_the_bars_show():
    chart = sample_orders("Alice Roasters", "Bob Beans")
    assert bar_figures(chart.svgs[0]) == table_figures(chart)
    assert [column.name for column in chart.series] == [
        "Retail orders",
        "Alice Roasters",
        "Bob Beans",
        "All partner orders",
    ]
    label, values = chart.rows()[3]
    assert label == "Jul 4" and values == (1, 3, 0, 3)


def test_a_partners_name_is_text_not_markup():
    chart = sample_orders("<script>alert(1)</script>")
    svg = chart.svgs[0]
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert parse(svg).find(f"{SVG}desc").text.count("<script>") == 1


def test_partners_past_the_palette_are_drawn_together():
    names = [f"Partner {letter}" for letter in "ABCDEFGHI"]
    chart = sample_orders(*names)
    drawn = [column.name for column in chart.series if column.drawn]
    assert len(drawn) == 1 + len(charts.PALETTE)
    assert drawn[-1] == charts.OTHERS
    assert len({column.colour for column in chart.series if column.drawn}) == len(drawn)
    total = next(column for column in chart.series if not column.drawn)
    assert total.total == sum(column.total for column in chart.series[1:-1])


def test_no_orders_draw_no_chart_but_say_so():
    chart = charts.orders_chart([RetailOrdersOnDay(day, 0) for day in DAYS], [])
    assert chart.empty and chart.svgs == ()
    assert chart.empty_text == "No orders with partners' products in the last 30 days."


def test_the_failures_chart_lists_reasons_most_frequent_first():
    chart = charts.failures_chart(
        [
            FailuresForReason(FailureReason.VARIANT_NOT_MAPPED, 8),
            FailuresForReason(FailureReason.INSUFFICIENT_INVENTORY, 3),
            FailuresForReason(None, 1),
        ]
    )
    assert chart.rows() == [
        ("Product not imported", (8,)),
        ("Out of stock", (3,)),
        ("Unknown", (1,)),
    ]
    assert bar_figures(chart.svgs[0]) == table_figures(chart)
    assert chart.summary == (
        "12 orders of the last 30 days failed: Product not imported 8, Out of stock 3, Unknown 1."
    )
    assert charts.failures_chart([]).empty


def test_the_sync_chart_names_hours_in_the_shops_zone():
    zone = ZoneInfo("Europe/Paris")
    starts = hours_window(48, zone, datetime(2026, 7, 15, 12, 30, tzinfo=UTC))
    hours = [
        SyncHour(start, 1, 1000 if n == 30 else 2, 1 if n == 5 else 0)
        for n, start in enumerate(starts)
    ]
    chart = charts.sync_health_chart(hours, zone)

    assert chart.labels[-1] == "Wed Jul 15, 14:00 CEST"
    changes, errors = chart.svgs
    assert parse(changes).find(f"{SVG}title").text == "Changes applied per hour"
    assert parse(errors).find(f"{SVG}title").text == "Errors per hour"
    drawn = {**bar_figures(changes), **bar_figures(errors)}
    assert drawn == table_figures(chart)
    assert drawn[chart.labels[30], "Changes applied"] == 1000
    assert [column.name for column in chart.series] == ["Syncs", "Changes applied", "Errors"]
    assert "48 stock syncs applied 1,094 changes and met 1 error " in chart.summary


def test_the_partners_chart_is_one_series_without_a_legend():
    rows = partner_rows("Alice Roasters", [n % 2 for n in range(30)])
    chart = charts.partner_orders_chart(rows)
    assert chart.legend == () and chart.series[0].total == 15
    assert bar_figures(chart.svgs[0]) == table_figures(chart)
    assert charts.partner_orders_chart(partner_rows("Quiet", [0] * 30)).empty


def luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


@pytest.mark.parametrize(
    "colour", [*charts.PALETTE, charts.NEUTRAL, charts.GRAY, charts.SUCCESS, charts.CRITICAL]
)
def test_every_bar_colour_stands_out_from_the_white_card(colour):
    assert (1.05) / (luminance(colour) + 0.05) >= 3  # WCAG 1.4.11, non-text contrast


@pytest.mark.parametrize(
    ("top", "expected"),
    [(0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]), (1234, None)],
)
def test_the_axis_counts_in_whole_steps(top, expected):
    steps = charts.ticks(top)
    if expected is not None:
        assert steps == expected
    assert steps[0] == 0 and steps[-1] >= top and len(steps) <= 6
    assert len({b - a for a, b in itertools.pairwise(steps)}) == 1


def test_the_same_figures_are_drawn_once_and_new_figures_again():
    import pygal

    from powerpact.charts import Series, draw

    labels = [f"Day {i}" for i in range(30)]
    figures = [Series("North", tuple(range(30)), "#303030")]
    first = draw(pygal.StackedBar, "memo", "Orders", "Orders per day.", labels, figures)
    assert draw(pygal.StackedBar, "memo", "Orders", "Orders per day.", labels, figures) is first
    changed = [Series("North", (*range(29), 99), "#303030")]
    redrawn = draw(pygal.StackedBar, "memo", "Orders", "Orders per day.", labels, changed)
    assert redrawn is not first and "99" in redrawn


@pytest.mark.parametrize(
    ("top", "bottom", "expected"),
    [(40, -15, [-20, 0, 20, 40]), (0, -7, [-8, -6, -4, -2, 0]), (5, 0, [0, 1, 2, 3, 4, 5])],
)
def test_the_axis_goes_below_zero_for_a_loss(top, bottom, expected):
    assert charts.ticks(top, bottom) == expected


EN_DASH = "\u2013"


def margin_weeks(figures: dict[str, list[str]]) -> list:
    from decimal import Decimal

    from powerpact.margins.figures import PartnerWeek

    return [
        PartnerWeek(f"{name.lower()}.myshopify.com", name, "USD", week, Decimal(value))
        for name, values in figures.items()
        for week, value in enumerate(values)
    ]


def margin_period():
    from powerpact.margins.figures import period_of

    return period_of(30, ZoneInfo("UTC"), datetime(2026, 3, 18, 12, tzinfo=UTC))


def test_the_margins_chart_draws_amounts_to_the_cent_and_a_loss_below_zero():
    chart = charts.margins_chart(
        margin_weeks(
            {
                "Alice": ["1234.50", "0", "12.05", "0", "0.99"],
                "Bob": ["-20.10", "15.00", "0", "0", "0"],
            }
        ),
        margin_period(),
    )
    assert chart.title == "Gross margin per week" and chart.digits == 2
    (svg,) = chart.svgs
    tooltips = [t.text for t in parse(svg).iter(f"{SVG}title")]
    assert f"Feb 17{EN_DASH}22, Alice: 1,234.50" in tooltips
    assert f"Feb 17{EN_DASH}22, Bob: -20.10" in tooltips
    assert f"Mar 16{EN_DASH}18, Alice: 0.99" in tooltips
    assert not any(t.endswith(": 0.00") for t in tooltips)  # an empty week draws no bar
    axis = [t.text for t in parse(svg).iter(f"{SVG}text") if t.text]
    assert any(label.startswith("-") for label in axis)  # the axis goes below zero
    first_week = dict(chart.rows())[f"Feb 17{EN_DASH}22"]
    assert [chart.figure(v) for v in first_week] == ["1,234.50", "-20.10", "1,214.40"]
    assert chart.summary == (
        "In the last 30 days, partners' products earned a gross margin of 1,242.44 (USD): "
        f"Alice 1,247.54, Bob -5.10. The best week was Feb 17{EN_DASH}22, with 1,214.40."
    )


def test_no_margin_draws_no_chart_but_says_so():
    chart = charts.margins_chart([], margin_period())
    assert chart.empty and chart.svgs == ()
    assert "No margin to draw" in chart.empty_text
