"""Issue #18, finding 3: Shopify signs a webhook's body, not its headers, so a genuine body
can come back under another ``X-Shopify-Topic`` and another shop's
``X-Shopify-Shop-Domain``. Each topic's body must have its topic's shape and name the
header's shop; a destructive topic (app/uninstalled, shop/redact) acts only once Shopify
confirms the shop's token no longer works; ``X-Shopify-Triggered-At`` decides nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import DeliveryStatus, OrderSync, PartnerStore, StoreStatus
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import OrderSyncFactory, RetailStoreFactory
from tests.shopify_double import token_check_answers as shop_answers
from tests.webhook_bodies import (
    customers_redact_body,
    data_request_body,
    fulfillment_body,
    order_body,
    product_body,
    shop_body,
    shop_redact_body,
)

RETAIL = "bubbly-retail.myshopify.com"


def genuine_order_body() -> bytes:
    """An orders/create body as Shopify sends it to the retail store (signed by the fixture)."""
    order = order_body(
        820982911946154508,
        email="ada@example.com",
        financial_status="paid",
        line_items=[{"id": 466157049, "variant_id": 39072856, "quantity": 1, "sku": "IPOD"}],
        shipping_address={"city": "Ottawa", "country_code": "CA"},
    )
    return json.dumps(order).encode()


def still_installed(db_session, partner, refresh_token: str | None = None) -> None:
    db_session.refresh(partner)
    assert partner.status == StoreStatus.ACTIVE
    assert partner.access_token is not None and partner.refresh_token == refresh_token
    assert partner.uninstall_date is None


def failed_with(webhook_id: str, reason: str) -> None:
    delivery = delivery_by_webhook_id(webhook_id)
    assert delivery.status == DeliveryStatus.FAILED
    assert reason in delivery.error
    assert delivery.attempts == 1


def test_a_signed_order_body_replayed_as_another_partners_uninstall_leaves_it_installed(
    send_webhook, personas, db_session, shopify
):
    """The attack of the issue, word for word."""
    bob = personas.bob
    bob.refresh_token = "shprt_bob"
    db_session.flush()
    response = send_webhook(
        "app/uninstalled",
        None,
        raw=genuine_order_body(),
        shop=bob.shop_domain,
        webhook_id="replayed-order",
    )
    assert response.status_code == 200
    failed_with("replayed-order", "not a payload of app/uninstalled")
    still_installed(db_session, bob, "shprt_bob")
    assert shopify.calls == [], "refused before anything was asked of Shopify"


@pytest.mark.parametrize("topic", ["shop/redact", "customers/redact", "products/delete"])
def test_a_signed_order_body_replayed_under_another_destructive_topic_acts_on_nobody(
    send_webhook, personas, db_session, shopify, topic
):
    OrderSyncFactory(partner=personas.bob, customer_email="ada@example.com")
    send_webhook(
        topic, None, raw=genuine_order_body(), shop=personas.bob.shop_domain, webhook_id="replayed"
    )
    failed_with("replayed", f"not a payload of {topic}")
    still_installed(db_session, personas.bob)
    assert db_session.scalars(select(OrderSync.customer_email)).all() == ["ada@example.com"]


def test_a_customers_redact_body_replayed_as_shop_redact_erases_nothing(
    send_webhook, personas, db_session, shopify
):
    bob = personas.bob.shop_domain
    body = customers_redact_body(bob, {"id": 1, "email": "ada@example.com"}, [1])
    send_webhook("shop/redact", body, shop=bob, webhook_id="redact-as-shop")
    failed_with("redact-as-shop", "it carries customer, orders_to_redact")
    still_installed(db_session, personas.bob)


def test_a_genuine_uninstall_whose_token_still_works_is_refused(
    send_webhook, personas, db_session, shopify
):
    """An old uninstall of Alice's, replayed after she reinstalled, or sent out of order."""
    alice = personas.alice
    shop_answers(shopify, alice.shop_domain, 200)
    send_webhook(
        "app/uninstalled",
        shop_body(alice.shop_domain),
        shop=alice.shop_domain,
        webhook_id="still-valid",
    )
    failed_with("still-valid", "token still valid: uninstall not confirmed")
    assert (
        delivery_by_webhook_id("still-valid").error == "token still valid: uninstall not confirmed"
    )
    still_installed(db_session, alice)


