"""Sold orders and their credits, as the margins read them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    CreditKind,
    OrderStatus,
    OrderSync,
    PartnerCredit,
    PartnerStore,
    RetailPriceSource,
)
from tests.factories import OrderSyncFactory, OrderSyncLineFactory

D = Decimal


def line(
    quantity: int,
    partner_price: str,
    retail_price: str | None,
    *,
    discount: str = "0",
    retail_discount: str = "0",
    product: str = "House Blend",
    variant: str = "250g",
    source: RetailPriceSource | None = None,
) -> dict[str, Any]:
    """An order line's columns: ``retail_price`` None is a line whose retail price is not
    known; ``product`` and ``variant`` name it as Shopify does (``name`` is both)."""
    if source is None:
        source = RetailPriceSource.UNKNOWN if retail_price is None else RetailPriceSource.ORDER
    return {
        "quantity": quantity,
        "partner_unit_price": D(partner_price),
        "discount": D(discount),
        "retail_unit_price": None if retail_price is None else D(retail_price),
        "retail_discount": None if retail_price is None else D(retail_discount),
        "retail_price_source": source,
        "product_title": product,
        "title": f"{product} - {variant}",
        "bubbly_variant_id": f"gid://shopify/ProductVariant/{product}-{variant}".replace(" ", ""),
    }


def sold(
    partner: PartnerStore,
    *lines: dict[str, Any],
    status: OrderStatus = OrderStatus.SYNCED,
    **fields: Any,
) -> OrderSync:
    order = OrderSyncFactory(partner=partner, status=status, **fields)
    for columns in lines:
        OrderSyncLineFactory(order_sync=order, **columns)
    return order


def credit(order: OrderSync, lines: str, kind: CreditKind = CreditKind.REFUND) -> PartnerCredit:
    row = PartnerCredit(
        order_sync=order,
        partner_shop_domain=order.partner_shop_domain,
        kind=kind,
        source_key=f"test:{uuid.uuid4()}",
        occurred_at=utcnow(),
        currency=order.currency,
        lines=D(lines),
        total=D(lines),
    )
    db.session.add(row)
    db.session.flush()
    return row
