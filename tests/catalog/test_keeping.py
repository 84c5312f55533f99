"""Partner product changes reach the imported retail product once per event; sales do not."""

import copy

import pytest
from sqlalchemy import select

from powerpact.catalog.digest import product_digest, webhook_digest
from powerpact.catalog.imports import create_import_job, custom_id, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.models import ProductMap
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.catalog.test_imports import PARTNER, RETAIL, RetailProducts, partner_product
from tests.factories import PartnerStoreFactory, RetailStoreFactory
from tests.webhook_bodies import product_body


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
    send_webhook("products/update", product_body(1), shop=PARTNER, webhook_id="u1", event_id="e1")
    send_webhook("products/update", product_body(1), shop=PARTNER, webhook_id="u2", event_id="e1")
    assert delivery_by_webhook_id("u1").result == {"outcome": "updated", "variants_added": 1}
    assert shopify.count("ProductSet") == 2  # the import, then one re-price for one event
    variants = retail.products[custom_id(PARTNER, "gid://shopify/Product/1")]["input"]["variants"]
    assert variants[0]["price"] == "26.00"
    assert len(maps(db_session)) == 3


def test_a_removed_variant_is_flagged_on_its_map(imported, send_webhook, db_session):
    catalog, _, _ = imported
    catalog["gid://shopify/Product/1"] = partner_product(1, variants=1)
    send_webhook("products/update", product_body(1), shop=PARTNER)
    assert [m.partner_variant_missing for m in maps(db_session)] == [False, True]


@pytest.mark.parametrize(
    ("topic", "payload"),
    [("products/delete", {"id": 1}), ("products/update", product_body(1, status="archived"))],
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
    send_webhook("products/update", product_body(1), shop=PARTNER, webhook_id="gone")
    assert delivery_by_webhook_id("gone").result == {"outcome": "archived: the product is gone"}
    assert len(archived) == 1


def test_products_never_imported_are_left_alone(imported, send_webhook, shopify):
    send_webhook("products/update", product_body(77), shop=PARTNER, webhook_id="other")
    send_webhook("products/delete", {"id": 77}, shop=PARTNER, webhook_id="other-del")
    assert delivery_by_webhook_id("other").result == {"outcome": "not imported"}
    assert delivery_by_webhook_id("other-del").result == {"outcome": "not imported"}


def rest_payload(product, stock=5):
    """The ``products/update`` payload (the REST product resource) of a partner product."""
    names = [o["name"] for o in product["options"]]
    return {
        "id": int(product["id"].rsplit("/", 1)[1]),
        "admin_graphql_api_id": product["id"],
        "title": product["title"],
        "body_html": product["descriptionHtml"],
        "vendor": product["vendor"],
        "product_type": product["productType"],
        "status": product["status"].lower(),
        "tags": ", ".join(product["tags"]),
        "options": [
            {"name": o["name"], "position": 1, "values": o["values"]} for o in product["options"]
        ],
        "image": {"src": product["featuredImage"]["url"]},
        "variants": [
            {
                "id": int(v["id"].rsplit("/", 1)[1]),
                "admin_graphql_api_id": v["id"],
                "sku": v["sku"],
                "price": v["price"][:-1],  # "12.0": the same price written otherwise
                "compare_at_price": v["compareAtPrice"],
                "inventory_quantity": stock,
                **{
                    f"option{i + 1}": o["value"]
                    for i, o in enumerate(v["selectedOptions"])
                    if o["name"] in names
                },
            }
            for v in product["variants"]["nodes"]
        ],
    }


def test_the_payload_and_the_queried_product_have_one_digest_whatever_the_stock():
    product = partner_product(1)
    assert webhook_digest(rest_payload(product, stock=5)) == product_digest(product)
    assert webhook_digest(rest_payload(product, stock=0)) == product_digest(product)
    repriced = copy.deepcopy(product)
    repriced["variants"]["nodes"][1]["price"] = "13.50"
    assert product_digest(repriced) != product_digest(product)
    assert webhook_digest(rest_payload(repriced)) == product_digest(repriced)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(title="Roast One"),
        lambda p: p.update(descriptionHtml="<p>Other</p>"),
        lambda p: p.update(status="DRAFT"),
        lambda p: p.update(tags=["decaf"]),
        lambda p: p.update(featuredImage={"url": "http://127.0.0.1:8765/img/new.svg"}),
        lambda p: p["options"][0]["values"].reverse(),
        lambda p: p["variants"]["nodes"][0].update(sku="R1-NEW"),
        lambda p: p["variants"]["nodes"][0].update(compareAtPrice="20.00"),
        lambda p: p["variants"]["nodes"].pop(),
    ],
)
def test_every_imported_field_changes_the_digest(change):
    product = partner_product(1)
    changed = copy.deepcopy(product)
    change(changed)
    assert product_digest(changed) != product_digest(product)


