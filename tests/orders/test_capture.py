"""Recording a captured order: one OrderSync per partner, updated, never duplicated."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from powerpact.db_types import utcnow
from powerpact.models import OrderStatus, OrderSync, RetailPriceSource
from powerpact.orders.capture import (
    add_event,
    line_owners,
    parse_order,
    record_order,
    retail_order_of,
)
from powerpact.orders.listing import order_split
from powerpact.orders.split import RETAIL_PARTY, InvalidOrder, split_order
from powerpact.skus import imported_sku
from tests.factories import PartnerStoreFactory, ProductMapFactory

D = Decimal


def money(amount):
    return {"shopMoney": {"amount": str(amount), "currencyCode": "USD"}}


def line(line_id, variant_id, price, quantity=1, current=None, sku=None, tax=None, discount=None):
    return {
        "id": f"gid://shopify/LineItem/{line_id}",
        "title": f"Item {line_id}",
        "name": f"Item {line_id} - 250g",
        "sku": sku,
        "quantity": quantity,
        "currentQuantity": quantity if current is None else current,
        "variant": {"id": variant_id} if variant_id else None,
        "originalUnitPriceSet": money(price),
        "discountAllocations": [{"allocatedAmountSet": money(discount)}] if discount else [],
        "taxLines": [{"priceSet": money(tax)}] if tax is not None else [],
    }


RISK_LEVELS = {"ACCEPT": "LOW", "INVESTIGATE": "MEDIUM", "CANCEL": "HIGH", "NONE": "NONE"}


def order_node(
    lines,
    *,
    financial="PAID",
    risk="ACCEPT",
    cancelled=None,
    shipping="10.00",
    tax="0",
    assessments=None,
    created_at=None,
):
    """Shopify's ``OrderForSync`` answer; Shopify's analysis has assessed it at ``risk``
    unless ``assessments`` says otherwise."""
    if assessments is None:
        assessments = [{"riskLevel": RISK_LEVELS[risk], "facts": []}]
    return {
        "id": "gid://shopify/Order/9001",
        "name": "#1001",
        "createdAt": created_at or utcnow().isoformat(),
        "currencyCode": "USD",
        "displayFinancialStatus": financial,
        "risk": {"recommendation": risk, "assessments": assessments},
        "cancelledAt": cancelled,
        "test": False,
        "email": "ada@example.com",
        "shippingAddress": {"city": "Portland", "countryCodeV2": "US", "address1": "1 Main"},
        "currentShippingPriceSet": money(shipping),
        "currentTotalTaxSet": money(tax),
        "lineItems": {"nodes": lines},
    }


@pytest.fixture
def two_partners(db_session):
    a = ProductMapFactory(partner_price=D("12.00"))
    b = ProductMapFactory(partner_price=D("15.00"))
    return a, b


def count_syncs(db_session):
    return db_session.scalar(select(func.count()).select_from(OrderSync))


def test_an_order_across_two_partners_and_the_retail_store(two_partners, db_session):
    a, b = two_partners
    node = order_node(
        [
            line(1, a.bubbly_variant_id, "15.60", quantity=2, tax="2.50"),
            line(2, b.bubbly_variant_id, "20.00"),
            line(3, "gid://shopify/ProductVariant/own", "10.00"),
        ],
        tax="5.00",
    )
    touched = record_order(parse_order(node))
    assert {o.partner_shop_domain for o in touched} == {
        a.partner_shop_domain,
        b.partner_shop_domain,
    }
    first = next(o for o in touched if o.partner_shop_domain == a.partner_shop_domain)
    assert first.status == OrderStatus.READY_FOR_SYNC
    assert first.ready_at is not None
    assert first.subtotal == D("24.00")
    assert [ln.partner_variant_id for ln in first.lines] == [a.partner_variant_id]
    assert first.ship_to_city == "Portland" and first.ship_to_country == "US"
    assert [e.kind for e in first.events] == ["captured", "ready_for_sync"]
    shipping = sum(o.shipping_share for o in touched)
    tax = sum(o.tax_share for o in touched)
    assert shipping < D("10.00") and tax < D("5.00")  # the retail store keeps its own share
    assert {(o.order_shipping, o.order_tax) for o in touched} == {(D("10.00"), D("5.00"))}

    split = order_split(first, "Bubbly")
    assert split is not None
    assert [p.party for p in split.partners] == sorted(p.party for p in split.partners)
    assert split.retail.party == "Bubbly"
    # the own lines' share is what the split gave the retail party, to the cent
    shares = split_order(retail_order_of(parse_order(node), line_owners(parse_order(node).lines)))
    assert (split.retail.shipping, split.retail.tax) == (
        shares[RETAIL_PARTY].shipping,
        shares[RETAIL_PARTY].tax,
    )
    assert split.retail.shipping + sum(p.shipping for p in split.partners) == D("10.00")
    assert split.retail.tax + sum(p.tax for p in split.partners) == D("5.00")


def test_repeated_and_reordered_events_update_the_same_rows(two_partners, db_session):
    a, b = two_partners
    lines = [line(1, a.bubbly_variant_id, "10"), line(2, b.bubbly_variant_id, "10")]
    record_order(parse_order(order_node(lines, financial="PAID")))
    record_order(parse_order(order_node(lines, financial="PENDING")))
    record_order(parse_order(order_node(lines, financial="PAID")))
    assert count_syncs(db_session) == 2


def test_pending_payment_and_risk_review_hold_with_a_reason(two_partners):
    a, _ = two_partners
    node = order_node([line(1, a.bubbly_variant_id, "10")], financial="PENDING")
    (order,) = record_order(parse_order(node))
    assert order.status == OrderStatus.PENDING
    assert "Waiting for payment" in order.hold_reason
    node = order_node([line(1, a.bubbly_variant_id, "10")], risk="INVESTIGATE")
    (order,) = record_order(parse_order(node))
    assert "recommends investigating" in order.hold_reason


def test_cancelled_before_sending_cancels(two_partners):
    a, _ = two_partners
    node = order_node([line(1, a.bubbly_variant_id, "10")], cancelled="2026-11-22T10:00:00Z")
    (order,) = record_order(parse_order(node))
    assert order.status == OrderStatus.CANCELLED


def recorded_as_sent(db_session, variant_id: str, status: OrderStatus) -> dict:
    """Record a one-line order and mark its OrderSync sent as partner order 77 (``status``);
    its ``OrderForSync`` node, for the webhooks that follow."""
    node = order_node([line(1, variant_id, "10")])
    (order,) = record_order(parse_order(node))
    order.status = status
    order.partner_order_id = "gid://shopify/Order/77"
    db_session.commit()
    return node


def test_cancelled_after_sending_is_flagged_for_the_partner_cancellation(two_partners, db_session):
    a, _ = two_partners
    node = recorded_as_sent(db_session, a.bubbly_variant_id, OrderStatus.SYNCED)
    (order,) = record_order(parse_order({**node, "cancelledAt": "2026-11-22T10:00:00Z"}))
    assert order.status == OrderStatus.SYNCED
    assert order.needs_attention
    assert order.events[-1].kind == "cancel_requested"


def test_a_cancellation_is_asked_of_the_partner_once_whatever_webhooks_follow(
    two_partners, db_session
):
    """The partner had shipped, a person was told; orders/updated then brings the same
    cancelled order again: nothing is asked or flagged a second time."""
    a, _ = two_partners
    node = recorded_as_sent(db_session, a.bubbly_variant_id, OrderStatus.FULFILLED)
    cancelled = {**node, "cancelledAt": "2026-11-22T10:00:00Z"}
    (order,) = record_order(parse_order(cancelled))
    add_event(order, "needs_attention", "Cancelled on the retail store, but already shipped.")
    order.needs_attention = False  # a person dealt with it
    db_session.commit()
    (order,) = record_order(parse_order(cancelled))
    assert [e.kind for e in order.events].count("cancel_requested") == 1
    assert order.events[-1].kind == "needs_attention" and not order.needs_attention


def test_an_order_with_no_partner_lines_leaves_nothing(db_session):
    record_order(parse_order(order_node([line(1, "gid://shopify/ProductVariant/own", "10")])))
    assert count_syncs(db_session) == 0


def test_unmapped_variant_with_a_partner_sku_is_matched_by_sku(db_session):
    partner = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com")
    PartnerStoreFactory(shop_domain="alice.myshopify.com")
    sku = imported_sku(partner.shop_domain, "HOUSE-250")
    (order,) = record_order(parse_order(order_node([line(1, None, "10", sku=sku)])))
    assert order.partner_shop_domain == "alice-roasters.myshopify.com"
    assert order.lines[0].partner_variant_id is None


def test_removed_units_are_not_sent_and_a_partner_left_with_nothing_is_cancelled(two_partners):
    a, b = two_partners
    lines = [line(1, a.bubbly_variant_id, "10", quantity=3), line(2, b.bubbly_variant_id, "10")]
    record_order(parse_order(order_node(lines, financial="PENDING")))
    lines = [
        line(1, a.bubbly_variant_id, "10", quantity=3, current=1, tax="3.00"),
        line(2, b.bubbly_variant_id, "10", current=0),
    ]
    touched = record_order(parse_order(order_node(lines, financial="PENDING", tax="1.00")))
    by_partner = {o.partner_shop_domain: o for o in touched}
    assert by_partner[a.partner_shop_domain].lines[0].quantity == 1
    assert by_partner[a.partner_shop_domain].lines[0].tax == D("1.00")
    assert by_partner[b.partner_shop_domain].status == OrderStatus.CANCELLED


def test_an_impossible_order_raises_invalid_order(two_partners):
    a, _ = two_partners
    node = order_node([line(1, a.bubbly_variant_id, "10", discount="11")])
    with pytest.raises(InvalidOrder):
        record_order(parse_order(node))


def test_each_partner_line_keeps_its_retail_price_discount_and_product(two_partners):
    a, b = two_partners
    node = order_node(
        [
            line(1, a.bubbly_variant_id, "15.60", quantity=2, discount="3.12"),
            # one of three units refunded before sending: the discount of the two kept
            line(2, b.bubbly_variant_id, "20.00", quantity=3, current=2, discount="3.00"),
        ]
    )
    touched = {o.partner_shop_domain: o for o in record_order(parse_order(node))}
    (first,) = touched[a.partner_shop_domain].lines
    assert (first.retail_unit_price, first.retail_discount) == (D("15.60"), D("3.12"))
    assert (first.partner_unit_price, first.discount) == (D("12.00"), D("2.40"))
    assert first.retail_price_source == RetailPriceSource.ORDER
    assert (first.product_title, first.title) == ("Item 1", "Item 1 - 250g")
    (second,) = touched[b.partner_shop_domain].lines
    assert (second.quantity, second.retail_unit_price, second.retail_discount) == (
        2,
        D("20.00"),
        D("2.00"),
    )
    assert (second.partner_unit_price, second.discount) == (D("15.00"), D("1.50"))


def test_a_product_title_that_is_not_text_is_left_out_not_refused(two_partners):
    a, _b = two_partners
    item = line(1, a.bubbly_variant_id, "15.60")
    item["title"] = "  "
    (order,) = record_order(parse_order(order_node([item])))
    assert order.lines[0].product_title is None
    assert order.lines[0].retail_unit_price == D("15.60")
