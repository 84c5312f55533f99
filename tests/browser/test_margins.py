"""In Chromium: the margins page draws its chart, sorts its table by margin, and follows
the period and a partner's products."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, OrderSyncLine, RetailPriceSource
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"
D = Decimal


def sales() -> None:
    """Eight weeks of sales: North Star's blends at a wide margin, Harbor's beans at a narrow
    one but more of them, so that their order by revenue is not their order by margin."""
    now = utcnow()
    plans = [
        (NORTH, "Morning Blend", D("10.00"), D("16.00"), 1),
        (NORTH, "Espresso Roast", D("12.00"), D("19.50"), 1),
        (HARBOR, "Harbor House", D("9.00"), D("10.50"), 6),
    ]
    number = 0
    for day in range(0, 56, 2):
        for domain, product, cost, price, quantity in plans:
            number += 1
            order = OrderSync(
                bubbly_order_id=f"gid://shopify/Order/{number}",
                bubbly_order_name=f"#{1000 + number}",
                partner_shop_domain=domain,
                currency="USD",
                status=OrderStatus.FULFILLED,
                created_at=now - timedelta(days=day, hours=1),
            )
            order.lines.append(
                OrderSyncLine(
                    bubbly_line_item_id=f"gid://shopify/LineItem/{number}",
                    bubbly_variant_id=f"gid://shopify/ProductVariant/{product.replace(' ', '')}",
                    title=f"{product} - 250g",
                    product_title=product,
                    quantity=quantity,
                    partner_unit_price=cost,
                    retail_unit_price=price,
                    retail_discount=D("0"),
                    retail_price_source=RetailPriceSource.ORDER,
                )
            )
            db.session.add(order)
    db.session.commit()


def first_column(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        text.split("\n")[0].strip()
        for text in page.locator("#margin-table tbody th[scope=row]").all_inner_texts()
    ]


def test_the_margins_page_draws_its_chart_and_sorts_by_margin(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    sales()

    page.goto(f"{base}/dev/login/{RETAIL}")
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Margins").click()
    page.wait_for_url("**/admin/margins")
    page.get_by_role("heading", name="Margins", level=1).wait_for()
    assert page.get_by_role("heading", name="Margins", level=1).is_visible()

    card = page.locator("#chart-margins")
    chart = card.get_by_role("img", name="Gross margin per week")
    assert chart.is_visible() and chart.bounding_box()["height"] > 150
    assert card.locator("svg rect").count() >= 10
    assert "North Star Roasters" in card.locator(".chart-legend").inner_text()
    card.get_by_text("Show data").click()
    assert card.get_by_role("table").is_visible()
    screenshot(page, "admin-margins")

    # 30 days, 15 orders each: North Star 15 x (6.00 + 7.50) = 202.50 on 532.50 of revenue;
    # Harbor 15 x 6 x 1.50 = 135.00 on 945.00
    assert first_column(page) == ["North Star Roasters", "Harbor Bean Co."]
    margin = page.get_by_role("columnheader", name="Gross margin")
    assert margin.get_attribute("aria-sort") == "descending"
    margin.get_by_role("link").click()
    page.wait_for_function(
        "document.querySelector('#margin-table th[aria-sort=ascending]') !== null"
    )
    assert first_column(page) == ["Harbor Bean Co.", "North Star Roasters"]
    assert "dir=asc" in page.url

    revenue = page.get_by_role("columnheader", name="Retail revenue")
    revenue.get_by_role("link").click()
    page.wait_for_function(
        "document.querySelector('#margin-table th[aria-sort=descending] a')?.textContent"
        ".includes('Retail revenue')"
    )
    assert first_column(page) == ["Harbor Bean Co.", "North Star Roasters"]

    # the period keeps the table's order; 90 days take in all eight weeks
    page.get_by_label("Period").select_option("90")
    page.wait_for_function(
        "document.querySelector('#chart-margins')?.textContent.includes('Last 90 days')"
    )
    totals = page.locator("#margin-table tfoot").inner_text()
    assert "630.00" in totals  # 28 orders each: 28 x (13.50 + 9.00)
    assert "sort=revenue" in page.url and "days=90" in page.url

    page.get_by_role("link", name="North Star Roasters").click()
    page.wait_for_function(
        "document.querySelector('#margin-table th a')?.textContent.includes('Product')"
    )
    assert first_column(page) == ["Espresso Roast", "Morning Blend"]