def test_a_payload_missing_an_imported_field_has_no_digest():
    assert webhook_digest({"id": 1}) is None
    assert webhook_digest(rest_payload(partner_product(1)) | {"variants": "x"}) is None


def test_a_sale_changes_nothing_and_calls_nothing(imported, send_webhook, db_session, shopify):
    before = len(shopify.calls)
    payload = rest_payload(partner_product(1), stock=3)
    send_webhook("products/update", payload, shop=PARTNER, webhook_id="sale")
    assert delivery_by_webhook_id("sale").result == {"outcome": "unchanged"}
    assert shopify.calls[before:] == []


def test_an_unreadable_payload_of_an_unchanged_product_reads_it_once_and_sets_nothing(
    imported, send_webhook, shopify
):
    send_webhook("products/update", product_body(1), shop=PARTNER, webhook_id="bare")
    assert delivery_by_webhook_id("bare").result == {"outcome": "unchanged"}
    assert shopify.count("ProductForImport") == 2  # the import, then this check
    assert shopify.count("ProductSet") == 1


def test_a_stale_payload_is_checked_against_the_product_as_it_is_now(
    imported, send_webhook, shopify
):
    stale = copy.deepcopy(partner_product(1))
    stale["variants"]["nodes"][0]["price"] = "9.00"
    send_webhook("products/update", rest_payload(stale), shop=PARTNER, webhook_id="stale")
    assert delivery_by_webhook_id("stale").result == {"outcome": "unchanged"}
    assert shopify.count("ProductSet") == 1


def test_a_re_import_updates_known_variants_by_id_and_never_sets_their_stock(
    imported, send_webhook, db_session, shopify
):
    catalog, retail, _ = imported
    known = {m.partner_variant_id: m.bubbly_variant_id for m in maps(db_session)}
    product = partner_product(1, variants=3)
    product["variants"]["nodes"][0]["price"] = "20.00"
    catalog["gid://shopify/Product/1"] = product
    send_webhook("products/update", rest_payload(product), shop=PARTNER, webhook_id="price")
    assert delivery_by_webhook_id("price").result == {"outcome": "updated", "variants_added": 1}
    sent = retail.products[custom_id(PARTNER, "gid://shopify/Product/1")]["input"]["variants"]
    assert [v.get("id") for v in sent] == [*known.values(), None]
    assert ["inventoryQuantities" in v for v in sent] == [False, False, True]
    assert sent[2]["inventoryQuantities"][0]["quantity"] == 5, "a new variant: partner's stock"
    after = {m.partner_variant_id: m.bubbly_variant_id for m in maps(db_session)}
    assert {k: after[k] for k in known} == known
    assert {m.import_digest for m in maps(db_session)} == {product_digest(product)}
    send_webhook("products/update", rest_payload(product, 1), shop=PARTNER, webhook_id="sold")
    assert delivery_by_webhook_id("sold").result == {"outcome": "unchanged"}
    assert shopify.count("ProductSet") == 2


def test_a_product_restored_after_archiving_is_imported_again(
    imported, send_webhook, shopify, db_session
):
    product = partner_product(1)
    archived = rest_payload(product) | {"status": "archived"}
    send_webhook("products/update", archived, shop=PARTNER, webhook_id="archive")
    assert {m.import_digest for m in maps(db_session)} == {None}
    send_webhook("products/update", rest_payload(product), shop=PARTNER, webhook_id="restore")
    assert delivery_by_webhook_id("restore").result == {"outcome": "updated", "variants_added": 0}
    assert shopify.count("ProductSet") == 2
