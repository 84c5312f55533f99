"""A partner's live catalog, one GraphQL call per page, priced by a markup rule.

An imported variant also shows its live retail price: what the retail store charges for it
now, read from the retail store (``VariantPrices``, one call for up to 250 of the page's
imported variants) rather than kept from webhooks. The retail store's ``products/update``
would have to be subscribed to and would arrive late or not at all, while the price the page
shows next to the preview, and the one an import is checked against, must be the one the
store charges now. A price PowerPact stored (``ProductMap.retail_price``) is only what the
last import set: a person may have changed it in Shopify since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from powerpact.catalog.pricing import MarkupRule, retail_price
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore
from powerpact.money import to_decimal
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError

PAGE_SIZE = 50
STATUSES = ("active", "draft", "archived")
PRICES_PER_CALL = 250  # ``nodes(ids:)`` takes at most 250 ids


@dataclass(frozen=True)
class VariantPriceNow:
    """A variant's price as its store has it now."""

    id: str
    product_title: str
    title: str
    price: Decimal
    compare_at: Decimal | None


def variant_prices(client: ShopifyClient, variant_ids: Iterable[str]) -> dict[str, VariantPriceNow]:
    """The prices of ``variant_ids`` on the client's store, by id (one call per 250 ids); a
    variant the store no longer has is left out."""
    ids = list(dict.fromkeys(variant_ids))
    prices: dict[str, VariantPriceNow] = {}
    for start in range(0, len(ids), PRICES_PER_CALL):
        data = client.execute("VariantPrices", {"ids": ids[start : start + PRICES_PER_CALL]})
        for node in data["nodes"]:
            if not node or "price" not in node:
                continue
            compare_at = node.get("compareAtPrice")
            prices[node["id"]] = VariantPriceNow(
                id=node["id"],
                product_title=(node.get("product") or {}).get("title") or "",
                title=node.get("title") or "",
                price=to_decimal(node["price"]),
                compare_at=to_decimal(compare_at) if compare_at not in (None, "") else None,
            )
    return prices


@dataclass(frozen=True)
class CatalogVariant:
    id: str
    title: str
    sku: str | None
    price: Decimal
    stock: int
    retail_price: Decimal
    retail_compare_at: Decimal | None
    imported: bool = False
    # What the retail store charges now, for an imported variant whose live price was read.
    live_price: Decimal | None = None
    # The imported variant's map, whose stock page (history, buffer) the catalog links to.
    map_id: int | None = None

    @property
    def reprices(self) -> bool:
        """The markup would give this imported variant another price than its live one."""
        return self.live_price is not None and self.live_price != self.retail_price


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
    # Why the imported variants' live prices could not be read (the page shows the preview).
    live_error: str | None = None


def search_query(text: str, status: str | None) -> str:
    """Shopify search syntax: free text over title, SKU and vendor, plus a status filter."""
    terms = []
    cleaned = " ".join(text.replace('"', " ").replace("'", " ").split())
    if cleaned:
        terms.append(f'"{cleaned}"' if " " in cleaned else cleaned)
    if status in STATUSES:
        terms.append(f"status:{status}")
    return " ".join(terms)


@dataclass(frozen=True)
class ImportedVariants:
    """The maps of a page's products: which products are imported, and the retail variant of
    each partner variant still mapped."""

    products: set[str]
    retail_variants: dict[str, str]
    map_ids: dict[str, int]


def imported_variants(partner_domain: str, product_ids: list[str]) -> ImportedVariants:
    rows = db.session.execute(
        select(
            ProductMap.partner_product_id,
            ProductMap.partner_variant_id,
            ProductMap.bubbly_variant_id,
            ProductMap.partner_variant_missing,
            ProductMap.id,
        ).where(
            ProductMap.partner_shop_domain == partner_domain,
            ProductMap.partner_product_id.in_(product_ids),
        )
    ).all()
    return ImportedVariants(
        products={row.partner_product_id for row in rows},
        retail_variants={
            row.partner_variant_id: row.bubbly_variant_id
            for row in rows
            if not row.partner_variant_missing
        },
        map_ids={row.partner_variant_id: row.id for row in rows},
    )


def priced_variant(
    node: dict[str, Any],
    rule: MarkupRule,
    currency: str,
    *,
    imported: bool = False,
    live_price: Decimal | None = None,
    map_id: int | None = None,
) -> CatalogVariant:
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
        imported=imported,
        live_price=live_price,
        map_id=map_id,
    )


def fetch_catalog_page(
    partner: PartnerStore,
    *,
    rule: MarkupRule,
    currency: str,
    retail: RetailStore | None = None,
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
    imported = imported_variants(partner.shop_domain, [n["id"] for n in connection["nodes"]])
    nodes = [
        n for n in connection["nodes"] if not (only_unimported and n["id"] in imported.products)
    ]
    live, live_error = live_prices(retail, imported.retail_variants, nodes)
    products = [
        CatalogProduct(
            id=n["id"],
            title=n["title"],
            vendor=n.get("vendor") or "",
            status=(n.get("status") or "").lower(),
            image_url=(n.get("featuredImage") or {}).get("url"),
            image_alt=(n.get("featuredImage") or {}).get("altText") or n["title"],
            imported=n["id"] in imported.products,
            variants=[
                priced_variant(
                    v,
                    rule,
                    currency,
                    imported=v["id"] in imported.retail_variants,
                    live_price=live.get(v["id"]),
                    map_id=imported.map_ids.get(v["id"]),
                )
                for v in n["variants"]["nodes"]
            ],
        )
        for n in nodes
    ]
    info = connection["pageInfo"]
    return CatalogPage(
        products=products,
        has_next=info["hasNextPage"],
        has_previous=info["hasPreviousPage"],
        start_cursor=info.get("startCursor"),
        end_cursor=info.get("endCursor"),
        live_error=live_error,
    )


def live_prices(
    retail: RetailStore | None, retail_variants: dict[str, str], nodes: list[dict[str, Any]]
) -> tuple[dict[str, Decimal], str | None]:
    """The live retail price of each imported variant among ``nodes``, by partner variant id,
    or why they could not be read."""
    shown = [v["id"] for n in nodes for v in n["variants"]["nodes"] if v["id"] in retail_variants]
    if retail is None or not shown:
        return {}, None
    try:
        now = variant_prices(client_for(retail), [retail_variants[v] for v in shown])
    except ShopifyError as exc:
        return {}, f"The live retail prices could not be read: {exc}"
    return {v: now[retail_variants[v]].price for v in shown if retail_variants[v] in now}, None


def matching_product_ids(partner: PartnerStore, text: str, status: str | None) -> dict[str, str]:
    """Every product id (with its title) matching a search: "select all matching"."""
    query = search_query(text, status) or None
    nodes = client_for(partner).paginate("CatalogProductIds", {"query": query}, ("products",))
    return {n["id"]: n["title"] for n in nodes}
