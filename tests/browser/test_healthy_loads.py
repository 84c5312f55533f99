"""In Chromium: a healthy page load shows no console error and no 4xx answer.

A page opened without a session token in its URL (a reload once ``embedded.js`` has
taken the token out of the address bar, a bookmark, Shopify's admin opening it) starts
on the bounce page, which asks App Bridge for a token and loads the page again. That
step answered 401, so every healthy load printed a failed request in the console and
logged a refusal.
"""

from __future__ import annotations

import pytest

from tests.browser.test_history_and_export import collect_trouble
from tests.browser.test_pages_in_chromium import NORTH, RETAIL, add_orders, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("shop", "path", "shown"),
    [
        (RETAIL, "/admin/orders", "#desk-table"),
        (NORTH, "/partner/orders", "#orders-table"),
    ],
    ids=["admin", "partner"],
)
def test_opening_and_reloading_a_page_shows_no_error(live, page, shop, path, shown):
    harness, base = live
    for domain in (RETAIL, NORTH):
        harness.install(domain)
    add_orders(NORTH, ["#5101"])
    sign_in(page, base, shop)
    trouble = collect_trouble(page)

    page.goto(f"{base}{path}")
    page.wait_for_url(f"**{path}**")
    page.locator(shown).wait_for()
    page.wait_for_load_state("networkidle")
    assert "id_token" not in page.url

    page.reload()
    page.locator(shown).wait_for()
    page.wait_for_load_state("networkidle")
    assert "#5101" in page.locator(shown).inner_text()
    assert trouble == []
