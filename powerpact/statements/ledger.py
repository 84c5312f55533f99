"""Partner statements, computed from stored facts: what was sent, credited and paid.

A statement is one partner's and one period's (``periods.py``, calendar days in the retail
store's time zone). It holds:

- every partner order *sent* in the period: each OrderSync whose ``sent_at`` (when its
  partner order was created, or its units appended to a weekly master order; set by
  ``orders.push.mark_sent``) falls in the period, at the partner's prices as the split
  shared them (``orders/split.py``): lines, discounts, shipping share, tax share, total.
  A partner order that went out in a daily batch counts each of its retail orders' shares;
  an order sent and later cancelled still counts as sent, and its credit lands later;
- every credit (``PartnerCredit``: a cancellation, a refund or an edit after sending)
  that *occurred* in the period, whenever its order was sent;
- the balance (sent less credited) and the payments recorded against the statement
  (``StatementPayment``, of exactly this partner and period), and so what stays open.

Nothing here is stored: a statement is read again from those rows each time, and since
an order is sent once and a credit is dated when it happened, the orders, credits and
balance of a period that has ended never change (a credit for an order of March that
occurs in April lands in April). Only its payments and so its status move. Every order
and every credit is in exactly one month, so the statements of consecutive periods add up
to everything sent less everything credited, to the cent.

Amounts are ``Decimal`` in the retail store's currency (each OrderSync carries the retail
order's, which is the store's). The queries read columns, not ORM objects: a statement of
ten thousand orders is built in little more than its SQL takes (``bench statements``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, SQLColumnExpression, bindparam, func, select

from powerpact.db_types import time_slot, utcnow
from powerpact.extensions import db
from powerpact.models import (
    CreditKind,
    OrderStatus,
    OrderSync,
    PartnerCredit,
    PartnerStore,
    RetailStore,
    StatementPayment,
)
from powerpact.shops import display_name, retail_store_name
from powerpact.statements.periods import Period
from powerpact.timezones import shop_zone

ZERO = Decimal(0)


class StatementStatus(enum.StrEnum):
    OPEN = "open"  # something is owed and nothing paid yet
    PARTLY_PAID = "partly_paid"  # paid, but less than the balance
    PAID = "paid"  # payments cover the balance
    NOTHING_DUE = "nothing_due"  # nothing owed (no orders, or credits cover them) and no payment


@dataclass(frozen=True)
class Figures:
    """A statement's sums: what was sent, credited and paid, and what follows from them."""

    orders: int = 0
    sent: Decimal = ZERO
    credits: int = 0
    credited: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        """What the retail store owes the partner for the period."""
        return self.sent - self.credited

    @property
    def outstanding(self) -> Decimal:
        """What stays to be paid (negative: paid more than the balance)."""
        return self.balance - self.paid

    @property
    def status(self) -> StatementStatus:
        if self.paid == 0:
            return StatementStatus.OPEN if self.balance > 0 else StatementStatus.NOTHING_DUE
        return StatementStatus.PARTLY_PAID if self.outstanding > 0 else StatementStatus.PAID


class SentOrder(NamedTuple):
    """A partner order (one retail order's share) sent in the period."""

    id: int
    retail_order: str | None
    partner_order: str | None
    sent_at: datetime
    status: OrderStatus
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


class Credit(NamedTuple):
    """A credit that occurred in the period, with the order it is for."""

    id: int
    occurred_at: datetime
    kind: CreditKind
    order_sync_id: int
    retail_order: str | None
    partner_order: str | None
    order_sent_at: datetime | None
    lines: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    applied_at_partner: bool
    note: str | None


class Payment(NamedTuple):
    id: int
    paid_on: date
    amount: Decimal
    reference: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class Partner:
    id: int
    domain: str
    name: str


@dataclass(frozen=True)
class Statement:
    partner: Partner
    period: Period
    zone: ZoneInfo
    currency: str
    closed: bool
    orders: list[SentOrder]
    credits: list[Credit]
    payments: list[Payment]
    figures: Figures


@dataclass(frozen=True)
class Summary:
    """One row of the admin's statements: a partner's figures for the period."""

    partner: Partner
    figures: Figures


@dataclass(frozen=True)
class RetailTerms:
    """What every statement reads from the retail store: its time zone and currency, and
    its name, which a statement is from."""

    zone: ZoneInfo
    currency: str
    name: str


def retail_terms() -> RetailTerms:
    row = db.session.execute(
        select(
            RetailStore.timezone,
            RetailStore.currency_code,
            RetailStore.name,
            RetailStore.shop_domain,
        )
    ).first()
    if row is None:
        return RetailTerms(shop_zone("UTC"), "USD", retail_store_name())
    return RetailTerms(
        shop_zone(row.timezone), row.currency_code, display_name(row.name, row.shop_domain)
    )


