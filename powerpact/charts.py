"""The charts of the admin home and the partner's orders: inline SVG drawn on the server, and
the table of the same figures behind each.

pygal draws them (LGPLv3+, pure Python, kept up on PyPI): it writes an SVG document and
needs no script in the page. Two things it does by default are undone here, so that a
chart is plain SVG that nothing outside the app touches: its tooltips load a script from
its CDN (``js=[]`` turns that off) and it writes its settings into every chart as an inline
``<script>`` (``finish`` removes it). Each bar gets a ``<title>`` instead, which the
browser shows as its own tooltip.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and described by its
``<desc>``, one sentence with the totals; the figures themselves are in the table of
``partials/chart.html``, under "Show data". Colours are from Polaris' colour scale, the one
``static/app.css``'s tokens come from (its 12th and 13th shades), each at least 3:1 against
the card's white (WCAG 1.4.11). Days and hours are the viewing shop's.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pygal
from markupsafe import Markup
from pygal.style import Style

from powerpact.inventory.charts_data import SyncHour
from powerpact.inventory.history import DAYS as STOCK_DAYS
from powerpact.inventory.history import StockDay
from powerpact.margins.figures import PartnerWeek, Period
from powerpact.money import minor_digits
from powerpact.orders.charts_data import (
    FailuresForReason,
    PartnerOrdersOnDay,
    RetailOrdersOnDay,
)
from powerpact.orders.listing import reason_label

# pygal appends a finder for its map plugins (``pygal.maps.*``, which PowerPact does not
# use) to ``sys.meta_path``, in the old ``find_module`` style: on Python 3.11 every import
# that no other finder answers (an optional module looked for and absent) then warns
# ImportWarning, an error under the tests' warning filter. It is taken out again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

SVG = "http://www.w3.org/2000/svg"
FIGURE_SPACE = "\u2007"  # as wide as a digit
# SVG written as the page's own markup: <svg xmlns="..."> and <g>, not <ns0:svg>. (The
# ``default_namespace`` of ``tostring`` would do it for one call, but it refuses attributes
# without a namespace, and all of pygal's are.)
ElementTree.register_namespace("", SVG)

FONT = '-apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI", Roboto, sans-serif'
TEXT, TEXT_SUBDUED, BORDER = "#303030", "#616161", "#e3e3e3"
# Polaris' colour scale: blue 13, green 12, purple 12, magenta 12, teal 12, orange 12,
# rose 12, azure 12. A partner keeps its colour while the partners (sorted by name) stay.
PALETTE = (
    "#005bd3",
    "#29845a",
    "#8051ff",
    "#c530c5",
    "#12837c",
    "#956f00",
    "#e30c76",
    "#007cb4",
)
NEUTRAL = TEXT_SUBDUED  # the retail orders beside the partners'
GRAY = "#8a8a8a"  # gray 12: the partners past the palette's, together
SUCCESS = "#29845a"  # green 12, color-bg-fill-success
CRITICAL = "#e51c00"  # red 12, color-bg-fill-critical
OTHERS = "Other partners"
WIDTH, HEIGHT = 960, 300


@dataclass(frozen=True)
class Series:
    """A column of figures: a series of the chart (unless ``drawn`` is False) and a column
    of its table."""

    name: str
    values: tuple[int, ...]
    colour: str = TEXT
    drawn: bool = True

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: its heading, the SVGs (none when there is nothing to
    draw), its legend and the table of the same figures, one row per label."""

    key: str
    title: str
    period: str
    summary: str
    row_heading: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    empty_text: str
    svgs: tuple[Markup, ...] = field(default=())
    digits: int = 0  # money: the values are minor units, shown with this many decimals

    def figure(self, value: int) -> str:
        """A value of the table as a person reads it (``1,234`` or ``1,234.50``)."""
        return figure(value, self.digits)

    @property
    def empty(self) -> bool:
        return not any(value for column in self.series for value in column.values)

    @property
    def legend(self) -> tuple[Series, ...]:
        drawn = tuple(column for column in self.series if column.drawn)
        return drawn if len(drawn) > 1 else ()

    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        return [
            (label, tuple(column.values[index] for column in self.series))
            for index, label in enumerate(self.labels)
        ]


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def number(value: int) -> str:
    return f"{value:,}"


