"""The split's properties hold for any order (Hypothesis), and known orders split as expected."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerpact.money import quantum
from powerpact.orders.split import RETAIL_PARTY, InvalidOrder, RetailLine, RetailOrder, split_order

D = Decimal


def money(max_units=10**6, currency="USD"):
    return st.integers(min_value=0, max_value=max_units).map(lambda u: u * quantum(currency))


@st.composite
def orders(draw):
    currency = draw(st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
    partners = [f"p{i}.myshopify.com" for i in range(draw(st.integers(1, 10)))] + [RETAIL_PARTY]
    lines = []
    for i in range(draw(st.integers(1, 50))):
        quantity = draw(st.integers(0, 20))
        price = draw(money(50_000, currency))
        discount = draw(st.integers(0, int(price * quantity / quantum(currency)))) * quantum(
            currency
        )
        has_tax = draw(st.booleans())
        lines.append(
            RetailLine(
                line_id=f"L{i}",
                party=draw(st.sampled_from(partners)),
                title=f"Item {i}",
                quantity=quantity,
                unit_price=price,
                discount=discount,
                tax=draw(money(5_000, currency)) if has_tax else None,
                partner_unit_price=draw(money(50_000, currency)),
            )
        )
    line_tax = sum((line.tax or 0 for line in lines if line.quantity), D(0))
    order_tax = line_tax + draw(money(10_000, currency))
    if not any(line.quantity for line in lines):
        return RetailOrder(currency, lines)
    return RetailOrder(currency, lines, shipping=draw(money(100_000, currency)), tax=order_tax)


@settings(max_examples=150)
@given(orders())
def test_shares_sum_exactly_to_the_orders_shipping_and_tax(order):
    shares = split_order(order)
    assert sum((s.shipping for s in shares.values()), D(0)) == order.shipping
    assert sum((s.tax for s in shares.values()), D(0)) == order.tax
    step = quantum(order.currency)
    for share in shares.values():
        assert share.shipping == share.shipping.quantize(step)
        assert share.tax == share.tax.quantize(step)
        assert share.shipping >= 0


@settings(max_examples=150)
@given(orders())
def test_each_shipping_share_is_within_a_minor_unit_of_its_exact_proportion(order):
    shares = split_order(order)
    total_value = sum((s.retail_value for s in shares.values()), D(0))
    step = quantum(order.currency)
    for share in shares.values():
        if total_value:
            exact = order.shipping * share.retail_value / total_value
            assert abs(share.shipping - exact) < step


@given(orders())
def test_every_live_line_lands_with_its_party_and_nothing_else(order):
    shares = split_order(order)
    placed = {line.line_id: party for party, s in shares.items() for line in s.lines}
    expected = {line.line_id: line.party for line in order.lines if line.quantity > 0}
    assert placed == expected


def test_two_partners_and_the_retail_store():
    order = RetailOrder(
        "USD",
        [
            RetailLine(
                "1",
                "a.myshopify.com",
                "Espresso",
                2,
                D("15.60"),
                tax=D("2.50"),
                partner_unit_price=D("12.00"),
            ),
            RetailLine(
                "2",
                "b.myshopify.com",
                "Filter",
                1,
                D("20.00"),
                discount=D("2.00"),
                partner_unit_price=D("15.00"),
            ),
            RetailLine("3", RETAIL_PARTY, "Mug", 1, D("10.00")),
        ],
        shipping=D("10.00"),
        tax=D("5.00"),
    )
    shares = split_order(order)
    a, b, retail = shares["a.myshopify.com"], shares["b.myshopify.com"], shares[RETAIL_PARTY]
    # values 31.20, 18.00, 10.00 of 59.20
    assert [a.shipping, b.shipping, retail.shipping] == [D("5.27"), D("3.04"), D("1.69")]
    # 2.50 is line 1's own tax; the other 2.50 is prorated
    assert [a.tax, b.tax, retail.tax] == [D("2.50") + D("1.32"), D("0.76"), D("0.42")]
    assert a.subtotal == D("24.00")
    assert b.lines[0].discount == D("1.50")  # 10% of the line, at the partner's price
    assert b.total == D("15.00") - D("1.50") + D("3.04") + D("0.76")


def test_removed_lines_are_not_sent():
    order = RetailOrder(
        "USD",
        [RetailLine("1", "a", "Gone", 0, D("5")), RetailLine("2", "b", "Kept", 1, D("5"))],
        shipping=D("1.00"),
    )
    assert list(split_order(order)) == ["b"]


@pytest.mark.parametrize(
    ("order", "why"),
    [
        (RetailOrder("USD", [RetailLine("1", "a", "x", -1, D("5"))]), "negative quantity"),
        (RetailOrder("USD", [RetailLine("1", "a", "x", 1, D("5"), discount=D("6"))]), "below zero"),
        (RetailOrder("USD", [RetailLine("1", "a", "x", 1, D("5"), tax=D("-1"))]), "negative tax"),
        (
            RetailOrder("USD", [RetailLine("1", "a", "x", 1, D("5"))], shipping=D("-1")),
            "shipping is negative",
        ),
        (RetailOrder("USD", [RetailLine("1", "a", "x", 1, D("5"))], tax=D("0.001")), "whole USD"),
        (
            RetailOrder("USD", [RetailLine("1", "a", "x", 0, D("5"))], shipping=D("1")),
            "no lines left",
        ),
        (
            RetailOrder("USD", [RetailLine("1", "a", "x", 1, D("5"), tax=D("3"))], tax=D("1")),
            "exceeds the order's tax",
        ),
    ],
)
def test_impossible_orders_are_refused_with_a_reason(order, why):
    with pytest.raises(InvalidOrder, match=why):
        split_order(order)


def test_an_order_with_nothing_left_has_no_shares():
    assert split_order(RetailOrder("USD", [RetailLine("1", "a", "x", 0, D("5"))])) == {}
