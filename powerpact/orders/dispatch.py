"""What the order tasks and webhooks call: capture, send due orders, find what is due.

A capture returns what it made due (``Captured``); the task or handler that called it
schedules that once its transaction commits (``orders.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    Cadence,
    OrderStatus,
    OrderSync,
    PartnerStore,
    RetailStore,
)
from powerpact.orders import aftercare, batches, push
from powerpact.orders.capture import mark_seen, parse_order, record_order
from powerpact.orders.reconcile import reconcile_partner_fulfilments, reconcile_retail_orders
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ReauthorizationRequired, ShopifyError

RISK_HOLD_GRACE = timedelta(seconds=2)
# The capture the passes below run (``orders.tasks.capture_order``): it captures one order
# and schedules what became due once the transaction commits.
Capture = Callable[[str], str]


@dataclass(frozen=True)
class Captured:
    """What a capture recorded, and what is due once it commits: partner orders to cancel
    (by OrderSync id), a second look when the risk hold ends, partners to send to now."""

    outcome: str
    to_cancel: tuple[int, ...] = ()
    look_again_at: datetime | None = None
    to_send: tuple[str, ...] = ()


def retail_store() -> RetailStore:
    store: RetailStore | None = db.session.scalar(select(RetailStore))
    if store is None or not store.is_active:
        raise ReauthorizationRequired("the retail store has not installed PowerPact")
    return store


def capture_order(order_gid: str) -> Captured:
    """Pull the retail order and record its OrderSyncs; say what is due once that commits."""
    store = retail_store()
    client = client_for(store)
    node = client.execute("OrderForSync", {"id": order_gid}).get("order")
    if node is None:
        return Captured("order not found")
    captured = parse_order(node, more_lines=remaining_line_items(client, node))
    seen_at = captured.updated_at or captured.state.placed_at
    if seen_at is not None:
        mark_seen(captured.order_id, seen_at)
    touched = record_order(
        captured,
        accept_authorized=store.accept_authorized_payments,
        risk_hold=timedelta(seconds=max(store.risk_hold_seconds, 0)),
    )
    ready_partners = sorted(
        {o.partner_shop_domain for o in touched if o.status == OrderStatus.READY_FOR_SYNC}
    )
    to_cancel = tuple(
        order.id
        for order in touched
        if order.needs_attention and order.events and order.events[-1].kind == "cancel_requested"
    )
    hold_ends = [o.risk_hold_until for o in touched if o.risk_hold_until is not None]
    immediate = db.session.scalars(
        select(PartnerStore.shop_domain).where(
            PartnerStore.shop_domain.in_(ready_partners),
            PartnerStore.cadence == Cadence.IMMEDIATE,
        )
    )
    return Captured(
        f"recorded {len(touched)} partner orders",
        to_cancel=to_cancel,
        look_again_at=min(hold_ends) + RISK_HOLD_GRACE if hold_ends else None,
        to_send=tuple(immediate),
    )


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


ORDER_KEYS = ("admin_graphql_api_id", "id")
# orders/risk_assessment_changed names the order, not itself: "Includes the risk level,
# risk facts, the provider and the order ID" (the schema's WebhookSubscriptionTopic).
RISK_ORDER_KEYS = ("admin_graphql_api_order_id", "order_id")


def order_gid_of(payload: dict[str, Any], keys: tuple[str, str] = ORDER_KEYS) -> str:
    """The order a webhook names, from its GraphQL id key or else its numeric id key."""
    gid_key, id_key = keys
    gid = payload.get(gid_key)
    if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
        return gid
    order_id = payload.get(id_key)
    if isinstance(order_id, bool):
        order_id = None
    if isinstance(order_id, int) or (isinstance(order_id, str) and order_id.isdigit()):
        return f"gid://shopify/Order/{order_id}"
    raise ValueError(f"the order webhook names no order (no {id_key} or {gid_key})")


def capture_again(order_gid: str, capture: Capture) -> str:
    """A held order's second look once its risk hold ends (a scheduled task, or the sweep).

    Each capture of a held order schedules one, so several may come due at once: only
    the first that finds the hold over (and nothing else since) pulls the order again.
    """
    due = db.session.scalar(
        select(OrderSync.id)
        .where(
            OrderSync.bubbly_order_id == order_gid,
            OrderSync.status == OrderStatus.PENDING,
            OrderSync.risk_hold_until.is_not(None),
            OrderSync.risk_hold_until <= utcnow(),
        )
        .limit(1)
    )
    if due is None:
        db.session.rollback()
        return "no risk hold ended"
    return recapture_order(order_gid, capture)


def recapture_order(order_gid: str, capture: Capture) -> str:
    """Pull the order again outside any webhook (after a hold or a release) and commit."""
    try:
        outcome = capture(order_gid)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return outcome


def orders_past_their_risk_hold(limit: int = 200) -> list[str]:
    """Retail orders still waiting for a fraud analysis whose hold ended (a lost schedule)."""
    cutoff = utcnow() - RISK_HOLD_GRACE
    return list(
        db.session.scalars(
            select(OrderSync.bubbly_order_id)
            .where(
                OrderSync.status == OrderStatus.PENDING,
                OrderSync.risk_hold_until.is_not(None),
                OrderSync.risk_hold_until < cutoff,
            )
            .distinct()
            .limit(limit)
        )
    )


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


def reconcile(capture: Capture) -> dict[str, Any]:
    """Capture the retail orders and copy the partner fulfilments whose webhooks never
    arrived (``reconcile``). A partner Shopify refuses is skipped until the next run."""
    store: RetailStore | None = db.session.scalar(select(RetailStore))
    if store is None or not store.is_active:
        return {"outcome": "the retail store has not installed PowerPact"}
    result: dict[str, Any] = {"retail": reconcile_retail_orders(client_for(store), capture)}
    partners = db.session.scalars(select(PartnerStore).order_by(PartnerStore.shop_domain)).all()
    for partner in [p for p in partners if p.is_active]:
        try:
            result[partner.shop_domain] = reconcile_partner_fulfilments(
                partner.shop_domain, client_for(partner), aftercare.apply_partner_fulfilment
            )
        except ShopifyError as exc:
            db.session.rollback()
            result[partner.shop_domain] = {"error": str(exc)}
    return result
