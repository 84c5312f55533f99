"""What the order tasks and webhooks call: capture, send due orders, find what is due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import after_commit, db
from powerpact.models import (
    Cadence,
    OrderStatus,
    OrderSync,
    PartnerStore,
    RetailStore,
    WebhookDelivery,
)
from powerpact.orders import batches, push
from powerpact.orders.capture import parse_order, record_order
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ReauthorizationRequired
from powerpact.shopify.topics import handles
from powerpact.shops import is_retail_shop

ORDER_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/risk_assessment_changed",
)


def retail_store() -> RetailStore:
    store = db.session.scalar(select(RetailStore))
    if store is None or not store.is_active:
        raise ReauthorizationRequired("the retail store has not installed PowerPact")
    return store


def capture_order(order_gid: str) -> str:
    """Pull the retail order and record its OrderSyncs; sends start once the caller commits."""
    store = retail_store()
    client = client_for(store)
    node = client.execute("OrderForSync", {"id": order_gid}).get("order")
    if node is None:
        return "order not found"
    captured = parse_order(node, more_lines=remaining_line_items(client, node))
    touched = record_order(captured, accept_authorized=store.accept_authorized_payments)
    ready_partners = sorted(
        {o.partner_shop_domain for o in touched if o.status == OrderStatus.READY_FOR_SYNC}
    )
    from powerpact.orders.tasks import cancel_partner_order_task, push_partner_task

    for order in touched:
        if order.needs_attention and order.events and order.events[-1].kind == "cancel_requested":
            after_commit(lambda order_id=order.id: cancel_partner_order_task(order_id))
    immediate = db.session.scalars(
        select(PartnerStore.shop_domain).where(
            PartnerStore.shop_domain.in_(ready_partners),
            PartnerStore.cadence == Cadence.IMMEDIATE,
        )
    )
    for domain in immediate:
        after_commit(lambda domain=domain: push_partner_task(domain))
    return f"recorded {len(touched)} partner orders"


def remaining_line_items(client: Any, order: Any) -> list[Any]:
    """Lines past the first page of ``OrderForSync`` (an order may have hundreds).

    A malformed answer has no next page here; ``parse_order`` says what is wrong with it.
    """
    connection = order.get("lineItems") if isinstance(order, dict) else None
    page = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(page, dict) or page.get("hasNextPage") is not True:
        return []
    cursor, order_id = page.get("endCursor"), order.get("id")
    if not isinstance(cursor, str) or not isinstance(order_id, str):
        return []
    return list(
        client.paginate(
            "OrderLineItemsPage", {"id": order_id, "after": cursor}, ("order", "lineItems")
        )
    )


def order_gid_of(payload: dict[str, Any]) -> str:
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
        return gid
    order_id = payload.get("id")
    if isinstance(order_id, int) or (isinstance(order_id, str) and order_id.isdigit()):
        return f"gid://shopify/Order/{order_id}"
    raise ValueError("the order webhook names no order (no id or admin_graphql_api_id)")


@handles(*ORDER_TOPICS)
def on_order_event(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    if not is_retail_shop(delivery.shop_domain):
        return {"outcome": "ignored: not the retail store"}
    return {"outcome": capture_order(order_gid_of(payload))}


def push_partner(partner_domain: str) -> dict[str, int]:
    return push.push_partner(partner_domain)


def send_batches(partner_domain: str) -> int:
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    if partner is None:
        return 0
    if partner.cadence == Cadence.DAILY:
        return batches.send_daily(partner_domain)
    if partner.cadence == Cadence.WEEKLY:
        batches.close_past_weekly_batches()
        return batches.send_weekly(partner_domain)
    return 0


def partners_with_due_orders() -> dict[str, list[str]]:
    """Partners with ready orders to send now: immediate ones, and batched ones to look at."""
    now = utcnow()
    rows = db.session.execute(
        select(PartnerStore.shop_domain, PartnerStore.cadence)
        .join(OrderSync, OrderSync.partner_shop_domain == PartnerStore.shop_domain)
        .where(
            OrderSync.status == OrderStatus.READY_FOR_SYNC,
            (OrderSync.next_attempt_at.is_(None)) | (OrderSync.next_attempt_at <= now),
        )
        .distinct()
    ).all()
    immediate = sorted(domain for domain, cadence in rows if cadence == Cadence.IMMEDIATE)
    batched = sorted(domain for domain, cadence in rows if cadence != Cadence.IMMEDIATE)
    return {"immediate": immediate, "batched": batched}
