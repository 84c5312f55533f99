"""Fulfillment orders, ``fulfillmentCreate`` with tracking, ``fulfillmentTrackingInfoUpdate``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from powerpact.sandbox import order_shapes
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.orders import unfulfillable
from powerpact.sandbox.resolvers.context import Context, failed
from powerpact.sandbox.store import Fulfillment, Order, Shop


def q_fulfillment_order(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    found = ctx.shop.find_fulfillment_order(args["id"])
    return order_shapes.fulfillment_order_node(ctx.shop, *found) if found else None


def q_fulfillment(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    found = find_fulfillment(ctx.shop, args["id"])
    return order_shapes.fulfillment_node(ctx.shop, *found) if found else None


def find_fulfillment(shop: Shop, fulfillment_id: str) -> tuple[Order, Fulfillment] | None:
    for order in shop.orders.values():
        for fulfillment in order.fulfillments:
            if fulfillment.id == fulfillment_id:
                return order, fulfillment
    return None


def requested_quantities(shop: Shop, groups: list[dict[str, Any]]) -> tuple[Order, dict[str, int]]:
    """The order and line quantities that ``lineItemsByFulfillmentOrder`` asks to ship.

    Every fulfillment order must belong to one order; an item must belong to its
    fulfillment order; a group without items ships all that remains of its fulfillment
    order (schema, ``FulfillmentOrderLineItemsInput``). ``fulfil`` then refuses
    fulfillment orders at two locations or in a status that cannot be fulfilled.
    """
    target: Order | None = None
    quantities: dict[str, int] = {}
    for group in groups:
        found = shop.find_fulfillment_order(group["fulfillmentOrderId"])
        if found is None:
            raise SandboxError("Fulfillment order does not exist.")
        order, fulfillment_order = found
        if target is not None and order is not target:
            raise SandboxError("All fulfillment orders must belong to the same order.")
        target = order
        lines = fulfillment_order.lines(order)
        by_item = {order_shapes.fulfillment_line_id(li): li for li in lines}
        wanted = group.get("fulfillmentOrderLineItems") or [
            {"id": k, "quantity": li.unfulfilled} for k, li in by_item.items() if li.unfulfilled
        ]
        if not wanted:
            raise SandboxError(unfulfillable(fulfillment_order, fulfillment_order.status(order)))
        for item in wanted:
            line = by_item.get(item["id"])
            if line is None:
                raise SandboxError("Fulfillment order line item does not exist.")
            quantities[line.id] = quantities.get(line.id, 0) + int(item["quantity"])
    if target is None:
        raise SandboxError("Nothing to fulfil.")
    return target, quantities


def tracking_of(data: dict[str, Any] | None) -> dict[str, Any]:
    data = data or {}
    return {
        "number": data.get("number") or next(iter(data.get("numbers") or []), None),
        "company": data.get("company"),
        "url": data.get("url") or next(iter(data.get("urls") or []), None),
    }


def m_fulfillment_create(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    shop, data = ctx.shop, args["fulfillment"]
    try:
        order, quantities = requested_quantities(shop, data["lineItemsByFulfillmentOrder"])
        fulfillment = ctx.sandbox.fulfil(
            shop, order, quantities, tracking_of(data.get("trackingInfo"))
        )
    except SandboxError as exc:
        return failed("fulfillment", str(exc), ["fulfillment"])
    return {
        "fulfillment": order_shapes.fulfillment_node(shop, order, fulfillment),
        "userErrors": [],
    }


def m_tracking_update(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    found = find_fulfillment(ctx.shop, args["fulfillmentId"])
    if found is None:
        return failed("fulfillment", "Fulfillment does not exist.", ["fulfillmentId"])
    order, fulfillment = found
    tracking = {k: v for k, v in tracking_of(args["trackingInfoInput"]).items() if v is not None}
    ctx.sandbox.update_tracking(ctx.shop, order, fulfillment, tracking)
    return {
        "fulfillment": order_shapes.fulfillment_node(ctx.shop, order, fulfillment),
        "userErrors": [],
    }


def m_fulfillment_order_hold(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    """``fulfillmentOrderHold`` of a whole fulfillment order (line items are not split)."""
    found = ctx.shop.find_fulfillment_order(args["id"])
    if found is None:
        return failed(
            "fulfillmentHold",
            "The fulfillment order could not be found.",
            ["id"],
            "FULFILLMENT_ORDER_NOT_FOUND",
        ) | {"fulfillmentOrder": None, "remainingFulfillmentOrder": None}
    order, fulfillment_order = found
    data = args["fulfillmentHold"]
    try:
        if data.get("fulfillmentOrderLineItems"):
            raise SandboxError(
                "the sandbox holds whole fulfillment orders, not some of their lines"
            )
        hold = ctx.sandbox.hold_fulfillment_order(
            ctx.shop,
            order,
            fulfillment_order,
            reason=data["reason"],
            reason_notes=data.get("reasonNotes"),
            handle=data.get("handle") or "",
        )
    except SandboxError as exc:
        return failed("fulfillmentHold", str(exc), ["fulfillmentHold"]) | {
            "fulfillmentOrder": None,
            "remainingFulfillmentOrder": None,
        }
    return {
        "fulfillmentHold": order_shapes.hold_node(hold),
        "fulfillmentOrder": order_shapes.fulfillment_order_node(ctx.shop, order, fulfillment_order),
        "remainingFulfillmentOrder": None,
        "userErrors": [],
    }


def m_fulfillment_order_release_hold(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    found = ctx.shop.find_fulfillment_order(args["id"])
    if found is None:
        return failed(
            "fulfillmentOrder",
            "The fulfillment order wasn't found.",
            ["id"],
            "FULFILLMENT_ORDER_NOT_FOUND",
        )
    order, fulfillment_order = found
    try:
        ctx.sandbox.release_fulfillment_order(
            ctx.shop, order, fulfillment_order, args.get("holdIds")
        )
    except SandboxError as exc:
        return failed("fulfillmentOrder", str(exc), ["id"])
    return {
        "fulfillmentOrder": order_shapes.fulfillment_order_node(ctx.shop, order, fulfillment_order),
        "userErrors": [],
    }


QUERIES = {"fulfillmentOrder": q_fulfillment_order, "fulfillment": q_fulfillment}
MUTATIONS = {
    "fulfillmentCreate": m_fulfillment_create,
    "fulfillmentTrackingInfoUpdate": m_tracking_update,
    "fulfillmentOrderHold": m_fulfillment_order_hold,
    "fulfillmentOrderReleaseHold": m_fulfillment_order_release_hold,
}
