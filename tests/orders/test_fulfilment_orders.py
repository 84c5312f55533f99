"""Tracking copied to a retail order whose fulfillment orders sit at several locations or wait."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import DeliveryStatus, OrderStatus, OrderSync, WaitingTracking
from powerpact.orders.aftercare import retry_due_waiting_tracking
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.orders.test_capture import line, order_node
from tests.orders.test_push import PartnerStoreDouble
from tests.webhook_bodies import order_body

RETAIL = "bubbly-retail.myshopify.com"
ALICE = "alice-roasters.myshopify.com"
WAREHOUSE, FLOOR = "gid://shopify/Location/1", "gid://shopify/Location/2"


class RetailFulfilmentOrders:
    """The retail order's fulfillment orders: line 1 at the warehouse, line 2 on the floor."""

    def __init__(self, shopify, lines):
        self.nodes = {
            "fo-1": {"status": "OPEN", "location": (WAREHOUSE, "Warehouse"), "lines": {}},
            "fo-2": {"status": "OPEN", "location": (FLOOR, "Shop floor"), "lines": {}},
        }
        self.nodes["fo-1"]["lines"][lines[0]] = 2
        self.nodes["fo-2"]["lines"][lines[1]] = 1
        self.created = []
        self.refuse_next: str | None = None
        shopify.on(RETAIL, "FulfillmentOrdersForOrder", self.read)
        shopify.on(RETAIL, "FulfillmentCreate", self.create)

    def read(self, variables):
        nodes = []
        for fo_id, fo in self.nodes.items():
            location, name = fo["location"]
            items = [
                {"id": f"{fo_id}-{lid}", "remainingQuantity": q, "lineItem": {"id": lid}}
                for lid, q in fo["lines"].items()
            ]
            nodes.append(
                {
                    "id": fo_id,
                    "status": fo["status"],
                    "assignedLocation": {"name": name, "location": {"id": location}},
                    "lineItems": {"nodes": items},
                }
            )
        return {"order": {"id": variables["id"], "fulfillmentOrders": {"nodes": nodes}}}

    def create(self, variables):
        groups = variables["fulfillment"]["lineItemsByFulfillmentOrder"]
        locations = {self.nodes[g["fulfillmentOrderId"]]["location"][0] for g in groups}
        assert len(locations) == 1, "fulfillmentCreate takes one location's fulfillment orders"
        if self.refuse_next:
            self.nodes[groups[0]["fulfillmentOrderId"]]["status"] = self.refuse_next
            self.refuse_next = None
            return {
                "fulfillmentCreate": {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillment"], "message": "unfulfillable"}],
                }
            }
        for group in groups:
            fo = self.nodes[group["fulfillmentOrderId"]]
            assert fo["status"] in ("OPEN", "IN_PROGRESS")
            for item in group["fulfillmentOrderLineItems"]:
                line_id = item["id"].removeprefix(f"{group['fulfillmentOrderId']}-")
                fo["lines"][line_id] -= item["quantity"]
        self.created.append(variables["fulfillment"])
        fulfillment = {"id": f"f-{len(self.created)}", "status": "SUCCESS"}
        return {"fulfillmentCreate": {"fulfillment": fulfillment, "userErrors": []}}


