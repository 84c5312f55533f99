"""Importing partner products onto the retail store, one ``productSet`` per product.

``productSet`` is an upsert keyed by a ``customId`` (the PowerPact metafield
``powerpact.partner_product`` = ``<partner domain>:<product id>``), so importing a
product again updates it instead of making a copy. Each variant's SKU becomes
``PARTNER-{partner}-{partner SKU}`` (a stable generated one when the partner has
none), and one ProductMap row per variant records both sides.

Importing a product again passes the retail variant id of every variant already
mapped (``ProductVariantSetInput.id``: "Specifies the product variant to update or
create a new variant if absent"), so its variants are updated, never recreated
with new ids and empty stock; and it sets no ``inventoryQuantities`` on them,
since their stock belongs to the inventory sync and its compare-and-set. A
variant being created (the first import, or one the partner added) starts at the
partner's stock: it has no retail level yet, so nothing is overwritten, and it
can sell before the next sync. Each map keeps the digest of the product as
imported (``catalog.digest``), which ``catalog.keeping`` compares before
re-importing.

Importing a product again sets its variants' prices by the import's rule, so it can change
what the retail store charges. ``price_changes`` says beforehand which live prices an import
would change, and by how much, so the admin is asked first. An import job with
``keep_live_prices`` leaves the variants already on the retail store at the prices it
charges now (read just before the ``productSet``); each item counts the live prices it
changed (``repriced_variants``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from powerpact.catalog.browse import VariantPriceNow, variant_prices
from powerpact.catalog.digest import product_digest
from powerpact.catalog.pricing import InvalidRule, MarkupRule, retail_price
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inventory.buffer import retail_target
from powerpact.models import (
    ImportJob,
    ImportJobItem,
    PartnerStore,
    ProductMap,
    RetailStore,
    RunStatus,
)
from powerpact.money import to_decimal
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors
from powerpact.skus import imported_sku, partner_handle

log = logging.getLogger(__name__)
METAFIELD_NAMESPACE = "powerpact"
METAFIELD_KEY = "partner_product"


PRODUCTS_PER_QUERY = 1000  # product ids in one SQL ``IN``


class ImportFailed(Exception):
    """One product could not be imported; the message says why in plain words."""


@dataclass(frozen=True)
class PriceChange:
    """A live retail price an import would change."""

    product_title: str
    variant_title: str
    retail_variant_id: str
    live: Decimal
    new: Decimal

    @property
    def difference(self) -> Decimal:
        return self.new - self.live

    @property
    def signed_difference(self) -> str:
        return f"{self.difference:+f}"


@dataclass(frozen=True)
class ImportedProduct:
    """What importing one product did: the retail product, and how many of its variants'
    live prices it changed."""

    retail_product_id: str
    repriced: int = 0


@dataclass(frozen=True)
class WrittenProduct:
    retail_product_id: str
    # the price each retail variant was given, by retail variant id
    prices: dict[str, Decimal] = field(default_factory=dict)


def numeric_id(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def custom_id(partner_domain: str, partner_product_id: str) -> str:
    return f"{partner_domain}:{numeric_id(partner_product_id)}"


def ensure_import_key(client: ShopifyClient) -> None:
    """The unique product metafield ``productSet`` finds imported products by (customId)."""
    payload = client.execute(
        "MetafieldDefinitionCreate",
        {
            "definition": {
                "name": "PowerPact partner product",
                "namespace": METAFIELD_NAMESPACE,
                "key": METAFIELD_KEY,
                "type": "single_line_text_field",
                "ownerType": "PRODUCT",
                "capabilities": {"uniqueValues": {"enabled": True}},
            }
        },
    )["metafieldDefinitionCreate"]
    errors = [e for e in payload.get("userErrors") or [] if e.get("code") != "TAKEN"]
    if errors:
        raise UserErrors(errors)


def variant_sku(partner_domain: str, variant: dict[str, Any]) -> str:
    """The retail SKU: the partner's SKU behind our prefix, or a stable one made from its id."""
    partner_sku = (variant.get("sku") or "").strip() or f"V{numeric_id(variant['id'])}"
    return imported_sku(partner_domain, partner_sku)


