"""The app's lifecycle topics: uninstall, scope changes and the compliance topics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, false, func, or_, select, update

from powerpact.db_types import utcnow
from powerpact.extensions import after_commit, db, rows_matched
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    PartnerStore,
    ProductMap,
    StoreStatus,
    WebhookDelivery,
)
from powerpact.notifications.preferences import forget_shop
from powerpact.orders.privacy import partner_redactions_due, scrub_order
from powerpact.orders.tasks import redact_partner_order_task
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ReauthorizationRequired, ShopGone
from powerpact.shopify.topics import DeliveryRefused
from powerpact.shops import InstalledShop, find_shop, is_retail_shop, missing_scopes

UNSENT = (OrderStatus.PENDING, OrderStatus.READY_FOR_SYNC)
REDACTED_PAYLOAD = json.dumps({"redacted": True})
UNINSTALLED_MESSAGE = "The partner uninstalled PowerPact; retry once they reinstall."


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
    return rows_matched(result)


def token_still_works(shop: InstalledShop) -> bool:
    """Does the shop's stored token still open its Admin API (a ``shop { id }`` query)?

    An uninstalled app's access tokens are unusable
    (https://shopify.dev/docs/apps/build/authentication-authorization/app-installation/uninstall-app-api-request),
    already when ``app/uninstalled`` arrives: a refused token (401, 403, or an expired
    one Shopify refused to refresh) confirms the uninstall, and so does a shop Shopify
    no longer serves to PowerPact (402, 404, 423: ``ShopGone``, the failure orders
    already record as ``partner_uninstalled``). A shop without a stored token has
    nothing to ask with: its token was dropped when its uninstall was confirmed. A
    timeout, a 5xx, throttling or a token due for refresh is raised (transient), and
    the delivery retried.
    """
    if not shop.access_token:
        return False
    try:
        client_for(shop).execute("ShopId")
    except (ReauthorizationRequired, ShopGone):
        return False
    return True


def confirm_uninstalled(shop: InstalledShop, action: str) -> None:
    """Refuse a destructive ``action`` unless Shopify confirms the shop uninstalled PowerPact.

    A signed body can be replayed under any topic and shop header, and
    ``X-Shopify-Triggered-At`` is not signed at all: Shopify's answer is the only
    witness an attacker cannot forge. An uninstall followed by a reinstall is told
    apart the same way: the reinstall's token works.
    """
    if token_still_works(shop):
        raise DeliveryRefused(f"token still valid: {action} not confirmed")


def app_uninstalled(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Disable the shop and drop its token, once Shopify confirms the uninstall.

    The shop's row is locked first, so a send in progress ends before, and a
    reinstall's new token is stored after, the check and what follows.
    ``uninstall_date`` is when the uninstall was confirmed: the unsigned
    ``X-Shopify-Triggered-At`` decides nothing.
    """
    shop = find_shop(delivery.shop_domain)
    if shop is None:
        return {"outcome": "unknown shop"}
    db.session.refresh(shop, with_for_update=True)
    confirm_uninstalled(shop, "uninstall")
    shop.status = StoreStatus.DISABLED
    shop.uninstall_date = utcnow()
    shop.access_token = None
    shop.refresh_token = None
    shop.access_token_expires_at = shop.refresh_token_expires_at = None
    failed = 0
    if isinstance(shop, PartnerStore):
        failed = fail_unsent_orders(
            shop.shop_domain, FailureReason.PARTNER_UNINSTALLED, UNINSTALLED_MESSAGE
        ) + relabel_refused_orders(shop.shop_domain)
    return {"outcome": "disabled", "orders_failed": failed}


def relabel_refused_orders(partner_shop_domain: str) -> int:
    """Orders refused with 401 since the uninstall failed because of it: say so.

    Shopify revokes the token when the merchant uninstalls, before ``app/uninstalled``
    reaches us; a send in that gap is refused as if the token were merely bad
    (``reauthorization_required``). With the partner gone, the cause to act on is
    the uninstall: they reinstall, then the orders are retried.
    """
    result = db.session.execute(
        update(OrderSync)
        .where(
            OrderSync.partner_shop_domain == partner_shop_domain,
            OrderSync.status == OrderStatus.FAILED,
            OrderSync.last_order_failure_reason == FailureReason.REAUTHORIZATION_REQUIRED,
        )
        .values(
            last_order_failure_reason=FailureReason.PARTNER_UNINSTALLED,
            error_message=UNINSTALLED_MESSAGE,
            updated_at=utcnow(),
        )
    )
    return rows_matched(result)


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
    conditions: list[ColumnElement[bool]] = []
    gids = _order_gids(payload.get(ids_key))
    if gids:
        conditions.append(OrderSync.bubbly_order_id.in_(gids))
    if email:
        conditions.append(func.lower(OrderSync.customer_email) == str(email).lower())
    if not conditions:
        return []
    return list(db.session.scalars(select(OrderSync).where(or_(*conditions))))


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


def _numeric_id(value: Any) -> str | None:
    text = str(value) if isinstance(value, int | str) else ""
    text = text.rsplit("/", 1)[-1]
    return text if text.isdigit() else None


def _payload_of(delivery: WebhookDelivery) -> dict[str, Any]:
    try:
        payload = json.loads(delivery.payload)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _is_about(delivery: WebhookDelivery, retail_ids: set[str], partner_ids: set[str]) -> bool:
    """Whether a stored payload is one of these retail orders or of their partner orders."""
    payload = _payload_of(delivery)
    if delivery.topic.startswith("orders/"):
        return _numeric_id(payload.get("id")) in retail_ids
    if delivery.topic.startswith("fulfillments/"):
        return _numeric_id(payload.get("order_id")) in partner_ids
    if delivery.topic == "customers/data_request":
        requested = payload.get("orders_requested")
        asked = {_numeric_id(i) for i in requested} if isinstance(requested, list) else set()
        return bool(asked & retail_ids)
    return False


def carries_customers() -> ColumnElement[bool]:
    """SQL: the delivery's topic is one whose payload may hold a customer's details."""
    return or_(
        WebhookDelivery.topic.like("orders/%"),
        WebhookDelivery.topic.like("fulfillments/%"),
        WebhookDelivery.topic.like("customers/%"),
    )


def mentions(needles: Sequence[str]) -> ColumnElement[bool]:
    """SQL: the stored payload or result contains one of ``needles`` (any case)."""
    texts = (func.lower(WebhookDelivery.payload), func.lower(cast(WebhookDelivery.result, Text)))
    return or_(
        false(), *(text.contains(needle, autoescape=True) for text in texts for needle in needles)
    )


def scrub_deliveries_for(
    orders: Sequence[OrderSync], needles: Sequence[str] = (), *, besides: int | None = None
) -> int:
    """Redact the stored webhooks that carry these orders' customer; return how many.

    That is the retail order's own events, the partner fulfilments of its partner
    orders (they carry the destination address), earlier data requests about it,
    and any payload or result naming the customer's email or phone (``needles``).
    ``besides`` is the delivery being processed, which its handler redacts itself.
    """
    retail_ids = {i for o in orders if (i := _numeric_id(o.bubbly_order_id))}
    partner_ids = {i for o in orders if (i := _numeric_id(o.partner_order_id))}
    unredacted = (WebhookDelivery.payload != REDACTED_PAYLOAD) & (WebhookDelivery.id != besides)
    found = [
        d
        for d in db.session.scalars(select(WebhookDelivery).where(carries_customers(), unredacted))
        if _is_about(d, retail_ids, partner_ids)
    ]
    if needles:
        found += db.session.scalars(
            select(WebhookDelivery).where(carries_customers(), mentions(needles), unredacted)
        )
    for delivery in {d.id: d for d in found}.values():
        _redact(delivery)
    return len({d.id for d in found})


def _redact(delivery: WebhookDelivery) -> None:
    delivery.payload = REDACTED_PAYLOAD
    delivery.result = None


def _customer_needles(payload: dict[str, Any]) -> list[str]:
    """The customer's email and phone as they may appear in stored payloads."""
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        return []
    values = (customer.get("email"), customer.get("phone"))
    return [v.strip().lower() for v in values if isinstance(v, str) and len(v.strip()) >= 5]


def customers_redact(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Erase the customer from every order row and every stored webhook, this one included,
    and from the partner orders PowerPact created for her (``orders.privacy``)."""
    orders = _customer_orders(payload, "orders_to_redact")
    for order in orders:
        scrub_order(order, _customer_needles(payload))
    for order_id in partner_redactions_due(orders):
        after_commit(lambda order_id=order_id: redact_partner_order_task(order_id))
    payloads = scrub_deliveries_for(orders, _customer_needles(payload), besides=delivery.id)
    delivery.payload = REDACTED_PAYLOAD
    return {"orders_redacted": len(orders), "payloads_redacted": payloads}


def shop_redact(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Erase a shop's data 48 h after uninstall, keeping only anonymous counts.

    Shopify sends it 48 hours after the uninstall
    (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance), so the
    shop's token no longer works by then: a shop whose token still does is installed
    and keeps its data (``confirm_uninstalled``). A shop whose uninstall was already
    confirmed holds no token, and is erased without asking.
    """
    domain = delivery.shop_domain
    shop = find_shop(domain)
    if shop is not None:
        confirm_uninstalled(shop, "shop redact")
    forget_shop(domain)  # its notification choices, addresses and messages
    if is_retail_shop(domain):
        orders = list(db.session.scalars(select(OrderSync)))
        for order in orders:
            scrub_order(order)
        db.session.execute(
            update(WebhookDelivery)
            .where(carries_customers())
            .values(payload=REDACTED_PAYLOAD, result=None)
        )
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