@pytest.fixture
def sent_order(db_session, shopify, send_webhook):
    """A retail order of two Alice lines, sent to Alice."""
    RetailStoreFactory()
    alice = PartnerStoreFactory(shop_domain=ALICE)
    maps = [ProductMapFactory(partner=alice, partner_price=Decimal("12.00")) for _ in range(2)]
    db_session.commit()
    node = order_node(
        [
            line(1, maps[0].bubbly_variant_id, "15.60", quantity=2),
            line(2, maps[1].bubbly_variant_id, "15.60", quantity=1),
        ]
    )
    shopify.on(RETAIL, "OrderForSync", lambda v: {"order": node})
    PartnerStoreDouble(shopify, ALICE)
    send_webhook("orders/paid", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.SYNCED
    retail = RetailFulfilmentOrders(shopify, [li.bubbly_line_item_id for li in order.lines])
    return order, maps, retail


def ships(send_webhook, order, maps, number="1Z1", fulfillment_id=1, webhook_id=None):
    payload = {
        "id": fulfillment_id,
        "order_id": int(order.partner_order_id.rsplit("/", 1)[1]),
        "tracking_company": "UPS",
        "tracking_number": number,
        "line_items": [
            {"variant_id": int(maps[0].partner_variant_id.rsplit("/", 1)[1]), "quantity": 2},
            {"variant_id": int(maps[1].partner_variant_id.rsplit("/", 1)[1]), "quantity": 1},
        ],
    }
    send_webhook("fulfillments/create", payload, shop=ALICE, webhook_id=webhook_id)


def test_one_fulfillment_create_per_retail_location(sent_order, send_webhook, db_session):
    order, maps, retail = sent_order
    ships(send_webhook, order, maps)
    assert [
        [g["fulfillmentOrderId"] for g in f["lineItemsByFulfillmentOrder"]] for f in retail.created
    ] == [
        ["fo-1"],
        ["fo-2"],
    ]
    db_session.expire_all()
    assert order.status == OrderStatus.FULFILLED
    copies = [e.details for e in order.events if e.kind == "fulfilled_lines"]
    assert [(c["retail_fulfillment_id"], c["location"]) for c in copies] == [
        ("f-1", "Warehouse"),
        ("f-2", "Shop floor"),
    ]


def test_a_held_fulfillment_order_keeps_its_tracking_until_released(
    sent_order, send_webhook, db_session, shopify
):
    order, maps, retail = sent_order
    retail.nodes["fo-2"]["status"] = "ON_HOLD"
    ships(send_webhook, order, maps)
    assert len(retail.created) == 1, "the warehouse's share is copied at once"
    db_session.expire_all()
    assert order.status == OrderStatus.SYNCED
    (waiting,) = db_session.scalars(select(WaitingTracking)).all()
    assert waiting.quantities == {order.lines[1].bubbly_line_item_id: 1}
    assert waiting.fulfillment_order_ids == ["fo-2"]
    assert [e.message for e in order.events if e.kind == "tracking_waits"] == [
        "Tracking waits: the retail order's fulfilment at Shop floor is on hold."
    ]

    send_webhook(
        "fulfillment_orders/hold_released",
        {"fulfillment_order": {"id": "fo-1", "status": "open"}},
        webhook_id="other-fo",
    )
    assert delivery_by_webhook_id("other-fo").result == {"outcome": "nothing waits for it"}
    retail.nodes["fo-2"]["status"] = "OPEN"
    send_webhook(
        "fulfillment_orders/hold_released",
        {"fulfillment_order": {"id": "fo-2", "status": "open"}},
        webhook_id="released",
    )
    assert delivery_by_webhook_id("released").status == DeliveryStatus.PROCESSED
    assert len(retail.created) == 2
    assert retail.created[1]["trackingInfo"]["number"] == "1Z1"
    db_session.expire_all()
    assert order.status == OrderStatus.FULFILLED
    assert db_session.scalars(select(WaitingTracking)).all() == []


def test_new_tracking_for_a_waiting_shipment_is_what_arrives(sent_order, send_webhook, db_session):
    order, maps, retail = sent_order
    for fo in retail.nodes.values():
        fo["status"] = "SCHEDULED"
    ships(send_webhook, order, maps, number="1Z1")
    assert retail.created == []
    send_webhook(
        "fulfillments/update",
        {
            "id": 1,
            "order_id": int(order.partner_order_id.rsplit("/", 1)[1]),
            "tracking_number": "1Z2",
            "tracking_company": "UPS",
        },
        shop=ALICE,
    )
    for fo in retail.nodes.values():
        fo["status"] = "OPEN"
    send_webhook(
        "fulfillment_orders/scheduled_fulfillment_order_ready",
        {"fulfillment_order": {"id": "fo-1", "status": "open"}},
    )
    assert [f["trackingInfo"]["number"] for f in retail.created] == ["1Z2", "1Z2"]


def test_a_hold_placed_between_read_and_write_makes_it_wait_not_fail(
    sent_order, send_webhook, db_session
):
    order, maps, retail = sent_order
    retail.refuse_next = "ON_HOLD"
    ships(send_webhook, order, maps, webhook_id="raced")
    assert delivery_by_webhook_id("raced").status == DeliveryStatus.PROCESSED
    (waiting,) = db_session.scalars(select(WaitingTracking)).all()
    assert waiting.fulfillment_order_ids == ["fo-1"]
    assert len(retail.created) == 1, "the floor's share still went"


def test_any_other_refusal_still_fails_the_delivery(sent_order, send_webhook, db_session):
    order, maps, retail = sent_order
    retail.refuse_next = "OPEN"
    ships(send_webhook, order, maps, webhook_id="refused")
    assert delivery_by_webhook_id("refused").status == DeliveryStatus.FAILED
    assert db_session.scalars(select(WaitingTracking)).all() == []


def test_the_periodic_retry_copies_what_a_lost_webhook_would_have_released(
    sent_order, send_webhook, db_session
):
    order, maps, retail = sent_order
    retail.nodes["fo-2"]["status"] = "ON_HOLD"
    ships(send_webhook, order, maps)
    assert retry_due_waiting_tracking() == {}, "checked moments ago"
    waiting = db_session.scalars(select(WaitingTracking)).one()
    waiting.checked_at = utcnow() - timedelta(minutes=11)
    db_session.commit()
    assert retry_due_waiting_tracking() == {"still waiting": 1}
    assert len([e for e in order.events if e.kind == "tracking_waits"]) == 1, "said once"

    retail.nodes["fo-2"]["status"] = "OPEN"
    waiting = db_session.scalars(select(WaitingTracking)).one()
    waiting.checked_at = utcnow() - timedelta(minutes=11)
    db_session.commit()
    assert retry_due_waiting_tracking() == {"copied": 1}
    assert len(retail.created) == 2
    db_session.expire_all()
    assert order.status == OrderStatus.FULFILLED


def test_a_release_on_a_partner_store_is_not_the_retail_orders(sent_order, send_webhook):
    send_webhook(
        "fulfillment_orders/hold_released",
        {"fulfillment_order": {"id": "fo-2", "status": "open"}},
        shop=ALICE,
        webhook_id="partner-release",
    )
    assert delivery_by_webhook_id("partner-release").result == {
        "outcome": "ignored: not the retail store"
    }


def test_tracking_stored_before_links_were_checked_is_copied_without_a_bad_link(
    sent_order, send_webhook, db_session, shopify
):
    order, maps, retail = sent_order
    retail.nodes["fo-2"]["status"] = "ON_HOLD"
    ships(send_webhook, order, maps)
    (waiting,) = db_session.scalars(select(WaitingTracking)).all()
    waiting.tracking = {**waiting.tracking, "url": "javascript:alert(1)"}
    db_session.commit()
    retail.nodes["fo-2"]["status"] = "OPEN"
    send_webhook(
        "fulfillment_orders/hold_released",
        {"fulfillment_order": {"id": "fo-2", "status": "open"}},
        webhook_id="released-old",
    )
    assert len(retail.created) == 2
    assert retail.created[1]["trackingInfo"]["number"] == "1Z1"
    assert "url" not in retail.created[1]["trackingInfo"]
