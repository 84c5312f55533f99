"""Webhook payloads as Shopify documents them: the REST resource, with ``admin_graphql_api_id``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from powerpact.sandbox.store import (
    Agreement,
    EditSession,
    Fulfillment,
    FulfillmentHold,
    FulfillmentOrder,
    LineItem,
    Order,
    Product,
    Refund,
    Shop,
    TaxLine,
    Variant,
    now_iso,
    numeric,
)


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def address(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GraphQL mailing address as the REST payload spells it (``firstName`` -> ``first_name``)."""
    if data is None:
        return None
    rest = {snake(k): v for k, v in data.items() if k != "countryCodeV2"}
    if "countryCodeV2" in data:
        rest["country_code"] = data["countryCodeV2"]
    return rest


def tax_lines(lines: list[TaxLine]) -> list[dict[str, Any]]:
    return [
        {
            "title": t.title,
            "price": money(t.price),
            "rate": float(t.rate) if t.rate is not None else None,
        }
        for t in lines
    ]


def line_item(line: LineItem) -> dict[str, Any]:
    return {
        "id": numeric(line.id),
        "admin_graphql_api_id": line.id,
        "variant_id": numeric(line.variant_id) if line.variant_id else None,
        "product_id": numeric(line.product_id) if line.product_id else None,
        "title": line.title,
        "variant_title": line.variant_title,
        "vendor": line.vendor,
        "sku": line.sku,
        "quantity": line.quantity,
        "current_quantity": line.current,
        "fulfillable_quantity": line.unfulfilled,
        "price": money(line.price),
        "total_discount": money(line.discount),
        "tax_lines": tax_lines(line.tax_lines),
    }


def order(order: Order) -> dict[str, Any]:
    fulfillment = {"UNFULFILLED": None, "PARTIALLY_FULFILLED": "partial"}.get(
        order.fulfillment_status, "fulfilled"
    )
    return {
        "id": numeric(order.id),
        "admin_graphql_api_id": order.id,
        "name": order.name,
        "order_number": order.number,
        "email": order.email,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": fulfillment,
        "currency": order.currency,
        "subtotal_price": money(order.subtotal),
        "total_discounts": money(order.discounts),
        "total_tax": money(order.tax),
        "total_price": money(order.total),
        "tags": ", ".join(order.tags),
        "note": order.note,
        "test": order.test,
        "source_name": order.source_name,
        "source_identifier": order.source_identifier,
        "line_items": [line_item(li) for li in order.line_items],
        "shipping_lines": [
            {
                "title": s.title,
                "code": s.code,
                "price": money(s.price),
                "tax_lines": tax_lines(s.tax_lines),
            }
            for s in order.shipping_lines
        ],
        "tax_lines": tax_lines(order.all_tax_lines()),
        "shipping_address": address(order.shipping_address),
        "billing_address": address(order.billing_address),
        "customer": order.customer,
    }


def money_set(amount: Decimal, currency: str) -> dict[str, Any]:
    pair = {"amount": money(amount), "currency_code": currency}
    return {"shop_money": pair, "presentment_money": pair}


