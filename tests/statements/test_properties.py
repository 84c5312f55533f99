"""For random histories of orders sent, cancellations, refunds and edits, in random zones:
the statements of consecutive periods add up to what was sent less what was credited, to the
cent; each month's balance is what happened in that local month; each order and credit is in
exactly one statement; the summaries agree with the statements."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerpact.extensions import db
from powerpact.models import CreditKind, OrderStatus
from powerpact.orders.aftercare import credit_cancellation
from powerpact.statements.ledger import (
    build_statement,
    monthly_figures,
    partner_of,
    period_summaries,
    retail_terms,
)
from powerpact.statements.periods import Period
from tests.factories import (
    OrderSyncFactory,
    PartnerCreditFactory,
    PartnerStoreFactory,
    RetailStoreFactory,
)

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC")
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = 330 * 24 * 60  # minutes: the orders are sent over eleven months
CENT = Decimal("0.01")


@st.composite
def sent_orders(draw):
    lines = draw(st.integers(0, 50_000))
    return {
        "minute": draw(st.integers(0, SPAN)),
        "lines": lines,
        "discount": draw(st.integers(0, lines)),
        "shipping": draw(st.integers(0, 2_000)),
        "tax": draw(st.integers(0, 5_000)),
        "sent": draw(st.booleans() | st.just(True)),
    }


histories = st.tuples(
    st.sampled_from(ZONES),
    st.lists(sent_orders(), max_size=6),
    st.lists(
        st.tuples(
            st.integers(0, 5),  # which order
            st.sampled_from(["refund", "edit", "cancellation"]),
            st.integers(0, 80 * 24 * 60),  # minutes after it was sent
            st.integers(0, 100),  # percent of what is left of the lines
            st.integers(0, 100),  # of the shipping
            st.integers(0, 100),  # of the tax
        ),
        max_size=16,
    ),
    st.integers(2, 28),  # the day the split periods cut each month at
)


@dataclass
class Owed:
    """What the test itself knows an order still charges (in cents)."""

    lines: int
    shipping: int
    tax: int
    cancelled: bool = False

    @property
    def total(self) -> int:
        return self.lines + self.shipping + self.tax


def cents(amount: int) -> Decimal:
    return Decimal(amount) * CENT


def local_month(moment: datetime, zone: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(zone)
    return local.year, local.month


def months_between(first: date, last: date) -> list[Period]:
    months = [Period.month_of(first)]
    while months[-1].end <= last:
        months.append(months[-1].next_month())
    return months


def record_history(zone, orders, events):
    """Store the history as PowerPact would; return what the test expects of it: per local
    month, what was sent and credited; every order and credit id."""
    partner = PartnerStoreFactory()
    expected: Counter[tuple[int, int]] = Counter()
    sent_ids, credit_ids, owed = [], [], {}
    rows = []
    for number, spec in enumerate(orders):
        at = START + timedelta(minutes=spec["minute"])
        total = spec["lines"] - spec["discount"] + spec["shipping"] + spec["tax"]
        row = OrderSyncFactory(
            partner=partner,
            status=OrderStatus.SYNCED if spec["sent"] else OrderStatus.FAILED,
            partner_order_id=f"gid://shopify/Order/{number}" if spec["sent"] else None,
            sent_at=at if spec["sent"] else None,
            subtotal=cents(spec["lines"]),
            discount_total=cents(spec["discount"]),
            shipping_share=cents(spec["shipping"]),
            tax_share=cents(spec["tax"]),
            total=cents(total),
        )
        rows.append(row)
        if spec["sent"]:
            sent_ids.append(row.id)
            expected[local_month(at, zone)] += total
            owed[row.id] = Owed(spec["lines"] - spec["discount"], spec["shipping"], spec["tax"])
    for number, (which, kind, after, of_lines, of_shipping, of_tax) in enumerate(events):
        if which >= len(rows) or rows[which].id not in owed or owed[rows[which].id].cancelled:
            continue
        order, left = rows[which], owed[rows[which].id]
        at = order.sent_at + timedelta(minutes=after)
        if kind == "cancellation":
            credited = credit_cancellation(order, at)
            assert credited == (cents(left.total) if left.total else None)
            if credited is None:
                continue
            taken = Owed(left.lines, left.shipping, left.tax)
            left.cancelled = True
        else:
            taken = Owed(
                left.lines * of_lines // 100,
                left.shipping * of_shipping // 100,
                left.tax * of_tax // 100,
            )
            PartnerCreditFactory(
                order_sync=order,
                kind=CreditKind(kind),
                source_key=f"{kind}:{number}",
                occurred_at=at,
                lines=cents(taken.lines),
                shipping=cents(taken.shipping),
                tax=cents(taken.tax),
                total=cents(taken.total),
            )
        left.lines -= taken.lines
        left.shipping -= taken.shipping
        left.tax -= taken.tax
        expected[local_month(at, zone)] -= taken.total
        credit_ids.append(number)
    db.session.flush()
    return partner, expected, sent_ids, len(credit_ids)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories)
def test_the_statements_add_up_to_what_was_sent_less_what_was_credited(db_session, history):
    zone_name, orders, events, cut = history
    try:
        RetailStoreFactory(timezone=zone_name)
        zone = ZoneInfo(zone_name)
        partner, expected, sent_ids, credit_count = record_history(zone, orders, events)
        terms = retail_terms()
        months = months_between(date(2025, 12, 1), date(2027, 3, 1))
        statements = [build_statement(partner_of(partner), m, terms) for m in months]

        assert sum((s.figures.balance for s in statements), Decimal(0)) == cents(
            sum(expected.values())
        )
        for month, found in zip(months, statements, strict=True):
            assert found.figures.balance == cents(expected[month.start.year, month.start.month])
        assert sorted(o.id for s in statements for o in s.orders) == sorted(sent_ids)
        assert sum(len(s.credits) for s in statements) == credit_count

        by_month = monthly_figures(partner.shop_domain, months, terms)
        assert [m.figures for m in by_month] == [s.figures for s in statements]
        for month, found in zip(months[:3], statements[:3], strict=True):
            (summary,) = period_summaries(month, terms)
            assert summary.figures == found.figures

        halves = [
            half
            for month in months
            for half in (
                Period(month.start, month.start.replace(day=cut)),
                Period(month.start.replace(day=cut), month.end),
            )
        ]
        split = [build_statement(partner_of(partner), h, terms).figures for h in halves]
        assert sum((f.balance for f in split), Decimal(0)) == cents(sum(expected.values()))
        assert sum(f.orders for f in split) == len(sent_ids)
    finally:
        db.session.rollback()
