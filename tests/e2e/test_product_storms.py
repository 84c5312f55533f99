"""Against the sandbox: partner sales fire products/update, and only a real change re-imports.

Every sale of a product fires ``products/update`` on the partner's store (the topic
"Occurs whenever a product is updated, ordered, or variants are added, removed or
updated"). PowerPact must not answer each with a ``productSet`` on the retail store;
a price change must give exactly one, which keeps the retail variants (their ids and
their stock) under either reading of ``productSet``'s variant inputs.
"""

import pytest
from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RunStatus

RETAIL = "bubbly-retail.myshopify.com"
PARTNER = "north-star-roasters.myshopify.com"
SALES = 60


def retail_product_sets(harness) -> int:
    calls = harness.control("GET", f"/shops/{RETAIL}/calls")["log"]
    return sum(1 for c in calls if c["operation"] == "ProductSet")


def products_update_sent(harness) -> int:
    return sum(
        1
        for d in harness.sandbox.webhooks.log
        if d.topic == "products/update" and d.shop == PARTNER
    )


def retail_variants(harness, product_ids: set[str]) -> dict[str, dict]:
    return {
        v["sku"]: v
        for p in harness.shop(RETAIL)["products"]
        if p["id"] in product_ids
        for v in p["variants"]
    }


@pytest.mark.parametrize("reading", ["id", "options"])
def test_partner_sales_set_nothing_and_a_price_change_sets_once_in_place(harness, reading):
    harness.sandbox.config.product_set_variant_match = reading
    harness.install(RETAIL)
    harness.install(PARTNER)
    partner = db.session.scalars(select(PartnerStore)).one()
    source = [p for p in harness.shop(PARTNER)["products"] if p["status"] == "ACTIVE"][:2]
    job = run_import_job(create_import_job(partner, [p["id"] for p in source], MarkupRule()).id)
    assert job.status == RunStatus.SUCCEEDED, [i.error_message for i in job.items]
    retail_ids = set(db.session.scalars(select(ProductMap.bubbly_product_id)))
    before = retail_variants(harness, retail_ids)
    skus = [v["sku"] for p in source for v in p["variants"]]
    for sku in skus:
        harness.control("POST", f"/shops/{PARTNER}/stock", {"sku": sku, "available": 1000})
    harness.settle()
    harness.control("DELETE", f"/shops/{RETAIL}/calls")
    sent_before = products_update_sent(harness)

    for n in range(SALES):
        line = {"sku": skus[n % len(skus)], "quantity": 1}
        harness.control("POST", f"/shops/{PARTNER}/orders", {"lines": [line]})
    harness.settle()

    assert products_update_sent(harness) - sent_before == SALES
    assert retail_product_sets(harness) == 0
    assert retail_variants(harness, retail_ids) == before

    retail = harness.sandbox.shop(RETAIL)
    with harness.sandbox.lock:
        for variant in before.values():
            retail.levels[(variant["inventory_item_id"], retail.location_id)] = 777
    changed = source[0]
    harness.control("POST", f"/shops/{PARTNER}/products/{changed['id']}", {"price": "30.00"})
    harness.settle()

    assert retail_product_sets(harness) == 1
    after = retail_variants(harness, retail_ids)
    assert {sku: v["id"] for sku, v in after.items()} == {
        sku: v["id"] for sku, v in before.items()
    }, "the retail variants were updated, not recreated"
    assert {v["available"] for v in after.values()} == {777}, "productSet wrote no stock"
    repriced = {f"PARTNER-north-star-roasters-{v['sku']}" for v in changed["variants"]}
    assert {after[sku]["price"] for sku in repriced} == {"39.00"}  # the default 30% markup
    assert {after[sku]["price"] for sku in after if sku not in repriced} == {
        before[sku]["price"] for sku in before if sku not in repriced
    }
