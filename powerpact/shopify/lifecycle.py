"""The app's lifecycle topics: uninstall, scope changes and the compliance topics."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    PartnerStore,
    ProductMap,
    StoreStatus,
    WebhookDelivery,
)
from powerpact.shopify.topics import handles
from powerpact.shops import find_shop, is_retail_shop, missing_scopes

UNSENT = (OrderStatus.PENDING, OrderStatus.READY_FOR_SYNC)
REDACTED_PAYLOAD = json.dumps({"redacted": True})


def fail_unsent_orders(partner_shop_domain: str, reason: FailureReason, message: str) -> int:
    result = db.session.execute(
        update(OrderSync)
        .where(
            OrderSync.partner_shop_domain == partner_shop_domain,
            OrderSync.status.in_(UNSENT),
        )
        .values(
            status=OrderStatus.FAILED,
            last_order_failure_reason=reason,
            error_message=message,
            updated_at=utcnow(),
        )
    )
    return result.rowcount


@handles("app/uninstalled")
def app_uninstalled(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Disable the shop and drop its token; a late event from before a reinstall is ignored."""
    shop = find_shop(delivery.shop_domain)
    if shop is None:
        return {"outcome": "unknown shop"}
    if delivery.triggered_at and shop.installed_at and delivery.triggered_at < shop.installed_at:
        return {"outcome": "stale: the shop reinstalled after this event"}
    shop.status = StoreStatus.DISABLED
    shop.uninstall_date = delivery.triggered_at or utcnow()
    shop.access_token = None
    shop.refresh_token = None
    shop.access_token_expires_at = shop.refresh_token_expires_at = None
    failed = 0
    if isinstance(shop, PartnerStore):
        failed = fail_unsent_orders(
            shop.shop_domain,
            FailureReason.PARTNER_UNINSTALLED,
            "The partner uninstalled PowerPact; retry once they reinstall.",
        )
    return {"outcome": "disabled", "orders_failed": failed}


@handles("app/scopes_update")
def app_scopes_update(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    shop = find_shop(delivery.shop_domain)
    if shop is None:
        return {"outcome": "unknown shop"}
    current = payload.get("current") or []
    if not isinstance(current, list):
        raise ValueError("app/scopes_update payload has no list of current scopes")
    shop.scopes = ",".join(str(s) for s in current)
    missing = missing_scopes(shop.scopes)
    shop.reauthorization_required = bool(missing)
    failed = 0
    if missing and isinstance(shop, PartnerStore):
        failed = fail_unsent_orders(
            shop.shop_domain,
            FailureReason.REAUTHORIZATION_REQUIRED,
            "The partner removed access PowerPact needs (" + ", ".join(missing) + ").",
        )
    return {"missing_scopes": missing, "orders_failed": failed}


def _order_gids(ids: Any) -> list[str]:
    if not isinstance(ids, list):
        return []
    return [f"gid://shopify/Order/{int(i)}" for i in ids if str(i).isdigit()]


def _customer_orders(payload: dict[str, Any], ids_key: str) -> list[OrderSync]:
    customer = payload.get("customer") or {}
    email = customer.get("email") if isinstance(customer, dict) else None
    conditions = []
    gids = _order_gids(payload.get(ids_key))
    if gids:
        conditions.append(OrderSync.bubbly_order_id.in_(gids))
    if email:
        conditions.append(func.lower(OrderSync.customer_email) == str(email).lower())
    if not conditions:
        return []
    return list(db.session.scalars(select(OrderSync).where(or_(*conditions))))


@handles("customers/data_request")
def customers_data_request(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Gather what PowerPact holds about the customer, for the merchant to pass on."""
    orders = _customer_orders(payload, "orders_requested")
    return {
        "orders": [
            {
                "retail_order": o.bubbly_order_name or o.bubbly_order_id,
                "partner": o.partner_shop_domain,
                "customer_email": o.customer_email,
                "shipping_address": o.shipping_address,
                "items": [{"title": line.title, "quantity": line.quantity} for line in o.lines],
            }
            for o in orders
        ]
    }


def scrub_order(order: OrderSync) -> None:
    order.customer_email = None
    order.shipping_address = None
    order.ship_to_city = None


def scrub_deliveries_for(order_gids: list[str]) -> int:
    """Replace stored webhook payloads that concern these orders."""
    numeric_ids = [gid.rsplit("/", 1)[1] for gid in order_gids]
    count = 0
    for delivery in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.topic.like("orders/%"))
    ):
        try:
            order_id = str(json.loads(delivery.payload).get("id"))
        except (ValueError, AttributeError):
            continue
        if order_id in numeric_ids:
            delivery.payload = REDACTED_PAYLOAD
            count += 1
    return count


@handles("customers/redact")
def customers_redact(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    orders = _customer_orders(payload, "orders_to_redact")
    for order in orders:
        scrub_order(order)
    gids = sorted(
        {o.bubbly_order_id for o in orders} | set(_order_gids(payload.get("orders_to_redact")))
    )
    return {"orders_redacted": len(orders), "payloads_redacted": scrub_deliveries_for(gids)}


@handles("shop/redact")
def shop_redact(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Erase a shop's data 48 h after uninstall, keeping only anonymous counts."""
    domain = delivery.shop_domain
    if is_retail_shop(domain):
        orders = list(db.session.scalars(select(OrderSync)))
        for order in orders:
            scrub_order(order)
        scrub_deliveries_for([o.bubbly_order_id for o in orders])
        return {"orders_scrubbed": len(orders)}
    counts = {
        "order_syncs": db.session.scalar(
            select(func.count())
            .select_from(OrderSync)
            .where(OrderSync.partner_shop_domain == domain)
        ),
        "product_maps": db.session.scalar(
            select(func.count())
            .select_from(ProductMap)
            .where(ProductMap.partner_shop_domain == domain)
        ),
    }
    db.session.execute(delete(PartnerStore).where(PartnerStore.shop_domain == domain))
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.shop_domain == domain)
        .values(payload=REDACTED_PAYLOAD)
    )
    return {"erased": counts}
