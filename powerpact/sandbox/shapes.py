"""Store objects as the 2026-07 schema shapes them (dicts the executor walks): money,
connections, shop, locations, products, variants and inventory; orders are in ``order_shapes``.

Fields that take arguments (connections, ``inventoryLevel(locationId:)``) are
callables that the field resolver calls with the query's arguments. A field a
dict leaves out is one the sandbox does not model: it resolves to null and the
call log names it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from powerpact.sandbox.store import (
    Product,
    Shop,
    Variant,
    numeric,
)

MAX_PAGE = 250


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def money_v2(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"__typename": "MoneyV2", "amount": money(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    pair = money_v2(amount, currency)
    return {"__typename": "MoneyBag", "shopMoney": pair, "presentmentMoney": pair}


def encode_cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        raise ValueError(f"Invalid cursor {cursor!r}") from None


def connection(
    items: Sequence[Any], node: Callable[[Any], dict[str, Any]], **args: Any
) -> dict[str, Any]:
    """A connection page (``first``/``after``/``last``/``before``) over ``items``.

    As on Shopify, one of ``first`` or ``last`` is required and a page holds 250 at most.
    """
    size = args.get("first") if args.get("first") is not None else args.get("last")
    if size is None:
        raise ValueError("you must provide one of first or last")
    if not 0 <= int(size) <= MAX_PAGE:
        raise ValueError(f"The page size must be between 0 and {MAX_PAGE}, {size} was given")
    start, end = 0, len(items)
    after, before = decode_cursor(args.get("after")), decode_cursor(args.get("before"))
    if after is not None:
        start = after + 1
    if before is not None:
        end = min(end, before)
    if args.get("first") is not None:
        end = min(end, start + int(args["first"]))
    elif args.get("last") is not None:
        start = max(start, end - int(args["last"]))
    window = list(range(start, max(start, end)))
    nodes = [node(items[i]) for i in window]
    return {
        "nodes": nodes,
        "edges": [
            {"cursor": encode_cursor(i), "node": n} for i, n in zip(window, nodes, strict=True)
        ],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": encode_cursor(window[0]) if window else None,
            "endCursor": encode_cursor(window[-1]) if window else None,
        },
    }


def count(total: int) -> dict[str, Any]:
    return {"__typename": "Count", "count": min(total, 10000), "precision": "EXACT"}


def location_node(shop: Shop, location: dict[str, Any]) -> dict[str, Any]:
    return {
        "__typename": "Location",
        "id": location["id"],
        "legacyResourceId": str(numeric(location["id"])),
        "name": location["name"],
        "isActive": location.get("isActive", True),
        "isPrimary": location["id"] == shop.location_id,
        "fulfillsOnlineOrders": True,
        "shipsInventory": True,
        "address": location_address(location.get("address") or {}),
    }


LOCATION_ADDRESS_FIELDS = (
    "address1", "address2", "city", "province", "provinceCode", "zip", "country", "countryCode",
    "phone", "latitude", "longitude",
)  # fmt: skip


def location_address(address: dict[str, Any]) -> dict[str, Any]:
    """A ``LocationAddress``: every field, null where the fixture gave none."""
    shaped: dict[str, Any] = {k: address.get(k) for k in LOCATION_ADDRESS_FIELDS}
    lines = [address.get(k) for k in ("address1", "address2", "city", "zip", "country")]
    shaped["formatted"] = [line for line in lines if line]
    return {"__typename": "LocationAddress", **shaped}


def inventory_level_node(shop: Shop, variant: Variant, location: dict[str, Any]) -> dict[str, Any]:
    item, place = numeric(variant.inventory_item_id), numeric(location["id"])
    available = shop.levels.get((variant.inventory_item_id, location["id"]), 0)

    def quantities(names: list[str]) -> list[dict[str, Any]]:
        known = {"available": available, "on_hand": available, "committed": 0, "incoming": 0}
        return [
            {
                "__typename": "InventoryQuantity",
                "id": f"gid://shopify/InventoryQuantity/{place}?inventory_item_id={item}&name={n}",
                "name": n,
                "quantity": known.get(n, 0),
                "updatedAt": variant.updated_at,
            }
            for n in names
        ]

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{place}?inventory_item_id={item}",
        "isActive": True,
        "updatedAt": variant.updated_at,
        "location": location_node(shop, location),
        "item": lambda **_: inventory_item_node(shop, variant),
        "quantities": quantities,
    }


def inventory_item_node(shop: Shop, variant: Variant) -> dict[str, Any]:
    def level(locationId: str, **_: Any) -> dict[str, Any] | None:
        """Null where the item is not stocked: no ``InventoryLevel`` connects them."""
        location = shop.location(locationId)
        if location is None or not shop.stocked(variant.inventory_item_id, locationId):
            return None
        return inventory_level_node(shop, variant, location)

    return {
        "__typename": "InventoryItem",
        "id": variant.inventory_item_id,
        "legacyResourceId": str(numeric(variant.inventory_item_id)),
        "tracked": variant.tracked,
        "sku": variant.sku,
        "requiresShipping": True,
        "updatedAt": variant.updated_at,
        "inventoryLevel": level,
        "inventoryLevels": lambda **args: connection(
            shop.stocked_locations(variant.inventory_item_id),
            lambda loc: inventory_level_node(shop, variant, loc),
            **args,
        ),
        "variant": lambda **_: variant_node(shop, variant),
    }


def variant_node(shop: Shop, variant: Variant, product: Product | None = None) -> dict[str, Any]:
    product = product or shop.products[variant.product_id]
    return {
        "__typename": "ProductVariant",
        "id": variant.id,
        "legacyResourceId": str(numeric(variant.id)),
        "title": variant.title,
        "displayName": f"{product.title} - {variant.title}",
        "sku": variant.sku,
        "price": money(variant.price),
        "compareAtPrice": money(variant.compare_at),
        "inventoryQuantity": shop.available(variant.inventory_item_id),
        "inventoryPolicy": variant.inventory_policy,
        "availableForSale": variant.inventory_policy == "CONTINUE"
        or shop.available(variant.inventory_item_id) > 0,
        "selectedOptions": [{"name": n, "value": v} for n, v in variant.options],
        "updatedAt": variant.updated_at,
        "inventoryItem": inventory_item_node(shop, variant),
        "product": lambda **_: product_node(shop, product),
    }


def product_node(shop: Shop, product: Product) -> dict[str, Any]:
    image = (
        {"__typename": "Image", "url": product.image_url, "altText": product.title}
        if product.image_url
        else None
    )
    return {
        "__typename": "Product",
        "id": product.id,
        "legacyResourceId": str(numeric(product.id)),
        "title": product.title,
        "handle": product.handle,
        "vendor": product.vendor,
        "productType": product.product_type,
        "status": product.status,
        "tags": list(product.tags),
        "descriptionHtml": product.description_html,
        "description": product.description_html,
        "createdAt": product.created_at,
        "updatedAt": product.updated_at,
        "featuredImage": image,
        "options": lambda **args: _options(product, args.get("first")),
        "totalInventory": sum(shop.available(v.inventory_item_id) for v in product.variants),
        "hasOnlyDefaultVariant": [v.title for v in product.variants] == ["Default Title"],
        "variantsCount": count(len(product.variants)),
        "variants": lambda **args: connection(
            product.variants, lambda v: variant_node(shop, v, product), **args
        ),
        "metafield": lambda namespace=None, key=None, **_: _metafield(product, namespace, key),
    }


def _options(product: Product, first: int | None) -> list[dict[str, Any]]:
    return [
        {
            "__typename": "ProductOption",
            "id": f"gid://shopify/ProductOption/{numeric(product.id)}{i}",
            "name": name,
            "values": list(values),
            "position": i + 1,
            "optionValues": [
                {"__typename": "ProductOptionValue", "name": v, "hasVariants": True} for v in values
            ],
        }
        for i, (name, values) in enumerate(product.options[:first])
    ]


def _metafield(product: Product, namespace: str | None, key: str | None) -> dict[str, Any] | None:
    value = product.metafields.get((namespace or "", key or ""))
    if value is None:
        return None
    return {
        "__typename": "Metafield",
        "namespace": namespace,
        "key": key,
        "value": value,
        "type": "single_line_text_field",
    }
