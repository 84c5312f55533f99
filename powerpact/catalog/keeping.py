"""Keeping imported products in step with the partner's catalog.

Shopify sends ``products/update`` when a product is "updated, ordered, or variants
are added, removed or updated" (the schema's ``PRODUCTS_UPDATE``): every sale of a
partner product sends one. So the handler first compares the digest of what we
import (``catalog.digest``) with the one stored at the last import and does
nothing when they are equal: first the payload's, which costs no API call, then,
when that differs or cannot be read, the product's as the Admin API returns it
now (the payload may be stale, or shaped differently). Only a real change
re-imports the product, with the rule stored on its maps (new prices re-priced,
new variants added and mapped, variants the partner removed flagged on their
maps), updating the retail variants it already holds in place and leaving their
stock to the inventory sync. The product's maps are locked first, so two
deliveries of one change import it once. An archived or deleted partner product
archives the retail product and keeps its maps, so a later restore finds them;
their digest is forgotten then, so the restore re-imports.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from powerpact.catalog.digest import product_digest, webhook_digest
from powerpact.catalog.imports import ImportFailed, fetch_partner_product, write_retail_product
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore, WebhookDelivery
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import UserErrors


def product_gid(payload: dict[str, Any]) -> str:
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Product/"):
        return gid
    if str(payload.get("id", "")).isdigit():
        return f"gid://shopify/Product/{payload['id']}"
    raise ValueError("the product webhook names no product")


def maps_of(partner_domain: str, product_id: str, *, lock: bool = False) -> list[ProductMap]:
    statement = (
        select(ProductMap)
        .where(
            ProductMap.partner_shop_domain == partner_domain,
            ProductMap.partner_product_id == product_id,
        )
        .order_by(ProductMap.id)
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(db.session.scalars(statement))


def stored_digest(maps: list[ProductMap]) -> str | None:
    """The digest of the last import, when every map of the product agrees on it."""
    digests = {m.import_digest for m in maps}
    return digests.pop() if len(digests) == 1 else None


def forget_digest(maps: list[ProductMap]) -> None:
    for product_map in maps:
        product_map.import_digest = None


def archive_retail_product(retail: RetailStore, retail_product_id: str) -> None:
    payload = client_for(retail).execute("ProductArchive", {"id": retail_product_id})
    UserErrors.raise_for(payload["productUpdate"])


def stores(partner_domain: str) -> tuple[PartnerStore, RetailStore]:
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    retail: RetailStore | None = db.session.scalar(select(RetailStore))
    if partner is None or retail is None or not partner.is_active or not retail.is_active:
        raise ImportFailed("both the partner and the retail store must be installed")
    return partner, retail


def on_product_update(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    product_id = product_gid(payload)
    maps = maps_of(delivery.shop_domain, product_id, lock=True)
    if not maps:
        return {"outcome": "not imported"}
    partner, retail = stores(delivery.shop_domain)
    if str(payload.get("status", "")).lower() == "archived":
        archive_retail_product(retail, maps[0].bubbly_product_id)
        forget_digest(maps)
        return {"outcome": "archived"}
    last = stored_digest(maps)
    if last is not None and webhook_digest(payload) == last:
        return {"outcome": "unchanged"}
    try:
        product = fetch_partner_product(client_for(partner), product_id)
    except ImportFailed:
        archive_retail_product(retail, maps[0].bubbly_product_id)
        forget_digest(maps)
        return {"outcome": "archived: the product is gone"}
    if last is not None and product_digest(product) == last:
        return {"outcome": "unchanged"}
    before = {m.partner_variant_id for m in maps}
    rule = MarkupRule.from_dict(maps[0].markup_rule, saved=True)
    write_retail_product(partner, retail, product, rule)
    after = {m.partner_variant_id for m in maps_of(delivery.shop_domain, product_id)}
    return {"outcome": "updated", "variants_added": len(after - before)}


def on_product_delete(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    maps = maps_of(delivery.shop_domain, product_gid(payload))
    if not maps:
        return {"outcome": "not imported"}
    _, retail = stores(delivery.shop_domain)
    archive_retail_product(retail, maps[0].bubbly_product_id)
    forget_digest(maps)
    for product_map in maps:
        product_map.partner_variant_missing = True
    return {"outcome": "archived", "maps_kept": len(maps)}