def figure(value: int, digits: int = 0) -> str:
    """A count (``digits`` 0), or an amount given in minor units: ``123450`` with 2 digits
    reads ``1,234.50``. Exact: the minor units are scaled as a ``Decimal``, never a float."""
    if not digits:
        return number(value)
    return f"{Decimal(int(value)).scaleb(-digits):,.{digits}f}"


def minor_units(amount: Decimal, digits: int) -> int:
    """An amount in whole minor units (the chart's values), rounded half to even."""
    return int(amount.scaleb(digits).to_integral_value(rounding=ROUND_HALF_EVEN))


def counted(value: int, noun: str) -> str:
    """``1 order``, ``2 orders``: a figure and what it counts."""
    return f"{number(value)} {noun}{'' if value == 1 else 's'}"


def ticks(top: int, bottom: int = 0) -> list[int]:
    """Whole-number steps of 1, 2 or 5 times a power of ten, from ``bottom`` or below (0
    unless some values are negative) up to at least ``top``."""
    extent = top - min(bottom, 0)
    if extent <= 0:
        return [0, 1]
    magnitude = 10 ** max(0, math.floor(math.log10(extent)) - 1)
    step = next(s * magnitude for s in (1, 2, 5, 10, 20, 50) if extent / (s * magnitude) <= 5)
    low = math.floor(min(bottom, 0) / step) * step
    return list(range(low, math.ceil(top / step) * step + 1, step))


def style(colours: Sequence[str]) -> Style:
    return Style(
        background="transparent",
        plot_background="transparent",
        colors=tuple(colours),
        font_family=FONT,
        foreground=TEXT_SUBDUED,
        foreground_strong=TEXT,
        foreground_subtle=BORDER,
        opacity="1",
        opacity_hover=".8",
        transition="0s",
        guide_stroke_color=BORDER,
        major_guide_stroke_color=BORDER,
        guide_stroke_dasharray="0",
        major_guide_stroke_dasharray="0",
        label_font_size=12,
        major_label_font_size=12,
    )


def draw(
    chart_class: Any,
    key: str,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    beside: Sequence[Series] = (),
    major: Sequence[str] | None = None,
    tooltips: Sequence[str] | None = None,
    label_width: int = 0,
    height: int = HEIGHT,
    digits: int = 0,
) -> Markup:
    """One pygal chart as inline SVG. ``beside`` is a second stack drawn next to the first
    in each slot (pygal's secondary series), on the same scale. ``major`` are the labels
    the axis shows (all if None); ``tooltips`` name each slot in its bars' tooltips
    (``labels`` if None). ``label_width`` pads the axis' figures to that many digits, so
    that charts drawn one above the other start their plots at the same place. ``digits``
    says the values are amounts in minor units (see ``figure``); a stack may then go below
    zero (a loss), and the axis goes with it.

    Drawing costs pygal tens of milliseconds a chart, and a page is mostly reloaded with
    the same figures: the SVG of the last figures drawn is kept (``drawn_svg``)."""
    return drawn_svg(
        chart_class,
        key,
        title,
        summary,
        tuple(labels),
        tuple(series),
        tuple(beside),
        tuple(major) if major is not None else None,
        tuple(tooltips) if tooltips is not None else None,
        label_width,
        height,
        digits,
    )


def stack_extents(stacks: Sequence[Series]) -> tuple[int, int]:
    """The highest and the lowest point of a stack of series: its positive values add up
    above zero and its negative ones below, as pygal stacks them."""
    slots = list(zip(*(s.values for s in stacks), strict=True))
    top = max([sum(v for v in slot if v > 0) for slot in slots] + [0])
    bottom = min([sum(v for v in slot if v < 0) for slot in slots] + [0])
    return top, bottom


