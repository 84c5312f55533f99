"""Orders, their lines, fulfilment orders, fulfillments and calculated (edited) orders,
as the 2026-07 schema shapes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from powerpact.sandbox import risk
from powerpact.sandbox.shapes import connection, location_node, money_bag
from powerpact.sandbox.store import (
    Agreement,
    EditSession,
    Fulfillment,
    FulfillmentHold,
    FulfillmentOrder,
    LineItem,
    Order,
    Refund,
    ShippingLine,
    Shop,
    TaxLine,
    calculated_id,
    numeric,
)


def tax_line_node(tax: TaxLine, currency: str) -> dict[str, Any]:
    return {
        "__typename": "TaxLine",
        "title": tax.title,
        # Decimal here; the schema's Float scalar turns it into a JSON number at the edge.
        "rate": tax.rate,
        "ratePercentage": tax.rate * 100 if tax.rate is not None else None,
        "priceSet": money_bag(tax.price, currency),
        "channelLiable": False,
    }


def line_item_node(order: Order, line: LineItem) -> dict[str, Any]:
    discounts = []
    if line.discount:
        discounts = [{"allocatedAmountSet": money_bag(line.discount, order.currency)}]
    unit_discount = line.discount / line.quantity if line.quantity else line.discount
    return {
        "__typename": "LineItem",
        "id": line.id,
        "title": line.title,
        "name": f"{line.title} - {line.variant_title}" if line.variant_title else line.title,
        "variantTitle": line.variant_title,
        "vendor": line.vendor,
        "sku": line.sku,
        "quantity": line.quantity,
        "currentQuantity": line.current,
        "unfulfilledQuantity": line.unfulfilled,
        "refundableQuantity": line.current,
        "requiresShipping": True,
        "variant": {"__typename": "ProductVariant", "id": line.variant_id}
        if line.variant_id
        else None,
        "product": {"__typename": "Product", "id": line.product_id} if line.product_id else None,
        "originalUnitPriceSet": money_bag(line.price, order.currency),
        "discountedUnitPriceSet": money_bag(line.price - unit_discount, order.currency),
        "originalTotalSet": money_bag(line.price * line.quantity, order.currency),
        "discountedTotalSet": money_bag(line.price * line.quantity - line.discount, order.currency),
        "totalDiscountSet": money_bag(line.discount, order.currency),
        "discountAllocations": discounts,
        "taxLines": lambda **args: [
            tax_line_node(t, order.currency) for t in line.tax_lines[: args.get("first")]
        ],
    }


def shipping_line_node(order: Order, index: int, line: ShippingLine) -> dict[str, Any]:
    price = money_bag(line.price, order.currency)
    return {
        "__typename": "ShippingLine",
        "id": f"gid://shopify/ShippingLine/{numeric(order.id)}{index}",
        "title": line.title,
        "code": line.code,
        "source": "shopify",
        "custom": False,
        "isRemoved": False,
        "originalPriceSet": price,
        "discountedPriceSet": price,
        "currentDiscountedPriceSet": price,
        "taxLines": [tax_line_node(t, order.currency) for t in line.tax_lines],
    }


def fulfillment_line_id(line: LineItem) -> str:
    return "gid://shopify/FulfillmentOrderLineItem/" + line.id.rsplit("/", 1)[1]


def location_of(shop: Shop, location_id: str) -> dict[str, Any]:
    return shop.location(location_id) or shop.locations[0]


def hold_node(hold: FulfillmentHold) -> dict[str, Any]:
    return {
        "__typename": "FulfillmentHold",
        "id": hold.id,
        "reason": hold.reason,
        "reasonNotes": hold.reason_notes,
        "handle": hold.handle,
        "displayReason": hold.reason.replace("_", " ").capitalize(),
        "heldByRequestingApp": False,
    }


def fulfillment_order_node(
    shop: Shop, order: Order, fulfillment_order: FulfillmentOrder
) -> dict[str, Any]:
    """One location's share of the order; its ``status`` is ``FulfillmentOrder.status``."""
    items = [
        {
            "__typename": "FulfillmentOrderLineItem",
            "id": fulfillment_line_id(line),
            "remainingQuantity": line.unfulfilled,
            "totalQuantity": line.current,
            "sku": line.sku,
            "lineItem": line_item_node(order, line),
        }
        for line in fulfillment_order.lines(order)
    ]
    location = location_of(shop, fulfillment_order.location_id)
    shipped = [
        f
        for f in order.fulfillments
        if f.location_id == fulfillment_order.location_id
        and set(f.line_quantities) & set(fulfillment_order.line_ids)
    ]
    return {
        "__typename": "FulfillmentOrder",
        "id": fulfillment_order.id,
        "status": fulfillment_order.status(order),
        "requestStatus": "UNSUBMITTED",
        "fulfillAt": fulfillment_order.fulfill_at or order.created_at,
        "orderId": order.id,
        "orderName": order.name,
        "createdAt": fulfillment_order.created_at,
        "updatedAt": fulfillment_order.updated_at,
        "assignedLocation": {
            "__typename": "FulfillmentOrderAssignedLocation",
            "name": location["name"],
            "location": location_node(shop, location),
        },
        "fulfillmentHolds": [hold_node(h) for h in fulfillment_order.holds],
        "order": lambda **_: order_node(shop, order),
        "lineItems": lambda **args: connection(items, lambda i: i, **args),
        "fulfillments": lambda **args: connection(
            shipped, lambda f: fulfillment_node(shop, order, f), **args
        ),
    }


