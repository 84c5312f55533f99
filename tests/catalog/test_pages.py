"""The partners page, a partner's catalog (htmx fragments, one GraphQL call), imports, Sync now."""

from urllib.parse import quote

import pytest
from sqlalchemy import select

from powerpact.models import ImportJob, RunStatus
from tests.catalog.test_imports import (
    PARTNER,
    RETAIL,
    RetailProducts,
    partner_product,
    serve_products,
)
from tests.factories import (
    OrderSyncFactory,
    PartnerStoreFactory,
    ProductMapFactory,
    RetailStoreFactory,
    SyncRunFactory,
)


@pytest.fixture
def stores(db_session):
    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(
        shop_domain=PARTNER,
        name="Alice Roasters",
        default_markup_rule={"kind": "percentage", "value": "30", "rounding": "99"},
    )
    db_session.commit()
    return partner, retail


def catalog_answer(products, has_next=False):
    return {
        "products": {
            "nodes": [
                {
                    **{
                        k: p[k]
                        for k in ("id", "title", "vendor", "productType", "status", "featuredImage")
                    },
                    "variants": {
                        "nodes": [
                            {
                                k: v[k]
                                for k in (
                                    "id",
                                    "title",
                                    "sku",
                                    "price",
                                    "compareAtPrice",
                                    "inventoryQuantity",
                                )
                            }
                            for v in p["variants"]["nodes"]
                        ]
                    },
                }
                for p in products
            ],
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": False,
                "startCursor": "s",
                "endCursor": "e",
            },
        }
    }


def test_partners_page_lists_partners_with_their_numbers(as_shop, stores, db_session):
    partner, _ = stores
    ProductMapFactory(partner=partner)
    ProductMapFactory(partner=partner, partner_variant_missing=True)
    OrderSyncFactory(partner=partner, failed=True)
    SyncRunFactory(partner_shop_domain=PARTNER, finished_at=partner.installed_at)
    PartnerStoreFactory(uninstalled=True, name="Gone Roasters")
    page = as_shop("/admin/partners", stores[1]).get_data(as_text=True)
    assert "Alice Roasters" in page and "Gone Roasters" in page
    assert "1 missing" in page
    assert "Uninstalled" in page
    assert 'hx-post="/admin/inventory/sync"' in page


def test_partners_page_empty_state_gives_the_install_link(as_shop, db_session):
    retail = RetailStoreFactory()
    page = as_shop("/admin/partners", retail).get_data(as_text=True)
    assert "No partner has connected yet" in page
    assert "/auth/install?shop=" in page


def test_catalog_page_shows_live_products_with_retail_prices(as_shop, stores, shopify):
    partner, retail = stores
    seen = []
    shopify.on(
        PARTNER,
        "CatalogProducts",
        lambda v: seen.append(v) or catalog_answer([partner_product(1)], has_next=True),
    )
    page = as_shop(
        f"/admin/partners/{partner.id}/catalog?q=roast&status=active", retail, htmx=False
    ).get_data(as_text=True)
    assert "Roast 1" in page and "15.99" in page  # 12.00 + 30%, to .99
    assert 'id="catalog-filters"' in page
    assert "Next" in page
    assert seen == [{"query": "roast status:active", "first": 50, "after": None}]


def test_catalog_fragment_for_htmx_is_only_the_results(as_shop, stores, shopify):
    partner, retail = stores
    ProductMapFactory(partner=partner, partner_product_id="gid://shopify/Product/1")
    shopify.on(
        PARTNER,
        "CatalogProducts",
        lambda v: catalog_answer([partner_product(1), partner_product(2)]),
    )
    fragment = as_shop(
        f"/admin/partners/{partner.id}/catalog?unimported=1&value=50&rounding=none", retail
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Roast 1" not in fragment and "Roast 2" in fragment
    assert "18.00" in fragment  # 12.00 + 50%
    assert shopify.count("CatalogProducts") == 1


def test_catalog_page_reports_a_bad_rule_and_an_unreachable_partner(as_shop, stores, shopify):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([]))
    page = as_shop(f"/admin/partners/{partner.id}/catalog?value=-3", retail).get_data(as_text=True)
    assert "cannot be negative" in page
    assert "No products match" in page
    from tests.shopify_double import Answer

    shopify.on(PARTNER, "CatalogProducts", lambda v: (_ for _ in ()).throw(Answer(401)))
    page = as_shop(f"/admin/partners/{partner.id}/catalog", retail).get_data(as_text=True)
    assert "could not be read" in page
    assert as_shop("/admin/partners/999/catalog", retail).status_code == 404


