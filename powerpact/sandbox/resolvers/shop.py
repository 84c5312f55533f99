"""``shop``, ``locations``, ``currentAppInstallation``, ``node``/``nodes``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from powerpact.sandbox import order_shapes, shapes
from powerpact.sandbox.resolvers.context import Context, check_input_size
from powerpact.sandbox.store import PLANS, numeric


def q_shop(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    shop = ctx.shop
    display = PLANS[shop.plan]["display"]
    return {
        "__typename": "Shop",
        "id": shop.id,
        "name": shop.name,
        "email": shop.email,
        "contactEmail": shop.email,
        "currencyCode": shop.currency,
        "ianaTimezone": shop.timezone,
        "myshopifyDomain": shop.domain,
        "url": f"https://{shop.domain}",
        "plan": {
            "__typename": "ShopPlan",
            "displayName": display,
            "publicDisplayName": display,
            "partnerDevelopment": shop.plan == "development",
            "shopifyPlus": shop.plan in ("plus", "enterprise"),
        },
        "primaryDomain": {
            "__typename": "Domain",
            "host": shop.domain,
            "url": f"https://{shop.domain}",
        },
    }


def q_locations(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.connection(
        ctx.shop.locations, lambda loc: shapes.location_node(ctx.shop, loc), **args
    )


def q_location(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    location = ctx.shop.location(args["id"]) if args.get("id") else ctx.shop.locations[0]
    return shapes.location_node(ctx.shop, location) if location else None


def q_app_installation(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    return {
        "__typename": "AppInstallation",
        "id": f"gid://shopify/AppInstallation/{numeric(ctx.shop.id)}",
        "accessScopes": [
            {"__typename": "AccessScope", "handle": s, "description": s} for s in ctx.scopes
        ],
    }


def node_by_id(ctx: Context, gid: str) -> dict[str, Any] | None:
    """Any modelled object by its GID (null for unknown kinds and ids, as Shopify answers)."""
    shop = ctx.shop
    kind = gid.split("/")[3] if gid.count("/") >= 4 else ""
    if kind == "Product" and gid in shop.products:
        return shapes.product_node(shop, shop.products[gid])
    if kind == "ProductVariant" and (variant := shop.variants().get(gid)):
        return shapes.variant_node(shop, variant)
    if kind == "InventoryItem" and (variant := shop.variant_by_item(gid)):
        return shapes.inventory_item_node(shop, variant)
    if kind == "Order" and gid in shop.orders:
        return order_shapes.order_node(shop, shop.orders[gid])
    if kind == "Location" and (location := shop.location(gid)):
        return shapes.location_node(shop, location)
    if kind == "Refund":
        # "type Refund implements LegacyInteroperability & Node" (the Admin schema).
        for order in shop.orders.values():
            for refund in order.refunds:
                if refund.id == gid:
                    return order_shapes.refund_node(order, refund)
    return None


def q_nodes(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any] | None]:
    check_input_size(args["ids"])
    return [node_by_id(ctx, gid) for gid in args["ids"]]


def q_node(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    return node_by_id(ctx, args["id"])


QUERIES = {
    "shop": q_shop,
    "locations": q_locations,
    "location": q_location,
    "currentAppInstallation": q_app_installation,
    "nodes": q_nodes,
    "node": q_node,
}
