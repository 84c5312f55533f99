"""A partner's live catalog, one GraphQL call per page, priced by a markup rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from powerpact.catalog.pricing import MarkupRule, retail_price
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap
from powerpact.money import to_decimal
from powerpact.shopify.clients import client_for

PAGE_SIZE = 50
STATUSES = ("active", "draft", "archived")


@dataclass(frozen=True)
class CatalogVariant:
    id: str
    title: str
    sku: str | None
    price: Decimal
    stock: int
    retail_price: Decimal
    retail_compare_at: Decimal | None


@dataclass(frozen=True)
class CatalogProduct:
    id: str
    title: str
    vendor: str
    status: str
    image_url: str | None
    image_alt: str
    imported: bool
    variants: list[CatalogVariant] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogPage:
    products: list[CatalogProduct]
    has_next: bool
    has_previous: bool
    start_cursor: str | None
    end_cursor: str | None


def search_query(text: str, status: str | None) -> str:
    """Shopify search syntax: free text over title, SKU and vendor, plus a status filter."""
    terms = []
    cleaned = " ".join(text.replace('"', " ").replace("'", " ").split())
    if cleaned:
        terms.append(f'"{cleaned}"' if " " in cleaned else cleaned)
    if status in STATUSES:
        terms.append(f"status:{status}")
    return " ".join(terms)


def imported_product_ids(partner_domain: str, product_ids: list[str]) -> set[str]:
    return set(
        db.session.scalars(
            select(ProductMap.partner_product_id)
            .where(
                ProductMap.partner_shop_domain == partner_domain,
                ProductMap.partner_product_id.in_(product_ids),
            )
            .distinct()
        )
    )


def priced_variant(node: dict[str, Any], rule: MarkupRule, currency: str) -> CatalogVariant:
    price = to_decimal(node["price"])
    compare_at = node.get("compareAtPrice")
    retail = retail_price(
        price, rule, currency, partner_compare_at=to_decimal(compare_at) if compare_at else None
    )
    return CatalogVariant(
        id=node["id"],
        title=node["title"],
        sku=node.get("sku"),
        price=price,
        stock=int(node.get("inventoryQuantity") or 0),
        retail_price=retail.price,
        retail_compare_at=retail.compare_at,
    )


def fetch_catalog_page(
    partner: PartnerStore,
    *,
    rule: MarkupRule,
    currency: str,
    text: str = "",
    status: str | None = None,
    only_unimported: bool = False,
    after: str | None = None,
    before: str | None = None,
) -> CatalogPage:
    variables: dict[str, Any] = {"query": search_query(text, status) or None}
    if before:
        variables.update(last=PAGE_SIZE, before=before)
    else:
        variables.update(first=PAGE_SIZE, after=after)
    data = client_for(partner).execute("CatalogProducts", variables)
    connection = data["products"]
    if not variables["query"] and data.get("productsCount"):
        partner.products_available = data["productsCount"]["count"]
        db.session.commit()
    nodes = connection["nodes"]
    imported = imported_product_ids(partner.shop_domain, [n["id"] for n in nodes])
    products = [
        CatalogProduct(
            id=n["id"],
            title=n["title"],
            vendor=n.get("vendor") or "",
            status=(n.get("status") or "").lower(),
            image_url=(n.get("featuredImage") or {}).get("url"),
            image_alt=(n.get("featuredImage") or {}).get("altText") or n["title"],
            imported=n["id"] in imported,
            variants=[priced_variant(v, rule, currency) for v in n["variants"]["nodes"]],
        )
        for n in nodes
        if not (only_unimported and n["id"] in imported)
    ]
    info = connection["pageInfo"]
    return CatalogPage(
        products=products,
        has_next=info["hasNextPage"],
        has_previous=info["hasPreviousPage"],
        start_cursor=info.get("startCursor"),
        end_cursor=info.get("endCursor"),
    )


def matching_product_ids(partner: PartnerStore, text: str, status: str | None) -> dict[str, str]:
    """Every product id (with its title) matching a search: "select all matching"."""
    query = search_query(text, status) or None
    nodes = client_for(partner).paginate("CatalogProductIds", {"query": query}, ("products",))
    return {n["id"]: n["title"] for n in nodes}