def post_as(client, session_token, shop, url, data):
    return client.post(
        url,
        data=data,
        headers={"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"},
    )


def test_importing_picked_products_redirects_to_a_progress_page_that_stops_polling(
    client, session_token, as_shop, stores, shopify, db_session
):
    partner, retail = stores
    serve_products(shopify, [partner_product(1), partner_product(2)])
    RetailProducts(shopify)
    response = post_as(
        client,
        session_token,
        retail,
        f"/admin/partners/{partner.id}/imports",
        {
            "product_id": ["gid://shopify/Product/1", "gid://shopify/Product/2"],
            "value": "30",
            "kind": "percentage",
            "rounding": "99",
        },
    )
    assert response.status_code == 204
    job = db_session.scalars(select(ImportJob)).one()
    assert response.headers["HX-Redirect"] == f"/admin/imports/{job.id}"
    assert job.status == RunStatus.SUCCEEDED
    page = as_shop(f"/admin/imports/{job.id}", retail).get_data(as_text=True)
    assert "2 imported" in page and "All imported" in page
    assert "Retail prices: 30%, ending .99." in page
    assert "every 1s" not in page


def test_a_running_import_polls_itself(as_shop, stores, db_session):
    partner, retail = stores
    from powerpact.catalog.imports import create_import_job
    from powerpact.catalog.pricing import MarkupRule

    job = create_import_job(partner, ["gid://shopify/Product/1"], MarkupRule())
    fragment = as_shop(f"/admin/imports/{job.id}", retail).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in fragment
    assert "1 remaining" in fragment
    assert as_shop("/admin/imports/999", retail).status_code == 404


def test_importing_nothing_or_with_a_bad_rule_says_why(client, session_token, stores):
    partner, retail = stores
    url = f"/admin/partners/{partner.id}/imports"
    assert "Pick at least one" in post_as(client, session_token, retail, url, {}).get_data(
        as_text=True
    )
    bad = post_as(client, session_token, retail, url, {"product_id": "x", "value": "abc"})
    assert bad.status_code == 422 and "must be a number" in bad.get_data(as_text=True)


def test_select_all_matching_imports_every_product_of_the_search(
    client, session_token, stores, shopify, db_session
):
    partner, retail = stores
    products = [partner_product(n) for n in (1, 2, 3)]
    shopify.on(
        PARTNER,
        "CatalogProductIds",
        lambda v: {
            "products": {
                "nodes": [{"id": p["id"], "title": p["title"]} for p in products],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            }
        },
    )
    serve_products(shopify, products)
    retail_products = RetailProducts(shopify)
    post_as(
        client,
        session_token,
        retail,
        f"/admin/partners/{partner.id}/imports",
        {"all_matching": "1", "q": "roast"},
    )
    assert len(retail_products.products) == 3


def test_sync_now_runs_and_reports_what_it_did(
    client, session_token, as_shop, stores, shopify, db_session
):
    partner, retail = stores
    pm = ProductMapFactory(partner=partner)
    db_session.commit()
    from tests.inventory.test_sync import Levels

    Levels(shopify, PARTNER, {pm.partner_variant_id: 3})
    retail_levels = Levels(shopify, RETAIL, {pm.bubbly_variant_id: 5})
    retail_levels.by_item = {pm.bubbly_inventory_item_id: pm.bubbly_variant_id}
    fragment = post_as(
        client, session_token, retail, "/admin/inventory/sync", {"partner": PARTNER}
    ).get_data(as_text=True)
    assert "Stock synced" in fragment
    assert retail_levels.quantities[pm.bubbly_variant_id] == 3
    assert "every 1s" not in fragment
    everyone = post_as(client, session_token, retail, "/admin/inventory/sync", {}).get_data(
        as_text=True
    )
    assert "Stock synced" in everyone
    assert (
        post_as(
            client,
            session_token,
            retail,
            "/admin/inventory/sync",
            {"partner": "nobody.myshopify.com"},
        ).status_code
        == 404
    )


