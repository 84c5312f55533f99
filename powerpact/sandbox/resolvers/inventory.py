"""Inventory items and levels; ``inventorySetQuantities`` with compare-and-set and idempotency."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from powerpact.sandbox import shapes
from powerpact.sandbox.resolvers.context import Context, check_input_size, failed, user_error
from powerpact.sandbox.search import matcher
from powerpact.sandbox.store import Shop, Variant, now_iso, numeric

QUANTITY_NAMES = ("available", "on_hand")
REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}


def q_inventory_item(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    variant = ctx.shop.variant_by_item(args["id"])
    return shapes.inventory_item_node(ctx.shop, variant) if variant else None


def item_fields(variant: Variant) -> dict[str, list[str]]:
    return {"sku": [variant.sku or ""], "id": [str(numeric(variant.inventory_item_id))]}


def q_inventory_items(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    predicate = matcher(args.get("query"), item_fields, ("sku",))
    variants = [v for v in ctx.shop.variants().values() if predicate(v)]
    return shapes.connection(variants, lambda v: shapes.inventory_item_node(ctx.shop, v), **args)


def quantity_errors(shop: Shop, quantities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every refusal Shopify would give the quantities, with the index of each.

    ``ITEM_NOT_STOCKED_AT_LOCATION``: "The specified inventory item is not stocked at the
    location" (schema, ``InventorySetQuantitiesUserErrorCode``): a quantity can be set only
    where the item has an ``InventoryLevel``, "one InventoryItem to one Location" (schema,
    ``InventoryLevel``); ``inventoryActivate`` creates one.
    """
    items = shop.inventory_items()
    errors = []
    for index, change in enumerate(quantities):
        where = ["input", "quantities", str(index)]
        current = shop.levels.get((change["inventoryItemId"], change["locationId"]), 0)
        if change["inventoryItemId"] not in items:
            errors.append(
                user_error(
                    "The specified inventory item could not be found.",
                    [*where, "inventoryItemId"],
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif shop.location(change["locationId"]) is None:
            errors.append(
                user_error(
                    "The specified location could not be found.",
                    [*where, "locationId"],
                    "INVALID_LOCATION",
                )
            )
        elif not shop.stocked(change["inventoryItemId"], change["locationId"]):
            errors.append(
                user_error(
                    "The specified inventory item is not stocked at the location.",
                    [*where, "locationId"],
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
        elif "changeFromQuantity" not in change:
            errors.append(
                user_error(
                    "changeFromQuantity is required: an integer to compare, or null to skip.",
                    where,
                    "COMPARE_QUANTITY_REQUIRED",
                )
            )
        elif change["changeFromQuantity"] is not None and current != change["changeFromQuantity"]:
            errors.append(
                user_error(
                    "The specified compare quantity does not match the current quantity.",
                    [*where, "changeFromQuantity"],
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
    return errors


def m_inventory_set(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Set absolute quantities, all or nothing; a repeated ``@idempotent`` key replays."""
    shop, data, key = ctx.shop, args["input"], ctx.idempotency_key
    check_input_size(data["quantities"])
    if key is not None and key in shop.idempotency:
        seen_input, result = shop.idempotency[key]
        if seen_input != data:
            return failed(
                "inventoryAdjustmentGroup",
                "The same idempotency key was used with different parameters.",
                ["input"],
                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            )
        return result
    result = set_quantities(ctx, data)
    if key is not None:
        shop.idempotency[key] = (data, result)
    return result


def set_quantities(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    shop = ctx.shop
    if data.get("name") not in QUANTITY_NAMES:
        return failed(
            "inventoryAdjustmentGroup",
            "The quantity name must be available or on_hand.",
            ["input", "name"],
            "INVALID_NAME",
        )
    if data.get("reason") not in REASONS:
        return failed(
            "inventoryAdjustmentGroup",
            f"The reason {data.get('reason')!r} is not a valid inventory adjustment reason.",
            ["input", "reason"],
            "INVALID_REASON",
        )
    errors = quantity_errors(shop, data["quantities"])
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for change in data["quantities"]:
        level = (change["inventoryItemId"], change["locationId"])
        before = shop.levels.get(level, 0)
        ctx.sandbox.set_level(shop, *level, int(change["quantity"]))
        changes.append(
            {
                "__typename": "InventoryChange",
                "name": data["name"],
                "delta": int(change["quantity"]) - before,
                "quantityAfterChange": int(change["quantity"]),
            }
        )
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": ctx.ids.gid("InventoryAdjustmentGroup"),
        "reason": data["reason"],
        "referenceDocumentUri": data.get("referenceDocumentUri"),
        "createdAt": now_iso(),
        "changes": lambda **_: changes,
    }
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def m_inventory_activate(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    """Stock an item at a location; a repeated ``@idempotent`` key replays.

    Schema, ``inventoryActivate``: "Activates an inventory item at a Location by creating an
    InventoryLevel that tracks stock quantities"; "If you don't specify quantities, then
    `available` and `onHand` default to zero"; the ``@idempotent`` key is required as of
    2026-04 (https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/inventoryActivate).
    The schema does not say what activating an active level does: here it answers the level
    as it is, and refuses initial quantities for it (they would overwrite counted stock
    without a compare), the stricter reading.
    """
    shop, key = ctx.shop, ctx.idempotency_key
    if key is not None and key in shop.idempotency:
        seen_args, result = shop.idempotency[key]
        if seen_args != args:
            return failed(
                "inventoryLevel",
                "The same idempotency key was used with different parameters.",
                ["idempotencyKey"],
            )
        return result
    result = activate(ctx, args)
    if key is not None:
        shop.idempotency[key] = (dict(args), result)
    return result


def activate(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    shop = ctx.shop
    variant = shop.variant_by_item(args["inventoryItemId"])
    if variant is None:
        return failed("inventoryLevel", "Inventory item does not exist", ["inventoryItemId"])
    location = shop.location(args["locationId"])
    if location is None or not location.get("isActive", True):
        return failed("inventoryLevel", "Location does not exist", ["locationId"])
    initial = args.get("available") if args.get("available") is not None else args.get("onHand")
    if shop.stocked(variant.inventory_item_id, location["id"]):
        if initial is not None:
            return failed(
                "inventoryLevel",
                "The item is already stocked at this location; set its quantities instead.",
                ["available"],
            )
    else:
        ctx.sandbox.connect_level(
            shop, variant.inventory_item_id, location["id"], int(initial or 0)
        )
    return {
        "inventoryLevel": shapes.inventory_level_node(shop, variant, location),
        "userErrors": [],
    }


QUERIES = {"inventoryItem": q_inventory_item, "inventoryItems": q_inventory_items}
MUTATIONS = {"inventorySetQuantities": m_inventory_set, "inventoryActivate": m_inventory_activate}
