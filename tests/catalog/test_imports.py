"""Import jobs: one productSet per product, idempotent by customId, failures isolated."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from powerpact.catalog.imports import create_import_job, custom_id, run_import_job
from powerpact.catalog.pricing import MarkupRule, Rounding
from powerpact.models import ImportJobItem, ProductMap, RunStatus
from tests.factories import PartnerStoreFactory, RetailStoreFactory

PARTNER = "alice-roasters.myshopify.com"
RETAIL = "bubbly-retail.myshopify.com"


def partner_product(number, variants=2, sku=True):
    return {
        "id": f"gid://shopify/Product/{number}",
        "title": f"Roast {number}",
        "descriptionHtml": "<p>Chocolate and cherry.</p>",
        "vendor": "Alice",
        "productType": "Coffee",
        "status": "ACTIVE",
        "tags": ["single-origin"],
        "featuredImage": {"url": f"http://127.0.0.1:8765/img/{number}.svg", "altText": None},
        "options": [{"name": "Size", "values": [f"{250 * (i + 1)}g" for i in range(variants)]}],
        "variants": {
            "nodes": [
                {
                    "id": f"gid://shopify/ProductVariant/{number}{i}",
                    "title": f"{250 * (i + 1)}g",
                    "sku": f"R{number}-{i}" if sku else None,
                    "price": f"{12 + i}.00",
                    "compareAtPrice": None,
                    "inventoryQuantity": 7 - i,
                    "selectedOptions": [{"name": "Size", "value": f"{250 * (i + 1)}g"}],
                    "inventoryItem": {"id": f"gid://shopify/InventoryItem/{number}{i}"},
                }
                for i in range(variants)
            ]
        },
    }


class RetailProducts:
    """The retail store's productSet: an upsert keyed by the customId metafield; and its
    variants' live prices (``VariantPrices``), which a person may change (``set_price``)."""

    def __init__(self, shopify):
        self.products = {}
        self.variants = {}
        self.by_sku = {}
        self.made = 0
        shopify.on(RETAIL, "ProductSet", self.product_set)
        shopify.on(RETAIL, "VariantPrices", self.variant_prices)

    def product_set(self, variables):
        key = variables["identifier"]["customId"]["value"]
        product = self.products.setdefault(
            key, {"id": f"gid://shopify/Product/9{len(self.products)}"}
        )
        product["input"] = variables["input"]
        variants = []
        for v in variables["input"]["variants"]:
            self.made += 0 if v.get("id") else 1
            variant_id = v.get("id") or f"{product['id']}-v{self.made}"
            variants.append(
                {"id": variant_id, "sku": v["sku"], "inventoryItem": {"id": f"{variant_id}-i"}}
            )
            self.by_sku[v["sku"]] = variant_id
            self.variants[variant_id] = {
                "id": variant_id,
                "title": v["optionValues"][0]["name"],
                "price": v["price"],
                "compareAtPrice": v.get("compareAtPrice"),
                "product": {"id": product["id"], "title": variables["input"]["title"]},
            }
        return {
            "productSet": {
                "product": {"id": product["id"], "variants": {"nodes": variants}},
                "userErrors": [],
            }
        }

    def variant_prices(self, variables):
        return {"nodes": [self.variants.get(i) for i in variables["ids"]]}

    def set_price(self, sku, price):
        """A person changes a live price in the retail admin."""
        self.variants[self.by_sku[sku]]["price"] = price


@pytest.fixture
def stores(db_session):
    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain=PARTNER, name="Alice Roasters")
    db_session.commit()
    return partner, retail


def serve_products(shopify, products):
    """The partner's products, whole (``ProductForImport``) and their variants' prices."""
    by_id = {p["id"]: p for p in products}
    variants = {
        v["id"]: {**v, "product": {"id": p["id"], "title": p["title"]}}
        for p in products
        for v in p["variants"]["nodes"]
    }
    shopify.on(PARTNER, "ProductForImport", lambda v: {"product": by_id.get(v["id"])})
    shopify.on(PARTNER, "VariantPrices", lambda v: {"nodes": [variants.get(i) for i in v["ids"]]})


RULE = MarkupRule(value=Decimal(30), rounding=Rounding.TO_99)


def test_import_creates_products_priced_with_skus_stock_and_maps(shopify, stores, db_session):
    partner, _ = stores
    serve_products(shopify, [partner_product(1), partner_product(2, sku=False)])
    retail = RetailProducts(shopify)
    job = create_import_job(partner, ["gid://shopify/Product/1", "gid://shopify/Product/2"], RULE)
    run_import_job(job.id)

    assert job.status == RunStatus.SUCCEEDED
    first = retail.products[custom_id(PARTNER, "gid://shopify/Product/1")]["input"]
    assert first["vendor"] == "Alice Roasters"
    assert "partner:alice-roasters" in first["tags"]
    assert [v["price"] for v in first["variants"]] == ["15.99", "16.99"]
    assert [v["sku"] for v in first["variants"]] == [
        "PARTNER-alice-roasters-R1-0",
        "PARTNER-alice-roasters-R1-1",
    ]
    assert first["variants"][0]["inventoryQuantities"][0]["quantity"] == 7
    second = retail.products[custom_id(PARTNER, "gid://shopify/Product/2")]["input"]
    assert second["variants"][0]["sku"] == "PARTNER-alice-roasters-V20"  # generated, stable
    maps = db_session.scalars(select(ProductMap).order_by(ProductMap.partner_variant_id)).all()
    assert len(maps) == 4
    assert maps[0].partner_price == Decimal("12.00")
    assert maps[0].retail_price == Decimal("15.99")
    assert maps[0].markup_rule["rounding"] == "99"


def test_importing_twice_updates_instead_of_duplicating(shopify, stores, db_session):
    partner, _ = stores
    serve_products(shopify, [partner_product(1)])
    retail = RetailProducts(shopify)
    for _ in range(2):
        run_import_job(create_import_job(partner, ["gid://shopify/Product/1"], RULE).id)
    assert len(retail.products) == 1
    assert db_session.scalar(select(func.count()).select_from(ProductMap)) == 2


def test_one_failing_product_does_not_stop_the_others(shopify, stores, db_session):
    partner, _ = stores
    serve_products(shopify, [partner_product(1), partner_product(3)])
    retail = RetailProducts(shopify)
    ids = ["gid://shopify/Product/1", "gid://shopify/Product/404", "gid://shopify/Product/3"]
    job = create_import_job(partner, ids, RULE)
    run_import_job(job.id)
    assert job.status == RunStatus.PARTIAL
    items = db_session.scalars(select(ImportJobItem).order_by(ImportJobItem.id)).all()
    assert [i.status for i in items] == [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SUCCEEDED]
    assert "no longer has this product" in items[1].error_message
    assert len(retail.products) == 2


def test_user_errors_are_the_items_reason(shopify, stores, db_session):
    partner, _ = stores
    serve_products(shopify, [partner_product(1)])
    shopify.on(
        RETAIL,
        "ProductSet",
        lambda v: {
            "productSet": {
                "product": None,
                "userErrors": [{"field": ["input", "title"], "message": "is too long"}],
            }
        },
    )
    job = create_import_job(partner, ["gid://shopify/Product/1"], RULE)
    run_import_job(job.id)
    assert job.status == RunStatus.FAILED
    assert job.items[0].error_message == "input.title: is too long"
