"""In Chromium: Back after a full page load, and a partner's CSV export of the filtered table."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser.test_pages_in_chromium import HARBOR, NORTH, RETAIL, add_orders, sign_in

pytestmark = pytest.mark.browser


def collect_trouble(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console errors, htmx error events and 4xx/5xx answers seen by the page."""
    trouble: list[str] = []
    page.on("console", lambda m: m.type == "error" and trouble.append(f"console: {m.text}"))
    page.on("response", lambda r: r.status >= 400 and trouble.append(f"{r.status} {r.url}"))
    return trouble


def test_back_onto_the_first_loaded_page_shows_that_page(live, page):
    harness, base = live
    harness.install(RETAIL)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/")
    page.wait_for_load_state("networkidle")
    trouble = collect_trouble(page)
    page.evaluate(
        """() => document.body.addEventListener('htmx:historyCacheMissLoadError',
                 () => console.error('htmx:historyCacheMissLoadError'))"""
    )
    page.get_by_role("link", name="Orders", exact=True).click()
    page.wait_for_url("**/admin/orders**")
    page.locator("#desk-table").wait_for()

    page.go_back()
    page.wait_for_url(f"{base}/admin/")
    page.get_by_role("heading", name="Orders today").wait_for(timeout=10000)
    assert page.locator("#desk-table").count() == 0
    assert page.title() == "PowerPact · Home"
    assert trouble == []


def test_a_partner_exports_the_filtered_table_and_stays_on_it(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#4101", "#4102"])
    add_orders(NORTH, ["#4103"], failed=True)
    add_orders(HARBOR, ["#4201"], failed=True)
    sign_in(page, base, NORTH)
    trouble = collect_trouble(page)

    page.locator("#order-filters select[name=status]").select_option("failed")
    page.wait_for_url("**status=failed**")
    page.wait_for_load_state("networkidle")
    shown = page.locator("#orders-table tbody tr").all_inner_texts()
    assert len(shown) == 1 and "#4103" in shown[0]

    table_url = page.url
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert [row["retail_order"] for row in exported] == ["#4103"]
    assert {row["status"] for row in exported} == {"failed"}

    page.wait_for_timeout(1000)
    assert "Loading PowerPact" not in page.content()
    assert page.url == table_url
    assert page.locator("#orders-table tbody tr").count() == 1
    assert trouble == []


def test_a_control_changed_the_moment_a_boosted_page_shows_is_not_lost(live, page):
    """A boosted link swaps the new page in and, after htmx's settle delay, binds its controls.
    A filter changed in between (the next macrotask after the swap) must still be sent."""
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#4301"])
    add_orders(NORTH, ["#4302"], failed=True)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/")
    page.wait_for_load_state("networkidle")
    page.evaluate(
        """() => document.body.addEventListener('htmx:afterSwap', () => setTimeout(() => {
                 const status = document.querySelector('#desk-filters select[name=status]');
                 if (!status || status.value === 'failed') { return; }
                 status.value = 'failed';
                 status.dispatchEvent(new Event('change', {bubbles: true}));
               }, 0))"""
    )
    page.get_by_role("link", name="Orders", exact=True).click()
    page.wait_for_url("**status=failed**", timeout=5000)