def product_set_input(
    partner: PartnerStore,
    product: dict[str, Any],
    rule: MarkupRule,
    *,
    currency: str,
    location_id: str,
    status: str,
    vendor: str | None,
    known: dict[str, str] | None = None,
    keep: dict[str, VariantPriceNow] | None = None,
) -> dict[str, Any]:
    """The retail ``productSet`` input for one partner product (pure; no API calls).

    ``known`` maps partner variant ids to the retail variants they were imported as;
    ``keep`` holds, by retail variant id, live prices (and compare-at prices) to keep
    instead of the rule's.
    """
    known = known or {}
    keep = keep or {}
    variants = product["variants"]["nodes"]
    if not variants:
        raise ImportFailed("the product has no variants")
    handle = partner_handle(partner.shop_domain)
    variant_inputs = []
    for variant in variants:
        price = retail_price(
            to_decimal(variant["price"]),
            rule,
            currency,
            partner_compare_at=_optional_decimal(variant.get("compareAtPrice")),
        )
        variant_input: dict[str, Any] = {
            "optionValues": [
                {"optionName": o["name"], "name": o["value"]} for o in variant["selectedOptions"]
            ],
            "price": str(price.price),
            "compareAtPrice": None if price.compare_at is None else str(price.compare_at),
            "sku": variant_sku(partner.shop_domain, variant),
            "inventoryItem": {"tracked": True},
            "inventoryPolicy": "DENY",
        }
        if variant["id"] in known:
            variant_input["id"] = known[variant["id"]]
            kept = keep.get(known[variant["id"]])
            if kept is not None:
                variant_input["price"] = str(kept.price)
                variant_input["compareAtPrice"] = (
                    None if kept.compare_at is None else str(kept.compare_at)
                )
        else:
            variant_input["inventoryQuantities"] = [
                {
                    "locationId": location_id,
                    "name": "available",
                    "quantity": retail_target(
                        int(variant.get("inventoryQuantity") or 0), partner.safety_buffer or 0
                    ),
                }
            ]
        variant_inputs.append(variant_input)
    images = [product["featuredImage"]] if product.get("featuredImage") else []
    return {
        "title": product["title"],
        "descriptionHtml": product.get("descriptionHtml") or "",
        "vendor": vendor or partner.name or handle,
        "productType": product.get("productType") or "",
        "tags": sorted({*product.get("tags", []), "powerpact", f"partner:{handle}"}),
        "status": status,
        "productOptions": [
            {"name": o["name"], "values": [{"name": v} for v in o["values"]]}
            for o in product["options"]
        ],
        "variants": variant_inputs,
        "files": [
            {"originalSource": i["url"], "contentType": "IMAGE", "alt": i.get("altText") or ""}
            for i in images
        ],
        "metafields": [
            {
                "namespace": METAFIELD_NAMESPACE,
                "key": METAFIELD_KEY,
                "type": "single_line_text_field",
                "value": custom_id(partner.shop_domain, product["id"]),
            }
        ],
    }


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else to_decimal(value)


def record_maps(
    partner: PartnerStore,
    product: dict[str, Any],
    retail_product: dict[str, Any],
    rule: MarkupRule,
    currency: str,
    prices: dict[str, Decimal] | None = None,
) -> int:
    """Create or refresh the ProductMap of every variant, matched on the retail SKU.

    ``prices`` holds the price each variant was given, by retail SKU (else the rule's).
    Every map of the product, a removed variant's too, gets the imported digest.
    """
    prices = prices or {}
    digest = product_digest(product)
    retail_by_sku = {v["sku"]: v for v in retail_product["variants"]["nodes"]}
    existing = {
        m.partner_variant_id: m
        for m in db.session.scalars(
            select(ProductMap).where(
                ProductMap.partner_shop_domain == partner.shop_domain,
                ProductMap.partner_product_id == product["id"],
            )
        )
    }
    for variant in product["variants"]["nodes"]:
        sku = variant_sku(partner.shop_domain, variant)
        retail_variant = retail_by_sku.get(sku)
        if retail_variant is None:
            raise ImportFailed(f"the retail store did not return the variant {sku}")
        partner_price = to_decimal(variant["price"])
        product_map = existing.get(variant["id"]) or ProductMap(
            partner_shop_domain=partner.shop_domain, partner_variant_id=variant["id"]
        )
        product_map.partner_product_id = product["id"]
        product_map.partner_inventory_item_id = (variant.get("inventoryItem") or {}).get("id")
        product_map.partner_sku = variant.get("sku")
        product_map.partner_price = partner_price
        product_map.bubbly_product_id = retail_product["id"]
        product_map.bubbly_variant_id = retail_variant["id"]
        product_map.bubbly_inventory_item_id = (retail_variant.get("inventoryItem") or {}).get("id")
        product_map.bubbly_sku = sku
        product_map.retail_price = prices.get(
            sku, retail_price(partner_price, rule, currency).price
        )
        product_map.markup_rule = rule.to_dict()
        product_map.partner_variant_missing = False
        product_map.import_digest = digest
        product_map.product_title = product.get("title")
        product_map.variant_title = variant.get("title")
        if product_map.id is None:  # created with the partner's stock less the buffer
            product_map.retail_available = retail_target(
                int(variant.get("inventoryQuantity") or 0), partner.safety_buffer or 0
            )
        db.session.add(product_map)
    current = {variant["id"] for variant in product["variants"]["nodes"]}
    for variant_id, product_map in existing.items():
        if variant_id not in current:
            product_map.partner_variant_missing = True
            product_map.import_digest = digest
    return len(current)


