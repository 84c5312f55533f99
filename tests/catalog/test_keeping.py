"""Partner product changes reach the imported retail product once per event."""

import pytest
from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, custom_id, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.models import ProductMap
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.catalog.test_imports import PARTNER, RETAIL, RetailProducts, partner_product
from tests.factories import PartnerStoreFactory, RetailStoreFactory


@pytest.fixture
def imported(db_session, shopify):
    RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain=PARTNER, name="Alice")
    db_session.commit()
    catalog = {"gid://shopify/Product/1": partner_product(1)}
    shopify.on(PARTNER, "ProductForImport", lambda v: {"product": catalog.get(v["id"])})
    retail = RetailProducts(shopify)
    archived = []
    shopify.on(
        RETAIL,
        "ProductArchive",
        lambda v: (
            archived.append(v["id"])
            or {
                "productUpdate": {
                    "product": {"id": v["id"], "status": "ARCHIVED"},
                    "userErrors": [],
                }
            }
        ),
    )
    run_import_job(create_import_job(partner, ["gid://shopify/Product/1"], MarkupRule()).id)
    return catalog, retail, archived


def maps(db_session):
    return db_session.scalars(select(ProductMap).order_by(ProductMap.partner_variant_id)).all()


def test_a_price_change_and_a_new_variant_are_applied_with_the_stored_rule(
    imported, send_webhook, db_session, shopify
):
    catalog, retail, _ = imported
    product = partner_product(1, variants=3)
    product["variants"]["nodes"][0]["price"] = "20.00"
    catalog["gid://shopify/Product/1"] = product
    send_webhook("products/update", {"id": 1}, shop=PARTNER, webhook_id="u1", event_id="e1")
    send_webhook("products/update", {"id": 1}, shop=PARTNER, webhook_id="u2", event_id="e1")
    assert delivery_by_webhook_id("u1").result == {"outcome": "updated", "variants_added": 1}
    assert shopify.count("ProductSet") == 2  # the import, then one re-price for one event
    variants = retail.products[custom_id(PARTNER, "gid://shopify/Product/1")]["input"]["variants"]
    assert variants[0]["price"] == "26.00"
    assert len(maps(db_session)) == 3


def test_a_removed_variant_is_flagged_on_its_map(imported, send_webhook, db_session):
    catalog, _, _ = imported
    catalog["gid://shopify/Product/1"] = partner_product(1, variants=1)
    send_webhook("products/update", {"id": 1}, shop=PARTNER)
    assert [m.partner_variant_missing for m in maps(db_session)] == [False, True]


@pytest.mark.parametrize(
    ("topic", "payload"),
    [("products/delete", {"id": 1}), ("products/update", {"id": 1, "status": "archived"})],
)
def test_deleting_or_archiving_archives_the_retail_product_and_keeps_maps(
    imported, send_webhook, db_session, topic, payload
):
    _, retail, archived = imported
    send_webhook(topic, payload, shop=PARTNER)
    assert archived == [retail.products[custom_id(PARTNER, "gid://shopify/Product/1")]["id"]]
    assert len(maps(db_session)) == 2


def test_a_product_gone_by_the_time_we_pull_it_is_archived(imported, send_webhook):
    catalog, _, archived = imported
    catalog.clear()
    send_webhook("products/update", {"id": 1}, shop=PARTNER, webhook_id="gone")
    assert delivery_by_webhook_id("gone").result == {"outcome": "archived: the product is gone"}
    assert len(archived) == 1


def test_products_never_imported_are_left_alone(imported, send_webhook, shopify):
    send_webhook("products/update", {"id": 77}, shop=PARTNER, webhook_id="other")
    send_webhook("products/delete", {"id": 77}, shop=PARTNER, webhook_id="other-del")
    assert delivery_by_webhook_id("other").result == {"outcome": "not imported"}
    assert delivery_by_webhook_id("other-del").result == {"outcome": "not imported"}