@lru_cache(maxsize=64)
def drawn_svg(
    chart_class: Any,
    key: str,
    title: str,
    summary: str,
    labels: tuple[str, ...],
    series: tuple[Series, ...],
    beside: tuple[Series, ...],
    major: tuple[str, ...] | None,
    tooltips: tuple[str, ...] | None,
    label_width: int,
    height: int,
    digits: int = 0,
) -> Markup:
    (top, bottom), (beside_top, beside_bottom) = stack_extents(series), stack_extents(beside)
    steps = ticks(max(top, beside_top), min(bottom, beside_bottom))
    chart = chart_class(
        style=style([s.colour for s in (*series, *beside)]),
        js=[],
        width=WIDTH,
        height=height,
        show_legend=False,
        disable_xml_declaration=True,
        truncate_label=-1,
        margin=8,
        spacing=8,
        y_labels=steps,
        range=(steps[0], steps[-1]),
        secondary_range=(steps[0], steps[-1]),
        value_formatter=lambda value: figure(value, digits).rjust(label_width, FIGURE_SPACE),
        show_minor_x_labels=major is None,
        x_labels_major=list(major) if major is not None else None,
        tooltip_fancy_mode=False,
    )
    chart.x_labels = list(labels)
    for column in series:
        chart.add(column.name, list(column.values))
    for column in beside:
        chart.add(column.name, list(column.values), secondary=True)
    names = [s.name for s in (*series, *beside)]
    slots = list(tooltips if tooltips is not None else labels)
    return finish(
        chart.render(is_unicode=True), key, title, summary, names, slots, zero=figure(0, digits)
    )


def finish(
    svg: str,
    key: str,
    title: str,
    summary: str,
    names: Sequence[str],
    slots: Sequence[str],
    *,
    zero: str = "0",
) -> Markup:
    """pygal's SVG made plain and accessible: no script, no second axis, no empty bars; the
    root an image named by its title and described by its desc; each bar's figure in a
    ``<title>`` tooltip."""
    root = ElementTree.fromstring(svg)  # noqa: S314  # pygal's own output of our figures
    root.set("role", "img")
    root.set("aria-labelledby", f"{key}-title")
    root.set("aria-describedby", f"{key}-desc")
    root.set("class", f"{root.get('class', '')} chart-svg".strip())
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.rpartition("}")[2]
            classes = (child.get("class") or "").split()
            if (
                tag == "script"
                or {"axis", "y2"} <= set(classes)
                or classes in (["line"], ["tooltip"])
            ):  # pygal's settings, the second axis, the frame's sides, its script's tooltip
                parent.remove(child)
    heading = root.find(f"{{{SVG}}}title")
    if heading is None:
        heading = ElementTree.SubElement(root, f"{{{SVG}}}title")
    heading.text, heading.attrib = title, {"id": f"{key}-title"}
    description = ElementTree.Element(f"{{{SVG}}}desc", {"id": f"{key}-desc"})
    description.text = summary
    root.insert(list(root).index(heading) + 1, description)
    for group in root.iter(f"{{{SVG}}}g"):
        serie = next((c for c in (group.get("class") or "").split() if c.startswith("serie-")), "")
        if not serie:
            continue
        name = names[int(serie.removeprefix("serie-"))]
        for bars in group.findall(f"{{{SVG}}}g[@class='bars']"):
            for slot, bar in zip(slots, list(bars), strict=True):
                value = bar.findtext(f"{{{SVG}}}desc[@class='value']", "0").strip(FIGURE_SPACE)
                for desc in bar.findall(f"{{{SVG}}}desc"):
                    bar.remove(desc)
                if value == zero:
                    bars.remove(bar)
                    continue
                tooltip = ElementTree.SubElement(bar, f"{{{SVG}}}title")
                tooltip.text = f"{slot}, {name}: {value}"
    return Markup(ElementTree.tostring(root, encoding="unicode"))  # noqa: S704  # escaped by ElementTree


