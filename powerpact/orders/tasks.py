"""Huey tasks and the order webhooks' handler: thin wrappers over the domain functions,
scheduling what those say became due once their transaction commits."""

from __future__ import annotations

import os
from typing import Any

from huey import crontab

from powerpact.extensions import after_commit
from powerpact.models import WebhookDelivery
from powerpact.orders import batches, capture, dispatch, push, refunds, rollup
from powerpact.orders.aftercare import (
    cancel_partner_order,
    cancellations_left_waiting,
    retry_due_waiting_tracking,
)
from powerpact.orders.privacy import redact_partner_order, redactions_left_waiting
from powerpact.orders.reconcile import reconcile_stores
from powerpact.queue import periodic_task, task
from powerpact.shops import is_retail_shop

# Read when the worker starts (a crontab is fixed then): minutes between reconciliations.
RECONCILE_EVERY_MINUTES = min(max(int(os.environ.get("RECONCILE_EVERY_MINUTES") or 10), 1), 59)
ORDER_KEYS = ("admin_graphql_api_id", "id")
# orders/risk_assessment_changed names the order, not itself: "Includes the risk level,
# risk facts, the provider and the order ID" (the schema's WebhookSubscriptionTopic).
RISK_ORDER_KEYS = ("admin_graphql_api_order_id", "order_id")
# A refund (the REST Refund resource) and an order edit (``order_edit``) name their order
# by ``order_id``; neither has an order gid key.
REFUND_ORDER_KEYS = ("admin_graphql_api_order_id", "order_id")


@task(retries=3, retry_delay=20, retry_backoff=2)
def push_partner_task(partner_domain: str) -> dict[str, int]:
    return push.push_partner(partner_domain)


@task(retries=3, retry_delay=20, retry_backoff=2)
def send_batches_task(partner_domain: str) -> int:
    return batches.send_batches(partner_domain)


@task(retries=5, retry_delay=30, retry_backoff=2, context=True)
def cancel_partner_order_task(order_sync_id: int, task: Any = None) -> str:
    return cancel_partner_order(order_sync_id, last_attempt=task is None or not task.retries)


@task(retries=5, retry_delay=30, retry_backoff=2, context=True)
def apply_after_send_task(order_gid: str, task: Any = None) -> dict[str, Any]:
    return refunds.apply_after_send(order_gid, last_attempt=task is None or not task.retries)


def capture_order(order_gid: str, *, after_send: bool = False) -> str:
    """Capture the order; once that commits, cancel, look again after the risk hold, send
    to the partners that take orders at once, and apply refunds and edits to partner orders
    already sent (always after a refund or an edit, ``after_send``; else when a sent line
    holds more than the retail line now does), as the capture says is due."""
    captured = capture.capture_order(order_gid)
    if captured.changed_after_send or (after_send and captured.sent):
        refunds.mark_after_send_due(order_gid)
        after_commit(lambda: apply_after_send_task(order_gid))
    for order_id in captured.to_cancel:
        after_commit(lambda order_id=order_id: cancel_partner_order_task(order_id))
    eta = captured.look_again_at
    if eta is not None:
        after_commit(lambda: capture_order_task.schedule(args=(order_gid,), eta=eta))
    for domain in captured.to_send:
        after_commit(lambda domain=domain: push_partner_task(domain))
    return captured.outcome


def on_order_event(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Pull the order and record it; the payload only says which order (for risk, too:
    the order's risk summary is read over GraphQL, never from the webhook)."""
    if not is_retail_shop(delivery.shop_domain):
        return {"outcome": "ignored: not the retail store"}
    keys = RISK_ORDER_KEYS if delivery.topic == "orders/risk_assessment_changed" else ORDER_KEYS
    return {"outcome": capture_order(order_gid_of(payload, keys))}


def on_refund_or_edit(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """``refunds/create`` and ``orders/edited``: pull the order and record it, then apply
    its refunds and edits to the partner orders already sent (``orders.refunds``). The
    payload only says which order: a refund names it by ``order_id``, an edit in its
    ``order_edit``."""
    if not is_retail_shop(delivery.shop_domain):
        return {"outcome": "ignored: not the retail store"}
    named = payload.get("order_edit") if delivery.topic == "orders/edited" else payload
    order_gid = order_gid_of(named if isinstance(named, dict) else {}, REFUND_ORDER_KEYS)
    return {"outcome": capture_order(order_gid, after_send=True)}


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


@task(retries=5, retry_delay=30, retry_backoff=2)
def capture_order_task(order_gid: str, *, only_if_hold_ended: bool = True) -> str:
    if only_if_hold_ended:
        return capture.capture_again(order_gid, capture_order)
    return capture.recapture_order(order_gid, capture_order)


@periodic_task(crontab(minute="*"))
def dispatch_due_orders() -> dict[str, int]:
    """Every minute: enqueue one send per partner with something due (parallel across
    partners), and a second look at orders whose risk hold ended without one."""
    due = dispatch.partners_with_due_orders()
    for domain in due["immediate"]:
        push_partner_task(domain)
    for domain in due["batched"]:
        send_batches_task(domain)
    held = dispatch.orders_past_their_risk_hold()
    for order_gid in held:
        capture_order_task(order_gid)
    return {**{kind: len(domains) for kind, domains in due.items()}, "risk_hold_ended": len(held)}


@task(retries=3, retry_delay=60, retry_backoff=2)
def reconcile_task() -> dict[str, object]:
    return reconcile_stores(capture_order)


@periodic_task(crontab(minute=f"*/{RECONCILE_EVERY_MINUTES}"))
def reconcile_orders() -> dict[str, object]:
    """Every ``RECONCILE_EVERY_MINUTES``: capture the retail orders no webhook brought."""
    return reconcile_stores(capture_order)


@periodic_task(crontab(minute="43", hour="3"))
def reconcile_order_counts() -> dict[str, object]:
    """Daily: recount the last 31 days' OrderSyncs and correct the count tables where they
    drifted (they should not: the database keeps them; ``orders/rollup.py``)."""
    return rollup.reconcile_counts().as_dict()


@periodic_task(crontab(minute="*/10"))
def retry_waiting_tracking() -> dict[str, int]:
    """Every ten minutes: tracking held back by a retail fulfillment order is tried again,
    in case the webhook that should have released it never came."""
    return retry_due_waiting_tracking()


@task(retries=5, retry_delay=60, retry_backoff=2, context=True)
def redact_partner_order_task(order_sync_id: int, task: Any = None) -> str:
    """Erase a redacted customer from the partner order made for her (``orders.privacy``)."""
    return redact_partner_order(order_sync_id, last_attempt=task is None or not task.retries)


@periodic_task(crontab(minute="*/10"))
def resume_lost_aftercare() -> dict[str, int]:
    """Every ten minutes: a partner order's cancellation or redaction, or a retail order's
    refunds and edits for its sent partner orders, with no outcome an hour after it fell due
    is enqueued again (its task never reached the queue: Redis was unreachable when the
    webhook's transaction committed; or, for refunds and edits, it failed every retry)."""
    cancellations = cancellations_left_waiting()
    for order_sync_id in cancellations:
        cancel_partner_order_task(order_sync_id)
    redactions = redactions_left_waiting()
    for order_sync_id in redactions:
        redact_partner_order_task(order_sync_id)
    changed = refunds.after_send_left_waiting()
    for order_gid in changed:
        apply_after_send_task(order_gid)
    return {
        "cancellations": len(cancellations),
        "redactions": len(redactions),
        "refunds_and_edits": len(changed),
    }