def known_variants(partner_domain: str, partner_product_id: str) -> dict[str, str]:
    """Partner variant id -> retail variant id, for the product's variants still mapped."""
    rows = db.session.execute(
        select(ProductMap.partner_variant_id, ProductMap.bubbly_variant_id).where(
            ProductMap.partner_shop_domain == partner_domain,
            ProductMap.partner_product_id == partner_product_id,
            ProductMap.partner_variant_missing.is_(False),
        )
    )
    return {partner_id: retail_id for partner_id, retail_id in rows}


def fetch_partner_product(partner_client: ShopifyClient, partner_product_id: str) -> dict[str, Any]:
    product: dict[str, Any] | None = partner_client.execute(
        "ProductForImport", {"id": partner_product_id}
    )["product"]
    if product is None:
        raise ImportFailed("the partner no longer has this product")
    return product


def import_product(
    partner: PartnerStore,
    retail: RetailStore,
    partner_product_id: str,
    rule: MarkupRule,
    *,
    status: str = "ACTIVE",
    vendor: str | None = None,
    clients: tuple[Any, Any] | None = None,
    keep_live_prices: bool = False,
) -> ImportedProduct:
    """Import (or re-import) one partner product.

    A product already imported has its variants' live prices read first (one call), to count
    the ones this import changes, or, with ``keep_live_prices``, to keep them: then the
    product stays on the rule it was imported with, which its new variants are priced by and
    which ``keeping`` re-prices it by when the partner's prices change.
    """
    partner_client, retail_client = clients or (client_for(partner), client_for(retail))
    product = fetch_partner_product(partner_client, partner_product_id)
    known = known_variants(partner.shop_domain, product["id"])
    live = variant_prices(retail_client, known.values()) if known else {}
    if keep_live_prices and known:
        rule = stored_rule(partner.shop_domain, product["id"]) or rule
    written = write_retail_product(
        partner,
        retail,
        product,
        rule,
        status=status,
        vendor=vendor,
        retail_client=retail_client,
        keep=live if keep_live_prices else None,
    )
    repriced = sum(
        1
        for variant_id, price in written.prices.items()
        if variant_id in live and live[variant_id].price != price
    )
    return ImportedProduct(written.retail_product_id, repriced)


def stored_rule(partner_domain: str, partner_product_id: str) -> MarkupRule | None:
    """The rule the product was last imported with, if it can still be used."""
    data = db.session.scalar(
        select(ProductMap.markup_rule)
        .where(
            ProductMap.partner_shop_domain == partner_domain,
            ProductMap.partner_product_id == partner_product_id,
            ProductMap.markup_rule.is_not(None),
        )
        .order_by(ProductMap.id)
        .limit(1)
    )
    try:
        return MarkupRule.from_dict(data, saved=True) if data else None
    except InvalidRule:
        return None


