"""Which access scope each modelled root field needs (``write_x`` covers ``read_x``)."""

from __future__ import annotations

REQUIRED = {
    "products": "read_products",
    "product": "read_products",
    "productsCount": "read_products",
    "productByIdentifier": "read_products",
    "productVariants": "read_products",
    "productVariant": "read_products",
    "productSet": "write_products",
    "productUpdate": "write_products",
    "productDelete": "write_products",
    "metafieldDefinitionCreate": "write_products",
    "inventoryItem": "read_inventory",
    "inventoryItems": "read_inventory",
    "inventorySetQuantities": "write_inventory",
    "inventoryActivate": "write_inventory",
    "locations": "read_locations",
    "location": "read_locations",
    "order": "read_orders",
    "orders": "read_orders",
    "ordersCount": "read_orders",
    "orderCreate": "write_orders",
    "orderUpdate": "write_orders",
    "orderMarkAsPaid": "write_orders",
    "orderCancel": "write_orders",
    "orderEditBegin": "write_order_edits",
    "orderEditAddVariant": "write_order_edits",
    "orderEditSetQuantity": "write_order_edits",
    "orderEditCommit": "write_order_edits",
    "fulfillmentOrder": "read_merchant_managed_fulfillment_orders",
    "fulfillment": "read_fulfillments",
    "fulfillmentCreate": "write_merchant_managed_fulfillment_orders",
    "fulfillmentTrackingInfoUpdate": "write_merchant_managed_fulfillment_orders",
    "fulfillmentOrderHold": "write_merchant_managed_fulfillment_orders",
    "fulfillmentOrderReleaseHold": "write_merchant_managed_fulfillment_orders",
}


def missing_scope(field: str, granted: list[str]) -> str | None:
    """The scope ``field`` needs that ``granted`` lacks, or None."""
    needed = REQUIRED.get(field)
    if needed is None or needed in granted:
        return None
    if needed.startswith("read_") and "write_" + needed[5:] in granted:
        return None
    return needed
