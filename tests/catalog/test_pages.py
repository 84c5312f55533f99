"""A partner's catalog (htmx fragments, one GraphQL call), imports and their progress."""

import pytest
from sqlalchemy import select

from powerpact.models import ImportJob, RunStatus
from tests.catalog.test_imports import (
    PARTNER,
    RetailProducts,
    partner_product,
    serve_products,
)
from tests.embedded_requests import post_as
from tests.factories import (
    PartnerStoreFactory,
    ProductMapFactory,
    RetailStoreFactory,
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
    assert "No products yet" in page  # no filter narrowed the list: nothing to clear
    from tests.shopify_double import Answer

    shopify.on(PARTNER, "CatalogProducts", lambda v: (_ for _ in ()).throw(Answer(401)))
    page = as_shop(f"/admin/partners/{partner.id}/catalog", retail).get_data(as_text=True)
    assert "could not be read" in page
    assert as_shop("/admin/partners/999/catalog", retail).status_code == 404


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


def test_an_absurd_fixed_markup_in_the_catalog_says_its_limit(as_shop, stores, shopify):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    page = as_shop(f"/admin/partners/{partner.id}/catalog?kind=fixed&value=10000000000", retail)
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


def test_the_catalog_needs_the_retail_role(as_shop, stores):
    partner, _ = stores
    assert as_shop(f"/admin/partners/{partner.id}/catalog", partner).status_code == 403


def test_an_empty_markup_is_an_error_not_the_default(as_shop, stores, shopify):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    page = as_shop(f"/admin/partners/{partner.id}/catalog?kind=percentage&value=", retail)
    assert page.status_code == 200
    assert "Enter a markup" in page.get_data(as_text=True)


def test_an_empty_markup_does_not_import_at_the_default(client, session_token, stores):
    partner, retail = stores
    response = post_as(
        client,
        session_token,
        retail,
        f"/admin/partners/{partner.id}/imports",
        {"product_id": "gid://shopify/Product/1", "kind": "percentage", "value": " "},
    )
    assert "Enter a markup" in response.get_data(as_text=True)


def test_a_filtered_empty_catalog_offers_to_clear_the_filters_and_keeps_the_markup(
    as_shop, stores, shopify
):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([]))
    html = as_shop(
        f"/admin/partners/{partner.id}/catalog?q=nothing&unimported=1&value=40&rounding=95", retail
    ).get_data(as_text=True)
    assert "No products match" in html
    clear = html.split(">Clear filters<")[0].rsplit('href="', 1)[1].split('"')[0]
    assert clear == f"/admin/partners/{partner.id}/catalog?value=40&amp;rounding=95"


def test_the_catalog_page_follows_the_admins_page_layout(as_shop, stores, shopify):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    html = as_shop(f"/admin/partners/{partner.id}/catalog", retail, htmx=False).get_data(
        as_text=True
    )
    assert "<h1>Alice Roasters · Catalog</h1>" in html
    assert 'href="/admin/partners" aria-label="Back to Partners"' in html
    assert 'hx-indicator="#catalog-loading"' in html and 'id="catalog-loading"' in html
    assert "data-select-all" in html and "data-select-row" in html
    assert "data-bulk-bar hidden" in html  # shown once a product is ticked