def every_week(labels: Sequence[str]) -> list[str]:
    """Label every seventh day, counting back from today, so that today has its label."""
    return list(labels[::-7])


def with_daily_bars(chart: Chart, drawn: Series, *, height: int) -> Chart:
    """``chart`` with ``drawn`` as one bar a day, every week labelled; an empty chart as it
    is (its page says ``empty_text`` instead)."""
    if chart.empty:
        return chart
    labels = chart.labels
    svg = draw(
        pygal.Bar,
        chart.key,
        chart.title,
        chart.summary,
        labels,
        [drawn],
        major=every_week(labels),
        height=height,
    )
    return replace(chart, svgs=(svg,))


def orders_chart(
    retail: Sequence[RetailOrdersOnDay], partners: Sequence[PartnerOrdersOnDay]
) -> Chart:
    """Retail orders per day, and beside them the partner orders they became, stacked by
    partner (past as many partners as the palette has colours, the busiest but one apart
    and the others together)."""
    days = [row.day for row in retail]
    by_partner: dict[str, list[int]] = {}
    for row in partners:
        by_partner.setdefault(row.partner_name, [0] * len(days))[days.index(row.day)] += row.orders
    names = sorted(by_partner, key=str.lower)
    rest: list[str] = []
    if len(names) > len(PALETTE):
        busiest_first = sorted(names, key=lambda name: -sum(by_partner[name]))
        rest = busiest_first[len(PALETTE) - 1 :]
        names = [name for name in names if name not in rest]
    stacks = [
        Series(name, tuple(by_partner[name]), PALETTE[index]) for index, name in enumerate(names)
    ]
    if rest:
        summed = tuple(sum(by_partner[name][i] for name in rest) for i in range(len(days)))
        stacks.append(Series(OTHERS, summed, GRAY))
    retail_series = Series("Retail orders", tuple(row.orders for row in retail), NEUTRAL)
    total = Series(
        "All partner orders",
        tuple(sum(s.values[i] for s in stacks) for i in range(len(days))),
        drawn=False,
    )
    labels = tuple(day_label(day) for day in days)
    busiest = max(range(len(days)), key=lambda i: retail_series.values[i], default=0)
    summary = (
        f"In the last {len(days)} days, {counted(retail_series.total, 'retail order')} became "
        f"{counted(total.total, 'partner order')}"
        + (": " + ", ".join(f"{s.name} {number(s.total)}" for s in stacks) if stacks else "")
        + (
            f". The busiest day was {labels[busiest]}, with "
            f"{counted(retail_series.values[busiest], 'retail order')}."
            if retail_series.total
            else "."
        )
    )
    chart = Chart(
        key="chart-orders",
        title="Orders per day",
        period=f"Last {len(days)} days: retail orders, and the partner orders they became",
        summary=summary,
        row_heading="Day",
        labels=labels,
        series=(retail_series, *stacks, *((total,) if len(stacks) > 1 else ())),
        empty_text="No orders with partners' products in the last 30 days.",
    )
    if chart.empty:
        return chart
    svg = draw(
        pygal.StackedBar,
        chart.key,
        chart.title,
        summary,
        labels,
        [retail_series],
        beside=stacks,
        major=every_week(labels),
    )
    return replace(chart, svgs=(svg,))


