"""The money of refunds and edits after sending (``orders/refunds.py``), exact to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerpact.models import CreditKind, OrderStatus, OrderSync, OrderSyncLine
from powerpact.money import allocate
from powerpact.orders.capture import shipping_unaccounted, unaccounted_after_send
from powerpact.orders.refunds import (
    after_send,
    dearest_units,
    parse_changes,
    prorated,
    read_changes,
    shipping_credits,
)
from powerpact.orders.split import InvalidOrder
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError
from tests.factories import RetailStoreFactory

D = Decimal
CENT = D("0.01")


def test_a_refund_of_all_the_shipping_gives_each_party_exactly_its_split_share():
    parts = [D("3.34"), D("3.33"), D("3.33")]
    (shares,) = shipping_credits([D("10.00")], parts, "USD")
    assert shares == parts


def test_partial_refunds_of_shipping_add_up_to_the_share_not_a_cent_more():
    # Three refunds of a third each: each shared alone, the first party would get
    # 1.67 + 1.67 + 1.67 = 5.01 of its 5.00. Shared as running totals it gets 5.00.
    parts = [D("5.00"), D("5.00")]
    shares = shipping_credits([D("3.33"), D("3.33"), D("3.34")], parts, "USD")
    assert [s[0] for s in shares] == [D("1.67"), D("1.66"), D("1.67")]
    assert sum(s[0] for s in shares) == D("5.00")
    assert [sum(s) for s in shares] == [D("3.33"), D("3.33"), D("3.34")]


def test_a_zero_decimal_currency_is_shared_in_whole_units():
    (shares,) = shipping_credits([D("1001")], [D("500"), D("501")], "JPY")
    assert shares == [D("500"), D("501")]


amounts_in_cents = st.integers(min_value=0, max_value=50_000)


@st.composite
def refund_histories(draw):
    """The split's parts of a shipping amount, and refunds of some or all of it."""
    parts = [D(c) * CENT for c in draw(st.lists(amounts_in_cents, min_size=1, max_size=5))]
    whole = sum(parts, D(0))
    cuts = draw(st.lists(st.integers(min_value=0, max_value=int(whole / CENT)), max_size=6))
    marks = sorted(D(c) * CENT for c in cuts)
    if draw(st.booleans()):
        marks.append(whole)  # refunded in full at last
    refunds = [b - a for a, b in zip([D(0), *marks], marks, strict=False)]
    return parts, refunds


@settings(max_examples=300)
@given(refund_histories())
def test_refund_shares_are_whole_cents_never_negative_and_never_pass_the_split(history):
    parts, refunds = history
    shares = shipping_credits(refunds, parts, "USD")
    running = [D(0)] * len(parts)
    refunded = D(0)
    for refund, share in zip(refunds, shares, strict=True):
        assert all(s >= 0 and s == s.quantize(CENT) for s in share)
        running = [r + s for r, s in zip(running, share, strict=True)]
        assert all(r <= p for r, p in zip(running, parts, strict=True))
        # each party's running total is at least its largest-remainder share of the total
        refunded += refund
        exact = allocate(refunded, parts, "USD")
        assert all(r >= e for r, e in zip(running, exact, strict=True))
    if sum(refunds, D(0)) == sum(parts, D(0)) and any(parts):
        assert running == parts  # refunded in full: exactly what the split gave, to the cent


@settings(max_examples=200)
@given(refund_histories())
def test_two_parties_share_each_refund_exactly(history):
    parts, refunds = history
    pair = [parts[0], sum(parts[1:], D(0))]
    for refund, share in zip(refunds, shipping_credits(refunds, pair, "USD"), strict=True):
        assert sum(share) == refund


def test_the_units_after_the_send_are_the_newest_ones_taken_off():
    # 5 ordered; a refund of 1 before the send (4 sent), then an edit of 2 and a refund of 1
    assert after_send([1, 2, 1], pending=3) == [0, 2, 1]
    # the split had not seen the first refund when the order went out: all 5 were sent
    assert after_send([1, 2, 1], pending=4) == [1, 2, 1]
    assert after_send([1, 2, 1], pending=0) == [0, 0, 0]
    assert after_send([D("2.00"), D("3.00")], pending=D("4.00")) == [D("1.00"), D("3.00")]


def test_a_lines_units_credited_over_several_facts_add_up_to_what_it_owed():
    prices = [(D("9.67"), 2), (D("9.66"), 1)]  # 29.00 for 3 units (partner_lines.unit_prices)
    steps = [dearest_units(prices, c) - dearest_units(prices, c - 1) for c in (1, 2, 3)]
    assert steps == [D("9.67"), D("9.67"), D("9.66")] and sum(steps) == D("29.00")
    taxes = [
        prorated(D("2.00"), c, 3, "USD") - prorated(D("2.00"), c - 1, 3, "USD") for c in (1, 2, 3)
    ]
    assert taxes == [D("0.66"), D("0.67"), D("0.67")] and sum(taxes) == D("2.00")