def partner_of(row: PartnerStore) -> Partner:
    return Partner(row.id, row.shop_domain, display_name(row.name, row.shop_domain))


# A statement's three queries, built once; ``statement_queries`` binds them.
ORDERS = (
    select(
        OrderSync.id,
        OrderSync.bubbly_order_name,
        OrderSync.partner_order_name,
        OrderSync.sent_at,
        OrderSync.status,
        OrderSync.subtotal,
        OrderSync.discount_total,
        OrderSync.shipping_share,
        OrderSync.tax_share,
        OrderSync.total,
    )
    .where(
        OrderSync.partner_shop_domain == bindparam("partner"),
        OrderSync.sent_at >= bindparam("start"),
        OrderSync.sent_at < bindparam("end"),
    )
    .order_by(OrderSync.sent_at, OrderSync.id)
)
CREDITS = (
    select(
        PartnerCredit.id,
        PartnerCredit.occurred_at,
        PartnerCredit.kind,
        PartnerCredit.order_sync_id,
        OrderSync.bubbly_order_name,
        OrderSync.partner_order_name,
        OrderSync.sent_at,
        PartnerCredit.lines,
        PartnerCredit.shipping,
        PartnerCredit.tax,
        PartnerCredit.total,
        PartnerCredit.applied_at_partner,
        PartnerCredit.note,
    )
    .join(OrderSync, OrderSync.id == PartnerCredit.order_sync_id)
    .where(
        PartnerCredit.partner_shop_domain == bindparam("partner"),
        PartnerCredit.occurred_at >= bindparam("start"),
        PartnerCredit.occurred_at < bindparam("end"),
    )
    .order_by(PartnerCredit.occurred_at, PartnerCredit.id)
)
PAYMENTS = (
    select(
        StatementPayment.id,
        StatementPayment.paid_on,
        StatementPayment.amount,
        StatementPayment.reference,
        StatementPayment.recorded_by,
        StatementPayment.recorded_at,
    )
    .where(
        StatementPayment.partner_shop_domain == bindparam("partner"),
        StatementPayment.period_start == bindparam("period_start"),
        StatementPayment.period_end == bindparam("period_end"),
    )
    .order_by(StatementPayment.paid_on, StatementPayment.id)
)


def statement_parameters(partner_domain: str, period: Period, zone: ZoneInfo) -> dict[str, Any]:
    start, end = period.bounds(zone)
    return {
        "partner": partner_domain,
        "start": start,
        "end": end,
        "period_start": period.start,
        "period_end": period.end,
    }


def statement_queries() -> list[Select[*tuple[Any, ...]]]:
    """The SQL a statement runs (for ``bench statements``, which times it bare)."""
    return [ORDERS, CREDITS, PAYMENTS]


def build_statement(
    partner: Partner,
    period: Period,
    terms: RetailTerms,
    now: datetime | None = None,
) -> Statement:
    """The partner's statement for ``period``: three queries, and sums in ``Decimal``."""
    params = statement_parameters(partner.domain, period, terms.zone)
    execute = db.session.execute
    orders = list(map(SentOrder._make, execute(ORDERS, params)))
    credits = list(map(Credit._make, execute(CREDITS, params)))
    payments = list(map(Payment._make, execute(PAYMENTS, params)))
    figures = Figures(
        orders=len(orders),
        sent=sum((o.total for o in orders), ZERO),
        credits=len(credits),
        credited=sum((c.total for c in credits), ZERO),
        paid=sum((p.amount for p in payments), ZERO),
    )
    return Statement(
        partner=partner,
        period=period,
        zone=terms.zone,
        currency=terms.currency,
        closed=period.is_closed(terms.zone, now or utcnow()),
        orders=orders,
        credits=credits,
        payments=payments,
        figures=figures,
    )


