"""After a partner order exists: tracking flows back, and a late cancellation is passed on."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore
from powerpact.models import (
    CreditKind,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    PartnerBatch,
    PartnerCredit,
    PartnerStore,
    RetailStore,
    WaitingTracking,
    WebhookDelivery,
)
from powerpact.money import round_money
from powerpact.orders import partner_lines
from powerpact.orders.batches import BATCH_IDENTIFIER
from powerpact.orders.capture import CANCEL_REQUESTED, LOST_AFTER, SWEEP_WINDOW, add_event
from powerpact.orders.partner_lines import Shipped
from powerpact.orders.push import ORDER_SYNC_IDENTIFIER
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors

log = logging.getLogger(__name__)


def tracking_of(payload: dict[str, Any]) -> dict[str, Any]:
    numbers = payload.get("tracking_numbers") or [payload.get("tracking_number")]
    urls = payload.get("tracking_urls") or [payload.get("tracking_url")]
    info: dict[str, Any] = {}
    if payload.get("tracking_company"):
        info["company"] = payload["tracking_company"]
    if numbers and numbers[0]:
        info["number"] = numbers[0]
    if urls and urls[0]:
        info["url"] = urls[0]
    return info


WEB_SCHEMES = ("http", "https")
LINK_DROPPED = "tracking_link_dropped"


def is_web_address(url: object) -> bool:
    """An ``http`` or ``https`` URL with a host, and no space or control character in it."""
    if not isinstance(url, str) or any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def copyable_tracking(tracking: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The tracking to copy to the retail order, and the scheme of a link left out of it.

    The retail order shows the link to its customer and staff, and a partner may type
    anything there, ``javascript:`` and ``data:`` included: only a web address
    (``is_web_address``) is copied. The number and the carrier go on without a bad link;
    the second value is the bad link's scheme ("" if it has none), or None if nothing
    was left out.
    """
    url = tracking.get("url")
    if url is None or is_web_address(url):
        return tracking, None
    try:
        scheme = urlsplit(str(url)).scheme.lower()[:20]
    except ValueError:
        scheme = ""
    return {key: value for key, value in tracking.items() if key != "url"}, scheme


def note_dropped_link(order: OrderSync, partner_fulfillment_id: str, scheme: str) -> None:
    """Say on the timeline, once per partner fulfilment, that its link was not copied."""
    if any(
        e.kind == LINK_DROPPED
        and (e.details or {}).get("partner_fulfillment_id") == partner_fulfillment_id
        for e in order.events
    ):
        return
    what = f"a {scheme}: link" if scheme and scheme not in WEB_SCHEMES else "not a web address"
    add_event(
        order,
        LINK_DROPPED,
        f"The partner's tracking link was not copied to the retail order ({what}):"
        " only http and https links are copied. The tracking number was.",
        partner_fulfillment_id=partner_fulfillment_id,
        scheme=scheme,
    )


def shipped_items(payload: dict[str, Any]) -> list[Shipped]:
    """The partner lines a partner fulfilment shipped: variant gid, unit price, quantity."""
    items = []
    for item in payload.get("line_items") or []:
        if not item.get("variant_id"):
            continue
        items.append(
            Shipped(
                f"gid://shopify/ProductVariant/{item['variant_id']}",
                price_of(item.get("price")),
                int(item["quantity"]),
            )
        )
    return items


def price_of(value: object) -> Decimal | None:
    """A unit price as Shopify writes it (``"12.50"``), or None if it is not one."""
    try:
        price = Decimal(str(value)) if isinstance(value, str | int) else None
    except ArithmeticError:
        return None
    return price if price is not None and price.is_finite() else None


def applied_fulfilments(order: OrderSync, partner_fulfillment_id: str) -> list[OrderSyncEvent]:
    """The retail copies made of one partner fulfilment (one per retail location)."""
    return [
        e
        for e in order.events
        if e.kind == "fulfilled_lines"
        and (e.details or {}).get("partner_fulfillment_id") == partner_fulfillment_id
    ]


