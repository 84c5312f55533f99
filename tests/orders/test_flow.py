"""From the retail webhook to the partner order and back: capture, push, tracking, cancel."""

from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from sqlalchemy import select

from powerpact.models import CreditKind, OrderStatus, OrderSync, OrderSyncEvent, PartnerCredit
from powerpact.orders import tasks
from powerpact.orders.aftercare import cancel_partner_order
from powerpact.orders.capture import CANCEL_REQUESTED
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.orders.test_capture import line, order_node
from tests.orders.test_push import PartnerStoreDouble
from tests.webhook_bodies import order_body

RETAIL = "bubbly-retail.myshopify.com"
ALICE = "alice-roasters.myshopify.com"


@pytest.fixture
def world(db_session, shopify):
    RetailStoreFactory()
    alice = PartnerStoreFactory(shop_domain=ALICE)
    pm = ProductMapFactory(partner=alice, partner_price=Decimal("12.00"))
    db_session.commit()
    node = order_node(
        [
            line(1, pm.bubbly_variant_id, "15.60", quantity=2),
            line(2, "gid://shopify/ProductVariant/own", "5"),
        ]
    )
    state = {"order": node}
    shopify.on(
        RETAIL,
        "OrderForSync",
        lambda v: {"order": state["order"] if v["id"] == node["id"] else None},
    )
    return state, PartnerStoreDouble(shopify, ALICE), pm


def test_a_paid_order_webhook_becomes_one_partner_order(world, send_webhook, db_session):
    _, store, _ = world
    for topic in ("orders/create", "orders/paid", "orders/updated"):
        response = send_webhook(topic, order_body(9001))
        assert response.status_code == 200
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.SYNCED
    assert len(store.orders) == 1


def test_webhooks_from_a_partner_for_orders_are_ignored(world, send_webhook):
    send_webhook("orders/create", order_body(1), shop=ALICE, webhook_id="partner-order")
    assert delivery_by_webhook_id("partner-order").result == {
        "outcome": "ignored: not the retail store"
    }


def test_an_order_webhook_without_an_id_is_stored_as_failed(world, send_webhook):
    send_webhook("orders/create", {"note": "no id"}, webhook_id="no-id")
    assert "id is missing" in delivery_by_webhook_id("no-id").error


class RetailFulfilment:
    def __init__(self, shopify, order_id, line_ids):
        self.created = []
        self.tracking_updates = []
        self.remaining = {lid: 2 for lid in line_ids}
        shopify.on(RETAIL, "FulfillmentOrdersForOrder", self.fulfillment_orders)
        shopify.on(RETAIL, "FulfillmentCreate", self.create)
        shopify.on(RETAIL, "FulfillmentTrackingInfoUpdate", self.update)

    def fulfillment_orders(self, variables):
        items = [
            {"id": f"fo-line-{lid}", "remainingQuantity": q, "lineItem": {"id": lid}}
            for lid, q in self.remaining.items()
        ]
        return {
            "order": {
                "id": variables["id"],
                "fulfillmentOrders": {
                    "nodes": [{"id": "fo-1", "status": "OPEN", "lineItems": {"nodes": items}}]
                },
            }
        }

    def create(self, variables):
        fulfillment = variables["fulfillment"]
        for group in fulfillment["lineItemsByFulfillmentOrder"]:
            for item in group["fulfillmentOrderLineItems"]:
                self.remaining[item["id"].removeprefix("fo-line-")] -= item["quantity"]
        self.created.append(fulfillment)
        return {
            "fulfillmentCreate": {
                "fulfillment": {"id": f"f-{len(self.created)}", "status": "SUCCESS"},
                "userErrors": [],
            }
        }

    def update(self, variables):
        self.tracking_updates.append(variables)
        return {
            "fulfillmentTrackingInfoUpdate": {
                "fulfillment": {"id": variables["fulfillmentId"]},
                "userErrors": [],
            }
        }


