"""Against the sandbox: what real stores do beyond Shopify's protocol (issue: real stores)."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.models import (
    DeliveryStatus,
    OrderStatus,
    OrderSync,
    PartnerStore,
    ProductMap,
    RetailStore,
    WebhookDelivery,
)
from powerpact.orders.tasks import dispatch_due_orders, reconcile_task
from powerpact.sandbox.webhooks import wait_for
from powerpact.shopify.install import check_subscriptions
from powerpact.shopify.session_tokens import mint_session_token
from tests.embedded_requests import toast_of

RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"


def import_first_product(harness) -> ProductMap:
    harness.install(RETAIL)
    harness.install(NORTH)
    partner = db.session.scalars(select(PartnerStore)).one()
    product = harness.shop(NORTH)["products"][0]
    run_import_job(create_import_job(partner, [product["id"]], MarkupRule()).id)
    harness.settle()
    return db.session.scalars(select(ProductMap).order_by(ProductMap.id)).first()


def retail_variant(harness, variant_id: str) -> dict:
    return next(
        v for p in harness.shop(RETAIL)["products"] for v in p["variants"] if v["id"] == variant_id
    )


def test_one_merchant_action_fires_topics_that_share_an_event_id_and_each_takes_effect(harness):
    """A bulk edit of price and stock: ``inventory_levels/update`` and ``products/update``
    arrive under one ``X-Shopify-Event-Id``; neither may be taken for the other's repeat."""
    product_map = import_first_product(harness)
    harness.control(
        "POST",
        f"/shops/{NORTH}/products/{product_map.partner_product_id}",
        {"price": "20.00", "available": 7},
    )
    harness.settle()
    inventory.apply_reported_changes(NORTH)
    db.session.expire_all()

    deliveries = db.session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.shop_domain == NORTH,
            WebhookDelivery.topic.in_(("products/update", "inventory_levels/update")),
        )
    ).all()
    topics = {d.topic for d in deliveries}
    assert topics == {"products/update", "inventory_levels/update"}
    assert len({d.event_id for d in deliveries}) == 1, "one action, one event id"
    assert {d.status for d in deliveries} == {DeliveryStatus.PROCESSED}

    variant = retail_variant(harness, product_map.bubbly_variant_id)
    assert variant["available"] == 7
    assert Decimal(variant["price"]) == Decimal("26.00")  # the 30% default markup


# -- risk: Shopify's fraud analysis reports after the order -------------------------------


def set_up_orders(harness) -> str:
    """North Star's first product imported and stocked; its retail SKU."""
    product_map = import_first_product(harness)
    harness.control(
        "POST",
        f"/shops/{NORTH}/stock",
        {"variant_id": product_map.partner_variant_id, "available": 50},
    )
    harness.settle()
    return product_map.bubbly_sku


def place(harness, sku: str, **fields) -> dict:
    return harness.control(
        "POST", f"/shops/{RETAIL}/orders", {"lines": [{"sku": sku, "quantity": 1}], **fields}
    )


def order_sync(order_gid: str) -> OrderSync | None:
    db.session.expire_all()
    return db.session.scalar(select(OrderSync).where(OrderSync.bubbly_order_id == order_gid))


def test_an_order_waits_for_shopifys_fraud_analysis_before_it_goes(harness):
    sku = set_up_orders(harness)
    harness.sandbox.config.risk_assessment_delays = (1.0, 1.5)
    order = place(harness, sku)
    assert wait_for(lambda: order_sync(order["id"]) is not None, 1.0)
    waiting = order_sync(order["id"])
    assert waiting.status == OrderStatus.PENDING, "sent before Shopify's analysis ended"
    assert "Waiting for Shopify's fraud analysis" in waiting.hold_reason
    assert harness.shop(NORTH)["orders"] == []

    harness.settle()
    sent = order_sync(order["id"])
    assert sent.status == OrderStatus.SYNCED, (sent.status, sent.hold_reason)
    assert len(harness.shop(NORTH)["orders"]) == 1
    risk_deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.topic == "orders/risk_assessment_changed")
    ).all()
    assert len(risk_deliveries) == 2, "PENDING first, then the final assessment"
    assert {d.status for d in risk_deliveries} == {DeliveryStatus.PROCESSED}


