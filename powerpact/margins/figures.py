"""Margins: what the markup earned on each partner's products, product and variant, over the
last 30 or 90 days, in ``Decimal`` to the cent.

What counts, for a line of a partner's order (``OrderSyncLine``):

- **Units sold**: the line's quantity, which already leaves out what was refunded or
  removed before the order was sent (the capture keeps the remaining quantity).
- **Retail revenue**: the retail unit price times the units, less the retail discounts
  allocated to the line, both as the retail order had them when it was captured. Shipping
  and tax are left out: the partner's shipping share is the customer's shipping passed on,
  and tax is collected for the tax authority.
- **Partner cost**: the partner's unit price at the time of the order times the units,
  less the partner's share of the discount (``orders/split.py``).
- **Gross margin**: revenue less cost; **margin percent**: the margin over the revenue, to
  one decimal place (none when there is no revenue).

Which orders: those captured in the period (``OrderSync.created_at``, in the retail store's
days) that were sold: ready to send, sent, fulfilled, or failed (the customer paid; a failed
send is retried or fixed). Pending orders (unpaid, or held for their risk) and cancelled
ones are left out, and so are a cancelled order's credits.

Refunds netted: a refund or an edit after sending is a ``PartnerCredit`` of the order, at
the partner's prices (``lines``, its discount included), dated when it happened. Margins
answer what the period's orders earned, so a credit is netted from its order's figures,
whenever it occurred (a statement, instead, puts it in the month it occurred). A credit
names an order, not its lines: its amount is spread over the order's lines by their
partner value (largest remainder, so the parts add up to the credit exactly), each line's
part is taken from its cost, the same fraction of its retail revenue from its revenue, and
that fraction of its units (rounded to whole units) from its units. So a partner's figures
are exact; a product's or a variant's are exact when the order held one line of the
partner's, and else share the refund by value.

A line whose retail price is not known (captured before PowerPact kept it, and neither a
stored webhook nor a markup rule could give it, see migration 0022) counts in the units,
is left out of the revenue, the cost and the margin, and is counted as "not known"; one
whose price was estimated from the markup rule counts, and is counted as "estimated".

Two queries whatever the period: every line of the period grouped by partner, product,
variant and week in the database, and the lines of the period's orders that have credits.
"""

from __future__ import annotations

import enum
import io
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select, type_coerce

from powerpact.config import SHOP_DOMAIN_RE
from powerpact.db_types import Money, time_slot, utcnow
from powerpact.extensions import db
from powerpact.models import (
    OrderStatus,
    OrderSync,
    OrderSyncLine,
    PartnerCredit,
    PartnerStore,
    RetailPriceSource,
)
from powerpact.money import ZERO, allocate, round_money
from powerpact.shops import display_name
from powerpact.spreadsheets import csv_writer
from powerpact.timezones import local_days, start_of_day

PERIODS = (30, 90)
SOLD = (
    OrderStatus.READY_FOR_SYNC,
    OrderStatus.SYNCED,
    OrderStatus.FULFILLED,
    OrderStatus.FAILED,
)
PERCENT = Decimal("0.1")
HUNDRED = Decimal(100)
SHOWN_ROWS = 500  # a page's table; the CSV has every row


class Level(enum.StrEnum):
    PARTNER = "partner"
    PRODUCT = "product"
    VARIANT = "variant"


class Sort(enum.StrEnum):
    MARGIN = "margin"
    MARGIN_PERCENT = "margin_percent"
    REVENUE = "revenue"
    COST = "cost"
    UNITS = "units"
    NAME = "name"


# ---------------------------------------------------------------------------------------
# The arithmetic: pure, Decimal only.


def margin_percent(margin: Decimal, revenue: Decimal) -> Decimal | None:
    """The margin over the revenue in percent, to one decimal place; None without revenue."""
    if revenue <= 0:
        return None
    return (margin * HUNDRED / revenue).quantize(PERCENT, rounding=ROUND_HALF_EVEN)


@dataclass
class Figures:
    """A group's figures, refunds netted. ``revenue`` and ``cost`` are of the units whose
    retail price is known; ``unknown_units`` are left out of them, ``estimated_units``
    counted with a retail price estimated from the markup rule; ``refunded`` is the retail
    revenue the refunds took out."""

    units: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    refunded: Decimal = ZERO
    unknown_units: int = 0
    estimated_units: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return margin_percent(self.margin, self.revenue)

    @property
    def all_unknown(self) -> bool:
        """No unit of the group has a known retail price: it has no margin to show."""
        return self.unknown_units > 0 and self.unknown_units >= self.units

    def add(self, other: Figures) -> None:
        self.units += other.units
        self.revenue += other.revenue
        self.cost += other.cost
        self.refunded += other.refunded
        self.unknown_units += other.unknown_units
        self.estimated_units += other.estimated_units