def _amount(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


def period_summaries(period: Period, terms: RetailTerms) -> list[Summary]:
    """Every partner's figures for ``period``, by partner name: three grouped queries, whose
    sums are those of the partner's own statement."""
    start, end = period.bounds(terms.zone)
    sent = {
        domain: (count, _amount(total))
        for domain, count, total in db.session.execute(
            select(OrderSync.partner_shop_domain, func.count(), func.sum(OrderSync.total))
            .where(OrderSync.sent_at >= start, OrderSync.sent_at < end)
            .group_by(OrderSync.partner_shop_domain)
        )
    }
    credited = {
        domain: (count, _amount(total))
        for domain, count, total in db.session.execute(
            select(PartnerCredit.partner_shop_domain, func.count(), func.sum(PartnerCredit.total))
            .where(PartnerCredit.occurred_at >= start, PartnerCredit.occurred_at < end)
            .group_by(PartnerCredit.partner_shop_domain)
        )
    }
    paid = {
        domain: _amount(total)
        for domain, total in db.session.execute(
            select(StatementPayment.partner_shop_domain, func.sum(StatementPayment.amount))
            .where(
                StatementPayment.period_start == period.start,
                StatementPayment.period_end == period.end,
            )
            .group_by(StatementPayment.partner_shop_domain)
        )
    }
    partners = db.session.scalars(select(PartnerStore)).all()
    summaries = []
    for row in partners:
        orders, sent_total = sent.get(row.shop_domain, (0, ZERO))
        credits, credited_total = credited.get(row.shop_domain, (0, ZERO))
        figures = Figures(
            orders, sent_total, credits, credited_total, paid.get(row.shop_domain, ZERO)
        )
        summaries.append(Summary(partner_of(row), figures))
    return sorted(summaries, key=lambda s: (s.partner.name.casefold(), s.partner.domain))


@dataclass(frozen=True)
class MonthFigures:
    period: Period
    figures: Figures


def monthly_figures(
    partner_domain: str, months: Sequence[Period], terms: RetailTerms
) -> list[MonthFigures]:
    """The partner's figures for each of ``months`` (consecutive, any order), three grouped
    queries in all: each time is put in its month by ``db_types.time_slot``."""
    ascending = sorted(months)
    if not ascending:
        return []
    edges = [m.bounds(terms.zone)[0] for m in ascending] + [ascending[-1].bounds(terms.zone)[1]]
    # Only rows with a ``sent_at`` reach the CASE: the WHERE compares it with the edges.
    sent_slot = time_slot(cast(SQLColumnExpression[datetime], OrderSync.sent_at), edges).label(
        "slot"
    )
    sent = {
        slot: (count, _amount(total))
        for slot, count, total in db.session.execute(
            select(sent_slot, func.count(), func.sum(OrderSync.total))
            .where(
                OrderSync.partner_shop_domain == partner_domain,
                OrderSync.sent_at >= edges[0],
                OrderSync.sent_at < edges[-1],
            )
            .group_by(sent_slot)
        )
    }
    credit_slot = time_slot(PartnerCredit.occurred_at, edges).label("slot")
    credited = {
        slot: (count, _amount(total))
        for slot, count, total in db.session.execute(
            select(credit_slot, func.count(), func.sum(PartnerCredit.total))
            .where(
                PartnerCredit.partner_shop_domain == partner_domain,
                PartnerCredit.occurred_at >= edges[0],
                PartnerCredit.occurred_at < edges[-1],
            )
            .group_by(credit_slot)
        )
    }
    paid: dict[tuple[date, date], Decimal] = {}
    for start, end, total in db.session.execute(
        select(StatementPayment.period_start, StatementPayment.period_end, StatementPayment.amount)
        .where(
            StatementPayment.partner_shop_domain == partner_domain,
            StatementPayment.period_start.in_([m.start for m in ascending]),
        )
        .order_by(StatementPayment.id)
    ):
        paid[start, end] = paid.get((start, end), ZERO) + total
    result = []
    for slot, month in enumerate(ascending):
        orders, sent_total = sent.get(slot, (0, ZERO))
        credits, credited_total = credited.get(slot, (0, ZERO))
        figures = Figures(
            orders, sent_total, credits, credited_total, paid.get((month.start, month.end), ZERO)
        )
        result.append(MonthFigures(month, figures))
    order = {month: index for index, month in enumerate(months)}
    return sorted(result, key=lambda m: order[m.period])


def statement_figures(partner_domain: str, period: Period, terms: RetailTerms) -> Figures:
    """One statement's figures alone (three small queries; no rows read)."""
    params = statement_parameters(partner_domain, period, terms.zone)
    orders, sent = db.session.execute(
        select(func.count(), func.sum(OrderSync.total)).where(
            OrderSync.partner_shop_domain == params["partner"],
            OrderSync.sent_at >= params["start"],
            OrderSync.sent_at < params["end"],
        )
    ).one()
    credits, credited = db.session.execute(
        select(func.count(), func.sum(PartnerCredit.total)).where(
            PartnerCredit.partner_shop_domain == params["partner"],
            PartnerCredit.occurred_at >= params["start"],
            PartnerCredit.occurred_at < params["end"],
        )
    ).one()
    paid = db.session.scalar(
        select(func.sum(StatementPayment.amount)).where(
            StatementPayment.partner_shop_domain == params["partner"],
            StatementPayment.period_start == period.start,
            StatementPayment.period_end == period.end,
        )
    )
    return Figures(orders, _amount(sent), credits, _amount(credited), _amount(paid))
