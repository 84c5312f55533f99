"""app/uninstalled, app/scopes_update and the compliance topics."""

import json
from datetime import timedelta

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import (
    DeliveryStatus,
    FailureReason,
    OrderStatus,
    OrderSync,
    PartnerStore,
    ProductMap,
    StoreStatus,
    WebhookDelivery,
)
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import (
    OrderSyncFactory,
    OrderSyncLineFactory,
    PartnerStoreFactory,
    ProductMapFactory,
    RetailStoreFactory,
)
from tests.shopify_double import token_check_answers
from tests.webhook_bodies import (
    customers_redact_body,
    data_request_body,
    order_body,
    scopes_body,
    shop_body,
    shop_redact_body,
)

RETAIL = "bubbly-retail.myshopify.com"


def uninstall(send_webhook, shopify, shop: str, **options):
    """A genuine app/uninstalled: the shop's body, its token already revoked (401)."""
    token_check_answers(shopify, shop, 401)
    return send_webhook("app/uninstalled", shop_body(shop), shop=shop, **options)


def test_uninstall_disables_the_partner_drops_its_token_and_fails_unsent_orders(
    send_webhook, db_session, shopify
):
    partner = PartnerStoreFactory(refresh_token="shprt_x")
    pending = OrderSyncFactory(partner=partner)
    ready = OrderSyncFactory(partner=partner, ready=True)
    synced = OrderSyncFactory(partner=partner, synced=True)
    other = OrderSyncFactory(ready=True)

    uninstall(send_webhook, shopify, partner.shop_domain, webhook_id="u1")

    db_session.expire_all()
    assert delivery_by_webhook_id("u1").result == {"outcome": "disabled", "orders_failed": 2}
    assert partner.status == StoreStatus.DISABLED
    assert partner.access_token is None and partner.refresh_token is None
    assert partner.uninstall_date is not None
    for order in (pending, ready):
        assert order.status == OrderStatus.FAILED
        assert order.last_order_failure_reason == FailureReason.PARTNER_UNINSTALLED
    assert synced.status == OrderStatus.SYNCED
    assert other.status == OrderStatus.READY_FOR_SYNC


def test_orders_refused_by_the_revoked_token_before_the_uninstall_arrived_say_uninstalled(
    send_webhook, db_session, shopify
):
    """Shopify revokes the token first: a send in the gap fails with a 401 (a bad token)."""
    partner = PartnerStoreFactory()
    refused = OrderSyncFactory(
        partner=partner,
        status=OrderStatus.FAILED,
        last_order_failure_reason=FailureReason.REAUTHORIZATION_REQUIRED,
        error_message="north refused PowerPact's token (HTTP 401)",
    )
    invalid = OrderSyncFactory(
        partner=partner,
        status=OrderStatus.FAILED,
        last_order_failure_reason=FailureReason.INVALID_ORDER,
    )

    uninstall(send_webhook, shopify, partner.shop_domain, webhook_id="gap")

    db_session.expire_all()
    assert delivery_by_webhook_id("gap").result == {"outcome": "disabled", "orders_failed": 1}
    assert refused.last_order_failure_reason == FailureReason.PARTNER_UNINSTALLED
    assert "uninstalled" in refused.error_message
    assert invalid.last_order_failure_reason == FailureReason.INVALID_ORDER


def test_an_uninstall_arriving_after_a_reinstall_is_refused(send_webhook, db_session, shopify):
    """The reinstall's token works: Shopify's answer, not the event's time, tells."""
    partner = PartnerStoreFactory(installed_at=utcnow())
    token_check_answers(shopify, partner.shop_domain, 200)
    before = (utcnow() - timedelta(hours=1)).isoformat()
    send_webhook(
        "app/uninstalled",
        shop_body(partner.shop_domain),
        shop=partner.shop_domain,
        webhook_id="late",
        triggered_at=before,
    )
    db_session.expire_all()
    assert partner.status == StoreStatus.ACTIVE
    delivery = delivery_by_webhook_id("late")
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error == "token still valid: uninstall not confirmed"


def test_uninstall_of_the_retail_store_disables_it(send_webhook, db_session, shopify):
    retail = RetailStoreFactory()
    uninstall(send_webhook, shopify, retail.shop_domain)
    db_session.expire_all()
    assert retail.status == StoreStatus.DISABLED
    assert retail.access_token is None


def test_uninstall_of_an_unknown_shop_is_recorded(send_webhook, shopify):
    uninstall(send_webhook, shopify, "nobody.myshopify.com", webhook_id="nobody")
    assert delivery_by_webhook_id("nobody").result == {"outcome": "unknown shop"}
    assert shopify.calls == [], "no token to ask with"


