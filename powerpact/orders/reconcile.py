"""Finding what webhooks did not bring: retail orders not captured, partner fulfilments
not copied.

Shopify retries a failed delivery 8 times over 4 hours, then drops it, and tells apps
not to rely on webhooks alone but to reconcile
(https://shopify.dev/docs/apps/build/webhooks/best-practices). Every few minutes the
retail store's orders updated since the last watermark are listed (``orders(query:
"updated_at:>…")``, 100 a page, two fields each) and any whose state PowerPact has not
captured (``RetailOrderSeen``) is captured now, as its webhook would have. On each
partner's store, PowerPact's orders (tagged ``powerpact``) updated since that partner's
watermark that have shipped are read with their fulfilments, and each one is applied as
its ``fulfillments/create`` would have been (a fulfilment already copied only has its
tracking compared).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore_key
from powerpact.models import PartnerStore, Reconciliation, RetailOrderSeen, RetailStore
from powerpact.orders import order_fields as fields
from powerpact.orders.aftercare import apply_partner_fulfilment, price_of
from powerpact.orders.partner_lines import Shipped
from powerpact.orders.split import InvalidOrder
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError

log = logging.getLogger(__name__)

RETAIL_ORDERS = "retail_orders"
# Looked at again each run: a search index that lags its writes, and clocks that differ.
OVERLAP = timedelta(minutes=5)
FIRST_LOOK_BACK = timedelta(days=1)
# A capture this close after the order's updatedAt (by our clock) is confirmed once more.
SAME_SECOND_MARGIN = timedelta(seconds=5)
MAX_ERRORS_KEPT = 20


def reconcile_stores(capture: Callable[[str], Any]) -> dict[str, Any]:
    """Capture the retail orders and copy the partner fulfilments whose webhooks never
    arrived. A partner Shopify refuses is skipped until the next run.

    ``capture`` captures one order as its webhook would (``orders.tasks.capture_order``).
    """
    store: RetailStore | None = db.session.scalar(select(RetailStore))
    if store is None or not store.is_active:
        return {"outcome": "the retail store has not installed PowerPact"}
    result: dict[str, Any] = {"retail": reconcile_retail_orders(client_for(store), capture)}
    partners = db.session.scalars(select(PartnerStore).order_by(PartnerStore.shop_domain)).all()
    for partner in [p for p in partners if p.is_active]:
        try:
            result[partner.shop_domain] = reconcile_partner_fulfilments(
                partner.shop_domain, client_for(partner), apply_partner_fulfilment
            )
        except ShopifyError as exc:
            db.session.rollback()
            result[partner.shop_domain] = {"error": str(exc)}
    return result


def reconciliation(name: str) -> Reconciliation:
    row = db.session.get(Reconciliation, name)
    if row is None:
        insert_or_ignore_key(Reconciliation, {"name": name})
        row = db.session.get_one(Reconciliation, name)
    return row


def search_since(moment: datetime) -> str:
    return f"updated_at:>'{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def needs_capture(order_gid: str, updated_at: datetime) -> bool:
    """Not captured at this ``updatedAt``, or captured so soon after it that a second change
    within the same second (Shopify's times have whole seconds) may have been missed."""
    seen = db.session.get(RetailOrderSeen, order_gid)
    if seen is None or seen.updated_at < updated_at:
        return True
    return seen.updated_at == updated_at and seen.captured_at < updated_at + SAME_SECOND_MARGIN


def reconcile_retail_orders(client: ShopifyClient, capture: Callable[[str], Any]) -> dict[str, Any]:
    """Capture the retail orders updated since the watermark whose state was not captured.

    ``client`` is the retail store's; ``capture`` captures one order as its webhook would.
    """

    def capture_if_unseen(order_gid: str, updated_at: datetime, node: dict[str, Any]) -> int:
        if not needs_capture(order_gid, updated_at):
            return 0
        capture(order_gid)
        return 1

    return run_reconciliation(
        RETAIL_ORDERS, client, "OrdersUpdatedSince", "", capture_if_unseen, "captured"
    )


def run_reconciliation(
    name: str,
    client: ShopifyClient,
    operation: str,
    query_prefix: str,
    act: Callable[[str, datetime, dict[str, Any]], int],
    counted: str,
) -> dict[str, Any]:
    """List the orders updated since the watermark and ``act`` on each; keep the figures.

    Two runs at once do no harm: what ``act`` does is idempotent and the watermark only
    moves on.

    1. List the orders (``operation``, 100 a page) updated after the watermark less
       ``OVERLAP`` (the first run looks back a day).
    2. ``act`` on each, committing each on its own: it returns how many effects it had
       (counted as ``counted``). A malformed order is recorded as an error and the run
       goes on; a Shopify error ends the run (the next one starts where this began).
    3. Move the watermark to the newest ``updatedAt`` acted on and keep the run's figures.
    """
    started = utcnow()
    watermark = reconciliation(name).watermark
    since = (watermark or started - FIRST_LOOK_BACK) - OVERLAP
    db.session.commit()
    listed, done, errors = 0, 0, []
    newest = watermark
    query = f"{query_prefix}{search_since(since)}"
    for node in client.paginate(operation, {"query": query}, ("orders",)):
        listed += 1
        try:
            order_gid = fields.text(node.get("id"), "order.id", max_length=255)
            updated_at = fields.moment(node.get("updatedAt"), "order.updatedAt")
            done += act(order_gid, updated_at, node)
        except (InvalidOrder, ValueError) as exc:
            db.session.rollback()
            errors.append({"order": str(node.get("id"))[:255], "error": str(exc)})
            log.warning("reconciliation %s skipped %s: %s", name, node.get("id"), exc)
            continue
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        newest = max(newest, updated_at) if newest else updated_at
    result = {
        "listed": listed,
        counted: done,
        "errors": errors[:MAX_ERRORS_KEPT],
        "since": since.isoformat(),
    }
    row = reconciliation(name)
    if newest is not None and (row.watermark is None or row.watermark < newest):
        row.watermark = newest
    row.last_run_at = started
    row.last_result = result
    db.session.commit()
    if done or errors:
        log.info("reconciliation %s: %s", name, result)
    return result


PARTNER_FULFILMENTS = "partner_fulfilments:"  # + the partner's domain
UNSHIPPED = ("UNFULFILLED", "SCHEDULED", "ON_HOLD")


def fulfilment_of(node: dict[str, Any], where: str) -> tuple[str, list[Shipped], dict[str, Any]]:
    """A partner ``Fulfillment`` as the webhook gives it: id, the partner lines shipped
    (variant, unit price, quantity), tracking."""
    fulfillment_id = fields.text(node.get("id"), f"{where}.id", max_length=255)
    shipped: list[Shipped] = []
    items = fields.obj(node.get("fulfillmentLineItems"), f"{where}.fulfillmentLineItems")
    for index, item in enumerate(fields.items(items.get("nodes"), f"{where}.fulfillmentLineItems")):
        line = fields.obj(item, f"{where}.fulfillmentLineItems[{index}]")
        line_item = line.get("lineItem") or {}
        variant = line_item.get("variant") or {}
        if isinstance(variant.get("id"), str):
            quantity = fields.count(line.get("quantity"), f"{where}.quantity")
            price = ((line_item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get(
                "amount"
            )
            shipped.append(Shipped(variant["id"], price_of(price), quantity))
    tracking_nodes = node.get("trackingInfo") or []
    info = tracking_nodes[0] if tracking_nodes and isinstance(tracking_nodes[0], dict) else {}
    tracking = {k: info[k] for k in ("company", "number", "url") if info.get(k)}
    return fulfillment_id, shipped, tracking


def reconcile_partner_fulfilments(
    partner_domain: str,
    client: ShopifyClient,
    apply: Callable[[str, str, str, list[Shipped], dict[str, Any]], Any],
) -> dict[str, Any]:
    """Apply the fulfilments of the partner's PowerPact orders updated since the watermark
    that shipped; ``apply(partner, order, fulfillment, shipped, tracking)`` is what the
    fulfilment webhook runs."""

    def apply_fulfilments(order_gid: str, updated_at: datetime, node: dict[str, Any]) -> int:
        if node.get("displayFulfillmentStatus") in UNSHIPPED:
            return 0
        order = client.execute("PartnerOrderFulfillments", {"id": order_gid})["order"]
        applied = 0
        for index, fulfillment in enumerate((order or {}).get("fulfillments") or []):
            found = fulfilment_of(fulfillment, f"order.fulfillments[{index}]")
            outcome = apply(partner_domain, order_gid, *found)
            applied += outcome.get("outcome") in ("fulfilled", "tracking updated")
        return applied

    name = f"{PARTNER_FULFILMENTS}{partner_domain}"[:64]
    return run_reconciliation(
        name, client, "PartnerOrdersUpdatedSince", "tag:powerpact ", apply_fulfilments, "applied"
    )
