"""Keeping imported products in step with the partner's catalog.

``products/update`` re-imports the product with the rule stored on its maps
(new prices re-priced, new variants added and mapped, variants the partner
removed flagged on their maps); an archived or deleted partner product archives
the retail product and keeps its maps, so a later restore finds them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from powerpact.catalog.imports import ImportFailed, import_product
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore, WebhookDelivery
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import UserErrors
from powerpact.shopify.topics import handles


def product_gid(payload: dict[str, Any]) -> str:
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Product/"):
        return gid
    if str(payload.get("id", "")).isdigit():
        return f"gid://shopify/Product/{payload['id']}"
    raise ValueError("the product webhook names no product")


def maps_of(partner_domain: str, product_id: str) -> list[ProductMap]:
    return list(
        db.session.scalars(
            select(ProductMap).where(
                ProductMap.partner_shop_domain == partner_domain,
                ProductMap.partner_product_id == product_id,
            )
        )
    )


def archive_retail_product(retail: RetailStore, retail_product_id: str) -> None:
    payload = client_for(retail).execute("ProductArchive", {"id": retail_product_id})
    UserErrors.raise_for(payload["productUpdate"])


def stores(partner_domain: str) -> tuple[PartnerStore, RetailStore]:
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    retail = db.session.scalar(select(RetailStore))
    if partner is None or retail is None or not partner.is_active or not retail.is_active:
        raise ImportFailed("both the partner and the retail store must be installed")
    return partner, retail


@handles("products/update")
def on_product_update(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    product_id = product_gid(payload)
    maps = maps_of(delivery.shop_domain, product_id)
    if not maps:
        return {"outcome": "not imported"}
    partner, retail = stores(delivery.shop_domain)
    if str(payload.get("status", "")).lower() == "archived":
        archive_retail_product(retail, maps[0].bubbly_product_id)
        return {"outcome": "archived"}
    before = {m.partner_variant_id for m in maps}
    rule = MarkupRule.from_dict(maps[0].markup_rule)
    try:
        import_product(partner, retail, product_id, rule)
    except ImportFailed as exc:
        if "no longer has this product" not in str(exc):
            raise
        archive_retail_product(retail, maps[0].bubbly_product_id)
        return {"outcome": "archived: the product is gone"}
    after = {m.partner_variant_id for m in maps_of(delivery.shop_domain, product_id)}
    return {"outcome": "updated", "variants_added": len(after - before)}


@handles("products/delete")
def on_product_delete(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    maps = maps_of(delivery.shop_domain, product_gid(payload))
    if not maps:
        return {"outcome": "not imported"}
    _, retail = stores(delivery.shop_domain)
    archive_retail_product(retail, maps[0].bubbly_product_id)
    for product_map in maps:
        product_map.partner_variant_missing = True
    return {"outcome": "archived", "maps_kept": len(maps)}
