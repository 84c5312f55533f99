"""``orderEditBegin`` / ``orderEditAddVariant`` / ``orderEditSetQuantity`` / ``orderEditCommit``.

An edit session stages changes on a ``CalculatedOrder``; nothing touches the
order (or its stock) until the commit.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from powerpact.sandbox import order_shapes
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.resolvers.context import Context, user_error
from powerpact.sandbox.store import EditSession, calculated_id

NO_SESSION = "The calculated order does not exist."


def edit_payload(ctx: Context, session: EditSession, **extra: Any) -> dict[str, Any]:
    calculated = order_shapes.calculated_order_node(ctx.shop, session)
    return {
        "calculatedOrder": calculated,
        "orderEditSession": {"__typename": "OrderEditSession", "id": session.id},
        "userErrors": [],
        **extra,
    }


def refused(message: str, field: list[str], *empty: str) -> dict[str, Any]:
    return {"userErrors": [user_error(message, field)], **dict.fromkeys(empty)}


def m_begin(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    order = ctx.shop.orders.get(args["id"])
    if order is None:
        return refused("The order does not exist.", ["id"], "calculatedOrder", "orderEditSession")
    try:
        session = ctx.sandbox.begin_edit(ctx.shop, order)
    except SandboxError as exc:
        return refused(str(exc), ["id"], "calculatedOrder", "orderEditSession")
    return edit_payload(ctx, session)


def m_add_variant(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    empty = ("calculatedLineItem", "calculatedOrder", "orderEditSession")
    session = ctx.shop.edits.get(args["id"])
    if session is None:
        return refused(NO_SESSION, ["id"], *empty)
    variant = ctx.shop.variants().get(args["variantId"])
    if variant is None:
        return refused("The variant does not exist.", ["variantId"], *empty)
    order = ctx.shop.orders[session.order_id]
    present = any(li.variant_id == variant.id for li in order.line_items)
    if present and not args.get("allowDuplicates"):
        return refused("The variant is already on the order.", ["variantId"], *empty)
    if args["quantity"] <= 0:
        return refused("Quantity must be greater than 0.", ["quantity"], *empty)
    calculated = ctx.ids.gid("CalculatedLineItem")
    session.added[calculated] = (variant.id, int(args["quantity"]))
    line = line_of(ctx, session, calculated)
    return edit_payload(ctx, session, calculatedLineItem=line)


def line_of(ctx: Context, session: EditSession, calculated: str) -> dict[str, Any] | None:
    calculated_order = order_shapes.calculated_order_node(ctx.shop, session)
    nodes = calculated_order["lineItems"](first=250)["nodes"]
    return next((n for n in nodes if n["id"] == calculated), None)


def m_set_quantity(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    empty = ("calculatedLineItem", "calculatedOrder", "orderEditSession")
    session = ctx.shop.edits.get(args["id"])
    if session is None:
        return refused(NO_SESSION, ["id"], *empty)
    order = ctx.shop.orders[session.order_id]
    known = {calculated_id(li.id) for li in order.line_items} | set(session.added)
    line_id = calculated_id(args["lineItemId"])
    if line_id not in known:
        return refused("The line item does not exist on the order.", ["lineItemId"], *empty)
    if args["quantity"] < 0:
        return refused("Quantity can't be negative.", ["quantity"], *empty)
    existing = next((li for li in order.line_items if calculated_id(li.id) == line_id), None)
    if existing is not None and args["quantity"] < existing.shipped:
        # "You can only edit unfulfilled line items" (orderEditCommit's description); the
        # wording of the refusal is the sandbox's.
        message = f"Quantity can't be lower than the {existing.shipped} already fulfilled."
        return refused(message, ["quantity"], *empty)
    session.quantities[line_id] = (int(args["quantity"]), bool(args.get("restock")))
    return edit_payload(ctx, session, calculatedLineItem=line_of(ctx, session, line_id))


def m_commit(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    session = ctx.shop.edits.get(args["id"])
    if session is None:
        return {"order": None, "successMessages": None, **refused(NO_SESSION, ["id"])}
    try:
        order = ctx.sandbox.commit_edit(
            ctx.shop, session, notify=bool(args.get("notifyCustomer")), note=args.get("staffNote")
        )
    except SandboxError as exc:
        return {"order": None, "successMessages": None, **refused(str(exc), ["id"])}
    return {
        "order": order_shapes.order_node(ctx.shop, order),
        "successMessages": ["Order updated"],
        "userErrors": [],
    }


MUTATIONS = {
    "orderEditBegin": m_begin,
    "orderEditAddVariant": m_add_variant,
    "orderEditSetQuantity": m_set_quantity,
    "orderEditCommit": m_commit,
}