def test_scopes_shrinking_marks_reauthorization_and_fails_unsent_orders(
    send_webhook, db_session, app
):
    partner = PartnerStoreFactory()
    order = OrderSyncFactory(partner=partner, ready=True)
    send_webhook(
        "app/scopes_update",
        scopes_body(["read_products"], ["write_orders"]),
        shop=partner.shop_domain,
        webhook_id="scopes",
    )
    db_session.expire_all()
    assert partner.reauthorization_required
    assert partner.scopes == "read_products"
    assert order.last_order_failure_reason == FailureReason.REAUTHORIZATION_REQUIRED
    assert "write_orders" in delivery_by_webhook_id("scopes").result["missing_scopes"]


def test_scopes_granted_in_full_clear_the_flag(send_webhook, db_session, app):
    partner = PartnerStoreFactory(needs_reauthorization=True)
    wanted = app.config["POWERPACT"].shopify_scopes.split(",")
    send_webhook("app/scopes_update", scopes_body(wanted), shop=partner.shop_domain)
    db_session.expire_all()
    assert not partner.reauthorization_required


def test_scopes_payload_without_a_list_is_stored_as_failed(send_webhook):
    partner = PartnerStoreFactory()
    body = scopes_body([]) | {"current": "x"}
    send_webhook("app/scopes_update", body, shop=partner.shop_domain, webhook_id="s")
    delivery = delivery_by_webhook_id("s")
    assert delivery.status == DeliveryStatus.FAILED
    assert "current is missing or not a list of scopes" in delivery.error


def customer_order(**kwargs):
    order = OrderSyncFactory(
        customer_email="ada@example.com",
        shipping_address={"name": "Ada", "address1": "1 Main St", "city": "Portland"},
        **kwargs,
    )
    OrderSyncLineFactory(order_sync=order, title="House Blend", quantity=2)
    return order


def test_data_request_gathers_the_customers_orders(send_webhook):
    order = customer_order(bubbly_order_id="gid://shopify/Order/555")
    customer_order()
    send_webhook(
        "customers/data_request",
        data_request_body(RETAIL, {"email": "nobody@example.com"}, [555]),
        webhook_id="dr",
    )
    result = delivery_by_webhook_id("dr").result
    assert [o["retail_order"] for o in result["orders"]] == [order.bubbly_order_name]
    assert result["orders"][0]["items"] == [{"title": "House Blend", "quantity": 2}]


def test_customer_redact_scrubs_orders_and_stored_payloads(send_webhook, db_session):
    order = customer_order(bubbly_order_id="gid://shopify/Order/777")
    kept = OrderSyncFactory(customer_email="grace@example.com")
    send_webhook("orders/create", order_body(777, email="ada@example.com"), webhook_id="o777")
    send_webhook(
        "customers/redact",
        customers_redact_body(RETAIL, {"email": "ADA@example.com"}, [777]),
        webhook_id="redact",
    )
    db_session.expire_all()
    assert order.customer_email is None and order.shipping_address is None
    assert kept.customer_email == "grace@example.com"
    assert "ada@example.com" not in delivery_by_webhook_id("o777").payload
    assert delivery_by_webhook_id("redact").result == {
        "orders_redacted": 1,
        "payloads_redacted": 1,
    }


def test_redact_with_nothing_to_match_does_nothing(send_webhook):
    send_webhook("customers/redact", customers_redact_body(RETAIL, {}), webhook_id="empty")
    assert delivery_by_webhook_id("empty").result == {"orders_redacted": 0, "payloads_redacted": 0}


def test_shop_redact_erases_a_partner_keeping_counts(send_webhook, db_session, shopify):
    partner = PartnerStoreFactory()
    domain = partner.shop_domain
    OrderSyncFactory.create_batch(2, partner=partner)
    ProductMapFactory(partner=partner)
    uninstall(send_webhook, shopify, domain)
    send_webhook("shop/redact", shop_redact_body(domain), shop=domain, webhook_id="sr")
    db_session.expire_all()
    assert db_session.scalar(select(PartnerStore).where(PartnerStore.shop_domain == domain)) is None
    assert (
        db_session.scalars(select(OrderSync).where(OrderSync.partner_shop_domain == domain)).all()
        == []
    )
    assert (
        db_session.scalars(select(ProductMap).where(ProductMap.partner_shop_domain == domain)).all()
        == []
    )
    result = delivery_by_webhook_id("sr").result
    assert result == {"erased": {"order_syncs": 2, "product_maps": 1}}
    payloads = db_session.scalars(
        select(WebhookDelivery.payload).where(WebhookDelivery.shop_domain == domain)
    ).all()
    assert all(json.loads(p) == {"redacted": True} for p in payloads)


def test_shop_redact_of_the_retail_store_scrubs_customer_data(send_webhook, db_session, shopify):
    order = customer_order()
    RetailStoreFactory(status=StoreStatus.DISABLED, access_token=None, uninstall_date=utcnow())
    send_webhook("shop/redact", shop_redact_body(RETAIL), webhook_id="retail-redact")
    db_session.expire_all()
    assert order.customer_email is None
    assert delivery_by_webhook_id("retail-redact").result == {"orders_scrubbed": 1}