def fulfillment_node(shop: Shop, order: Order, fulfillment: Fulfillment) -> dict[str, Any]:
    info = fulfillment.tracking
    lines = {li.id: li for li in order.line_items}
    items = [
        {
            "__typename": "FulfillmentLineItem",
            "id": f"gid://shopify/FulfillmentLineItem/{numeric(line_id)}",
            "quantity": quantity,
            "lineItem": line_item_node(order, lines[line_id]),
        }
        for line_id, quantity in fulfillment.line_quantities.items()
    ]
    tracking = {
        "number": info.get("number"),
        "company": info.get("company"),
        "url": info.get("url"),
    }
    return {
        "__typename": "Fulfillment",
        "id": fulfillment.id,
        "legacyResourceId": str(numeric(fulfillment.id)),
        "name": f"{order.name}.{order.fulfillments.index(fulfillment) + 1}",
        "status": fulfillment.status,
        "displayStatus": "FULFILLED",
        "createdAt": fulfillment.created_at,
        "updatedAt": fulfillment.updated_at,
        "totalQuantity": sum(fulfillment.line_quantities.values()),
        "location": location_node(shop, location_of(shop, fulfillment.location_id)),
        "order": lambda **_: order_node(shop, order),
        "trackingInfo": lambda **args: [tracking][: args.get("first")],
        "fulfillmentLineItems": lambda **args: connection(items, lambda i: i, **args),
    }


def customer_node(order: Order) -> dict[str, Any] | None:
    data = order.customer
    if not data:
        return None
    first, last = data.get("first_name"), data.get("last_name")
    return {
        "__typename": "Customer",
        "id": data.get("id") or f"gid://shopify/Customer/{numeric(order.id) + 1}",
        "firstName": first,
        "lastName": last,
        "displayName": " ".join(p for p in (first, last) if p) or data.get("email"),
        "email": data.get("email"),
        "phone": data.get("phone"),
    }