@settings(max_examples=200)
@given(
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=0, max_value=100_000),
    st.data(),
)
def test_any_split_of_a_lines_units_credits_exactly_its_amount_and_tax(units, cents, data):
    owed, tax = D(cents) * CENT, D(cents // 7) * CENT
    base, rest = divmod(cents, units)
    prices = [(D(base + 1) * CENT, rest), (D(base) * CENT, units - rest)]
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=units), max_size=5)))
    marks = [0, *cuts, units]
    lines = [dearest_units(prices, b) - dearest_units(prices, a) for a, b in pairwise(marks)]
    taxes = [
        prorated(tax, b, units, "USD") - prorated(tax, a, units, "USD") for a, b in pairwise(marks)
    ]
    assert sum(lines) == owed and sum(taxes) == tax
    assert all(x >= 0 for x in lines + taxes)


def refund_node(gid, created, lines=(), shipping="0.00", tax="0.00"):
    money = lambda a: {"shopMoney": {"amount": a, "currencyCode": "USD"}}  # noqa: E731
    return {
        "id": gid,
        "createdAt": created,
        "processedAt": created,
        "refundLineItems": {
            "nodes": [
                {
                    "quantity": q,
                    "restockType": restock,
                    "lineItem": {"id": line, "currentQuantity": current},
                }
                for line, q, restock, current in lines
            ]
        },
        "refundShippingLines": {
            "nodes": [{"subtotalAmountSet": money(shipping), "taxAmountSet": money(tax)}]
        },
    }


def test_refunds_and_edits_are_read_in_shopifys_time_order():
    node = {
        "id": "gid://shopify/Order/1",
        "name": "#1001",
        "cancelledAt": None,
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "currencyCode": "USD",
        "currentShippingPriceSet": {"shopMoney": {"amount": "2.00", "currencyCode": "USD"}},
        "refunds": [
            refund_node(
                "gid://shopify/Refund/9",
                "2026-03-02T10:00:00Z",
                [("gid://shopify/LineItem/1", 1, "RETURN", 1)],
                shipping="3.00",
                tax="0.30",
            ),
            refund_node("gid://shopify/Refund/8", "2026-03-01T10:00:00Z"),
        ],
        "agreements": {
            "edges": [
                {
                    "cursor": "a0",
                    "node": {
                        "__typename": "OrderEditAgreement",
                        "id": "gid://shopify/OrderEditAgreement/5",
                        "happenedAt": "2026-03-01T12:00:00Z",
                        "sales": {
                            "nodes": [
                                {
                                    "actionType": "RETURN",
                                    "quantity": -1,
                                    "lineItem": {
                                        "id": "gid://shopify/LineItem/1",
                                        "currentQuantity": 1,
                                    },
                                },
                                {
                                    "actionType": "ORDER",
                                    "quantity": 1,
                                    "lineItem": {"id": "x", "currentQuantity": 1},
                                },
                            ]
                        },
                    },
                },
                {
                    "cursor": "a1",
                    "node": {
                        "__typename": "RefundAgreement",
                        "id": "gid://shopify/RefundAgreement/4",
                    },
                },
            ]
        },
    }
    changes = parse_changes(node)
    assert [f.gid for f in changes.facts] == [
        "gid://shopify/Refund/8",
        "gid://shopify/OrderEditAgreement/5",
        "gid://shopify/Refund/9",
    ]
    refund = changes.facts[-1]
    assert refund.kind == CreditKind.REFUND and refund.units == {"gid://shopify/LineItem/1": 1}
    assert refund.restock == {"gid://shopify/LineItem/1": "RETURN"}
    assert (refund.shipping, refund.shipping_tax) == (D("3.00"), D("0.30"))
    assert refund.occurred_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert changes.facts[1].kind == CreditKind.EDIT
    assert changes.facts[1].units == {"gid://shopify/LineItem/1": 1}  # an addition is not a fact
    assert changes.current_quantities == {"gid://shopify/LineItem/1": 1}
    assert changes.current_shipping == D("2.00") and not changes.gone
    assert parse_changes({**node, "displayFinancialStatus": "REFUNDED"}).gone


def test_a_malformed_answer_names_the_field():
    node = {
        "id": "gid://shopify/Order/1",
        "name": "#1",
        "currencyCode": "USD",
        "refunds": [refund_node("gid://shopify/Refund/1", "yesterday")],
    }
    with pytest.raises(InvalidOrder, match=r"order.refunds\[0\].createdAt"):
        parse_changes(node)


