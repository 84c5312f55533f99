"""Webhook bodies of each topic, as Shopify's sample payloads have them
(https://shopify.dev/docs/api/webhooks/latest), cut to what PowerPact reads: the fields
that make them their topic's shape (``powerpact.shopify.payload_shapes``), and any more
a test gives."""

from __future__ import annotations

from typing import Any


def order_body(number: int, **fields: Any) -> dict[str, Any]:
    """orders/create, paid, updated, cancelled: the Order resource."""
    return {
        "id": number,
        "admin_graphql_api_id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "line_items": [],
        **fields,
    }


def risk_body(order: int, level: str = "low") -> dict[str, Any]:
    return {
        "order_id": order,
        "admin_graphql_api_order_id": f"gid://shopify/Order/{order}",
        "risk_level": level,
        "provider_id": None,
    }


def product_body(number: int, **fields: Any) -> dict[str, Any]:
    """products/update: the Product resource."""
    return {"id": number, "admin_graphql_api_id": f"gid://shopify/Product/{number}", **fields}


def fulfillment_body(number: int, order: int, **fields: Any) -> dict[str, Any]:
    """fulfillments/create and update: the Fulfillment resource."""
    return {
        "id": number,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{number}",
        "order_id": order,
        "status": "success",
        "line_items": [],
        **fields,
    }


def fulfillment_order_body(fulfillment_order: str) -> dict[str, Any]:
    """fulfillment_orders/hold_released and scheduled_fulfillment_order_ready."""
    return {"fulfillment_order": {"id": fulfillment_order, "status": "open"}}


def inventory_level_body(item: int, location: int = 1, available: int | None = 1) -> dict[str, Any]:
    return {"inventory_item_id": item, "location_id": location, "available": available}


def shop_body(domain: str, number: int = 1) -> dict[str, Any]:
    """app/uninstalled: the shop."""
    return {"id": number, "name": "A shop", "domain": domain, "myshopify_domain": domain}


def scopes_body(current: list[str], previous: list[str] | None = None) -> dict[str, Any]:
    return {"id": 1, "previous": previous or [], "current": current}


def data_request_body(
    shop: str, customer: dict[str, Any], orders: list[int] | None = None
) -> dict[str, Any]:
    return {
        "shop_id": 1,
        "shop_domain": shop,
        "customer": customer,
        "orders_requested": orders or [],
        "data_request": {"id": 1},
    }


def customers_redact_body(
    shop: str, customer: dict[str, Any], orders: list[int] | None = None
) -> dict[str, Any]:
    return {
        "shop_id": 1,
        "shop_domain": shop,
        "customer": customer,
        "orders_to_redact": orders or [],
    }


def shop_redact_body(shop: str) -> dict[str, Any]:
    return {"shop_id": 1, "shop_domain": shop}