def address_node(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    name = " ".join(p for p in (data.get("firstName"), data.get("lastName")) if p)
    return {"__typename": "MailingAddress", "name": name or None, **data}


def order_node(shop: Shop, order: Order) -> dict[str, Any]:
    """The ``Order`` as GraphQL resolves it; what takes work to build is a callable,
    built only when the document selects it (most ask for a few fields)."""
    cur = order.currency
    return {
        "__typename": "Order",
        "id": order.id,
        "legacyResourceId": str(numeric(order.id)),
        "name": order.name,
        "email": order.email,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "processedAt": order.created_at,
        "cancelledAt": order.cancelled_at,
        "cancelReason": order.cancel_reason,
        "closed": False,
        "confirmed": True,
        "test": order.test,
        "note": order.note,
        "tags": list(order.tags),
        "sourceIdentifier": order.source_identifier,
        "sourceName": order.source_name,
        "currencyCode": cur,
        "presentmentCurrencyCode": cur,
        "displayFinancialStatus": order.financial_status,
        "displayFulfillmentStatus": order.fulfillment_status,
        "fullyPaid": order.financial_status == "PAID",
        "unpaid": order.financial_status in ("PENDING", "AUTHORIZED"),
        "risk": lambda **_: risk.summary_node(order),
        "customer": lambda **_: customer_node(order),
        "shippingAddress": lambda **_: address_node(order.shipping_address),
        "billingAddress": lambda **_: address_node(order.billing_address),
        "subtotalPriceSet": lambda **_: money_bag(order.subtotal, cur),
        "currentSubtotalPriceSet": lambda **_: money_bag(order.subtotal, cur),
        "totalDiscountsSet": lambda **_: money_bag(order.discounts, cur),
        "currentTotalDiscountsSet": lambda **_: money_bag(order.discounts, cur),
        "totalShippingPriceSet": lambda **_: money_bag(order.original_shipping, cur),
        "currentShippingPriceSet": lambda **_: money_bag(order.shipping, cur),
        "totalTaxSet": lambda **_: money_bag(order.original_tax, cur),
        "currentTotalTaxSet": lambda **_: money_bag(order.tax, cur),
        "totalPriceSet": lambda **_: money_bag(order.total, cur),
        "currentTotalPriceSet": lambda **_: money_bag(order.total, cur),
        "totalOutstandingSet": lambda **_: money_bag(
            order.total if order.financial_status != "PAID" else Decimal(0), cur
        ),
        "taxLines": lambda **_: [tax_line_node(t, cur) for t in order.all_tax_lines()],
        "shippingLines": lambda **args: connection(
            list(enumerate(order.shipping_lines)),
            lambda pair: shipping_line_node(order, *pair),
            **args,
        ),
        "shippingLine": lambda **_: (
            shipping_line_node(order, 0, order.shipping_lines[0]) if order.shipping_lines else None
        ),
        "lineItems": lambda **args: connection(
            order.line_items, lambda li: line_item_node(order, li), **args
        ),
        "fulfillmentOrders": lambda **args: connection(
            order.fulfillment_orders, lambda fo: fulfillment_order_node(shop, order, fo), **args
        ),
        "fulfillments": lambda **args: [
            fulfillment_node(shop, order, f) for f in order.fulfillments[: args.get("first")]
        ],
        "refunds": lambda **args: [
            refund_node(order, r) for r in order.refunds[: args.get("first")]
        ],
        "agreements": lambda **args: connection(
            order.agreements[::-1] if args.get("reverse") else order.agreements,
            lambda a: agreement_node(order, a),
            **args,
        ),
    }


def refund_node(order: Order, refund: Refund) -> dict[str, Any]:
    """A ``Refund``: its line items (with their restock type) and shipping lines."""
    lines = {li.id: li for li in order.line_items}
    cur = order.currency
    items = [
        {
            "__typename": "RefundLineItem",
            "id": rl.id,
            "quantity": rl.quantity,
            "restockType": rl.restock_type,
            "restocked": rl.restock_type != "NO_RESTOCK",
            "lineItem": line_item_node(order, lines[rl.line_id]),
            "priceSet": money_bag(lines[rl.line_id].price, cur),
            "subtotalSet": money_bag(rl.subtotal, cur),
            "totalTaxSet": money_bag(rl.tax, cur),
        }
        for rl in refund.lines
    ]
    shipping = []
    if refund.shipping or refund.shipping_tax:
        shipping = [
            {
                "__typename": "RefundShippingLine",
                "id": f"gid://shopify/RefundShippingLine/{numeric(refund.id)}",
                "shippingLine": (
                    shipping_line_node(order, 0, order.shipping_lines[0])
                    if order.shipping_lines
                    else None
                ),
                "subtotalAmountSet": money_bag(refund.shipping, cur),
                "taxAmountSet": money_bag(refund.shipping_tax, cur),
            }
        ]
    return {
        "__typename": "Refund",
        "id": refund.id,
        "legacyResourceId": str(numeric(refund.id)),
        "createdAt": refund.created_at,
        "processedAt": refund.created_at,
        "updatedAt": refund.created_at,
        "note": refund.note,
        "totalRefundedSet": money_bag(refund.total, cur),
        "refundLineItems": lambda **args: connection(items, lambda i: i, **args),
        "refundShippingLines": lambda **args: connection(shipping, lambda i: i, **args),
    }


AGREEMENT_TYPES = {"ORDER_EDIT": "OrderEditAgreement", "REFUND": "RefundAgreement"}


def agreement_node(order: Order, agreement: Agreement) -> dict[str, Any]:
    """A ``SalesAgreement``: an edit's or a refund's product sales (``RETURN``: units taken
    off, a negative quantity; ``ORDER``: units added)."""
    lines = {li.id: li for li in order.line_items}
    cur = order.currency
    sales = [
        {
            "__typename": "ProductSale",
            "id": f"gid://shopify/Sale/{numeric(agreement.id)}{i}",
            "actionType": action,
            "lineType": "PRODUCT",
            "quantity": quantity,
            "lineItem": line_item_node(order, lines[line_id]),
            "taxes": [],
            "totalAmount": money_bag(lines[line_id].price * quantity, cur),
            "totalDiscountAmountAfterTaxes": money_bag(Decimal(0), cur),
            "totalDiscountAmountBeforeTaxes": money_bag(Decimal(0), cur),
            "totalTaxAmount": money_bag(Decimal(0), cur),
        }
        for i, (line_id, quantity, action) in enumerate(agreement.sales)
        if line_id in lines
    ]
    refund = next((r for r in order.refunds if r.id == agreement.refund_id), None)
    return {
        "__typename": AGREEMENT_TYPES[agreement.kind],
        "id": agreement.id,
        "happenedAt": agreement.happened_at,
        "reason": agreement.kind,
        "app": None,
        "user": None,
        "sales": lambda **args: connection(sales, lambda s: s, **args),
        **({"refund": refund_node(order, refund)} if refund is not None else {}),
    }


def calculated_order_node(shop: Shop, session: EditSession) -> dict[str, Any]:
    """The ``CalculatedOrder`` of an edit session: the order as it would be after commit."""
    order = shop.orders[session.order_id]
    lines = [
        calculated_line_node(
            order,
            calculated_id(line.id),
            line.title,
            line.sku,
            line.price,
            session.quantities.get(calculated_id(line.id), (line.current, False))[0],
            line.variant_id,
            shipped=line.shipped,
        )
        for line in order.line_items
    ]
    added = [
        calculated_line_node(
            order,
            calculated,
            variant.title,
            variant.sku,
            variant.price,
            session.quantities.get(calculated, (quantity, False))[0],
            variant.id,
        )
        for calculated, (variant_id, quantity) in session.added.items()
        if (variant := shop.variants().get(variant_id)) is not None
    ]
    return {
        "__typename": "CalculatedOrder",
        "id": session.id,
        "committed": False,
        "originalOrder": order_node(shop, order),
        "lineItems": lambda **args: connection(lines + added, lambda n: n, **args),
        "addedLineItems": lambda **args: connection(added, lambda n: n, **args),
        "subtotalLineItemsQuantity": sum(n["quantity"] for n in lines + added),
    }


def calculated_line_node(
    order: Order,
    calculated_id: str,
    title: str,
    sku: str | None,
    price: Decimal,
    quantity: int,
    variant_id: str | None,
    *,
    shipped: int = 0,
) -> dict[str, Any]:
    """A line of an edit; only its units not yet fulfilled can be edited."""
    return {
        "__typename": "CalculatedLineItem",
        "id": calculated_id,
        "title": title,
        "sku": sku,
        "quantity": quantity,
        "editableQuantity": max(quantity - shipped, 0),
        "restockable": True,
        "originalUnitPriceSet": money_bag(price, order.currency),
        "variant": {"__typename": "ProductVariant", "id": variant_id} if variant_id else None,
    }
