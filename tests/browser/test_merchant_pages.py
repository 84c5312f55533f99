"""In Chromium: the partners list keeps its "Last stock sync" current (bug 7), Send batch now
asks first, the settings say "Settings saved" in a toast, and the sync history keeps its API
figures behind a toggle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.models import (
    Cadence,
    OrderStatus,
    OrderSync,
    PartnerStore,
    ProductMap,
    RetailStore,
    SyncRun,
)
from powerpact.templating import local_time
from tests.browser.conftest import screenshot
from tests.browser.test_pages_in_chromium import HARBOR, NORTH, RETAIL, sign_in
from tests.browser.test_walkthrough import import_two_directly

pytestmark = pytest.mark.browser
TOAST = ".sandbox-toasts [role=status]"


def north_with_imports(harness) -> PartnerStore:  # type: ignore[no-untyped-def]
    """The retail store and North installed, two of North's products imported."""
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    import_two_directly(NORTH)
    return db.session.scalars(select(PartnerStore).where(PartnerStore.shop_domain == NORTH)).one()


def open_partners(page, base: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/partners")
    page.wait_for_load_state("networkidle")


def last_sync_cell(page):  # type: ignore[no-untyped-def]
    """North's "Last stock sync" on the partners list (its fifth column)."""
    table = page.locator(".table-card table")
    assert table.locator("thead th").nth(4).inner_text() == "Last stock sync"
    return table.locator("tbody tr", has_text="North Star Roasters").locator("td").nth(4)


def test_sync_now_brings_the_last_stock_sync_up_to_date_without_a_reload(live, page):
    """Bug 7: the partner's "Last stock sync" said Never after Sync now until a reload."""
    harness, base = live
    partner = north_with_imports(harness)
    open_partners(page, base)
    last_sync = last_sync_cell(page)
    assert last_sync.inner_text() == "Never"
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))

    held = []
    page.route("**/admin/inventory/sync", lambda route: held.append(route))
    row = page.locator(".table-card tbody tr", has_text="North Star Roasters")
    button = row.locator("form.inline-form button", has_text="Sync now")
    button.click()
    page.wait_for_function("() => document.querySelector('[aria-busy=true]') !== null")
    assert button.get_attribute("aria-busy") == "true", "loading while its request runs"
    assert button.is_disabled(), "and disabled meanwhile (hx-disabled-elt)"
    spinner = button.evaluate("b => getComputedStyle(b, '::after').animationName")
    assert spinner == "pp-spin", "drawn as Polaris' loading button: a spinner"
    held[0].continue_()
    page.locator("#sync-status").get_by_text("Stock synced").wait_for(timeout=20000)
    assert button.get_attribute("aria-busy") is None

    page.wait_for_timeout(500)  # the swap has settled
    db.session.expire_all()
    run = db.session.scalars(select(SyncRun).where(SyncRun.partner_shop_domain == NORTH)).one()
    zone = db.session.scalars(select(RetailStore.timezone)).one()
    assert last_sync.inner_text() == local_time(run.finished_at, zone), "in the shop's zone"
    assert loads == [], "no reload"
    assert page.locator(f"#last-sync-{partner.id}").count() == 1, "swapped in place, not added"


def test_a_webhooks_stock_sync_shows_as_the_last_stock_sync(live, page):
    """Bug 7: syncs made by the partner's stock-change webhooks never showed."""
    harness, base = live
    partner = north_with_imports(harness)
    sku = db.session.scalars(
        select(ProductMap.partner_sku).where(ProductMap.partner_shop_domain == NORTH)
    ).first()
    harness.control("POST", f"/shops/{NORTH}/stock", {"sku": sku, "available": 7})
    harness.settle()
    inventory.apply_reported_changes(NORTH)  # the task the webhook scheduled 2 s later

    open_partners(page, base)
    assert last_sync_cell(page).inner_text() != "Never"
    assert partner.name == "North Star Roasters"
    page.get_by_role("link", name="Sync history").click()
    page.wait_for_url("**/admin/sync-runs**")
    row = page.locator("table.sync-runs tbody tr").first
    assert "Stock change" in row.inner_text() and "North Star Roasters" in row.inner_text()