def test_orders_updated_is_a_change_after_sending_only_when_units_are_unaccounted_for():
    line = OrderSyncLine(
        bubbly_line_item_id="gid://shopify/LineItem/1", quantity=3, removed_quantity=1
    )
    order = OrderSync(status=OrderStatus.SYNCED, lines=[line])
    assert unaccounted_after_send(order, {"gid://shopify/LineItem/1": 1})  # one more went
    assert not unaccounted_after_send(order, {"gid://shopify/LineItem/1": 2})  # applied already
    assert not unaccounted_after_send(order, {"gid://shopify/LineItem/9": 0})  # not its line
    order.status = OrderStatus.READY_FOR_SYNC  # not sent: the split takes what remains
    assert not unaccounted_after_send(order, {"gid://shopify/LineItem/1": 0})


RETAIL = "bubbly-retail.myshopify.com"
ORDER = "gid://shopify/Order/1"


def sale(line: int, current: int = 0) -> dict:
    item = {"id": f"gid://shopify/LineItem/{line}", "currentQuantity": current}
    return {"actionType": "RETURN", "quantity": -1, "lineItem": item}


def page(nodes: list, after: str | None = None) -> dict:
    return {"nodes": nodes, "pageInfo": {"hasNextPage": after is not None, "endCursor": after}}


def edit(number: int, happened: str, sales: dict) -> dict:
    return {
        "__typename": "OrderEditAgreement",
        "id": f"gid://shopify/OrderEditAgreement/{number}",
        "happenedAt": happened,
        "sales": sales,
    }


def test_older_edits_and_an_edits_further_sales_are_read_page_by_page(db_session, shopify):
    """The first answer holds the newest edit with one page of its sales and says more edits
    follow; the rest comes from OrderAgreementsPage and OrderEditSalesPage."""
    retail = RetailStoreFactory(shop_domain=RETAIL)
    newest = edit(7, "2026-03-02T10:00:00Z", page([sale(1)], after="s1"))
    first = {
        "order": {
            "id": ORDER,
            "name": "#1001",
            "currencyCode": "USD",
            "refunds": [],
            "agreements": {
                "edges": [{"cursor": "a0", "node": newest}],
                "pageInfo": {"hasNextPage": True, "endCursor": "a0"},
            },
        }
    }
    older = edit(6, "2026-03-01T10:00:00Z", page([sale(3)]))
    shopify.on(RETAIL, "OrderChangesAfterSend", lambda v: first)
    shopify.on(
        RETAIL,
        "OrderAgreementsPage",
        lambda v: {
            "order": {"agreements": {"edges": [{"cursor": "a1", "node": older}], **page([])}}
        },
    )
    further = {**newest, "sales": page([sale(2)])}
    shopify.on(
        RETAIL, "OrderEditSalesPage", lambda v: {"order": {"agreements": {"nodes": [further]}}}
    )
    changes = parse_changes(read_changes(client_for(retail), ORDER))
    assert [(f.gid[-1], f.units) for f in changes.facts] == [
        ("6", {"gid://shopify/LineItem/3": 1}),
        ("7", {"gid://shopify/LineItem/1": 1, "gid://shopify/LineItem/2": 1}),
    ]
    assert shopify.variables("OrderAgreementsPage") == [{"id": ORDER, "after": "a0"}]
    assert shopify.variables("OrderEditSalesPage") == [
        {"id": ORDER, "agreementAfter": None, "after": "s1"}
    ]

    newest["sales"] = page([sale(1)], after="s1")
    moved = {**older, "sales": page([sale(4)])}  # an edit made meanwhile took its place
    shopify.on(
        RETAIL, "OrderEditSalesPage", lambda v: {"order": {"agreements": {"nodes": [moved]}}}
    )
    with pytest.raises(ShopifyError, match="moved") as raised:
        read_changes(client_for(retail), ORDER)
    assert raised.value.transient


def test_less_shipping_than_was_applied_is_a_change_after_sending():
    sent = OrderSync(status=OrderStatus.SYNCED, order_shipping=D("9.00"))
    assert not shipping_unaccounted(sent, D("9.00"))
    assert shipping_unaccounted(sent, D("4.00"))  # a refund of shipping no one applied
    sent.retail_shipping_applied = D("4.00")
    assert not shipping_unaccounted(sent, D("4.00"))
    assert shipping_unaccounted(sent, D("0.00"))
    unsent = OrderSync(status=OrderStatus.READY_FOR_SYNC, order_shipping=D("9.00"))
    assert not shipping_unaccounted(unsent, D("0.00"))  # the split takes what it charges now
