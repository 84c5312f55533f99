"""A digest of what PowerPact imports from a partner product, to tell a real change from a sale.

Shopify sends ``products/update`` when a product is "updated, ordered, or variants
are added, removed or updated" (the schema's ``PRODUCTS_UPDATE``), so most of them
only move stock, which the inventory sync owns. The digest covers exactly the
partner data an import writes to the retail product: title, description, product
type, tags, status, options, the featured image, and per variant its id, SKU,
price, compare-at price and option values. Stock is left out on purpose.

The same canonical form is built from the two shapes the data arrives in: the
``ProductForImport`` query (GraphQL) and the ``products/update`` payload (the REST
product resource), so a webhook whose product did not change needs no API call at
all. Prices are compared as numbers (``12.0`` and ``12.00`` are one price).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from powerpact.money import to_decimal

Canonical = dict[str, Any]


def digest_of(canonical: Canonical) -> str:
    """sha256 over canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def amount(value: Any) -> str | None:
    if value in (None, ""):
        return None
    number: Decimal = to_decimal(str(value)).normalize()
    return format(number, "f")


def canonical(
    *,
    title: str,
    description_html: str | None,
    product_type: str | None,
    tags: list[str],
    status: str,
    options: list[tuple[str, list[str]]],
    image: str | None,
    variants: list[Canonical],
) -> Canonical:
    return {
        "title": title,
        "description_html": description_html or "",
        "product_type": product_type or "",
        "tags": sorted({t.strip() for t in tags if t and t.strip()}),
        "status": status.upper(),
        "options": [[name, list(values)] for name, values in options],
        "image": image or None,
        "variants": variants,
    }


def canonical_variant(
    variant_id: str, sku: str | None, price: Any, compare_at: Any, options: list[tuple[str, str]]
) -> Canonical:
    return {
        "id": variant_id,
        "sku": sku or "",
        "price": amount(price),
        "compare_at": amount(compare_at),
        "options": [[name, value] for name, value in options],
    }


def product_digest(product: dict[str, Any]) -> str:
    """The digest of a ``ProductForImport`` product (what ``import_product`` writes)."""
    return digest_of(
        canonical(
            title=product["title"],
            description_html=product.get("descriptionHtml"),
            product_type=product.get("productType"),
            tags=list(product.get("tags") or []),
            status=str(product.get("status") or ""),
            options=[(o["name"], list(o["values"])) for o in product.get("options") or []],
            image=(product.get("featuredImage") or {}).get("url"),
            variants=[
                canonical_variant(
                    v["id"],
                    v.get("sku"),
                    v["price"],
                    v.get("compareAtPrice"),
                    [(o["name"], o["value"]) for o in v.get("selectedOptions") or []],
                )
                for v in product["variants"]["nodes"]
            ],
        )
    )


def webhook_digest(payload: dict[str, Any]) -> str | None:
    """The digest of a ``products/update`` payload; None when it lacks a field we import.

    None sends the caller to the Admin API for the product, which is always right.
    """
    try:
        option_names = [o["name"] for o in payload["options"]]
        tags = payload["tags"]
        return digest_of(
            canonical(
                title=payload["title"],
                description_html=payload["body_html"],
                product_type=payload["product_type"],
                tags=tags.split(",") if isinstance(tags, str) else list(tags),
                status=str(payload["status"]),
                options=[(o["name"], list(o["values"])) for o in payload["options"]],
                image=(payload.get("image") or {}).get("src"),
                variants=[rest_variant(v, option_names) for v in payload["variants"]],
            )
        )
    except (KeyError, TypeError, AttributeError, ArithmeticError, ValueError):
        return None


def rest_variant(variant: dict[str, Any], option_names: list[str]) -> Canonical:
    gid = variant.get("admin_graphql_api_id") or f"gid://shopify/ProductVariant/{variant['id']}"
    values = [variant.get(f"option{i + 1}") for i in range(len(option_names))]
    return canonical_variant(
        gid,
        variant.get("sku"),
        variant["price"],
        variant.get("compare_at_price"),
        [(name, value) for name, value in zip(option_names, values, strict=True) if value],
    )
