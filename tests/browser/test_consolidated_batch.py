"""In Chromium (#20, bug 9): a daily batch of 30 orders of one bag, sent with "Send daily batch
now", is one line of quantity 30 on the roaster's order, as the roaster sees it in its admin."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_pages_in_chromium import sign_in
from tests.e2e.test_consolidated_batches import ORDERS, thirty_orders_of_one_bag_waiting
from tests.e2e.test_orders import NORTH, RETAIL

pytestmark = pytest.mark.browser


def test_a_daily_batch_of_thirty_bags_is_one_line_on_the_roasters_order(live, page):
    harness, base = live
    thirty_orders_of_one_bag_waiting(harness)

    sign_in(page, base, RETAIL)
    page.get_by_role("link", name="Partners", exact=True).first.click()
    page.wait_for_url("**/admin/partners")
    page.locator("tr", has_text="North Star").get_by_role(
        "button", name="Send daily batch now"
    ).click()
    confirm = page.get_by_role("dialog", name="Send daily batch now?")
    assert f"{ORDERS} orders are waiting" in confirm.inner_text()
    confirm.get_by_role("button", name="Send batch").click()
    page.get_by_text(f"Sent {ORDERS} order(s) to North Star Roasters.").wait_for()
    harness.settle()

    page.get_by_role("link", name="Orders", exact=True).first.click()
    page.wait_for_url("**/admin/orders**")
    page.locator("table.orders tbody tr", has_text="North Star").first.locator(
        "a[href*='/admin/orders/']"
    ).first.click()
    page.wait_for_url("**/admin/orders/*")
    page.get_by_role("link", name="Partner order").click()
    page.wait_for_url(f"**/shops/{NORTH}/admin/orders/*")
    rows = page.locator("section", has_text="Items").locator("table").first.locator("tr")
    items = rows.all_inner_texts()[1:]  # under the heading row
    assert len(items) == 1, items
    cells = rows.nth(1).locator("td").all_inner_texts()
    assert cells[2] == str(ORDERS), cells
    assert cells[1].startswith("NSR-"), "the roaster's own SKU"
    screenshot(page, "consolidated-batch-partner-order")