@dataclass(frozen=True)
class LineFacts:
    """One order line as the margins read it: its units, its partner value (partner unit
    price times units, less the partner discount) and its retail value (retail unit price
    times units, less the retail discount; None when the retail price is not known)."""

    quantity: int
    partner_value: Decimal
    retail_value: Decimal | None
    estimated: bool = False

    def figures(self) -> Figures:
        if self.retail_value is None:
            return Figures(units=self.quantity, unknown_units=self.quantity)
        return Figures(
            units=self.quantity,
            revenue=self.retail_value,
            cost=self.partner_value,
            estimated_units=self.quantity if self.estimated else 0,
        )


def credit_shares(lines: Sequence[LineFacts], credited: Decimal, currency: str) -> list[Figures]:
    """What a credit of ``credited`` (at the partner's prices) takes out of each of an order's
    ``lines``, as negative figures (see the module docstring).

    The credit is rounded to the currency's minor unit and kept between nothing and the
    lines' partner value; its parts add up to it exactly.
    """
    total = sum((line.partner_value for line in lines), ZERO)
    amount = min(max(round_money(credited, currency), ZERO), round_money(total, currency))
    if len(lines) == 1:  # most orders: the whole credit is the line's (no split to make)
        parts = [amount]
    else:
        parts = allocate(amount, [max(line.partner_value, ZERO) for line in lines], currency)
    shares = []
    for line, part in zip(lines, parts, strict=True):
        value = line.partner_value
        fraction = part / value if value > 0 else ZERO
        units = int((line.quantity * fraction).to_integral_value(rounding=ROUND_HALF_EVEN))
        if line.retail_value is None:
            shares.append(Figures(units=-units, unknown_units=-units))
            continue
        refunded = round_money(line.retail_value * fraction, currency)
        shares.append(
            Figures(
                units=-units,
                revenue=-refunded,
                cost=-part,
                refunded=refunded,
                estimated_units=-units if line.estimated else 0,
            )
        )
    return shares


# ---------------------------------------------------------------------------------------
# The period and its weeks.


EN_DASH = "\u2013"  # a range of days, as the admin writes one


def week_label(first: date, last: date) -> str:
    """``Mar 3`` en dash ``9``, or ``Feb 27`` en dash ``Mar 2`` across two months; one day
    alone when the week is cut to its last day."""
    if first == last:
        return f"{first:%b} {first.day}"
    if first.month == last.month:
        return f"{first:%b} {first.day}{EN_DASH}{last.day}"
    return f"{first:%b} {first.day}{EN_DASH}{last:%b} {last.day}"


@dataclass(frozen=True)
class Period:
    """The last ``days`` days in the retail store's zone, ending today, and its weeks
    (Monday to Sunday, the first and the last cut to the period): ``edges`` are the
    instants they begin, and the period's end."""

    days: int
    first_day: date
    last_day: date
    edges: tuple[datetime, ...]
    week_starts: tuple[date, ...]

    @property
    def start(self) -> datetime:
        return self.edges[0]

    @property
    def end(self) -> datetime:
        return self.edges[-1]

    @property
    def label(self) -> str:
        """``Mar 3, 2026 to Apr 1, 2026``."""
        return " to ".join(f"{d:%b} {d.day}, {d.year}" for d in (self.first_day, self.last_day))

    @property
    def week_labels(self) -> tuple[str, ...]:
        lasts = [*(d - timedelta(days=1) for d in self.week_starts[1:]), self.last_day]
        return tuple(week_label(a, b) for a, b in zip(self.week_starts, lasts, strict=True))

    def week_of(self, moment: datetime) -> int:
        """The week a moment of the period falls in (as ``db_types.time_slot`` puts it)."""
        return min(max(bisect_right(self.edges, moment) - 1, 0), len(self.week_starts) - 1)


