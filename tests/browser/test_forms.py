"""In Chromium: the catalog's markup preview and its table, and the partner settings form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"


def open_north_page(live, page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Install the retail store and North, sign in as the retail admin, open North's ``name``."""
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == NORTH)
    ).one()
    page.goto(f"{base}/dev/login/{RETAIL}")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/admin/partners/{partner.id}/{name}")


def open_catalog(live, page) -> None:  # type: ignore[no-untyped-def]
    open_north_page(live, page, "catalog")
    page.locator("table.catalog").wait_for()


def test_retail_prices_follow_the_markup_as_it_is_typed(live, page):
    open_catalog(live, page)
    markup = page.get_by_label("Markup", exact=True)
    markup.fill("")
    markup.press_sequentially("100")
    page.locator(".toolbar", has_text="Retail prices use: 100%").wait_for(timeout=5000)
    assert markup.evaluate("el => el === document.activeElement")
    partner_price = page.locator("table.catalog tbody tr").first.locator("td").nth(4)
    retail = page.locator("table.catalog tbody tr").first.locator("td").nth(5)
    assert float(retail.inner_text().split()[0]) == 2 * float(partner_price.inner_text().split()[0])


def test_every_variant_row_lines_up_under_the_catalogs_headings(live, page):
    open_catalog(live, page)
    headers = page.locator("table.catalog thead th")
    price_header = headers.nth(4).bounding_box()
    stock_header = headers.nth(3).bounding_box()
    rows = page.locator("table.catalog tbody tr")
    later_variants = [
        i for i in range(rows.count()) if rows.nth(i).locator("td[rowspan]").count() == 0
    ]
    assert later_variants, "the sandbox catalog has a product with several variants"
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        price, stock = cells.nth(cells.count() - 2), cells.nth(cells.count() - 3)
        assert price.bounding_box()["x"] == price_header["x"], f"row {i}"
        assert stock.bounding_box()["x"] == stock_header["x"], f"row {i}"


def test_the_settings_show_only_the_fields_the_cadence_uses_and_keep_what_was_typed(live, page):
    open_north_page(live, page, "settings")
    cadence = page.locator("select[name=cadence]")
    weekday = page.locator("select[name=cutoff_weekday]")
    cutoff = page.locator("input[name=cutoff_time]")
    zone = page.locator("input[name=cutoff_timezone]")
    shown = {
        "immediate": (False, False, False),
        "daily": (False, True, True),
        "weekly": (True, True, True),
    }
    for choice, visible in shown.items():
        cadence.select_option(choice)
        assert (weekday.is_visible(), cutoff.is_visible(), zone.is_visible()) == visible, choice

    page.locator("select[name=ship_to]").select_option("fulfilment_centre")
    cutoff.fill("25:99")
    page.locator("input[name=markup_value]").fill("42")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".field-error").first.wait_for()
    assert cadence.input_value() == "weekly"
    assert cutoff.input_value() == "25:99"
    assert page.locator("input[name=markup_value]").input_value() == "42"
    error = page.locator("#cutoff_time-error").bounding_box()
    field = cutoff.bounding_box()
    assert error["y"] >= field["y"] + field["height"] - 1
    assert abs(error["x"] - field["x"]) < 2, "the error sits under its field"