def test_sync_status_polls_while_runs_are_missing(as_shop, stores):
    _, retail = stores
    from powerpact.db_types import utcnow

    since = quote(utcnow().isoformat())
    fragment = as_shop(f"/admin/inventory/sync?since={since}&expected=2", retail).get_data(
        as_text=True
    )
    assert "Syncing" in fragment and "every 1s" in fragment
    assert as_shop("/admin/inventory/sync?since=yesterday", retail).status_code == 400


def test_partners_need_the_retail_role(as_shop, stores):
    partner, _ = stores
    assert as_shop("/admin/partners", partner).status_code == 403
    assert as_shop(f"/admin/partners/{partner.id}/catalog", partner).status_code == 403


def test_sync_history_lists_runs_newest_first_and_filters(as_shop, stores):
    _, retail = stores
    SyncRunFactory(
        partner_shop_domain=PARTNER,
        status="failed",
        errors=[{"reason": "throttled"}],
        error_count=1,
    )
    SyncRunFactory(partner_shop_domain="other.myshopify.com", status="succeeded")
    page = as_shop("/admin/sync-runs", retail, htmx=False).get_data(as_text=True)
    assert "throttled" in page and "other.myshopify.com" in page
    fragment = as_shop(f"/admin/sync-runs?partner={PARTNER}&outcome=failed", retail).get_data(
        as_text=True
    )
    assert "<html" not in fragment and "other.myshopify.com" not in fragment
    assert "No syncs yet" in as_shop("/admin/sync-runs?outcome=running", retail).get_data(
        as_text=True
    )


def test_send_batch_now_button_reports_what_it_sent(client, session_token, stores, db_session):
    partner, retail = stores
    partner.cadence = "daily"
    db_session.commit()
    response = post_as(
        client, session_token, retail, f"/admin/partners/{partner.id}/send-batch", {}
    )
    assert "Nothing was waiting to be sent." in response.get_data(as_text=True)


def test_an_absurd_fixed_markup_in_the_catalog_says_its_limit(as_shop, stores, shopify):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    page = as_shop(f"/admin/partners/{partner.id}/catalog?kind=fixed&value=1e309", retail)
    assert page.status_code == 200
    assert "above 1,000,000,000" in page.get_data(as_text=True)


def test_the_catalog_pager_carries_only_the_catalogs_own_fields(as_shop, stores, shopify):
    """The pager once spread the whole query into ``url_for``: ``endpoint`` or
    ``partner_id`` in it broke the page, ``_external``/``_scheme`` changed the links."""
    partner, retail = stores
    shopify.on(
        PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)], has_next=True)
    )
    query = "q=roast&endpoint=x&partner_id=9&_external=1&_scheme=javascript&value=40"
    page = as_shop(f"/admin/partners/{partner.id}/catalog?{query}", retail)
    assert page.status_code == 200
    links = [part for part in page.get_data(as_text=True).split('"') if "after=e" in part]
    assert links, "the Next link is missing"
    for link in links:
        assert link.startswith(f"/admin/partners/{partner.id}/catalog?")
        assert "q=roast" in link and "value=40" in link
        assert "endpoint" not in link and "javascript" not in link and "partner_id" not in link


@pytest.mark.parametrize("product_id", ["x" * 10_240, "gid://shopify/Product/1 OR 1=1", "1"])
def test_an_import_of_something_that_is_no_product_id_is_refused(
    client, session_token, stores, product_id
):
    partner, retail = stores
    url = f"/admin/partners/{partner.id}/imports"
    response = post_as(client, session_token, retail, url, {"product_id": product_id})
    assert response.status_code == 422
    assert "not a product of the catalog" in response.get_data(as_text=True)