def refund(order: Order, refund: Refund) -> dict[str, Any]:
    """``refunds/create``: the REST Refund resource
    (https://shopify.dev/docs/api/admin-rest/latest/resources/refund): its refund line items
    with their line, restock type and amounts, and the shipping it gave back as an order
    adjustment of kind ``shipping_refund`` ("If a refund includes shipping costs ... an
    order adjustment is created automatically")."""
    lines = {li.id: li for li in order.line_items}
    adjustments = []
    if refund.shipping or refund.shipping_tax:
        adjustments.append(
            {
                "id": numeric(refund.id) + 1,
                "order_id": numeric(order.id),
                "refund_id": numeric(refund.id),
                "kind": "shipping_refund",
                "reason": "Shipping refund",
                "amount": money(-refund.shipping),
                "tax_amount": money(-refund.shipping_tax),
                "amount_set": money_set(-refund.shipping, order.currency),
                "tax_amount_set": money_set(-refund.shipping_tax, order.currency),
            }
        )
    return {
        "id": numeric(refund.id),
        "admin_graphql_api_id": refund.id,
        "order_id": numeric(order.id),
        "created_at": refund.created_at,
        "processed_at": refund.created_at,
        "note": refund.note,
        "restock": any(rl.restock_type != "NO_RESTOCK" for rl in refund.lines),
        "user_id": None,
        "duties": [],
        "refund_line_items": [
            {
                "id": numeric(rl.id),
                "line_item_id": numeric(rl.line_id),
                "line_item": line_item(lines[rl.line_id]),
                "quantity": rl.quantity,
                "location_id": numeric(rl.location_id) if rl.location_id else None,
                "restock_type": rl.restock_type.lower(),
                "subtotal": money(rl.subtotal),
                "total_tax": money(rl.tax),
                "subtotal_set": money_set(rl.subtotal, order.currency),
                "total_tax_set": money_set(rl.tax, order.currency),
            }
            for rl in refund.lines
        ],
        "order_adjustments": adjustments,
        "transactions": [
            {
                "id": numeric(refund.id) + 2,
                "order_id": numeric(order.id),
                "kind": "refund",
                "status": "success",
                "amount": money(refund.total),
                "currency": order.currency,
                "gateway": "bogus",
                "created_at": refund.created_at,
            }
        ],
    }