def period_of(days: int, zone: ZoneInfo, now: datetime | None = None) -> Period:
    dates = local_days(zone, days, now or utcnow())
    starts = [dates[0], *(d for d in dates[1:] if d.weekday() == 0)]
    edges = [start_of_day(d, zone) for d in starts]
    edges.append(start_of_day(dates[-1] + timedelta(days=1), zone))
    return Period(days, dates[0], dates[-1], tuple(edges), tuple(starts))


# ---------------------------------------------------------------------------------------
# The choices of the page, as its query string gives them.


def _first(sort: Sort) -> bool:
    """Whether a column sorts descending first: figures highest first, names A to Z."""
    return sort != Sort.NAME


@dataclass(frozen=True)
class MarginFilters:
    """The page's choices; anything the query string gives beyond them is dropped."""

    days: int = PERIODS[0]
    partner: str | None = None
    level: Level = Level.PARTNER
    sort: Sort = Sort.MARGIN
    descending: bool = True

    @classmethod
    def from_args(cls, args: Any) -> MarginFilters:
        days = args.get("days")
        partner = args.get("partner") or None
        if partner is not None and not SHOP_DOMAIN_RE.match(partner):
            partner = None
        level = args.get("level")
        sort = Sort(args["sort"]) if args.get("sort") in {v.value for v in Sort} else Sort.MARGIN
        direction = args.get("dir")
        return cls(
            days=int(days) if days in {str(p) for p in PERIODS} else PERIODS[0],
            partner=partner,
            level=Level(level) if level in {v.value for v in Level} else Level.PARTNER,
            sort=sort,
            descending=direction == "desc" if direction in ("asc", "desc") else _first(sort),
        )

    def query_args(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "days": self.days,
            "partner": self.partner,
            "level": self.level.value,
            "sort": self.sort.value,
            "dir": "desc" if self.descending else "asc",
        }
        values.update(changes)
        sort = Sort(values["sort"]) if values.get("sort") else Sort.MARGIN
        defaults = {
            "days": PERIODS[0],
            "level": "partner",
            "sort": "margin",
            "dir": "desc" if _first(sort) else "asc",
        }
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}

    def sorted_by(self, sort: Sort) -> dict[str, Any]:
        """The query of this table sorted by ``sort``: highest first (names: A to Z), or the
        other way round when it is already so sorted."""
        descending = not self.descending if sort == self.sort else _first(sort)
        return self.query_args(sort=sort.value, dir="desc" if descending else "asc")

    def aria_sort(self, sort: Sort) -> str:
        if sort != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


# ---------------------------------------------------------------------------------------
# The report: the two queries, folded into figures per group and per week.


@dataclass(frozen=True)
class GroupKey:
    partner: str
    currency: str
    product: str
    variant: str


@dataclass(frozen=True)
class MarginRow:
    """A row of the table: a partner, a partner's product, or one of its variants."""

    partner_domain: str
    partner_name: str
    currency: str
    product: str | None
    variant: str | None
    figures: Figures

    @property
    def name(self) -> str:
        return self.variant or self.product or self.partner_name


@dataclass(frozen=True)
class PartnerWeek:
    """One partner's margin in one week of the period (in ``currency``)."""

    partner_domain: str
    partner_name: str
    currency: str
    week: int
    margin: Decimal