def write_retail_product(
    partner: PartnerStore,
    retail: RetailStore,
    product: dict[str, Any],
    rule: MarkupRule,
    *,
    status: str = "ACTIVE",
    vendor: str | None = None,
    retail_client: ShopifyClient | None = None,
    keep: dict[str, VariantPriceNow] | None = None,
) -> WrittenProduct:
    """One ``productSet`` of a fetched partner product, then its maps.

    ``keep`` holds live prices to keep, by retail variant id (``product_set_input``).
    """
    retail_client = retail_client or client_for(retail)
    product_input = product_set_input(
        partner,
        product,
        rule,
        currency=retail.currency_code,
        location_id=retail.location_id or "",
        status=status,
        vendor=vendor,
        known=known_variants(partner.shop_domain, product["id"]),
        keep=keep,
    )
    data = retail_client.execute(
        "ProductSet",
        {
            "identifier": {
                "customId": {
                    "namespace": METAFIELD_NAMESPACE,
                    "key": METAFIELD_KEY,
                    "value": custom_id(partner.shop_domain, product["id"]),
                }
            },
            "input": product_input,
            "synchronous": True,
        },
        idempotent=True,
    )
    payload = data["productSet"]
    UserErrors.raise_for(payload)
    sent = {v["sku"]: to_decimal(v["price"]) for v in product_input["variants"]}
    record_maps(partner, product, payload["product"], rule, retail.currency_code, sent)
    return WrittenProduct(
        retail_product_id=payload["product"]["id"],
        prices={
            v["id"]: sent[v["sku"]]
            for v in payload["product"]["variants"]["nodes"]
            if v.get("sku") in sent
        },
    )


def price_changes(
    partner: PartnerStore,
    retail: RetailStore,
    product_ids: Sequence[str],
    rule: MarkupRule,
    *,
    clients: tuple[ShopifyClient, ShopifyClient] | None = None,
) -> list[PriceChange]:
    """The live retail prices an import of ``product_ids`` by ``rule`` would change.

    For every variant already imported (mapped, and still on both stores): the partner's
    price now, marked up by ``rule``, against what the retail store charges now, to the
    cent. Two calls for each 250 such variants (the partner's prices, the retail store's),
    and none when no product is imported yet; sorted by product and variant title.
    """
    maps = list(imported_maps(partner.shop_domain, product_ids))
    if not maps:
        return []
    partner_client, retail_client = clients or (client_for(partner), client_for(retail))
    partner_now = variant_prices(partner_client, [m.partner_variant_id for m in maps])
    live = variant_prices(retail_client, [m.bubbly_variant_id for m in maps])
    changes = []
    for product_map in maps:
        source = partner_now.get(product_map.partner_variant_id)
        current = live.get(product_map.bubbly_variant_id)
        if source is None or current is None:
            continue  # gone from one store: the import adds or flags it, it reprices nothing
        new = retail_price(
            source.price, rule, retail.currency_code, partner_compare_at=source.compare_at
        ).price
        if new != current.price:
            changes.append(
                PriceChange(
                    product_title=current.product_title or source.product_title,
                    variant_title=current.title or source.title,
                    retail_variant_id=current.id,
                    live=current.price,
                    new=new,
                )
            )
    return sorted(changes, key=lambda c: (c.product_title, c.variant_title, c.retail_variant_id))


def imported_maps(partner_domain: str, product_ids: Sequence[str]) -> Iterator[ProductMap]:
    """The maps of the variants of ``product_ids`` still on the partner's store."""
    ids = list(dict.fromkeys(product_ids))
    for start in range(0, len(ids), PRODUCTS_PER_QUERY):
        yield from db.session.scalars(
            select(ProductMap)
            .where(
                ProductMap.partner_shop_domain == partner_domain,
                ProductMap.partner_product_id.in_(ids[start : start + PRODUCTS_PER_QUERY]),
                ProductMap.partner_variant_missing.is_(False),
            )
            .order_by(ProductMap.id)
        )


def changes_to_confirm(
    partner: PartnerStore,
    retail: RetailStore,
    product_ids: Sequence[str],
    rule: MarkupRule,
    *,
    confirmed: str | None = None,
) -> list[PriceChange]:
    """The live price changes an import must still ask about: none when it changes no live
    price, or when ``confirmed`` is the digest of exactly the changes it would make now."""
    changes = price_changes(partner, retail, product_ids, rule)
    if confirmed is not None and confirmed == changes_digest(changes):
        return []
    return changes