def partner_orders_chart(rows: Sequence[PartnerOrdersOnDay]) -> Chart:
    """One partner's orders per day."""
    days = [row.day for row in rows]
    labels = tuple(day_label(day) for day in days)
    orders = Series("Orders", tuple(row.orders for row in rows), PALETTE[0])
    busiest = max(range(len(days)), key=lambda i: orders.values[i], default=0)
    summary = f"In the last {len(days)} days you received {counted(orders.total, 'order')}" + (
        f"; the busiest day was {labels[busiest]}, with {number(orders.values[busiest])}."
        if orders.total
        else "."
    )
    chart = Chart(
        key="chart-partner-orders",
        title="Orders per day",
        period=f"Last {len(days)} days",
        summary=summary,
        row_heading="Day",
        labels=labels,
        series=(orders,),
        empty_text="No orders in the last 30 days.",
    )
    return with_daily_bars(chart, orders, height=220)


def failures_chart(rows: Sequence[FailuresForReason], days: int = 30) -> Chart:
    """The window's failed orders by reason, one horizontal bar each."""
    labels = tuple(reason_label(row.reason) for row in rows)
    failed = Series("Failed orders", tuple(row.orders for row in rows), CRITICAL)
    reasons = ", ".join(
        f"{label} {number(value)}" for label, value in zip(labels, failed.values, strict=True)
    )
    summary = f"{counted(failed.total, 'order')} of the last {days} days failed" + (
        f": {reasons}." if failed.total else "."
    )
    chart = Chart(
        key="chart-failures",
        title="Failed orders by reason",
        period=f"Orders of the last {days} days that are failed now",
        summary=summary,
        row_heading="Reason",
        labels=labels,
        series=(failed,),
        empty_text=f"No failed orders in the last {days} days.",
    )
    if chart.empty:
        return chart
    # pygal draws a horizontal chart's first label at the bottom: the most frequent goes last.
    drawn = replace(failed, values=failed.values[::-1])
    svg = draw(
        pygal.HorizontalBar,
        chart.key,
        chart.title,
        summary,
        labels[::-1],
        [drawn],
        height=56 + 32 * len(labels),
    )
    return replace(chart, svgs=(svg,))


def sync_health_chart(hours: Sequence[SyncHour], zone: ZoneInfo) -> Chart:
    """Stock changes applied and errors per hour, in two charts one above the other (on one
    scale the errors, a handful, would not show beside thousands of changes)."""
    local = [hour.start.astimezone(zone) for hour in hours]
    labels = tuple(f"{m:%a} {day_label(m.date())}, {m:%H:%M %Z}" for m in local)
    # The axis names the days at their midnights; the other hours' labels are not shown.
    axis = tuple(f"{m:%a} {day_label(m.date())}" if m.hour == 0 else f"{m:%H:%M}" for m in local)
    midnights = [label for label, m in zip(axis, local, strict=True) if m.hour == 0]
    changed = Series("Changes applied", tuple(h.changed for h in hours), SUCCESS)
    errors = Series("Errors", tuple(h.errors for h in hours), CRITICAL)
    runs = Series("Syncs", tuple(h.runs for h in hours), drawn=False)
    days = round(len(hours) / 24)
    summary = (
        f"In the last {days} days, {counted(runs.total, 'stock sync')} applied "
        f"{counted(changed.total, 'change')} and met {counted(errors.total, 'error')}"
        f" ({sum(1 for e in errors.values if e)} hours with errors)."
    )
    chart = Chart(
        key="chart-sync",
        title="Stock syncs per hour",
        period=f"Last {days} days: changes applied to the retail store's stock, and errors",
        summary=summary,
        row_heading="Hour",
        labels=labels,
        series=(runs, changed, errors),
        empty_text=f"No stock sync ran in the last {days} days.",
    )
    if chart.empty:
        return chart
    widest = max(len(number(max(ticks(max(column.values))))) for column in (changed, errors))
    panels = tuple(
        draw(
            pygal.Bar,
            f"{chart.key}-{column.name.split()[0].lower()}",
            f"{column.name} per hour",
            f"{column.name}: {number(column.total)} in the last {days} days.",
            axis,
            [column],
            major=midnights,
            tooltips=labels,
            label_width=widest,
            height=height,
        )
        for column, height in ((changed, 170), (errors, 120))
    )
    return replace(chart, svgs=panels)