def seen_fulfilment(order: OrderSync, partner_fulfillment_id: str) -> bool:
    """Whether this partner fulfilment was copied, or waits to be, on the retail order."""
    return any(
        e.kind in ("fulfilled_lines", "tracking_waits")
        and (e.details or {}).get("partner_fulfillment_id") == partner_fulfillment_id
        for e in order.events
    )


FULFILLABLE = ("OPEN", "IN_PROGRESS")
FINISHED = ("CLOSED", "CANCELLED")
WHY_WAITING = {
    "ON_HOLD": "is on hold",
    "SCHEDULED": "is scheduled for later",
    "INCOMPLETE": "could not be completed there (move it to another location)",
}


@dataclass
class Part:
    """Lines of one retail fulfillment order that this shipment covers."""

    fulfillment_order_id: str
    status: str
    location_id: str | None
    location_name: str
    items: list[dict[str, Any]]  # {"id": fulfillment order line item, "quantity"}
    quantities: dict[str, int]  # retail line item id -> quantity

    def describe(self) -> str:
        why = WHY_WAITING.get(self.status, f"is {self.status.lower()}")
        return f"the retail order's fulfilment at {self.location_name} {why}"


@dataclass
class Copy:
    retail_fulfillment_id: str
    location_name: str
    quantities: dict[str, int]


@dataclass
class CopyResult:
    copies: list[Copy] = field(default_factory=list)
    waiting: list[Part] = field(default_factory=list)


def plan_parts(nodes: list[dict[str, Any]], quantities: dict[str, int]) -> list[Part]:
    """Spread the wanted quantities (retail line id -> quantity) over the fulfillment orders."""
    left = dict(quantities)
    parts = []
    for node in nodes:
        if node["status"] in FINISHED:
            continue
        items: list[dict[str, Any]] = []
        taken: dict[str, int] = {}
        for item in node["lineItems"]["nodes"]:
            line_id = item["lineItem"]["id"]
            take = min(left.get(line_id, 0), int(item["remainingQuantity"]))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                taken[line_id] = taken.get(line_id, 0) + take
                left[line_id] -= take
        if items:
            where = node.get("assignedLocation") or {}
            parts.append(
                Part(
                    node["id"],
                    node["status"],
                    (where.get("location") or {}).get("id"),
                    where.get("name") or "its location",
                    items,
                    taken,
                )
            )
    return parts


def fulfillment_orders_of(retail_client: ShopifyClient, order: OrderSync) -> list[dict[str, Any]]:
    data = retail_client.execute("FulfillmentOrdersForOrder", {"id": order.bubbly_order_id})
    nodes: list[dict[str, Any]] = (
        (data["order"] or {}).get("fulfillmentOrders", {}).get("nodes", [])
    )
    return nodes


def create_fulfillment(
    retail_client: ShopifyClient, parts: list[Part], tracking: dict[str, Any], notify: bool
) -> str:
    payload = retail_client.execute(
        "FulfillmentCreate",
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": p.fulfillment_order_id,
                        "fulfillmentOrderLineItems": p.items,
                    }
                    for p in parts
                ],
                "notifyCustomer": notify,
                "trackingInfo": tracking,
            }
        },
    )["fulfillmentCreate"]
    UserErrors.raise_for(payload)
    fulfillment_id: str = payload["fulfillment"]["id"]
    return fulfillment_id


def fulfil_on_retail(
    retail_client: ShopifyClient,
    order: OrderSync,
    quantities: dict[str, int],
    tracking: dict[str, Any],
    notify: bool,
) -> CopyResult:
    """Copy the shipment onto the retail order: one ``fulfillmentCreate`` per location.

    ``fulfillmentCreate`` takes fulfillment orders "assigned to the same Location"
    (schema); one that cannot be fulfilled yet (ON_HOLD, SCHEDULED, INCOMPLETE:
    https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentOrderStatus)
    is left out and returned as waiting. A refusal is read again: if a fulfillment
    order of the call went on hold meanwhile, that location waits too; any other
    refusal is raised. Only what still remains on the retail order is fulfilled.
    """
    result = CopyResult()
    by_location: dict[str | None, list[Part]] = defaultdict(list)
    for part in plan_parts(fulfillment_orders_of(retail_client, order), quantities):
        if part.status in FULFILLABLE:
            by_location[part.location_id].append(part)
        else:
            result.waiting.append(part)
    for parts in by_location.values():
        try:
            fulfillment_id = create_fulfillment(retail_client, parts, tracking, notify)
        except UserErrors:
            now = {n["id"]: n["status"] for n in fulfillment_orders_of(retail_client, order)}
            if not any(now.get(p.fulfillment_order_id) in WHY_WAITING for p in parts):
                raise
            for part in parts:
                part.status = now.get(part.fulfillment_order_id, part.status)
            result.waiting.extend(parts)
            continue
        merged: dict[str, int] = defaultdict(int)
        for part in parts:
            for line_id, quantity in part.quantities.items():
                merged[line_id] += quantity
        result.copies.append(Copy(fulfillment_id, parts[0].location_name, dict(merged)))
    return result


