"""In Chromium: the order desk as a Polaris index table, an order's own page, and a partner's
orders with its navigation, its retailer and where each order ships."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderSync, OrderSyncEvent, PartnerStore, RetailStore, ShipTo
from powerpact.shops import display_name
from tests.browser.conftest import screenshot
from tests.browser.test_pages_in_chromium import HARBOR, NORTH, RETAIL, add_orders, sign_in

pytestmark = pytest.mark.browser
DETAIL = re.compile(r"/admin/orders/\d+(\?|$)")


def open_desk(page, base: str, query: str = "") -> None:  # type: ignore[no-untyped-def]
    page.set_default_timeout(10000)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/orders{query}")
    page.wait_for_load_state("networkidle")


def let_through(page, held: list[Route]) -> None:  # type: ignore[no-untyped-def]
    """Answer the one request held by ``page.route`` once it has arrived."""
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, held
    held[0].continue_()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_an_order_opens_on_its_own_page_and_back_returns_to_the_filtered_desk(live, page):
    """Bug 6: the timeline opened 2,400 px below the table, off screen, focus left behind."""
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, [f"#61{n:02d}" for n in range(20)])
    add_orders(HARBOR, ["#6201"])
    open_desk(page, base, f"?partner={NORTH}")
    table = page.locator("#desk-table")
    assert table.get_by_text("#6201").count() == 0

    def open_oldest() -> None:
        link = table.get_by_role("link", name="#6100", exact=True)
        link.scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 0, "the oldest order is below the fold"
        page.evaluate("window.stillThisDocument = true")
        link.click()
        page.wait_for_url(DETAIL)
        assert page.evaluate("window.stillThisDocument"), "htmx boosts the link: no reload"
        heading = page.get_by_role("heading", level=1, name="#6100")
        expect(heading).to_be_in_viewport()
        expect(heading).to_be_focused()

    open_oldest()
    assert "North Star Roasters" in page.locator("main").inner_text()
    back = page.get_by_role("link", name="Back to Orders")
    assert query_of(back.get_attribute("href") or "")["partner"] == [NORTH]
    back.click()
    page.wait_for_url(re.compile(r"/admin/orders\?"))
    assert query_of(page.url)["partner"] == [NORTH]
    expect(page.locator("#desk-filters select[name=partner]")).to_have_value(NORTH)
    expect(table.get_by_role("link", name="#6100", exact=True)).to_be_visible()
    assert table.get_by_text("#6201").count() == 0

    open_oldest()
    page.go_back()
    page.wait_for_url(re.compile(r"/admin/orders\?"))
    assert query_of(page.url)["partner"] == [NORTH]
    expect(table.get_by_role("link", name="#6100", exact=True)).to_be_visible()
    assert table.get_by_text("#6201").count() == 0


def test_an_order_page_loaded_afresh_focuses_its_heading(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    add_orders(NORTH, ["#6301"])
    order = db.session.scalars(select(OrderSync)).one()
    open_desk(page, base)
    page.goto(f"{base}/admin/orders/{order.id}?status=synced&partner=javascript:alert(1)")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", level=1, name="#6301")).to_be_focused()
    back = page.get_by_role("link", name="Back to Orders")
    assert back.get_attribute("href") == "/admin/orders?status=synced&sort=date"


def test_select_all_selects_the_failed_orders_and_the_bulk_bar_retries_them(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#6401"])
    add_orders(NORTH, ["#6402"], failed=True)
    add_orders(HARBOR, ["#6403"], failed=True)
    open_desk(page, base)
    table = page.locator("#desk-table")
    select_all = table.get_by_role("checkbox", name="Select every failed order on this page")
    bar = table.locator("[data-bulk-bar]")
    expect(bar).to_be_hidden()
    assert table.locator("input[name=order_id]").count() == 2  # the synced order has none

    table.get_by_role("checkbox", name="Select #6402").check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 selected")
    assert select_all.evaluate("box => box.indeterminate") is True

    select_all.check()
    expect(bar).to_contain_text("2 selected")
    assert select_all.evaluate("box => box.indeterminate") is False
    expect(table.get_by_role("checkbox", name="Select #6403")).to_be_checked()

    select_all.uncheck()
    expect(bar).to_be_hidden()
    select_all.check()
    retry = bar.get_by_role("button", name="Retry")
    held: list[Route] = []
    page.route("**/admin/orders/retry", lambda route: held.append(route))  # answered later
    retry.click()
    expect(retry).to_have_attribute("aria-busy", "true")
    expect(retry).to_be_disabled()
    let_through(page, held)
    toast = page.locator(".sandbox-toasts [role=status]")
    expect(toast).to_contain_text("2 order(s) will be sent again shortly.")
    expect(table.locator(".badge", has_text="Ready for sync")).to_have_count(2)
    expect(table.locator("[data-bulk-bar]")).to_have_count(0)  # nothing left to select
    assert table.get_by_role("button", name="Retry").count() == 0


def test_a_filtered_empty_desk_clears_its_filters(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    add_orders(NORTH, ["#6501"])
    open_desk(page, base)
    held: list[Route] = []
    page.route("**/admin/orders?*status=failed*", lambda route: held.append(route))
    page.locator("#desk-filters select[name=status]").select_option("failed")
    expect(page.locator("#desk-filters").get_by_role("status")).to_be_visible()  # loading
    let_through(page, held)
    page.wait_for_url("**status=failed**")
    expect(page.locator("#desk-filters").get_by_role("status")).to_be_hidden()
    empty = page.locator("#desk-table .empty-state")
    expect(empty).to_contain_text("No orders match these filters")
    empty.get_by_role("link", name="Clear filters").click()
    page.wait_for_url(re.compile(r"/admin/orders$"))
    expect(page.locator("#desk-table").get_by_role("link", name="#6501")).to_be_visible()
    expect(page.locator("#desk-filters select[name=status]")).to_have_value("")


LABELS_SHOWN = """table => Array.from(table.querySelectorAll('tbody td')).map(td => {
  const before = getComputedStyle(td, '::before');
  return {
    label: td.dataset.label || null,
    shown: before.content.replace(/^"|"$/g, ''),
    visible: td.getBoundingClientRect().width > 0 && before.display !== 'none',
  };
})"""


def test_on_a_narrow_screen_every_cell_keeps_its_label(live, browser):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    add_orders(NORTH, ["#6601"], failed=True)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_desk(page, base)
        table = page.locator("#desk-table table.orders")
        cells = table.evaluate(LABELS_SHOWN)
        labelled = [cell for cell in cells if cell["label"]]
        assert [cell["label"] for cell in labelled] == [
            "Order", "Partner", "Date", "Items", "Partner order", "Status"
        ]  # fmt: skip
        assert all(cell["shown"] == cell["label"] and cell["visible"] for cell in labelled), cells
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(table.locator("thead")).to_be_hidden()
    finally:
        context.close()


def test_a_partner_sees_its_nav_its_retailer_and_where_each_order_ships(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    add_orders(NORTH, ["#6701"], failed=True)
    add_orders(NORTH, ["#6702"])
    north = db.session.scalars(select(PartnerStore).where(PartnerStore.shop_domain == NORTH)).one()
    north.ship_to = ShipTo.FULFILMENT_CENTRE
    db.session.commit()
    page.set_default_timeout(10000)
    sign_in(page, base, NORTH)
    nav = page.get_by_role("navigation", name="PowerPact")
    expect(nav.get_by_role("link", name="Orders")).to_have_attribute("aria-current", "page")
    retail = db.session.scalars(select(RetailStore)).one()
    retailer = display_name(retail.name, retail.shop_domain)
    assert retailer != retail.shop_domain
    expect(nav).to_contain_text(f"Supplying {retailer}")
    expect(page.locator(".page-header")).to_contain_text(retailer)
    rows = page.locator("#orders-table tbody tr")
    for row in rows.all():
        expect(row.locator("td[data-label='Ship to']")).to_have_text("Fulfilment centre")
    assert "Portland" not in page.locator("#orders-table").inner_text()

    row = rows.filter(has_text="#6701")
    row.get_by_role("button", name="Retry").click()
    expect(page.locator(".sandbox-toasts [role=status]")).to_be_visible()
    expect(page.locator("#orders-table tr", has_text="#6701").locator(".badge")).to_have_text(
        "Ready for sync"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_order_pages_fit_the_screen_and_leave_screenshots(live, browser, width):
    """The desk, an order and a partner's orders, wide and narrow, in artifacts/screenshots/:
    nothing wider than the screen."""
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#6801", "#6802"])
    add_orders(HARBOR, ["#6803"], failed=True)
    add_orders(NORTH, ["#6804"], failed=True)
    order = db.session.scalars(
        select(OrderSync).where(OrderSync.bubbly_order_name == "#6802")
    ).one()
    order.order_shipping, order.order_tax = Decimal("7.50"), Decimal("7.16")
    order.shipping_share, order.tax_share = Decimal("2.74"), Decimal("2.62")
    order.events.append(OrderSyncEvent(kind="sent", message="Created partner order #1042."))
    db.session.commit()
    detail = order.id
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        open_desk(page, base)
        page.locator("input[name=order_id]").first.check()
        for name, url in (("desk", None), ("order", f"/admin/orders/{detail}")):
            if url:
                page.goto(f"{base}{url}")
                page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            screenshot(page, f"orders-{name}-{width}")
        sign_in(page, base, NORTH)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"orders-partner-{width}")
    finally:
        context.close()