@dataclass
class MarginReport:
    period: Period
    partner_names: dict[str, str]
    groups: dict[GroupKey, Figures] = field(default_factory=dict)
    weeks: dict[tuple[str, str, int], Figures] = field(default_factory=dict)
    variant_titles: dict[tuple[str, str], str] = field(default_factory=dict)

    def _figures(self, key: GroupKey, week: int) -> tuple[Figures, Figures]:
        group = self.groups.setdefault(key, Figures())
        weekly = self.weeks.setdefault((key.partner, key.currency, week), Figures())
        return group, weekly

    def add(self, key: GroupKey, week: int, figures: Figures) -> None:
        for target in self._figures(key, week):
            target.add(figures)

    def name_of(self, partner: str) -> str:
        return self.partner_names.get(partner) or display_name(None, partner)

    def rows(self, level: Level) -> list[MarginRow]:
        """The groups rolled up to ``level``, by partner name, product, variant."""
        rolled: dict[tuple[str, str, str | None, str | None], Figures] = {}
        for key, figures in self.groups.items():
            product = key.product if level != Level.PARTNER else None
            variant = key.variant if level == Level.VARIANT else None
            rolled.setdefault((key.partner, key.currency, product, variant), Figures()).add(figures)
        rows = [
            MarginRow(
                partner,
                self.name_of(partner),
                currency,
                product,
                self.variant_titles.get((product or "", variant), variant) if variant else None,
                figures,
            )
            for (partner, currency, product, variant), figures in rolled.items()
        ]
        rows.sort(key=lambda r: (r.partner_name.casefold(), r.product or "", r.variant or ""))
        return rows

    def totals(self) -> dict[str, Figures]:
        """Every group's figures added up, per currency (the store's, almost always one)."""
        totals: dict[str, Figures] = {}
        for key, figures in sorted(self.groups.items(), key=lambda item: item[0].currency):
            totals.setdefault(key.currency, Figures()).add(figures)
        return totals

    @property
    def currency(self) -> str | None:
        """The currency with the most revenue: the one the chart draws."""
        totals = self.totals()
        return max(totals, key=lambda c: (totals[c].revenue, c)) if totals else None

    def partner_weeks(self) -> list[PartnerWeek]:
        """Each partner's margin per week in the chart's currency, zeros included."""
        currency = self.currency
        partners = sorted(
            {p for (p, c, _w) in self.weeks if c == currency},
            key=lambda p: (self.name_of(p).casefold(), p),
        )
        return [
            PartnerWeek(
                partner,
                self.name_of(partner),
                currency or "",
                week,
                self.weeks.get((partner, currency or "", week), Figures()).margin,
            )
            for partner in partners
            for week in range(len(self.period.week_starts))
        ]


def sorted_rows(rows: Iterable[MarginRow], sort: Sort, descending: bool) -> list[MarginRow]:
    """The rows in the order asked; a row without a figure to sort by (a margin percent
    without revenue) goes last whichever the direction."""

    def value(row: MarginRow) -> Any:
        figures = row.figures
        return {
            Sort.MARGIN: figures.margin,
            Sort.MARGIN_PERCENT: figures.margin_percent,
            Sort.REVENUE: figures.revenue,
            Sort.COST: figures.cost,
            Sort.UNITS: figures.units,
            Sort.NAME: (row.partner_name.casefold(), row.product or "", row.variant or ""),
        }[sort]

    present = [row for row in rows if value(row) is not None]
    absent = [row for row in rows if value(row) is None]
    return sorted(present, key=value, reverse=descending) + absent


def _line_columns() -> tuple[ColumnElement[Any], ...]:
    product = func.coalesce(OrderSyncLine.product_title, OrderSyncLine.title)
    variant = func.coalesce(OrderSyncLine.bubbly_variant_id, OrderSyncLine.title)
    return product.label("product"), variant.label("variant")


def _partner_value() -> ColumnElement[Decimal]:
    return OrderSyncLine.partner_unit_price * OrderSyncLine.quantity - OrderSyncLine.discount


def _retail_value() -> ColumnElement[Decimal | None]:
    return OrderSyncLine.retail_unit_price * OrderSyncLine.quantity - func.coalesce(
        OrderSyncLine.retail_discount, 0
    )


def _in_period(period: Period, partner: str | None) -> list[ColumnElement[bool]]:
    conditions = [
        OrderSync.created_at >= period.start,
        OrderSync.created_at < period.end,
        OrderSync.status.in_(SOLD),
    ]
    if partner is not None:
        conditions.append(OrderSync.partner_shop_domain == partner)
    return conditions


def grouped_lines_query(period: Period, partner: str | None = None) -> Any:
    """The period's sold lines, summed per partner, currency, week, product, variant and
    where their retail price came from (the page's first query)."""
    week = time_slot(OrderSync.created_at, period.edges).label("week")
    product, variant = _line_columns()
    known = OrderSyncLine.retail_unit_price.is_not(None)
    return (
        select(
            OrderSync.partner_shop_domain,
            OrderSync.currency,
            week,
            product,
            variant,
            func.max(OrderSyncLine.title),
            OrderSyncLine.retail_price_source,
            func.sum(OrderSyncLine.quantity),
            func.sum(case((known, 0), else_=OrderSyncLine.quantity)),
            type_coerce(func.sum(case((known, _partner_value()), else_=0)), Money()),
            type_coerce(func.sum(_retail_value()), Money()),
        )
        .join(OrderSync, OrderSync.id == OrderSyncLine.order_sync_id)
        .where(*_in_period(period, partner))
        .group_by(
            OrderSync.partner_shop_domain,
            OrderSync.currency,
            week,
            product,
            variant,
            OrderSyncLine.retail_price_source,
        )
    )


