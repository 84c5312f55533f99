"""A variant's stock page (its history chart and table, its product's buffer) and the home's
low-stock list, as the retail admin, a partner and nobody see them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import ProductMap, StockChange, StockSource
from tests.admin.test_home import chart_section, table_cells
from tests.factories import ProductMapFactory
from tests.orders.test_pages import count_queries


@pytest.fixture
def low(personas, db_session):
    personas.alice.low_stock_threshold = 3
    personas.alice.safety_buffer = 2
    product_map = ProductMapFactory(
        partner=personas.alice,
        product_title="Kenya Nyeri",
        variant_title="250g",
        retail_available=1,
        created_at=utcnow() - timedelta(days=60),  # imported before the chart's 30 days
    )
    ProductMapFactory(partner=personas.alice, product_title="Plenty", retail_available=40)
    for days_ago, before, after, source in (
        (5, 9, 4, StockSource.HOURLY),
        (2, 4, 1, StockSource.WEBHOOK),
    ):
        db_session.add(
            StockChange(
                product_map_id=product_map.id,
                before=before,
                after=after,
                source=source,
                at=utcnow() - timedelta(days=days_ago),
            )
        )
    db_session.commit()
    return product_map


def test_the_home_lists_low_stock_with_partner_trend_and_a_link(as_shop, personas, low):
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    section = page[page.index('id="low-stock"') : page.index("</section>", page.index("low-stock"))]
    assert "Kenya Nyeri · 250g" in section and "Plenty" not in section
    assert f'href="/admin/stock/{low.id}"' in section
    rows = table_cells(section)
    assert rows == [["Alice", low.bubbly_sku, "1", "3", "\u22128"]]  # minus 8


def test_the_home_has_no_low_stock_section_when_nothing_is_low(as_shop, personas, low):
    low.retail_available = 4
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert 'id="low-stock"' not in page


def test_the_low_stock_list_costs_the_home_one_query_whatever_its_length(
    as_shop, personas, low, db_session
):
    as_shop("/admin/", personas.retail)
    with count_queries() as few:
        as_shop("/admin/", personas.retail)
    for _ in range(30):
        ProductMapFactory(partner=personas.bob, retail_available=0)
    db_session.commit()
    as_shop("/admin/", personas.retail)
    with count_queries() as many:
        page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert page.count('href="/admin/stock/') == 31
    assert len(many) == len(few)


def test_the_stock_page_draws_the_history_and_lists_the_changes(as_shop, personas, low):
    response = as_shop(f"/admin/stock/{low.id}", personas.retail, htmx=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    chart = chart_section(page, "chart-stock")
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg"' in chart
        and "<summary>Show data</summary>" in chart
    )
    rows = table_cells(chart)
    assert len(rows) == 30
    assert [row[1:] for row in rows[-7:]] == [
        ["9", "0"],
        ["4", "1"],
        ["4", "0"],
        ["4", "0"],
        ["1", "1"],
        ["1", "0"],
        ["1", "0"],
    ]
    assert "Stock webhook" in page and "Hourly sync" in page
    assert (
        "Alice's buffer: the retail store shows the partner's stock less 2" in page
        and "data-save-bar" in page
    )


def test_only_the_retail_admins_see_a_variants_stock(client, as_shop, personas, low):
    anonymous = client.get(f"/admin/stock/{low.id}", headers={"HX-Request": "true"})
    assert anonymous.status_code == 401
    assert "Kenya Nyeri" not in anonymous.get_data(as_text=True)
    partner = as_shop(f"/admin/stock/{low.id}", personas.alice)
    assert partner.status_code == 403
    assert "Kenya Nyeri" not in partner.get_data(as_text=True)
    partner_post = as_shop(f"/admin/stock/{low.id}", personas.bob, htmx=False)
    assert partner_post.status_code == 403
    assert as_shop(f"/admin/stock/{low.id + 999}", personas.retail).status_code == 404


def test_only_the_retail_admins_see_the_low_stock_list(client, as_shop, personas, low):
    anonymous = client.get("/admin/")
    assert "Kenya Nyeri" not in anonymous.get_data(as_text=True)
    partner = as_shop("/admin/", personas.alice)
    assert partner.status_code == 403 and "Kenya Nyeri" not in partner.get_data(as_text=True)
    assert "Kenya Nyeri" in as_shop("/admin/", personas.retail).get_data(as_text=True)


def test_the_partners_settings_show_its_buffer_and_threshold(as_shop, personas, shopify, low):
    shopify.on(personas.alice.shop_domain, "Locations", lambda _: {"locations": {"nodes": []}})
    page = as_shop(
        f"/admin/partners/{personas.alice.id}/settings", personas.retail, htmx=False
    ).get_data(as_text=True)
    assert 'name="safety_buffer" value="2"' in page
    assert 'name="low_stock_threshold" value="3"' in page
    listing = as_shop("/admin/partners", personas.retail, htmx=False).get_data(as_text=True)
    assert "Safety buffer: 2 held back" in listing


def test_an_import_starts_new_variants_below_the_buffer_and_the_catalog_links_their_stock(
    as_shop, shopify, db_session
):
    from powerpact.catalog.imports import create_import_job, run_import_job
    from tests.catalog.test_imports import RULE, RetailProducts, partner_product
    from tests.catalog.test_imports import serve_products as serve
    from tests.catalog.test_pages import catalog_answer
    from tests.factories import PartnerStoreFactory, RetailStoreFactory

    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com", safety_buffer=6)
    db_session.commit()
    serve(shopify, [partner_product(1)])  # stock 7 and 6
    products = RetailProducts(shopify)
    run_import_job(create_import_job(partner, ["gid://shopify/Product/1"], RULE).id)

    [made] = products.products.values()
    quantities = [v["inventoryQuantities"][0]["quantity"] for v in made["input"]["variants"]]
    assert quantities == [1, 0], "7 and 6 less the buffer of 6"
    maps = db_session.scalars(select(ProductMap).order_by(ProductMap.partner_variant_id)).all()
    assert [(m.product_title, m.variant_title, m.retail_available) for m in maps] == [
        ("Roast 1", "250g", 1),
        ("Roast 1", "500g", 0),
    ]
    shopify.on(
        partner.shop_domain, "CatalogProducts", lambda v: catalog_answer([partner_product(1)])
    )
    html = as_shop(f"/admin/partners/{partner.id}/catalog", retail).get_data(as_text=True)
    for product_map in maps:
        assert f'href="/admin/stock/{product_map.id}"' in html