def test_a_forged_future_triggered_at_does_not_push_a_replayed_uninstall_through(
    send_webhook, personas, db_session, shopify
):
    alice = personas.alice
    shop_answers(shopify, alice.shop_domain, 200)
    future = (utcnow() + timedelta(days=365)).isoformat()
    send_webhook(
        "app/uninstalled",
        shop_body(alice.shop_domain),
        shop=alice.shop_domain,
        webhook_id="future",
        triggered_at=future,
    )
    failed_with("future", "token still valid")
    still_installed(db_session, alice)


def test_a_genuine_uninstall_confirmed_by_a_401_disables_the_shop(
    send_webhook, personas, db_session, shopify
):
    """A forged ``X-Shopify-Triggered-At`` from before the install changes nothing either."""
    alice = personas.alice
    shop_answers(shopify, alice.shop_domain, 401)
    past = (utcnow() - timedelta(days=365)).isoformat()
    before = utcnow()
    send_webhook(
        "app/uninstalled",
        shop_body(alice.shop_domain),
        shop=alice.shop_domain,
        webhook_id="genuine",
        triggered_at=past,
    )
    assert delivery_by_webhook_id("genuine").status == DeliveryStatus.PROCESSED
    db_session.refresh(alice)
    assert alice.status == StoreStatus.DISABLED and alice.access_token is None
    assert alice.uninstall_date >= before, "the confirmation's time, not the header's"
    assert shopify.count("ShopId", alice.shop_domain) == 1


def test_an_uninstall_of_a_shop_shopify_no_longer_serves_is_confirmed(
    send_webhook, personas, db_session, shopify
):
    shop_answers(shopify, personas.alice.shop_domain, 404)
    send_webhook(
        "app/uninstalled",
        shop_body(personas.alice.shop_domain),
        shop=personas.alice.shop_domain,
        webhook_id="gone",
    )
    db_session.refresh(personas.alice)
    assert personas.alice.status == StoreStatus.DISABLED


def test_an_uninstall_shopify_cannot_confirm_yet_is_left_for_a_retry(
    send_webhook, personas, db_session, shopify
):
    alice = personas.alice
    shop_answers(shopify, alice.shop_domain, 503)
    send_webhook(
        "app/uninstalled",
        shop_body(alice.shop_domain),
        shop=alice.shop_domain,
        webhook_id="unconfirmed",
    )
    delivery = delivery_by_webhook_id("unconfirmed")
    assert delivery.status == DeliveryStatus.RECEIVED, "the task's retry will ask again"
    assert "TransportError" in delivery.error
    still_installed(db_session, alice)


def test_shop_redact_of_an_installed_retail_store_is_refused(send_webhook, db_session, shopify):
    RetailStoreFactory()
    order = OrderSyncFactory(customer_email="ada@example.com")
    shop_answers(shopify, RETAIL, 200)
    send_webhook("shop/redact", shop_redact_body(RETAIL), webhook_id="retail-redact")
    failed_with("retail-redact", "token still valid: shop redact not confirmed")
    db_session.refresh(order)
    assert order.customer_email == "ada@example.com"


def test_shop_redact_of_an_installed_partner_erases_nothing(
    send_webhook, personas, db_session, shopify
):
    bob = personas.bob.shop_domain
    shop_answers(shopify, bob, 200)
    send_webhook("shop/redact", shop_redact_body(bob), shop=bob, webhook_id="bob-redact")
    failed_with("bob-redact", "token still valid: shop redact not confirmed")
    still_installed(db_session, personas.bob)


def test_shop_redact_of_a_partner_whose_token_is_refused_erases_it(
    send_webhook, personas, db_session, shopify
):
    """Its app/uninstalled was lost: Shopify's 401 is confirmation enough."""
    bob = personas.bob.shop_domain
    shop_answers(shopify, bob, 401)
    send_webhook("shop/redact", shop_redact_body(bob), shop=bob, webhook_id="bob-gone")
    assert delivery_by_webhook_id("bob-gone").status == DeliveryStatus.PROCESSED
    assert db_session.scalar(select(PartnerStore).where(PartnerStore.shop_domain == bob)) is None


def test_shop_redact_after_a_confirmed_uninstall_asks_shopify_nothing(
    send_webhook, personas, db_session, shopify
):
    bob = personas.bob.shop_domain
    shop_answers(shopify, bob, 401)
    send_webhook("app/uninstalled", shop_body(bob), shop=bob)
    send_webhook("shop/redact", shop_redact_body(bob), shop=bob, webhook_id="after")
    assert delivery_by_webhook_id("after").status == DeliveryStatus.PROCESSED
    assert shopify.count("ShopId") == 1, "only the uninstall asked"