def order_edit(
    order: Order,
    session: EditSession,
    agreement: Agreement,
    *,
    notify: bool = False,
    note: str | None = None,
) -> dict[str, Any]:
    """``orders/edited``: ``{"order_edit": ...}``, the edit's lines added and removed (each
    with its ``delta``) and its times (``committed_at`` from 2024-07,
    https://shopify.dev/changelog/new-committed_at-timestamp-added-to-orders-edited-webhook-payload)."""
    additions = [
        {"id": numeric(line_id), "delta": quantity}
        for line_id, quantity, action in agreement.sales
        if action == "ORDER"
    ]
    removals = [
        {"id": numeric(line_id), "delta": -quantity}
        for line_id, quantity, action in agreement.sales
        if action == "RETURN"
    ]
    return {
        "order_edit": {
            "id": numeric(session.id),
            "app_id": None,
            "created_at": agreement.happened_at,
            "committed_at": agreement.happened_at,
            "notify_customer": notify,
            "order_id": numeric(order.id),
            "staff_note": note or "",
            "user_id": None,
            "line_items": {"additions": additions, "removals": removals},
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


def fulfillment(order: Order, fulfillment: Fulfillment) -> dict[str, Any]:
    lines = {li.id: li for li in order.line_items}
    info = fulfillment.tracking
    return {
        "id": numeric(fulfillment.id),
        "admin_graphql_api_id": fulfillment.id,
        "order_id": numeric(order.id),
        "name": f"{order.name}.{order.fulfillments.index(fulfillment) + 1}",
        "status": fulfillment.status.lower(),
        "created_at": fulfillment.created_at,
        "updated_at": fulfillment.updated_at,
        "location_id": numeric(fulfillment.location_id),
        "shipment_status": None,
        "tracking_company": info.get("company"),
        "tracking_number": info.get("number"),
        "tracking_numbers": [info["number"]] if info.get("number") else [],
        "tracking_url": info.get("url"),
        "tracking_urls": [info["url"]] if info.get("url") else [],
        "line_items": [
            line_item(lines[line_id]) | {"quantity": quantity}
            for line_id, quantity in fulfillment.line_quantities.items()
        ],
    }


def fulfillment_order_ref(order: Order, fulfillment_order: FulfillmentOrder) -> dict[str, Any]:
    return {"id": fulfillment_order.id, "status": fulfillment_order.status(order).lower()}


def fulfillment_order_event(order: Order, fulfillment_order: FulfillmentOrder) -> dict[str, Any]:
    """``fulfillment_orders/hold_released`` and ``/scheduled_fulfillment_order_ready``: the
    fulfillment order's GID and status, as Shopify's example payloads show."""
    return {"fulfillment_order": fulfillment_order_ref(order, fulfillment_order)}


def hold(hold: FulfillmentHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "reason": hold.reason.lower(),
        "reason_notes": hold.reason_notes,
        "handle": hold.handle,
    }


def placed_on_hold(
    order: Order, fulfillment_order: FulfillmentOrder, created: FulfillmentHold
) -> dict[str, Any]:
    """``fulfillment_orders/placed_on_hold``, with ``created_fulfillment_hold`` (2024-10 on:
    https://shopify.dev/changelog/new-created_fulfillment_hold-field-on-fulfillment_orders-placed_on_hold-webhook)."""
    return {
        "fulfillment_order": fulfillment_order_ref(order, fulfillment_order)
        | {"fulfillment_holds": [hold(h) for h in fulfillment_order.holds]},
        "remaining_fulfillment_order": None,
        "held_fulfillment_order_line_items": None,
        "created_fulfillment_hold": hold(created),
    }


def fulfillment_order_moved(
    order: Order, fulfillment_order: FulfillmentOrder, source_location_id: str
) -> dict[str, Any]:
    """``fulfillment_orders/moved``: the original and moved fulfillment orders (one and the
    same when the whole fulfillment order moved), the source and destination locations."""
    ref = fulfillment_order_ref(order, fulfillment_order)
    return {
        "original_fulfillment_order": ref,
        "moved_fulfillment_order": ref,
        "source_location": {"id": f"gid://shopify/Location/{numeric(source_location_id)}"},
        "destination_location_id": numeric(fulfillment_order.location_id),
        "fulfillment_order_line_items_requested": None,
    }


def variant(shop: Shop, variant: Variant) -> dict[str, Any]:
    options = {f"option{i + 1}": value for i, (_, value) in enumerate(variant.options[:3])}
    return {
        "id": numeric(variant.id),
        "admin_graphql_api_id": variant.id,
        "product_id": numeric(variant.product_id),
        "title": variant.title,
        "sku": variant.sku,
        "price": money(variant.price),
        "compare_at_price": money(variant.compare_at) if variant.compare_at else None,
        "inventory_item_id": numeric(variant.inventory_item_id),
        "inventory_quantity": shop.available(variant.inventory_item_id),
        "inventory_policy": variant.inventory_policy.lower(),
        "updated_at": variant.updated_at,
        **options,
    }


def product(shop: Shop, product: Product) -> dict[str, Any]:
    return {
        "id": numeric(product.id),
        "admin_graphql_api_id": product.id,
        "title": product.title,
        "body_html": product.description_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "handle": product.handle,
        "status": product.status.lower(),
        "tags": ", ".join(product.tags),
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "options": [
            {"name": name, "position": i + 1, "values": list(values)}
            for i, (name, values) in enumerate(product.options)
        ],
        "variants": [variant(shop, v) for v in product.variants],
        "image": {"src": product.image_url} if product.image_url else None,
    }


def inventory_level(inventory_item_id: str, location_id: str, available: int) -> dict[str, Any]:
    item, location = numeric(inventory_item_id), numeric(location_id)
    return {
        "inventory_item_id": item,
        "location_id": location,
        "available": available,
        "updated_at": now_iso(),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}",
    }


def shop(shop: Shop) -> dict[str, Any]:
    return {
        "id": numeric(shop.id),
        "name": shop.name,
        "email": shop.email,
        "domain": shop.domain,
        "myshopify_domain": shop.domain,
        "currency": shop.currency,
        "iana_timezone": shop.timezone,
        "plan_name": shop.plan,
    }