def credited_lines_query(period: Period, partner: str | None = None) -> Any:
    """The lines of the period's sold orders that have credits, with each order's credited
    amount at the partner's prices (the page's second query)."""
    credited = (
        select(
            PartnerCredit.order_sync_id,
            type_coerce(func.sum(PartnerCredit.lines), Money()).label("credited"),
        )
        .group_by(PartnerCredit.order_sync_id)
        .subquery()
    )
    product, variant = _line_columns()
    return (
        select(
            OrderSync.id,
            OrderSync.partner_shop_domain,
            OrderSync.currency,
            OrderSync.created_at,
            credited.c.credited,
            product,
            variant,
            OrderSyncLine.quantity,
            type_coerce(_partner_value(), Money()),
            type_coerce(_retail_value(), Money()),
            OrderSyncLine.retail_price_source,
        )
        .join(credited, credited.c.order_sync_id == OrderSync.id)
        .join(OrderSyncLine, OrderSyncLine.order_sync_id == OrderSync.id)
        .where(*_in_period(period, partner))
        .order_by(OrderSync.id, OrderSyncLine.id)
    )


def margin_report(
    days: int, zone: ZoneInfo, *, partner: str | None = None, now: datetime | None = None
) -> MarginReport:
    """The period's margins: every sold line's figures, less its order's credits."""
    period = period_of(days, zone, now)
    names = {
        domain: display_name(name, domain)
        for domain, name in db.session.execute(select(PartnerStore.shop_domain, PartnerStore.name))
    }
    report = MarginReport(period, names)
    for row in db.session.execute(grouped_lines_query(period, partner)):
        domain, currency, week, product, variant, title, source, units, unknown, cost, revenue = row
        known_units = units - unknown
        figures = Figures(
            units=units,
            revenue=revenue or ZERO,
            cost=cost or ZERO,
            unknown_units=unknown,
            estimated_units=known_units if source == RetailPriceSource.MARKUP else 0,
        )
        report.add(GroupKey(domain, currency, product, variant), week, figures)
        titles = report.variant_titles
        titles[product, variant] = max(titles.get((product, variant), title), title)
    orders: dict[int, list[tuple[GroupKey, int, LineFacts]]] = {}
    credits: dict[int, tuple[Decimal, str]] = {}
    for row in db.session.execute(credited_lines_query(period, partner)):
        order_id, domain, currency, created_at, credited, product, variant = row[:7]
        quantity, partner_value, retail_value, source = row[7:]
        facts = LineFacts(quantity, partner_value, retail_value, source == RetailPriceSource.MARKUP)
        key = GroupKey(domain, currency, product, variant)
        orders.setdefault(order_id, []).append((key, period.week_of(created_at), facts))
        credits[order_id] = (credited, currency)
    for order_id, lines in orders.items():
        credited, currency = credits[order_id]
        shares = credit_shares([facts for _k, _w, facts in lines], credited, currency)
        for (key, week, _facts), share in zip(lines, shares, strict=True):
            report.add(key, week, share)
    return report


# ---------------------------------------------------------------------------------------
# The CSV.

CSV_HEADER = (
    "Partner",
    "Product",
    "Variant",
    "Currency",
    "Units sold",
    "Retail revenue",
    "Partner cost",
    "Gross margin",
    "Margin %",
    "Refunded",
    "Units with retail price not known",
    "Units with retail price estimated",
)


def csv_name(period: Period) -> str:
    return f"powerpact-margins-{period.first_day}-to-{period.last_day}.csv"


def as_csv(report: MarginReport, filters: MarginFilters) -> str:
    """The table at the filters' level and order, every row, amounts to the minor unit."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_HEADER)
    rows = sorted_rows(report.rows(filters.level), filters.sort, filters.descending)
    for row in rows:
        figures, currency = row.figures, row.currency
        known = not figures.all_unknown
        writer.writerow(
            [
                row.partner_name,
                row.product or "",
                row.variant or "",
                currency,
                figures.units,
                round_money(figures.revenue, currency) if known else "not known",
                round_money(figures.cost, currency) if known else "not known",
                round_money(figures.margin, currency) if known else "not known",
                figures.margin_percent if figures.margin_percent is not None else "",
                round_money(figures.refunded, currency),
                figures.unknown_units,
                figures.estimated_units,
            ]
        )
    return out.getvalue()
