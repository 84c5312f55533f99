"""In Chromium: re-importing a product at another markup asks before it changes the prices the
retail store charges, and the catalog shows those live prices beside the preview."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from powerpact.catalog.pricing import MarkupRule, Rounding, retail_price
from powerpact.extensions import db
from powerpact.models import ImportJob
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_forms import NORTH, RETAIL, open_north_page

pytestmark = pytest.mark.browser
AT_95 = MarkupRule(value=Decimal(30), rounding=Rounding.TO_95)


def live_prices(harness, title: str) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    """What the sandbox's retail store charges for the imported product, by partner SKU."""
    [product] = [p for p in harness.shop(RETAIL)["products"] if p["title"] == title]
    return {
        v["sku"].removeprefix("PARTNER-north-star-roasters-"): Decimal(v["price"])
        for v in product["variants"]
    }


def partner_prices(harness, title: str) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    [product] = [p for p in harness.shop(NORTH)["products"] if p["title"] == title]
    return {v["sku"]: Decimal(v["price"]) for v in product["variants"]}


def viewport_shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The top of the page, as the admin sees it (the catalog runs to many screens)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def import_jobs() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ImportJob)) or 0


def test_a_re_import_at_another_markup_asks_before_it_reprices_live_products(live, page):
    harness, _ = live
    open_north_page(live, page, "catalog?value=30&rounding=99")
    page.wait_for_load_state("networkidle")
    first_row = page.locator("table.catalog tbody tr").first
    title = first_row.locator(".product-cell strong").inner_text()
    box = page.get_by_role("checkbox", name=f"Select {title}")
    bulk = page.get_by_role("group", name="Import the selected products")
    assert not bulk.is_visible()
    select_all = page.get_by_role("checkbox", name="Select every product on this page")
    select_all.check()
    products = page.locator("input[name=product_id]").count()
    bulk.get_by_text(f"{products} selected").wait_for(timeout=5000)
    select_all.uncheck()
    bulk.wait_for(state="hidden", timeout=5000)

    # 1. Import it at 30% ending .99.
    box.check()
    bulk.get_by_text("1 selected").wait_for(timeout=5000)
    viewport_shot(page, "admin-catalog-selected")
    bulk.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/admin/imports/**", timeout=30000)
    page.get_by_text("All imported").wait_for(timeout=30000)
    before = live_prices(harness, title)
    assert all(str(price).endswith(".99") for price in before.values())

    # 2. Back on the catalog at 30% ending .95: the live price, with the preview beside it.
    page.get_by_role("link", name="Back to North Star Roasters · Catalog").click()
    page.wait_for_url("**/catalog**")
    page.locator("select[name=rounding]").select_option("95")
    page.locator(".toolbar", has_text="Retail prices use: 30%, ending .95").wait_for(timeout=5000)
    first_price = page.locator("table.catalog tbody tr").first.locator("td.retail-price")
    sku = page.locator("table.catalog tbody tr").first.locator("td").nth(2).inner_text().split()[-1]
    expected = {
        s: retail_price(p, AT_95, "USD").price for s, p in partner_prices(harness, title).items()
    }
    assert first_price.inner_text() == (
        f"{before[sku]} USD live · {expected[sku]} at 30%, ending .95"
    )
    viewport_shot(page, "admin-catalog-live-prices")

    # 3. Import it again: a modal lists every price that would change, and imports nothing yet.
    page.get_by_role("checkbox", name=f"Select {title}").check()
    page.get_by_role("button", name="Import", exact=True).click()
    modal = page.get_by_role("dialog", name=re.compile(r"Change \d+ live prices?\?"))
    modal.wait_for(timeout=10000)
    text = modal.inner_text()
    assert title in text
    assert f"{before[sku]} USD" in text and f"{expected[sku]} USD" in text
    assert f"{expected[sku] - before[sku]:+f}" in text
    assert modal.locator("tbody tr").count() == len(before)
    viewport_shot(page, "admin-catalog-reprice-modal")
    assert import_jobs() == 1

    # 4. Cancel: nothing is sent, the retail store keeps its prices.
    modal.get_by_role("button", name="Cancel").click()
    modal.wait_for(state="detached", timeout=5000)
    assert live_prices(harness, title) == before
    assert import_jobs() == 1

    # 5. Ask again and confirm: the prices change, and the import says so.
    page.get_by_role("button", name="Import", exact=True).click()
    modal = page.get_by_role("dialog", name=re.compile(r"Change \d+ live prices?\?"))
    modal.get_by_role("button", name="Reprice and import").click()
    page.wait_for_url("**/admin/imports/**", timeout=30000)
    page.get_by_text("All imported").wait_for(timeout=30000)
    assert "1 repriced" in page.locator("#import-progress").inner_text()
    assert live_prices(harness, title) == expected

    # 6. The catalog shows the new live price, which the markup now matches.
    page.get_by_role("link", name="Back to North Star Roasters · Catalog").click()
    page.wait_for_url("**/catalog**")
    page.goto(page.url.split("?")[0] + "?value=30&rounding=95")
    page.wait_for_load_state("networkidle")
    cell = page.locator("table.catalog tbody tr").first.locator("td.retail-price")
    assert cell.inner_text() == f"{expected[sku]} USD live"
