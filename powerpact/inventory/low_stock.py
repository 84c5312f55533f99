"""Low stock: the imported variants whose retail stock is at or under their partner's
threshold (``PartnerStore.low_stock_threshold``, default 5), with a trend from the history.

The admin home lists them, and the admins' email digest calls ``low_stock_variants`` with
the retail store's id. One query: each partner's variants are found by the index on
``(partner_shop_domain, retail_available)``, and each trend by the history's index on
``(product_map_id, at)``. The retail level is the one PowerPact last read or wrote
(``ProductMap.retail_available``); a variant not synced since it was imported is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore, StockChange, StoreStatus
from powerpact.shops import display_name

TREND_DAYS = 7
LIMIT = 100  # the lowest first; the home and the digest name at most this many


@dataclass(frozen=True)
class LowStockVariant:
    """An imported variant at or under its partner's threshold. ``trend`` is how its retail
    level moved over the last ``TREND_DAYS`` days (negative: falling; 0 with no change)."""

    partner_name: str
    product_title: str
    variant_title: str
    sku: str
    retail_available: int
    threshold: int
    trend: int
    product_map_id: int


def low_stock_variants(retail_shop_id: int) -> list[LowStockVariant]:
    """The low-stock variants of the retail store ``retail_shop_id`` (``RetailStore.id``),
    lowest stock first, at most ``LIMIT``; none if that store is not installed."""
    return low_stock_since(retail_shop_id, utcnow() - timedelta(days=TREND_DAYS))


def low_stock_since(retail_shop_id: int, since: datetime) -> list[LowStockVariant]:
    rows = db.session.execute(low_stock_query(retail_shop_id, since))
    return [
        LowStockVariant(
            partner_name=display_name(row.name, row.shop_domain),
            product_title=row.product_title or row.bubbly_sku or "",
            variant_title=row.variant_title or "",
            sku=row.bubbly_sku or "",
            retail_available=int(row.retail_available),
            threshold=int(row.low_stock_threshold),
            trend=0 if row.level_then is None else int(row.retail_available) - int(row.level_then),
            product_map_id=int(row.id),
        )
        for row in rows
    ]


def low_stock_query(retail_shop_id: int, since: datetime) -> Select[Any]:
    """The low-stock variants and, for each, its level at ``since`` (the ``before`` of its
    first change since, if any)."""
    level_then = (
        select(StockChange.before)
        .where(StockChange.product_map_id == ProductMap.id, StockChange.at >= since)
        .order_by(StockChange.at, StockChange.id)
        .limit(1)
        .correlate(ProductMap)
        .scalar_subquery()
    )
    retail = select(RetailStore.id).where(
        RetailStore.id == retail_shop_id, RetailStore.status == StoreStatus.ACTIVE
    )
    return (
        select(
            ProductMap.id,
            ProductMap.product_title,
            ProductMap.variant_title,
            ProductMap.bubbly_sku,
            ProductMap.retail_available,
            PartnerStore.name,
            PartnerStore.shop_domain,
            PartnerStore.low_stock_threshold,
            level_then.label("level_then"),
        )
        .join(PartnerStore, PartnerStore.shop_domain == ProductMap.partner_shop_domain)
        .where(
            retail.exists(),
            PartnerStore.status == StoreStatus.ACTIVE,
            ProductMap.partner_variant_missing.is_(False),
            ProductMap.retail_available.is_not(None),
            ProductMap.retail_available <= PartnerStore.low_stock_threshold,
        )
        .order_by(ProductMap.retail_available, PartnerStore.name, ProductMap.id)
        .limit(LIMIT)
    )