def stock_history_chart(days: Sequence[StockDay]) -> Chart:
    """One imported variant's retail stock at the end of each day, from the levels PowerPact
    wrote (its stock history); the table also counts the levels written each day."""
    labels = tuple(day_label(day.day) for day in days)
    level = Series("Retail stock at day's end", tuple(day.level for day in days), PALETTE[0])
    written = Series("Changes written", tuple(day.changes for day in days), drawn=False)
    lowest, highest = min(level.values, default=0), max(level.values, default=0)
    summary = (
        f"In the last {counted(len(days), 'day')} PowerPact wrote"
        f" {counted(written.total, 'stock change')}"
        f"; the retail stock ended at {number(level.values[-1] if days else 0)}, lowest "
        f"{number(lowest)} and highest {number(highest)}."
    )
    chart = Chart(
        key="chart-stock",
        title="Retail stock per day",
        period=f"Last {counted(len(days), 'day')}"
        + (" (since it was imported)" if len(days) < STOCK_DAYS else ""),
        summary=summary,
        row_heading="Day",
        labels=labels,
        series=(level, written),
        empty_text=f"No stock in the last {counted(len(days), 'day')}, and no change written.",
    )
    return with_daily_bars(chart, level, height=200)


def margins_chart(weeks: Sequence[PartnerWeek], period: Period) -> Chart:
    """Each partner's gross margin per week of the period, stacked (past as many partners as
    the palette has colours, the highest margins but one apart and the others together). A
    week at a loss stacks below zero. The figures are amounts: the table under the chart
    shows them to the cent."""
    labels = period.week_labels
    currency = weeks[0].currency if weeks else ""
    digits = minor_digits(currency) if currency else 2
    by_partner: dict[str, list[int]] = {}
    for row in weeks:
        by_partner.setdefault(row.partner_name, [0] * len(labels))[row.week] += minor_units(
            row.margin, digits
        )
    names = sorted(by_partner, key=str.casefold)
    rest: list[str] = []
    if len(names) > len(PALETTE):
        highest_first = sorted(names, key=lambda name: -sum(by_partner[name]))
        rest = highest_first[len(PALETTE) - 1 :]
        names = [name for name in names if name not in rest]
    stacks = [
        Series(name, tuple(by_partner[name]), PALETTE[index]) for index, name in enumerate(names)
    ]
    if rest:
        summed = tuple(sum(by_partner[name][i] for name in rest) for i in range(len(labels)))
        stacks.append(Series(OTHERS, summed, GRAY))
    total = Series(
        "All partners",
        tuple(sum(s.values[i] for s in stacks) for i in range(len(labels))),
        drawn=False,
    )
    best = max(range(len(labels)), key=lambda i: total.values[i], default=0)
    amounts = f" ({currency})" if currency else ""
    each = ", ".join(f"{s.name} {figure(s.total, digits)}" for s in stacks)
    summary = (
        f"In the last {period.days} days, partners' products earned a gross margin of "
        f"{figure(total.total, digits)}{amounts}"
        + (f": {each}" if stacks else "")
        + (
            f". The best week was {labels[best]}, with {figure(total.values[best], digits)}."
            if any(total.values)
            else "."
        )
    )
    chart = Chart(
        key="chart-margins",
        title="Gross margin per week",
        period=f"Last {period.days} days, by partner{amounts}: retail revenue less the "
        "partners' prices, after discounts and refunds",
        summary=summary,
        row_heading="Week",
        labels=labels,
        series=(*stacks, *((total,) if len(stacks) > 1 else ())),
        empty_text=f"No margin to draw: no partner's product sold at a known retail price in "
        f"the last {period.days} days.",
        digits=digits,
    )
    if chart.empty:
        return chart
    svg = draw(pygal.StackedBar, chart.key, chart.title, summary, labels, stacks, digits=digits)
    return replace(chart, svgs=(svg,))