def describe_tracking(tracking: dict[str, Any]) -> str:
    number = tracking.get("number", "(no number)")
    return (
        f"Shipped by the partner: tracking {number} via {tracking.get('company', 'the carrier')}."
    )


class NotRecordedYet(Exception):
    """A partner order PowerPact created whose send has not been recorded: retry later.

    Between Shopify's answer to ``orderCreate`` and the commit that records it (or
    until the send is retried after a crash there) the partner may already ship.
    """

    transient = True  # process_delivery re-raises it, and the task is retried


# The sourceIdentifier of a partner order PowerPact created (push and batches).
IDENTIFIER = re.compile(
    f"(?P<prefix>{re.escape(ORDER_SYNC_IDENTIFIER)}|{re.escape(BATCH_IDENTIFIER)})(?P<id>\\d{{1,18}})"
)


def created_by_powerpact(partner_domain: str, partner_order_id: str) -> bool:
    """Whether the partner order is one of PowerPact's whose send is not recorded yet.

    Asked (one API call) only of orders no OrderSync records, most of them the
    partner's own. Its ``sourceIdentifier`` names the OrderSync or batch it was
    created for; that one must still be waiting for its partner order.
    """
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    if partner is None or partner.access_token is None:
        return False
    order = client_for(partner).execute("PartnerOrderSource", {"id": partner_order_id})["order"]
    match = IDENTIFIER.fullmatch((order or {}).get("sourceIdentifier") or "")
    if match is None:
        return False
    row_id = int(match["id"])
    row: OrderSync | PartnerBatch | None = (
        db.session.get(OrderSync, row_id)
        if match["prefix"] == ORDER_SYNC_IDENTIFIER
        else db.session.get(PartnerBatch, row_id)
    )
    return (
        row is not None
        and row.partner_shop_domain == partner_domain
        and row.partner_order_id is None
    )