@pytest.mark.parametrize(
    "keys", [("order_id",), ("admin_graphql_api_order_id",)], ids=["numeric", "gid"]
)
def test_the_risk_webhook_finds_its_order_under_either_key(harness, keys):
    sku = set_up_orders(harness)
    harness.sandbox.config.risk_webhook_order_keys = keys
    order = place(harness, sku)
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.SYNCED
    statuses = db.session.scalars(
        select(WebhookDelivery.status).where(
            WebhookDelivery.topic == "orders/risk_assessment_changed"
        )
    ).all()
    assert statuses and set(statuses) == {DeliveryStatus.PROCESSED}


def test_an_order_shopify_recommends_investigating_is_held_until_an_admin_releases_it(harness):
    sku = set_up_orders(harness)
    order = place(harness, sku, risk="INVESTIGATE")
    harness.settle()
    held = order_sync(order["id"])
    assert held.status == OrderStatus.PENDING
    assert "recommends investigating" in held.hold_reason
    assert "Billing address does not match" in held.hold_reason, "Shopify's facts, as the reason"

    settings = harness.app.config["POWERPACT"]
    token = mint_session_token(
        RETAIL, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret, user_id="77"
    )
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    desk = harness.client.get("/admin/orders", headers=headers).get_data(as_text=True)
    assert f'hx-post="/admin/orders/{held.id}/release"' in desk
    answer = harness.client.post(f"/admin/orders/{held.id}/release", headers=headers)
    assert "Released 1 partner order(s)" in toast_of(answer)
    harness.settle()

    sent = order_sync(order["id"])
    assert sent.status == OrderStatus.SYNCED, (sent.status, sent.hold_reason)
    assert len(harness.shop(NORTH)["orders"]) == 1
    kinds = [(e.kind, e.message) for e in sent.events]
    assert any(k == "held" and "recommends investigating" in m for k, m in kinds), kinds
    assert any(k == "risk_released" and "staff member 77 of" in m for k, m in kinds), kinds


def test_an_order_cancelled_at_shopify_while_held_never_reaches_the_partner(harness):
    sku = set_up_orders(harness)
    order = place(harness, sku, risk="INVESTIGATE")
    harness.settle()
    number = order["id"].rsplit("/", 1)[1]
    harness.control("POST", f"/shops/{RETAIL}/orders/{number}/cancel", {"reason": "fraud"})
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.CANCELLED
    assert harness.shop(NORTH)["orders"] == []


def test_without_any_assessment_the_order_goes_once_the_hold_window_has_passed(harness):
    sku = set_up_orders(harness)
    harness.sandbox.config.risk_assessment_delays = ()  # this store's analysis never reports
    retail = db.session.scalars(select(RetailStore)).one()
    retail.risk_hold_seconds = 600  # long enough that a slow machine still sees the hold
    db.session.commit()
    order = place(harness, sku)
    harness.settle()
    held = order_sync(order["id"])
    assert held.status == OrderStatus.PENDING and held.risk_hold_until is not None

    retail.risk_hold_seconds = 1  # the window has now passed: the minute task ends the hold
    held.risk_hold_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert wait_for(lambda: dispatch_due_orders.call_local()["risk_hold_ended"] == 1, 6.0)
    harness.settle()
    sent = order_sync(order["id"])
    assert sent.status == OrderStatus.SYNCED, (sent.status, sent.hold_reason)
    assert any("No final fraud assessment within 1 second" in e.message for e in sent.events)
    assert dispatch_due_orders.call_local()["risk_hold_ended"] == 0


def test_a_hold_window_of_zero_switches_the_hold_off(harness):
    sku = set_up_orders(harness)
    harness.sandbox.config.risk_assessment_delays = ()
    retail = db.session.scalars(select(RetailStore)).one()
    retail.risk_hold_seconds = 0
    db.session.commit()
    order = place(harness, sku)
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.SYNCED


# -- lost deliveries: the reconciliation and the subscription check -------------------------


def subscribed_topics(harness, shop: str) -> set[str]:
    return {s["topic"] for s in harness.shop(shop)["subscriptions"]}


def past_the_search_lag(harness) -> None:
    """The reconciliation lists through the orders search, which lags its writes (the
    tests that reconcile shorten the sandbox's lag to half a second)."""
    time.sleep(harness.sandbox.search_lag_seconds + 0.1)