def changes_digest(changes: Sequence[PriceChange]) -> str:
    """A fingerprint of the changes an admin was shown: a confirmation carries it, and an
    import goes ahead only while the changes it would make are still these."""
    lines = sorted(f"{c.retail_variant_id} {c.live} {c.new}" for c in changes)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def create_import_job(
    partner: PartnerStore,
    product_ids: Sequence[str],
    rule: MarkupRule,
    *,
    product_status: str = "ACTIVE",
    vendor: str | None = None,
    requested_by: str | None = None,
    titles: dict[str, str] | None = None,
    keep_live_prices: bool = False,
) -> ImportJob:
    titles = titles or {}
    job = ImportJob(
        partner_shop_domain=partner.shop_domain,
        markup_rule=rule.to_dict(),
        product_status=product_status,
        vendor_override=vendor or None,
        requested_by=requested_by,
        keep_live_prices=keep_live_prices,
        items=[
            ImportJobItem(partner_product_id=pid, title=titles.get(pid))
            for pid in dict.fromkeys(product_ids)
        ],
    )
    db.session.add(job)
    db.session.commit()
    return job


def import_whole_catalog(
    partner_domain: str, *, requested_by: str = "auto-import"
) -> ImportJob | None:
    """Queue an import of every active product of the partner with its default rule."""
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    if partner is None or not partner.is_active:
        return None
    products = list(
        client_for(partner).paginate("CatalogProductIds", {"query": "status:active"}, ("products",))
    )
    if not products:
        return None
    return create_import_job(
        partner,
        [p["id"] for p in products],
        MarkupRule.from_dict(partner.default_markup_rule, saved=True),
        requested_by=requested_by,
        titles={p["id"]: p["title"] for p in products},
    )


def run_import_job(job_id: int) -> ImportJob:
    """Import every queued item; one product failing never stops the others."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        raise ImportFailed(f"import job {job_id} is not waiting to run")
    job.status, job.started_at = RunStatus.RUNNING, job.started_at or utcnow()
    db.session.commit()
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == job.partner_shop_domain)
    )
    retail: RetailStore | None = db.session.scalar(select(RetailStore))
    try:
        if partner is None or retail is None:
            raise ImportFailed("both the partner and the retail store must be installed")
        rule = MarkupRule.from_dict(job.markup_rule, saved=True)
        clients = (client_for(partner), client_for(retail))
    except (ImportFailed, InvalidRule, ShopifyError) as exc:
        for item in job.items:
            if item.status == RunStatus.QUEUED:
                item.status, item.error_message = RunStatus.FAILED, str(exc)
        return _finish(job)
    for item in job.items:
        if item.status != RunStatus.QUEUED:
            continue
        try:
            imported = import_product(
                partner,
                retail,
                item.partner_product_id,
                rule,
                status=job.product_status,
                vendor=job.vendor_override,
                clients=clients,
                keep_live_prices=job.keep_live_prices,
            )
            item.bubbly_product_id = imported.retail_product_id
            item.repriced_variants = imported.repriced
            item.status, item.error_message = RunStatus.SUCCEEDED, None
        except (ImportFailed, InvalidRule, UserErrors, ShopifyError, KeyError) as exc:
            db.session.rollback()
            item = db.session.get(ImportJobItem, item.id) or item
            item.status, item.error_message = RunStatus.FAILED, describe(exc)
            log.warning("import of %s failed: %s", item.partner_product_id, item.error_message)
        db.session.commit()
    return _finish(job)


def job_summary(job: ImportJob) -> str:
    """What an import did, in a few words: "2 imported, 1 repriced, 1 failed"."""
    done = sum(item.status == RunStatus.SUCCEEDED for item in job.items)
    failed = sum(item.status == RunStatus.FAILED for item in job.items)
    repriced = sum((item.repriced_variants or 0) > 0 for item in job.items)
    parts = [f"{done} imported"]
    if repriced:
        parts.append(f"{repriced} repriced")
    elif job.keep_live_prices:
        parts.append("live prices kept")
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


def describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"the partner's product data is missing {exc}"
    return str(exc)


def _finish(job: ImportJob) -> ImportJob:
    statuses = [item.status for item in job.items]
    failed = statuses.count(RunStatus.FAILED)
    job.status = (
        RunStatus.FAILED
        if failed and failed == len(statuses)
        else RunStatus.PARTIAL
        if failed
        else RunStatus.SUCCEEDED
    )
    job.finished_at = utcnow()
    db.session.commit()
    return job
