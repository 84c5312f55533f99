"""A partner's statement, from stored facts: the orders sent in its period, the credits that
occurred in it, its payments; a closed month never changes; the summaries agree with it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from powerpact.models import CreditKind, OrderStatus
from powerpact.orders.aftercare import credit_cancellation
from powerpact.statements.export import statement_csv
from powerpact.statements.ledger import (
    StatementStatus,
    build_statement,
    monthly_figures,
    partner_of,
    period_summaries,
    retail_terms,
    statement_figures,
)
from powerpact.statements.periods import Period
from tests.factories import (
    OrderSyncFactory,
    PartnerCreditFactory,
    PartnerStoreFactory,
    RetailStoreFactory,
    StatementPaymentFactory,
)

MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)
AFTER_APRIL = datetime(2026, 5, 2, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def alice(db_session):
    RetailStoreFactory(timezone="America/New_York", currency_code="USD")
    return PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com", name="Alice Roasters")


def sent(partner, at, *, status=OrderStatus.SYNCED, **amounts):
    """An order sent at ``at``: 24.00 of lines, 5.00 shipping, 2.40 tax unless told."""
    values = {
        "subtotal": Decimal("24.00"),
        "discount_total": Decimal("0"),
        "shipping_share": Decimal("5.00"),
        "tax_share": Decimal("2.40"),
        **{k: Decimal(v) for k, v in amounts.items()},
    }
    values["total"] = (
        values["subtotal"] - values["discount_total"] + values["shipping_share"]
    ) + values["tax_share"]
    return OrderSyncFactory(partner=partner, synced=True, sent_at=at, status=status, **values)


def credit(order, at, total, kind=CreditKind.REFUND):
    return PartnerCreditFactory(order_sync=order, occurred_at=at, kind=kind, lines=Decimal(total))


def statement(partner, period, now=AFTER_APRIL):
    return build_statement(partner_of(partner), period, retail_terms(), now=now)


def test_an_order_is_in_the_month_it_was_sent_in_the_retail_stores_zone(alice):
    """23:30 on March 31st in New York is 03:30 UTC on April 1st: a March order."""
    late_march = sent(alice, utc(2026, 4, 1, 3, 30))
    early_april = sent(alice, utc(2026, 4, 1, 4, 30))
    march, april = statement(alice, MARCH), statement(alice, APRIL)
    assert [o.id for o in march.orders] == [late_march.id]
    assert [o.id for o in april.orders] == [early_april.id]
    assert march.figures.sent == Decimal("31.40")


def test_a_statement_lists_the_partners_prices_and_sums_them(alice):
    sent(alice, utc(2026, 3, 2, 12), subtotal="24.00", discount_total="2.40")
    sent(alice, utc(2026, 3, 20, 12), subtotal="36.00", shipping_share="0", tax_share="3.60")
    found = statement(alice, MARCH)
    first, second = found.orders
    assert (first.subtotal, first.discount, first.shipping, first.tax, first.total) == (
        Decimal("24.00"),
        Decimal("2.40"),
        Decimal("5.00"),
        Decimal("2.40"),
        Decimal("29.00"),
    )
    assert second.total == Decimal("39.60")
    assert found.figures.sent == Decimal("68.60")
    assert found.figures.balance == Decimal("68.60")
    assert found.figures.status == StatementStatus.OPEN


def test_orders_not_sent_and_other_partners_orders_are_left_out(alice, db_session):
    bob = PartnerStoreFactory(shop_domain="bob-beans.myshopify.com")
    sent(alice, utc(2026, 3, 5))
    sent(bob, utc(2026, 3, 5))
    OrderSyncFactory(partner=alice, failed=True, created_at=utc(2026, 3, 5))
    OrderSyncFactory(partner=alice, ready=True, created_at=utc(2026, 3, 5))
    assert statement(alice, MARCH).figures.orders == 1


def test_a_credit_lands_in_the_month_it_occurred_not_the_month_its_order_was_sent(alice):
    order = sent(alice, utc(2026, 3, 10, 15))
    credit(order, utc(2026, 4, 3, 15), "12.00")
    march, april = statement(alice, MARCH), statement(alice, APRIL)
    assert march.credits == []
    assert march.figures.balance == Decimal("31.40")
    (late,) = april.credits
    assert (late.retail_order, late.order_sent_at) == (order.bubbly_order_name, order.sent_at)
    assert april.figures.orders == 0
    assert april.figures.balance == Decimal("-12.00")
    assert april.figures.status == StatementStatus.NOTHING_DUE


def test_a_closed_month_is_the_same_when_read_again_after_more_happened(alice, db_session):
    march_order = sent(alice, utc(2026, 3, 10, 15))
    refunded = sent(alice, utc(2026, 3, 12, 15))
    credit(refunded, utc(2026, 3, 20, 15), "6.00")
    before = statement(alice, MARCH, now=utc(2026, 4, 2))
    assert before.closed

    sent(alice, utc(2026, 4, 2, 15))
    credit(march_order, utc(2026, 4, 5, 15), "12.00", kind=CreditKind.EDIT)
    credit_cancellation(refunded, utc(2026, 4, 6, 15))
    StatementPaymentFactory(
        partner=alice, period_start=APRIL.start, period_end=APRIL.end, amount=Decimal("1.00")
    )
    db_session.flush()

    after = statement(alice, MARCH, now=utc(2026, 5, 2))
    assert (after.orders, after.credits, after.figures) == (
        before.orders,
        before.credits,
        before.figures,
    )
    assert after.figures.balance == Decimal("56.80")


def test_a_partial_payment_leaves_the_rest_open(alice):
    sent(alice, utc(2026, 3, 10, 15))
    sent(alice, utc(2026, 3, 11, 15))
    pay = {"partner": alice, "period_start": MARCH.start, "period_end": MARCH.end}
    StatementPaymentFactory(**pay, amount=Decimal("20.00"), paid_on=date(2026, 4, 5))
    partly = statement(alice, MARCH)
    assert partly.figures.paid == Decimal("20.00")
    assert partly.figures.outstanding == Decimal("42.80")
    assert partly.figures.status == StatementStatus.PARTLY_PAID
    StatementPaymentFactory(**pay, amount=Decimal("42.80"), paid_on=date(2026, 4, 6))
    paid = statement(alice, MARCH)
    assert [p.amount for p in paid.payments] == [Decimal("20.00"), Decimal("42.80")]
    assert paid.figures.outstanding == 0
    assert paid.figures.status == StatementStatus.PAID


def test_a_payment_belongs_to_its_own_period_only(alice):
    sent(alice, utc(2026, 3, 10, 15))
    half = Period(date(2026, 3, 1), date(2026, 3, 16))
    StatementPaymentFactory(
        partner=alice, period_start=half.start, period_end=half.end, amount=Decimal("31.40")
    )
    assert statement(alice, half).figures.status == StatementStatus.PAID
    assert statement(alice, MARCH).figures.status == StatementStatus.OPEN


def test_a_cancellation_credits_what_the_order_still_charged_once(alice):
    order = sent(alice, utc(2026, 3, 10, 15))
    credit(order, utc(2026, 3, 11, 15), "12.00")
    assert credit_cancellation(order, utc(2026, 3, 12, 15)) == Decimal("19.40")
    assert credit_cancellation(order, utc(2026, 3, 13, 15)) is None
    found = statement(alice, MARCH)
    assert [(c.kind, c.total) for c in found.credits] == [
        (CreditKind.REFUND, Decimal("12.00")),
        (CreditKind.CANCELLATION, Decimal("19.40")),
    ]
    cancellation = found.credits[1]
    assert (cancellation.lines, cancellation.shipping, cancellation.tax) == (
        Decimal("12.00"),
        Decimal("5.00"),
        Decimal("2.40"),
    )
    assert found.figures.balance == 0
    assert found.figures.status == StatementStatus.NOTHING_DUE


def test_the_summaries_agree_with_the_statements(alice, db_session):
    bob = PartnerStoreFactory(shop_domain="bob-beans.myshopify.com", name="Bob")
    carol = PartnerStoreFactory(shop_domain="carol.myshopify.com", name="Carol")
    for partner, day in ((alice, 3), (alice, 31), (bob, 15)):
        order = sent(partner, utc(2026, 3, day, 15))
        credit(order, utc(2026, 4, 2, 15), "1.10")
    StatementPaymentFactory(
        partner=bob, period_start=MARCH.start, period_end=MARCH.end, amount=Decimal("5.00")
    )
    db_session.flush()
    terms = retail_terms()
    for period in (MARCH, APRIL):
        summaries = period_summaries(period, terms)
        assert [s.partner.name for s in summaries] == ["Alice Roasters", "Bob", "Carol"]
        for summary, partner in zip(summaries, (alice, bob, carol), strict=True):
            assert summary.figures == statement(partner, period).figures
            assert statement_figures(partner.shop_domain, period, terms) == summary.figures
        assert summaries[2].figures.status == StatementStatus.NOTHING_DUE
    months = monthly_figures(alice.shop_domain, [APRIL, MARCH, Period.month(2026, 2)], terms)
    assert [m.period for m in months] == [APRIL, MARCH, Period.month(2026, 2)]
    assert [m.figures for m in months[:2]] == [
        statement(alice, APRIL).figures,
        statement(alice, MARCH).figures,
    ]
    assert months[2].figures.orders == 0


def test_the_csv_amounts_add_up_to_what_stays_open(alice):
    order = sent(alice, utc(2026, 3, 10, 15))
    sent(alice, utc(2026, 3, 11, 15), subtotal="10.00", discount_total="1.00")
    credit(order, utc(2026, 3, 12, 15), "2.50")
    StatementPaymentFactory(
        partner=alice,
        period_start=MARCH.start,
        period_end=MARCH.end,
        amount=Decimal("20.00"),
        reference="=HYPERLINK(evil)",
    )
    found = statement(alice, MARCH)
    rows = list(csv.DictReader(io.StringIO(statement_csv(found))))
    assert [r["entry"] for r in rows] == ["order", "order", "credit", "payment"]
    assert rows[0]["date"] == "2026-03-10T11:00-04:00"
    assert rows[1]["discounts"] == "1.00"
    assert rows[2]["amount"] == "-2.50"
    assert rows[3]["detail"] == "'=HYPERLINK(evil)"
    assert sum(Decimal(r["amount"]) for r in rows) == found.figures.outstanding
    assert sum(Decimal(r["amount"]) for r in rows[:3]) == found.figures.balance
