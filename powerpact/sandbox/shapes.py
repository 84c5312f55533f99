"""Store objects as the 2026-07 schema shapes them (dicts the executor walks).

Fields that take arguments (connections) are callables the field resolver calls
with the query's arguments.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from powerpact.sandbox.store import Fulfillment, LineItem, Order, Product, Shop, Variant


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    pair = {"amount": money(amount), "currencyCode": currency}
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
    """A connection page (``first``/``after``/``last``/``before``) over ``items``."""
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


def variant_node(shop: Shop, variant: Variant, product: Product | None = None) -> dict[str, Any]:
    product = product or shop.products[variant.product_id]
    item = {
        "__typename": "InventoryItem",
        "id": variant.inventory_item_id,
        "tracked": True,
        "sku": variant.sku,
    }
    return {
        "__typename": "ProductVariant",
        "id": variant.id,
        "title": variant.title,
        "displayName": f"{product.title} - {variant.title}",
        "sku": variant.sku,
        "price": money(variant.price),
        "compareAtPrice": money(variant.compare_at),
        "inventoryQuantity": shop.available(variant.inventory_item_id),
        "inventoryPolicy": variant.inventory_policy,
        "selectedOptions": [{"name": n, "value": v} for n, v in variant.options],
        "inventoryItem": item,
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
        "title": product.title,
        "handle": product.handle,
        "vendor": product.vendor,
        "productType": product.product_type,
        "status": product.status,
        "tags": list(product.tags),
        "descriptionHtml": product.description_html,
        "description": product.description_html,
        "updatedAt": product.updated_at,
        "featuredImage": image,
        "options": [
            {
                "__typename": "ProductOption",
                "id": f"{product.id}/o{i}",
                "name": n,
                "values": list(vs),
                "position": i + 1,
            }
            for i, (n, vs) in enumerate(product.options)
        ],
        "totalInventory": sum(shop.available(v.inventory_item_id) for v in product.variants),
        "variants": lambda **args: connection(
            product.variants, lambda v: variant_node(shop, v, product), **args
        ),
        "metafield": lambda namespace=None, key=None, **_: _metafield(product, namespace, key),
    }


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


def line_item_node(order: Order, line: LineItem) -> dict[str, Any]:
    tax_lines = []
    if line.tax is not None:
        tax_lines = [
            {
                "title": "Tax",
                "rate": None,
                "priceSet": money_bag(line.tax, order.currency),
                "price": money(line.tax),
            }
        ]
    discounts = []
    if line.discount:
        discounts = [{"allocatedAmountSet": money_bag(line.discount, order.currency)}]
    return {
        "__typename": "LineItem",
        "id": line.id,
        "title": line.title,
        "name": line.title,
        "sku": line.sku,
        "quantity": line.quantity,
        "currentQuantity": line.current,
        "unfulfilledQuantity": max(line.current - line.fulfilled, 0),
        "variant": {"__typename": "ProductVariant", "id": line.variant_id}
        if line.variant_id
        else None,
        "originalUnitPriceSet": money_bag(line.price, order.currency),
        "discountAllocations": discounts,
        "taxLines": tax_lines,
    }


def fulfillment_order_node(order: Order) -> dict[str, Any]:
    items = [
        {
            "__typename": "FulfillmentOrderLineItem",
            "id": fulfillment_line_id(line),
            "remainingQuantity": max(line.current - line.fulfilled, 0),
            "totalQuantity": line.current,
            "lineItem": line_item_node(order, line),
        }
        for line in order.line_items
    ]
    remaining = any(i["remainingQuantity"] for i in items)
    status = "CANCELLED" if order.cancelled_at else ("OPEN" if remaining else "CLOSED")
    return {
        "__typename": "FulfillmentOrder",
        "id": order.fulfillment_order_id,
        "status": status,
        "lineItems": lambda **args: connection(items, lambda i: i, **args),
    }


def fulfillment_line_id(line: LineItem) -> str:
    return "gid://shopify/FulfillmentOrderLineItem/" + line.id.rsplit("/", 1)[1]


def fulfillment_node(fulfillment: Fulfillment) -> dict[str, Any]:
    info = fulfillment.tracking
    return {
        "__typename": "Fulfillment",
        "id": fulfillment.id,
        "status": fulfillment.status,
        "createdAt": fulfillment.created_at,
        "trackingInfo": [
            {"number": info.get("number"), "company": info.get("company"), "url": info.get("url")}
        ],
    }


def order_node(shop: Shop, order: Order) -> dict[str, Any]:
    financial = order.financial_status
    return {
        "__typename": "Order",
        "id": order.id,
        "name": order.name,
        "email": order.email,
        "createdAt": order.created_at,
        "cancelledAt": order.cancelled_at,
        "test": order.test,
        "note": order.note,
        "tags": list(order.tags),
        "sourceIdentifier": order.source_identifier,
        "currencyCode": order.currency,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": order.fulfillment_status,
        "risk": {
            "recommendation": order.risk,
            "assessments": [
                {
                    "riskLevel": {"ACCEPT": "LOW", "INVESTIGATE": "MEDIUM", "CANCEL": "HIGH"}.get(
                        order.risk, "NONE"
                    )
                }
            ],
        },
        "currentShippingPriceSet": money_bag(order.shipping, order.currency),
        "totalShippingPriceSet": money_bag(order.shipping, order.currency),
        "currentTotalTaxSet": money_bag(order.tax, order.currency),
        "totalTaxSet": money_bag(order.tax, order.currency),
        "shippingAddress": order.shipping_address,
        "lineItems": lambda **args: connection(
            order.line_items, lambda li: line_item_node(order, li), **args
        ),
        "fulfillmentOrders": lambda **args: connection([order], fulfillment_order_node, **args),
        "fulfillments": [fulfillment_node(f) for f in order.fulfillments],
    }