def on_partner_fulfilment(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Copy a partner's fulfilment and tracking onto the retail order's matching lines."""
    return apply_partner_fulfilment(
        delivery.shop_domain,
        f"gid://shopify/Order/{int(payload['order_id'])}",
        str(payload.get("admin_graphql_api_id") or payload.get("id")),
        shipped_items(payload),
        tracking_of(payload),
    )


def apply_partner_fulfilment(
    partner_domain: str,
    partner_order: str,
    partner_fulfillment_id: str,
    shipped: Sequence[Shipped],
    tracking: dict[str, Any],
) -> dict[str, Any]:
    """Copy one partner fulfilment (the partner lines it shipped, its tracking) onto the
    retail orders in that partner order, once: from its webhook, or from the reconciliation
    when that was lost. The units go to the retail lines that put them into the partner's
    lines, oldest retail order first (``partner_lines.allocate``). A tracking link that is
    not a web address is left out (``copyable_tracking``)."""
    orders = list(
        db.session.scalars(
            select(OrderSync).where(
                OrderSync.partner_shop_domain == partner_domain,
                OrderSync.partner_order_id == partner_order,
            )
        )
    )
    if not orders:
        if created_by_powerpact(partner_domain, partner_order):
            raise NotRecordedYet(
                f"{partner_order} carries PowerPact's identifier but no OrderSync records it"
                " yet (its send has not committed); the delivery is retried"
            )
        return {"outcome": "not a PowerPact order"}
    tracking, dropped_scheme = copyable_tracking(tracking)
    if dropped_scheme is not None:
        for order in orders:
            note_dropped_link(order, partner_fulfillment_id, dropped_scheme)
    retail = installed_retail()
    client = client_for(retail)
    already = [o for o in orders if seen_fulfilment(o, partner_fulfillment_id)]
    if already:
        return update_tracking(client, already, partner_fulfillment_id, tracking, retail)
    slots = partner_lines.slots_of(partner_lines.shares_of(partner_domain, partner_order), orders)
    plan = partner_lines.allocate(slots, shipped)
    fulfilled = []
    for order in orders:
        quantities = plan.get(order.id)
        if not quantities:
            continue
        result = fulfil_on_retail(
            client, order, dict(quantities), tracking, retail.notify_customer_on_fulfilment
        )
        for line in order.lines:
            line.fulfilled_quantity += quantities.get(line.bubbly_line_item_id, 0)
        record_copies(order, partner_fulfillment_id, tracking, result.copies)
        if not result.copies and not result.waiting:
            add_event(
                order,
                "fulfilled_lines",
                describe_tracking(tracking),
                partner_fulfillment_id=partner_fulfillment_id,
                retail_fulfillment_id=None,
                tracking=tracking,
            )
        if result.waiting:
            wait_for_release(order, partner_fulfillment_id, tracking, result.waiting)
        settle_fulfilled(order)
        fulfilled.append(order.id)
    return {"outcome": "fulfilled", "order_syncs": fulfilled}


def installed_retail() -> RetailStore:
    retail: RetailStore | None = db.session.scalar(select(RetailStore))
    if retail is None:
        raise ValueError("the retail store is not installed")
    return retail


def record_copies(
    order: OrderSync, partner_fulfillment_id: str, tracking: dict[str, Any], copies: list[Copy]
) -> None:
    for copy in copies:
        add_event(
            order,
            "fulfilled_lines",
            describe_tracking(tracking),
            partner_fulfillment_id=partner_fulfillment_id,
            retail_fulfillment_id=copy.retail_fulfillment_id,
            location=copy.location_name,
            quantities=copy.quantities,
            tracking=tracking,
        )


def wait_for_release(
    order: OrderSync, partner_fulfillment_id: str, tracking: dict[str, Any], parts: list[Part]
) -> WaitingTracking:
    """Keep what could not be copied yet, and say so on the timeline."""
    quantities: dict[str, int] = defaultdict(int)
    for part in parts:
        for line_id, quantity in part.quantities.items():
            quantities[line_id] += quantity
    reason = "; ".join(dict.fromkeys(p.describe() for p in parts))
    waiting = db.session.scalar(
        select(WaitingTracking).where(
            WaitingTracking.order_sync_id == order.id,
            WaitingTracking.partner_fulfillment_id == partner_fulfillment_id,
        )
    )
    if waiting is None:
        waiting = WaitingTracking(order_sync=order, partner_fulfillment_id=partner_fulfillment_id)
        db.session.add(waiting)
    changed = waiting.reason != reason
    waiting.quantities = dict(quantities)
    waiting.tracking = tracking
    waiting.fulfillment_order_ids = list(dict.fromkeys(p.fulfillment_order_id for p in parts))
    waiting.reason = reason
    waiting.checked_at = utcnow()
    if changed:
        add_event(
            order,
            "tracking_waits",
            f"Tracking waits: {reason}.",
            partner_fulfillment_id=partner_fulfillment_id,
            fulfillment_order_ids=waiting.fulfillment_order_ids,
            tracking=tracking,
        )
    return waiting


def settle_fulfilled(order: OrderSync) -> None:
    """FULFILLED once every line shipped (but for units taken off the partner order since,
    ``orders/refunds.py``) and no tracking waits to reach the retail order."""
    if order.status == OrderStatus.FULFILLED:
        return
    if not all(
        line.fulfilled_quantity + (line.removed_quantity or 0) >= line.quantity
        for line in order.lines
    ):
        return
    waiting = db.session.scalar(
        select(WaitingTracking.id).where(WaitingTracking.order_sync_id == order.id)
    )
    if waiting is None:
        order.status = OrderStatus.FULFILLED
        add_event(order, "fulfilled", "Every line has shipped.")


def current_tracking(order: OrderSync, retail_fulfillment_id: str) -> dict[str, Any] | None:
    """The tracking last written to a retail fulfillment."""
    latest = None
    for event in order.events:
        details = event.details or {}
        if details.get("retail_fulfillment_id") == retail_fulfillment_id:
            latest = details.get("tracking")
    return latest


def update_tracking(
    client: ShopifyClient,
    orders: list[OrderSync],
    partner_fulfillment_id: str,
    tracking: dict[str, Any],
    retail: RetailStore,
) -> dict[str, Any]:
    """Pass the partner's new tracking on: to each retail copy, and to what still waits."""
    updated = []
    for order in orders:
        for event in applied_fulfilments(order, partner_fulfillment_id):
            retail_fulfillment_id = (event.details or {}).get("retail_fulfillment_id")
            if not retail_fulfillment_id:
                continue
            if current_tracking(order, retail_fulfillment_id) == tracking:
                continue
            payload = client.execute(
                "FulfillmentTrackingInfoUpdate",
                {
                    "fulfillmentId": retail_fulfillment_id,
                    "trackingInfoInput": tracking,
                    "notifyCustomer": retail.notify_customer_on_fulfilment,
                },
            )["fulfillmentTrackingInfoUpdate"]
            UserErrors.raise_for(payload)
            add_event(
                order,
                "tracking_updated",
                f"Tracking is now {tracking.get('number')}.",
                retail_fulfillment_id=retail_fulfillment_id,
                tracking=tracking,
            )
            updated.append(order.id)
        waiting = db.session.scalar(
            select(WaitingTracking).where(
                WaitingTracking.order_sync_id == order.id,
                WaitingTracking.partner_fulfillment_id == partner_fulfillment_id,
            )
        )
        if waiting is not None and waiting.tracking != tracking:
            waiting.tracking = tracking
            updated.append(order.id)
    updated = list(dict.fromkeys(updated))
    return {"outcome": "tracking updated" if updated else "already applied", "order_syncs": updated}


def retry_waiting(client: ShopifyClient, waiting: WaitingTracking, retail: RetailStore) -> str:
    """Copy what waits again; it stays stored while a fulfillment order still refuses it.

    The link is checked again: tracking stored before links were checked may hold any.
    """
    order = waiting.order_sync
    tracking, _ = copyable_tracking(waiting.tracking)
    result = fulfil_on_retail(
        client,
        order,
        dict(waiting.quantities),
        tracking,
        retail.notify_customer_on_fulfilment,
    )
    record_copies(order, waiting.partner_fulfillment_id, tracking, result.copies)
    if result.waiting:
        wait_for_release(order, waiting.partner_fulfillment_id, tracking, result.waiting)
        outcome = "still waiting"
    else:
        if not result.copies:
            add_event(
                order,
                "tracking_released",
                "Tracking no longer waits: the retail order has nothing left to fulfil there.",
                partner_fulfillment_id=waiting.partner_fulfillment_id,
            )
        db.session.delete(waiting)
        db.session.flush()
        outcome = "copied"
    settle_fulfilled(order)
    return outcome


def waiting_rows(*conditions: Any) -> list[WaitingTracking]:
    """Waiting tracking, locked so two workers never copy one twice (locked rows are skipped)."""
    statement = select(WaitingTracking).where(*conditions).order_by(WaitingTracking.id)
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(db.session.scalars(statement))


def fulfillment_order_ids_in(payload: dict[str, Any]) -> set[str]:
    """The fulfillment orders a ``fulfillment_orders/*`` payload names (``{"fulfillment_order":
    {"id", "status"}}``; ``moved`` names the original and the moved one)."""
    keys = ("fulfillment_order", "original_fulfillment_order", "moved_fulfillment_order")
    return {
        str(payload[key]["id"])
        for key in keys
        if isinstance(payload.get(key), dict) and payload[key].get("id")
    }


def on_fulfillment_order_ready(
    delivery: WebhookDelivery, payload: dict[str, Any]
) -> dict[str, Any]:
    """A retail fulfillment order can be fulfilled again: copy the tracking that waits for it."""
    retail = installed_retail()
    if delivery.shop_domain != retail.shop_domain:
        return {"outcome": "ignored: not the retail store"}
    named = fulfillment_order_ids_in(payload)
    rows = [w for w in waiting_rows() if named & set(w.fulfillment_order_ids)]
    if not rows:
        return {"outcome": "nothing waits for it"}
    client = client_for(retail)
    outcomes = {w.order_sync_id: retry_waiting(client, w, retail) for w in rows}
    return {"outcome": "retried", "order_syncs": outcomes}


def retry_due_waiting_tracking(older_than: timedelta = timedelta(minutes=10)) -> dict[str, int]:
    """The safety net: retry tracking that waited longer than ``older_than`` since its last
    check, each in its own transaction (a webhook may be lost: Shopify tells apps not to rely
    on webhooks alone, https://shopify.dev/docs/apps/build/webhooks/best-practices)."""
    retail: RetailStore | None = db.session.scalar(select(RetailStore))
    ids = list(
        db.session.scalars(
            select(WaitingTracking.id).where(WaitingTracking.checked_at < utcnow() - older_than)
        )
    )
    db.session.rollback()
    counts: dict[str, int] = defaultdict(int)
    if retail is None or not ids:
        return dict(counts)
    client = client_for(retail)
    for waiting_id in ids:
        rows = waiting_rows(WaitingTracking.id == waiting_id)
        if not rows:
            db.session.rollback()
            continue
        try:
            counts[retry_waiting(client, rows[0], retail)] += 1
            db.session.commit()
        except ShopifyError:
            db.session.rollback()
            log.exception("waiting tracking %s could not be retried", waiting_id)
            counts["failed"] += 1
    return dict(counts)


def cancellation_key(order: OrderSync) -> str:
    return f"cancel:{order.id}"


def credit_cancellation(order: OrderSync, occurred_at: datetime) -> Decimal | None:
    """Credit the partner's statement with what the cancelled partner order still charged,
    once (its ``source_key`` is the OrderSync's): its lines (discount included), shipping and
    tax shares, less what credits recorded before (a refund, an edit) already gave back, so
    an order's credits never add up to more than it charged. Dated ``occurred_at``, when
    the partner order was cancelled: the month it lands in is the month of the cancellation.
    Returns the credit's total, or None if one was recorded before or nothing was left.
    """
    # Summed here, not in SQL: the Money type reads each amount as a Decimal on SQLite too.
    earlier = db.session.execute(
        select(PartnerCredit.lines, PartnerCredit.shipping, PartnerCredit.tax).where(
            PartnerCredit.order_sync_id == order.id
        )
    ).all()
    lines = order.subtotal - order.discount_total - sum((c.lines for c in earlier), Decimal(0))
    shipping = order.shipping_share - sum((c.shipping for c in earlier), Decimal(0))
    tax = order.tax_share - sum((c.tax for c in earlier), Decimal(0))
    total = lines + shipping + tax
    if not (lines or shipping or tax):
        return None
    recorded = insert_or_ignore(
        PartnerCredit,
        {
            "order_sync_id": order.id,
            "partner_shop_domain": order.partner_shop_domain,
            "kind": CreditKind.CANCELLATION,
            "source_key": cancellation_key(order),
            "occurred_at": occurred_at,
            "recorded_at": utcnow(),
            "currency": order.currency,
            "lines": lines,
            "shipping": shipping,
            "tax": tax,
            "total": total,
            "applied_at_partner": True,
            "note": f"Partner order {order.partner_order_name or ''} cancelled"[:500],
        },
        ["source_key"],
    )
    return total if recorded is not None else None


def cancelled_message(order: OrderSync, text: str, credit: Decimal | None) -> str:
    if credit is None:
        return text
    amount = round_money(credit, order.currency)
    return f"{text} Credited {amount} {order.currency} on the partner's statement."


def cancel_partner_order(order_sync_id: int, *, last_attempt: bool = True) -> str:
    """Cancel a sent partner order whose retail order was cancelled, if the partner has not shipped.

    A partner order that holds other retail orders (a batch) or has shipped stays
    flagged ``needs_attention`` for a person; both outcomes go on the timeline. A partner
    order cancelled (here, or already at the partner) credits the partner's statement with
    what it still charged (``credit_cancellation``); one that shipped credits nothing.

    The OrderSync's row is locked first, so a cancellation the sweep enqueued again
    (``cancellations_left_waiting``) and one still retrying never both cancel. A Shopify
    error is raised for the task to retry, unless this is its ``last_attempt``: then it is
    put on the timeline for a person, and the order stays flagged.
    """
    order = db.session.get(OrderSync, order_sync_id, with_for_update=True, populate_existing=True)
    if order is None or not order.needs_attention or order.partner_order_id is None:
        return "nothing to cancel"
    if not order.events or order.events[-1].kind != CANCEL_REQUESTED:
        return "already handled"
    try:
        return _cancel_at_partner(order)
    except ShopifyError as exc:
        if not last_attempt:
            raise
        db.session.rollback()
        order = db.session.get(OrderSync, order_sync_id, with_for_update=True)
        if order is None or not order.events or order.events[-1].kind != CANCEL_REQUESTED:
            return "already handled"
        log.warning("partner order of order sync %s not cancelled: %s", order_sync_id, exc)
        add_event(
            order,
            "needs_attention",
            f"Could not cancel partner order {order.partner_order_name or order.partner_order_id}"
            f" ({exc}): cancel it at the partner by hand.",
        )
        db.session.commit()
        return "failed"


def cancellations_left_waiting(
    older_than: timedelta = LOST_AFTER, within: timedelta = SWEEP_WINDOW
) -> list[int]:
    """OrderSyncs whose cancellation was requested between ``within`` and ``older_than`` ago
    and has no outcome yet: its task never ran (the queue was unreachable when the capture
    committed) or is lost. The sweep enqueues them again; ``cancel_partner_order`` makes a
    repeat harmless."""
    now = utcnow()
    latest = (
        select(OrderSyncEvent.kind)
        .where(OrderSyncEvent.order_sync_id == OrderSync.id)
        .order_by(OrderSyncEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    requested = select(OrderSyncEvent.order_sync_id).where(
        OrderSyncEvent.kind == CANCEL_REQUESTED,
        OrderSyncEvent.created_at >= now - within,
        OrderSyncEvent.created_at < now - older_than,
    )
    return list(
        db.session.scalars(
            select(OrderSync.id)
            .where(
                OrderSync.needs_attention.is_(True),
                OrderSync.id.in_(requested),
                latest == CANCEL_REQUESTED,
            )
            .order_by(OrderSync.id)
        )
    )


def _cancel_at_partner(order: OrderSync) -> str:
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == order.partner_shop_domain)
    )
    if order.batch_id is not None:
        add_event(
            order,
            "needs_attention",
            "Cancelled after it went out in a batch order: adjust the partner's order by hand.",
        )
        db.session.commit()
        return "flagged"
    if partner is None or not partner.is_active:
        add_event(
            order, "needs_attention", "Cancelled after sending, but the partner is not installed."
        )
        db.session.commit()
        return "flagged"
    client = client_for(partner)
    current = client.execute("PartnerOrderLines", {"id": order.partner_order_id})["order"]
    if current is None or current.get("cancelledAt"):
        order.status, order.needs_attention = OrderStatus.CANCELLED, False
        credit = credit_cancellation(order, utcnow())
        add_event(
            order,
            "cancelled",
            cancelled_message(order, "The partner order is already cancelled.", credit),
        )
    elif current["displayFulfillmentStatus"] != "UNFULFILLED":
        add_event(
            order,
            "needs_attention",
            "Cancelled on the retail store, but the partner has already shipped.",
        )
    else:
        payload = client.execute(
            "OrderCancel",
            {
                "orderId": order.partner_order_id,
                "staffNote": f"Retail order {order.bubbly_order_name} was cancelled",
            },
        )["orderCancel"]
        errors = payload.get("orderCancelUserErrors") or []
        if errors:
            raise UserErrors(errors)
        order.status, order.needs_attention = OrderStatus.CANCELLED, False
        credit = credit_cancellation(order, utcnow())
        add_event(
            order,
            "cancelled",
            cancelled_message(
                order, f"Cancelled partner order {order.partner_order_name}.", credit
            ),
        )
    db.session.commit()
    return order.status.value