def test_partner_tracking_reaches_the_retail_order_partially_then_fully(
    world, send_webhook, shopify, db_session
):
    _, _, pm = world
    send_webhook("orders/paid", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    retail = RetailFulfilment(shopify, order.bubbly_order_id, [order.lines[0].bubbly_line_item_id])
    partner_order = int(order.partner_order_id.rsplit("/", 1)[1])
    variant = int(pm.partner_variant_id.rsplit("/", 1)[1])

    def fulfilment(fid, quantity, number):
        return {
            "id": fid,
            "order_id": partner_order,
            "tracking_company": "UPS",
            "tracking_number": number,
            "tracking_url": f"https://ups.example/{number}",
            "line_items": [{"variant_id": variant, "quantity": quantity}],
        }

    send_webhook("fulfillments/create", fulfilment(1, 1, "1Z1"), shop=ALICE)
    db_session.expire_all()
    assert order.status == OrderStatus.SYNCED
    assert order.lines[0].fulfilled_quantity == 1
    assert retail.created[0]["trackingInfo"] == {
        "company": "UPS",
        "number": "1Z1",
        "url": "https://ups.example/1Z1",
    }
    assert retail.created[0]["notifyCustomer"] is True

    send_webhook("fulfillments/update", fulfilment(1, 1, "1Z1-NEW"), shop=ALICE)
    assert retail.tracking_updates[0]["trackingInfoInput"]["number"] == "1Z1-NEW"
    assert len(retail.created) == 1

    send_webhook("fulfillments/create", fulfilment(2, 1, "1Z2"), shop=ALICE)
    db_session.expire_all()
    assert order.status == OrderStatus.FULFILLED
    assert len(retail.created) == 2
    assert [e.kind for e in order.events][-1] == "fulfilled"


def test_tracking_for_a_partner_order_not_recorded_yet_waits_for_its_record(
    world, send_webhook, shopify, db_session, monkeypatch
):
    """The partner ships before the send's commit (or before its retry after a crash)."""
    from powerpact.orders import push
    from powerpact.shopify import deliveries

    _, store, pm = world

    def crash(*args, **kwargs):
        raise SystemExit("worker killed after Shopify's answer")

    monkeypatch.setattr(push, "mark_sent", crash)
    with pytest.raises(SystemExit):
        send_webhook("orders/paid", order_body(9001))
    db_session.rollback()
    monkeypatch.undo()
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.partner_order_id is None and len(store.orders) == 1
    created = store.orders[0]
    shopify.on(
        ALICE,
        "PartnerOrderSource",
        lambda v: {"order": {"id": v["id"], "sourceIdentifier": created["sourceIdentifier"]}},
    )
    retail = RetailFulfilment(shopify, order.bubbly_order_id, [order.lines[0].bubbly_line_item_id])
    shipped = {
        "id": 1,
        "order_id": int(created["id"].rsplit("/", 1)[1]),
        "tracking_company": "UPS",
        "tracking_number": "1Z9",
        "line_items": [{"variant_id": int(pm.partner_variant_id.rsplit("/", 1)[1]), "quantity": 2}],
    }
    send_webhook("fulfillments/create", shipped, shop=ALICE, webhook_id="early-tracking")
    delivery = delivery_by_webhook_id("early-tracking")
    assert delivery.status.value == "received" and "NotRecordedYet" in delivery.error
    assert retail.created == []

    assert push.push_partner(ALICE) == {"sent": 1}  # the retry finds the order and records it
    assert deliveries.process_delivery(delivery.id) == "processed"
    assert retail.created[0]["trackingInfo"]["number"] == "1Z9"
    db_session.expire_all()
    assert order.status == OrderStatus.FULFILLED and len(store.orders) == 1


def test_a_partners_own_order_shipping_is_not_powerpacts_business(world, send_webhook, shopify):
    shopify.on(
        ALICE,
        "PartnerOrderSource",
        lambda v: {"order": {"id": v["id"], "sourceIdentifier": None}},
    )
    send_webhook("fulfillments/create", {"id": 5, "order_id": 777}, shop=ALICE, webhook_id="own")
    delivery = delivery_by_webhook_id("own")
    assert delivery.status.value == "processed"
    assert delivery.result == {"outcome": "not a PowerPact order"}


def test_cancelled_before_sending_never_reaches_the_partner(world, send_webhook, db_session):
    state, store, _ = world
    state["order"] = {**state["order"], "displayFinancialStatus": "PENDING"}
    send_webhook("orders/create", order_body(9001))
    state["order"] = {**state["order"], "cancelledAt": "2026-11-22T12:00:00Z"}
    send_webhook("orders/cancelled", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.CANCELLED
    assert store.orders == []


def cancellable(shopify, store, fulfilment_status):
    cancelled = []

    def lines(variables):
        return {
            "order": {
                "id": variables["id"],
                "cancelledAt": None,
                "displayFulfillmentStatus": fulfilment_status,
                "lineItems": {"nodes": []},
            }
        }

    shopify.on(ALICE, "PartnerOrderLines", lines)
    shopify.on(
        ALICE,
        "OrderCancel",
        lambda v: (
            cancelled.append(v)
            or {"orderCancel": {"job": {"id": "j"}, "orderCancelUserErrors": []}}
        ),
    )
    return cancelled


def test_cancelled_after_sending_cancels_the_unfulfilled_partner_order(
    world, send_webhook, shopify, db_session
):
    state, store, _ = world
    cancelled = cancellable(shopify, store, "UNFULFILLED")
    send_webhook("orders/paid", order_body(9001))
    state["order"] = {**state["order"], "cancelledAt": "2026-11-22T12:00:00Z"}
    send_webhook("orders/cancelled", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.CANCELLED
    assert cancelled[0]["orderId"] == store.orders[0]["id"]
    assert [e.kind for e in order.events][-2:] == ["cancel_requested", "cancelled"]


def test_a_sent_order_knows_when_it_was_sent_and_its_cancellation_credits_it_once(
    world, send_webhook, shopify, db_session
):
    state, store, _ = world
    cancellable(shopify, store, "UNFULFILLED")
    send_webhook("orders/paid", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    sent_event = next(e for e in order.events if e.kind == "sent")
    assert order.sent_at is not None
    assert abs((sent_event.created_at - order.sent_at).total_seconds()) < 5
    state["order"] = {**state["order"], "cancelledAt": "2026-11-22T12:00:00Z"}
    send_webhook("orders/cancelled", order_body(9001))
    (credit,) = db_session.scalars(select(PartnerCredit)).all()
    assert (credit.kind, credit.order_sync_id, credit.source_key) == (
        CreditKind.CANCELLATION,
        order.id,
        f"cancel:{order.id}",
    )
    assert credit.total == order.total == credit.lines + credit.shipping + credit.tax
    assert credit.applied_at_partner
    assert f"Credited {order.total:.2f} USD on the partner's statement." in order.events[-1].message
    order.needs_attention = True  # asked again: still credited once
    order.events.append(OrderSyncEvent(kind=CANCEL_REQUESTED, message="Cancelled again."))
    db_session.commit()
    assert cancel_partner_order(order.id) == "cancelled"
    assert len(db_session.scalars(select(PartnerCredit)).all()) == 1


def test_cancelled_after_the_partner_shipped_is_flagged_for_a_person(
    world, send_webhook, shopify, db_session
):
    state, store, _ = world
    cancelled = cancellable(shopify, store, "FULFILLED")
    send_webhook("orders/paid", order_body(9001))
    state["order"] = {**state["order"], "cancelledAt": "2026-11-22T12:00:00Z"}
    send_webhook("orders/cancelled", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.SYNCED
    assert order.needs_attention
    assert cancelled == []
    assert "already shipped" in order.events[-1].message
    assert cancel_partner_order(order.id) == "already handled"
    assert db_session.scalars(select(PartnerCredit)).all() == []


def test_a_cancellation_lost_with_the_queue_is_sent_by_the_sweep(
    world, send_webhook, shopify, db_session, monkeypatch
):
    """Redis is unreachable when ``orders/cancelled`` is processed: the cancellation task is
    never queued, but the request stays on the timeline and the sweep sends it."""
    state, store, _ = world
    cancelled = cancellable(shopify, store, "UNFULFILLED")
    send_webhook("orders/paid", order_body(9001))
    state["order"] = {**state["order"], "cancelledAt": "2026-11-22T12:00:00Z"}

    def queue_down(order_sync_id: int) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    with monkeypatch.context() as patch:
        patch.setattr(tasks, "cancel_partner_order_task", queue_down)
        send_webhook("orders/cancelled", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.SYNCED and order.needs_attention
    assert order.events[-1].kind == CANCEL_REQUESTED
    assert cancelled == []

    for event in order.events:
        event.created_at -= timedelta(hours=2)
    db_session.commit()
    assert tasks.resume_lost_aftercare.call_local() == {
        "cancellations": 1,
        "redactions": 0,
        "refunds_and_edits": 0,
    }
    db_session.expire_all()
    assert order.status == OrderStatus.CANCELLED
    assert len(cancelled) == 1
    assert tasks.resume_lost_aftercare.call_local()["cancellations"] == 0