ALICE = "alice-roasters.myshopify.com"
NOT_THEIR_SHAPE = {
    "order-without-gid": ("orders/create", {"id": 5, "line_items": []}, "admin_graphql_api_id"),
    "order-gid-of-a-product": (
        "orders/paid",
        {**order_body(5), "admin_graphql_api_id": "gid://shopify/Product/5"},
        "is not the Order of this id",
    ),
    "order-gid-of-another-order": (
        "orders/cancelled",
        {**order_body(5), "admin_graphql_api_id": "gid://shopify/Order/6"},
        "is not the Order of this id",
    ),
    "order-id-not-a-number": ("orders/updated", order_body(5) | {"id": "5; drop"}, "id is"),
    "risk-without-order": ("orders/risk_assessment_changed", {"risk_level": "high"}, "order_id"),
    "risk-without-level": ("orders/risk_assessment_changed", {"order_id": 5}, "risk_level"),
    "hold-released-without-fo": (
        "fulfillment_orders/hold_released",
        {"fulfillment_order": "gid://shopify/FulfillmentOrder/1"},
        "fulfillment_order",
    ),
    "moved-without-moved": (
        "fulfillment_orders/moved",
        {"original_fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/1"}},
        "moved_fulfillment_order",
    ),
    "product-gid-of-an-order": (
        "products/update",
        {**product_body(5), "admin_graphql_api_id": "gid://shopify/Order/5"},
        "is not the Product of this id",
    ),
    "product-delete-with-a-product": ("products/delete", product_body(5), "it carries"),
    "level-without-location": ("inventory_levels/update", {"inventory_item_id": 1}, "location_id"),
    "fulfillment-without-order": ("fulfillments/create", {"id": 1}, "order_id"),
    "fulfillment-update-of-an-order": ("fulfillments/update", order_body(5), "order_id"),
    "uninstall-without-shop": ("app/uninstalled", {"id": 1}, "myshopify_domain"),
    "scopes-not-a-list": ("app/scopes_update", {"previous": [], "current": "x"}, "current"),
    "data-request-without-orders": (
        "customers/data_request",
        {"shop_id": 1, "shop_domain": ALICE, "customer": {}},
        "orders_requested",
    ),
    "data-request-as-redact": (
        "customers/redact",
        data_request_body(ALICE, {"id": 1}),
        "orders_to_redact",
    ),
    "redact-without-customer": (
        "customers/redact",
        {"shop_id": 1, "shop_domain": ALICE, "orders_to_redact": []},
        "customer",
    ),
    "shop-redact-without-shop-id": ("shop/redact", {"shop_domain": ALICE}, "shop_id"),
    "fulfillment-as-order": ("orders/create", fulfillment_body(5, 6), "is not the Order"),
}


@pytest.mark.parametrize(
    ("topic", "body", "why"), NOT_THEIR_SHAPE.values(), ids=NOT_THEIR_SHAPE.keys()
)
def test_a_body_not_of_its_topics_shape_is_stored_failed_once(
    send_webhook, personas, shopify, topic, body, why
):
    response = send_webhook(topic, body, shop=ALICE, webhook_id="misshapen")
    assert response.status_code == 200
    failed_with("misshapen", f"not a payload of {topic}")
    failed_with("misshapen", why)
    assert shopify.calls == []


def test_an_uninstall_naming_another_myshopify_domain_is_refused(send_webhook, personas):
    body = shop_body(ALICE) | {"domain": "bob-beans.myshopify.com"}
    send_webhook("app/uninstalled", body, shop=ALICE, webhook_id="other-domain")
    failed_with("other-domain", "domain names another shop")


def test_an_uninstall_of_a_shop_with_its_own_domain_is_confirmed_as_usual(
    send_webhook, personas, db_session, shopify
):
    """The shop's ``domain`` is its primary domain, often not a myshopify.com one."""
    shop_answers(shopify, ALICE, 401)
    body = shop_body(ALICE) | {"domain": "www.alice-roasters.example"}
    send_webhook("app/uninstalled", body, shop=ALICE, webhook_id="custom-domain")
    assert delivery_by_webhook_id("custom-domain").status == DeliveryStatus.PROCESSED
    db_session.refresh(personas.alice)
    assert personas.alice.status == StoreStatus.DISABLED
