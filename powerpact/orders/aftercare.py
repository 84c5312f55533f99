"""After a partner order exists: tracking flows back, and a late cancellation is passed on."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import (
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    PartnerBatch,
    PartnerStore,
    RetailStore,
    WebhookDelivery,
)
from powerpact.orders.batches import BATCH_IDENTIFIER
from powerpact.orders.capture import add_event
from powerpact.orders.push import ORDER_SYNC_IDENTIFIER
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import UserErrors
from powerpact.shopify.topics import handles


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


def shipped_quantities(payload: dict[str, Any]) -> dict[str, int]:
    """Quantity shipped per partner variant gid in this partner fulfilment."""
    shipped: dict[str, int] = defaultdict(int)
    for item in payload.get("line_items") or []:
        if item.get("variant_id"):
            shipped[f"gid://shopify/ProductVariant/{item['variant_id']}"] += int(item["quantity"])
    return shipped


def applied_fulfilment(order: OrderSync, partner_fulfillment_id: str) -> OrderSyncEvent | None:
    return next(
        (
            e
            for e in order.events
            if e.kind == "fulfilled_lines"
            and (e.details or {}).get("partner_fulfillment_id") == partner_fulfillment_id
        ),
        None,
    )


def allocate_shipment(
    orders: list[OrderSync], shipped: dict[str, int]
) -> dict[int, dict[str, int]]:
    """Spread shipped quantities over the orders' unfulfilled lines, oldest order first.

    Returns, per OrderSync id, the quantity to fulfil per retail line item id.
    """
    plan: dict[int, dict[str, int]] = defaultdict(dict)
    left = dict(shipped)
    for order in sorted(orders, key=lambda o: o.id):
        for line in order.lines:
            remaining = line.quantity - line.fulfilled_quantity
            take = min(remaining, left.get(line.partner_variant_id or "", 0))
            if take > 0:
                plan[order.id][line.bubbly_line_item_id] = take
                left[line.partner_variant_id or ""] -= take
    return plan


def fulfil_on_retail(
    retail_client: Any,
    order: OrderSync,
    quantities: dict[str, int],
    tracking: dict[str, Any],
    notify: bool,
) -> str | None:
    """Create the retail fulfilment for those lines; only what still remains is fulfilled."""
    data = retail_client.execute("FulfillmentOrdersForOrder", {"id": order.bubbly_order_id})
    groups = []
    for fulfillment_order in data["order"]["fulfillmentOrders"]["nodes"]:
        if fulfillment_order["status"] in ("CLOSED", "CANCELLED"):
            continue
        items = []
        for item in fulfillment_order["lineItems"]["nodes"]:
            wanted = quantities.get(item["lineItem"]["id"], 0)
            take = min(wanted, int(item["remainingQuantity"]))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                quantities[item["lineItem"]["id"]] = wanted - take
        if items:
            groups.append(
                {"fulfillmentOrderId": fulfillment_order["id"], "fulfillmentOrderLineItems": items}
            )
    if not groups:
        return None
    payload = retail_client.execute(
        "FulfillmentCreate",
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": groups,
                "notifyCustomer": notify,
                "trackingInfo": tracking,
            }
        },
    )["fulfillmentCreate"]
    UserErrors.raise_for(payload)
    return payload["fulfillment"]["id"]


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
    model = OrderSync if match["prefix"] == ORDER_SYNC_IDENTIFIER else PartnerBatch
    row = db.session.get(model, int(match["id"]))
    return (
        row is not None
        and row.partner_shop_domain == partner_domain
        and row.partner_order_id is None
    )


@handles("fulfillments/create", "fulfillments/update")
def on_partner_fulfilment(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Copy a partner's fulfilment and tracking onto the retail order's matching lines."""
    partner_order = f"gid://shopify/Order/{int(payload['order_id'])}"
    partner_fulfillment_id = str(payload.get("admin_graphql_api_id") or payload.get("id"))
    orders = list(
        db.session.scalars(
            select(OrderSync).where(
                OrderSync.partner_shop_domain == delivery.shop_domain,
                OrderSync.partner_order_id == partner_order,
            )
        )
    )
    if not orders:
        if created_by_powerpact(delivery.shop_domain, partner_order):
            raise NotRecordedYet(
                f"{partner_order} carries PowerPact's identifier but no OrderSync records it"
                " yet (its send has not committed); the delivery is retried"
            )
        return {"outcome": "not a PowerPact order"}
    retail = db.session.scalar(select(RetailStore))
    if retail is None:
        raise ValueError("the retail store is not installed")
    tracking = tracking_of(payload)
    client = client_for(retail)
    already = [o for o in orders if applied_fulfilment(o, partner_fulfillment_id)]
    if already:
        return update_tracking(client, already, partner_fulfillment_id, tracking, retail)
    plan = allocate_shipment(orders, shipped_quantities(payload))
    fulfilled = []
    for order in orders:
        quantities = plan.get(order.id)
        if not quantities:
            continue
        retail_fulfillment = fulfil_on_retail(
            client, order, dict(quantities), tracking, retail.notify_customer_on_fulfilment
        )
        for line in order.lines:
            line.fulfilled_quantity += quantities.get(line.bubbly_line_item_id, 0)
        add_event(
            order,
            "fulfilled_lines",
            describe_tracking(tracking),
            partner_fulfillment_id=partner_fulfillment_id,
            retail_fulfillment_id=retail_fulfillment,
            tracking=tracking,
        )
        if all(line.fulfilled_quantity >= line.quantity for line in order.lines):
            order.status = OrderStatus.FULFILLED
            add_event(order, "fulfilled", "Every line has shipped.")
        fulfilled.append(order.id)
    return {"outcome": "fulfilled", "order_syncs": fulfilled}


def update_tracking(
    client: Any,
    orders: list[OrderSync],
    partner_fulfillment_id: str,
    tracking: dict[str, Any],
    retail: RetailStore,
) -> dict[str, Any]:
    updated = []
    for order in orders:
        event = applied_fulfilment(order, partner_fulfillment_id)
        details = (event.details or {}) if event else {}
        if not details.get("retail_fulfillment_id") or details.get("tracking") == tracking:
            continue
        payload = client.execute(
            "FulfillmentTrackingInfoUpdate",
            {
                "fulfillmentId": details["retail_fulfillment_id"],
                "trackingInfoInput": tracking,
                "notifyCustomer": retail.notify_customer_on_fulfilment,
            },
        )["fulfillmentTrackingInfoUpdate"]
        UserErrors.raise_for(payload)
        add_event(
            order,
            "tracking_updated",
            f"Tracking is now {tracking.get('number')}.",
            tracking=tracking,
        )
        updated.append(order.id)
    return {"outcome": "tracking updated" if updated else "already applied", "order_syncs": updated}


def cancel_partner_order(order_sync_id: int) -> str:
    """Cancel a sent partner order whose retail order was cancelled, if the partner has not shipped.

    A partner order that holds other retail orders (a batch) or has shipped stays
    flagged ``needs_attention`` for a person; both outcomes go on the timeline.
    """
    order = db.session.get(OrderSync, order_sync_id)
    if order is None or not order.needs_attention or order.partner_order_id is None:
        return "nothing to cancel"
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
        add_event(order, "cancelled", "The partner order is already cancelled.")
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
        add_event(order, "cancelled", f"Cancelled partner order {order.partner_order_name}.")
    db.session.commit()
    return order.status.value