def ready_orders(harness, partner: PartnerStore, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Customer orders of North's imported products, waiting for North's daily batch."""
    partner.cadence = Cadence.DAILY
    db.session.commit()
    product = db.session.scalars(
        select(ProductMap).where(ProductMap.partner_shop_domain == NORTH)
    ).first()
    stock = {"sku": product.partner_sku, "available": 50, "notify": False}
    harness.control("POST", f"/shops/{NORTH}/stock", stock)
    names = []
    for _ in range(count):
        line = {"sku": product.bubbly_sku, "quantity": 1}
        order = harness.control("POST", f"/shops/{RETAIL}/orders", {"lines": [line]})
        names.append(order["name"])
    harness.settle()
    db.session.expire_all()
    waiting = db.session.scalars(
        select(OrderSync).where(OrderSync.partner_shop_domain == NORTH)
    ).all()
    assert [o.status for o in waiting] == [OrderStatus.READY_FOR_SYNC] * count
    return names


def test_send_batch_now_asks_first_and_cancel_sends_nothing(live, page):
    harness, base = live
    partner = north_with_imports(harness)
    ready_orders(harness, partner, 2)
    open_partners(page, base)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/send-batch" in r.url else None)

    page.get_by_role("button", name="Send daily batch now (2)").click()
    modal = page.get_by_role("dialog", name="Send daily batch now?")
    modal.wait_for(timeout=5000)
    assert "2 orders are waiting for the daily batch to North Star Roasters." in modal.inner_text()
    modal.get_by_role("button", name="Cancel").click()
    modal.wait_for(state="detached", timeout=5000)
    assert sent == []
    db.session.expire_all()
    assert {o.status for o in db.session.scalars(select(OrderSync))} == {OrderStatus.READY_FOR_SYNC}

    page.get_by_role("button", name="Send daily batch now (2)").click()
    page.get_by_role("dialog", name="Send daily batch now?").get_by_role(
        "button", name="Send batch"
    ).click()
    page.locator(TOAST, has_text="Sent 2 order(s) to North Star Roasters.").wait_for(timeout=15000)
    assert len(sent) == 1
    db.session.expire_all()
    assert {o.status for o in db.session.scalars(select(OrderSync))} == {OrderStatus.SYNCED}
    assert page.get_by_role("button", name="Send daily batch now", exact=True).is_visible()


def test_saving_the_store_settings_says_so_in_a_toast_and_a_refusal_stays_inline(live, page):
    harness, base = live
    harness.install(RETAIL)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/settings")
    page.wait_for_load_state("networkidle")
    hold = page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)")
    payments = page.get_by_label("Send orders whose payment is authorized but not yet captured")

    hold.fill("abc")
    payments.check()
    page.get_by_role("button", name="Save settings").click()
    error = page.locator("#risk_hold_minutes-error")
    error.wait_for(timeout=10000)
    assert hold.input_value() == "abc" and payments.is_checked(), "what was typed is kept"
    field = hold.bounding_box()
    assert error.bounding_box()["y"] >= field["y"] + field["height"] - 1, "under its field"
    assert page.locator(".sandbox-toasts [role=status], .sandbox-toasts [role=alert]").count() == 0

    hold.fill("5")
    page.get_by_role("button", name="Save settings").click()
    page.locator(TOAST, has_text="Settings saved").wait_for(timeout=10000)
    assert page.locator("#risk_hold_minutes-error").count() == 0
    db.session.expire_all()
    store = db.session.scalars(select(RetailStore)).one()
    assert (store.risk_hold_seconds, store.accept_authorized_payments) == (300, True)


def test_the_sync_history_keeps_the_api_figures_behind_a_toggle(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    now = utcnow()
    db.session.add(
        SyncRun(
            kind="inventory",
            partner_shop_domain=NORTH,
            status="succeeded",
            started_at=now - timedelta(seconds=3),
            finished_at=now,
            checked=120,
            changed=3,
            unchanged=117,
            api_calls=4,
            requested_cost=40,
            actual_cost=22,
            throttled=1,
        )
    )
    db.session.commit()
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/sync-runs")
    page.wait_for_load_state("networkidle")
    row = page.locator("table.sync-runs tbody tr").first
    assert "Checked 120 variants, changed 3, 0 errors" in row.inner_text()
    assert "North Star Roasters" in row.inner_text()
    figures = row.locator("details dl")
    assert not figures.is_visible()

    row.get_by_text("API usage").click()
    figures.wait_for(state="visible", timeout=5000)
    text = figures.inner_text()
    assert "22 of 40 requested" in text and "Throttled calls" in text


WIDTHS = {"wide": 1280, "narrow": 390}


def test_the_merchant_pages_fit_a_phone_and_a_desktop(live, browser):
    """Screenshots at 1280 and 390 wide (artifacts/screenshots/merchant-*.png); on a phone
    no page scrolls sideways, and the tables' cells carry their column's label."""
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    import_two_directly(NORTH)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == NORTH)
    ).one()
    ready_orders(harness, partner, 1)
    inventory.sync_partner(NORTH)
    pages = {
        "home": "/admin/",
        "partners": "/admin/partners",
        "partner-settings": f"/admin/partners/{partner.id}/settings",
        "store-settings": "/admin/settings",
        "sync-history": "/admin/sync-runs",
    }
    for size, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        sign_in(page, base, RETAIL)
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            if name == "sync-history":
                page.locator("details summary").first.click()
            screenshot(page, f"merchant-{name}-{size}")
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} scrolls sideways at {width} px ({overflow})"
        page.goto(f"{base}/admin/partners")
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Sync stock now (all partners)").click()
        page.locator("#sync-status").get_by_text("Stock synced").wait_for(timeout=20000)
        screenshot(page, f"merchant-partners-synced-{size}")
        if size == "narrow":
            label = page.evaluate(
                "getComputedStyle(document.querySelector('td[data-label=Status]'), '::before')"
                ".content"
            )
            assert label == '"Status"'
        page.get_by_role("button", name="Send daily batch now").click()
        page.get_by_role("dialog", name="Send daily batch now?").wait_for()
        screenshot(page, f"merchant-send-batch-{size}")
        context.close()