@pytest.fixture
def short_search_lag(harness):
    harness.sandbox.search_lag_seconds = 0.5


def test_orders_whose_webhooks_were_lost_for_good_reach_their_partners(harness, short_search_lag):
    sku = set_up_orders(harness)
    delivered = harness.sandbox.webhooks.transport
    harness.sandbox.webhooks.transport = lambda url, headers, body: 503  # PowerPact is down
    placed = [place(harness, sku) for _ in range(3)]
    harness.settle()  # every retry failed: Shopify drops them, and the subscriptions
    assert "ORDERS_CREATE" not in subscribed_topics(harness, RETAIL)
    assert all(order_sync(o["id"]) is None for o in placed)

    harness.sandbox.webhooks.transport = delivered  # PowerPact is back
    past_the_search_lag(harness)
    repaired = check_subscriptions()
    assert "ORDERS_CREATE" in repaired[RETAIL]["created"]
    assert "ORDERS_CREATE" in subscribed_topics(harness, RETAIL)
    result = reconcile_task.call_local()["retail"]
    assert result["captured"] == 3 and result["errors"] == []
    harness.settle()
    assert {order_sync(o["id"]).status for o in placed} == {OrderStatus.SYNCED}
    sources = [o["source_identifier"] for o in harness.shop(NORTH)["orders"]]
    assert len(sources) == 3 == len(set(sources)), "each order once"
    # Orders changed seconds ago are confirmed once more: no new partner order.
    reconcile_task.call_local()
    harness.settle()
    assert len(harness.shop(NORTH)["orders"]) == 3


def test_the_reconciliation_captures_a_change_whose_webhook_was_lost(harness, short_search_lag):
    sku = set_up_orders(harness)
    order = place(harness, sku, risk="INVESTIGATE")
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.PENDING
    harness.sandbox.webhooks.transport = lambda url, headers, body: 503
    number = order["id"].rsplit("/", 1)[1]
    harness.control("POST", f"/shops/{RETAIL}/orders/{number}/cancel", {"reason": "fraud"})
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.PENDING, "the cancellation was lost"
    past_the_search_lag(harness)
    assert reconcile_task.call_local()["retail"]["captured"] == 1
    assert order_sync(order["id"]).status == OrderStatus.CANCELLED


def test_a_subscription_at_an_old_address_is_replaced(harness):
    harness.install(RETAIL)
    retail = harness.sandbox.shop(RETAIL)
    old = next(s for s in retail.subscriptions.values() if s.topic == "ORDERS_PAID")
    old.uri = "http://127.0.0.1:9/old-app/webhooks"
    changes = check_subscriptions()
    assert changes[RETAIL] == {"created": ["ORDERS_PAID"], "removed": ["ORDERS_PAID"]}
    uris = {s["uri"] for s in harness.shop(RETAIL)["subscriptions"]}
    assert uris == {"http://127.0.0.1:5000/webhooks"}
    assert check_subscriptions() == {}, "nothing left to repair"


def test_a_partner_shipment_whose_webhook_was_lost_reaches_the_retail_order(
    harness, short_search_lag
):
    sku = set_up_orders(harness)
    order = place(harness, sku)
    harness.settle()
    sync = order_sync(order["id"])
    assert sync.status == OrderStatus.SYNCED
    harness.sandbox.webhooks.transport = lambda url, headers, body: 503  # PowerPact is down
    number = sync.partner_order_id.rsplit("/", 1)[1]
    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{number}/fulfil",
        {"tracking_number": "1ZLOST", "company": "UPS", "url": "https://ups.example/1ZLOST"},
    )
    harness.settle()
    assert order_sync(order["id"]).status == OrderStatus.SYNCED, "the fulfilment was lost"

    past_the_search_lag(harness)
    result = reconcile_task.call_local()
    assert result[NORTH]["applied"] == 1 and result[NORTH]["errors"] == []
    sent = order_sync(order["id"])
    assert sent.status == OrderStatus.FULFILLED
    retail_order = next(o for o in harness.shop(RETAIL)["orders"] if o["id"] == order["id"])
    assert retail_order["fulfillments"][0]["tracking"]["number"] == "1ZLOST"
    assert reconcile_task.call_local()[NORTH]["applied"] == 0, "copied once"
