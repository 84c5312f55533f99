"""In Chromium: a partner retries its failed order; an admin imports and bulk-retries."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus, OrderSync, OrderSyncLine, PartnerStore
from tests.browser.conftest import ARTIFACTS, screenshot, web_vitals

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"


def add_orders(domain: str, names: list[str], *, failed: bool = False) -> None:
    for name in names:
        order = OrderSync(
            bubbly_order_id=f"gid://shopify/Order/{abs(hash(name)) % 10**9}",
            bubbly_order_name=name,
            partner_shop_domain=domain,
            currency="USD",
            ship_to_city="Portland",
            ship_to_country="US",
            status=OrderStatus.FAILED if failed else OrderStatus.SYNCED,
            last_order_failure_reason=FailureReason.SHOPIFY_ERROR if failed else None,
            error_message="Shopify answered HTTP 502" if failed else None,
        )
        order.lines.append(
            OrderSyncLine(
                bubbly_line_item_id=f"li-{name}",
                title="House Blend 250g",
                quantity=2,
                partner_unit_price=12,
            )
        )
        db.session.add(order)
    db.session.commit()


def sign_in(page, base: str, shop: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/dev/login/{shop}")
    page.wait_for_load_state("networkidle")


def record_vitals(name: str, vitals: dict[str, float]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.vitals.json").write_text(json.dumps(vitals))
    print(f"{name}: LCP {vitals['lcp_ms']} ms, CLS {vitals['cls']:.4f}")


def test_a_partner_sees_only_its_orders_and_retries_a_failed_one(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#1101", "#1102"])
    add_orders(NORTH, ["#1103"], failed=True)
    add_orders(HARBOR, ["#2201"])

    sign_in(page, base, NORTH)
    assert "/partner/orders" in page.url
    table = page.locator("table.orders")
    assert table.locator("text=#1101").count() == 1
    assert page.locator("text=#2201").count() == 0
    assert "Shopify did not answer" in page.locator("#orders-table").inner_text()
    vitals = web_vitals(page)
    record_vitals("partner-orders", vitals)
    screenshot(page, "partner-orders")

    page.get_by_role("button", name="Retry").click()
    page.locator("#orders-table .badge", has_text="Ready for sync").wait_for(timeout=10000)
    screenshot(page, "partner-orders-retried")
    db.session.expire_all()
    row = db.session.scalars(select(OrderSync).where(OrderSync.bubbly_order_name == "#1103")).one()
    assert row.status == OrderStatus.READY_FOR_SYNC
    assert vitals["cls"] < 0.1


def test_an_admin_imports_two_products_and_watches_the_progress_finish(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == NORTH)
    ).one()
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/partners")
    page.get_by_role("link", name="Catalog").first.click()
    page.wait_for_url(f"**/admin/partners/{partner.id}/catalog**")
    boxes = page.locator("input[name=product_id]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    bulk = page.get_by_role("group", name="Import the selected products")
    bulk.get_by_text("2 selected").wait_for()
    screenshot(page, "admin-catalog")
    bulk.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/admin/imports/**", timeout=30000)
    page.locator("text=All imported").wait_for(timeout=30000)
    assert "2 imported" in page.locator("#import-progress").inner_text()
    screenshot(page, "admin-import-finished")
    imported = [p for p in harness.shop(RETAIL)["products"] if p["vendor"] == "North Star Roasters"]
    assert len(imported) == 2


def test_an_admin_bulk_retries_failed_orders(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#3101", "#3102"], failed=True)
    add_orders(HARBOR, ["#3201"], failed=True)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/orders")
    page.wait_for_load_state("networkidle")
    record_vitals("admin-desk", web_vitals(page))
    for box in page.locator("input[name=order_id]").all():
        box.check()
    screenshot(page, "admin-desk")
    page.locator("[data-bulk-bar]").get_by_role("button", name="Retry").click()
    page.locator("text=3 order(s) will be sent again shortly.").wait_for(timeout=10000)
    screenshot(page, "admin-desk-retried")
    db.session.expire_all()
    statuses = {o.status for o in db.session.scalars(select(OrderSync))}
    assert statuses == {OrderStatus.READY_FOR_SYNC}


def test_an_admin_sets_the_fraud_hold_and_sees_the_retail_stock_location(live, page):
    from powerpact.models import RetailStore

    harness, base = live
    harness.install(RETAIL)
    sign_in(page, base, RETAIL)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.wait_for_url("**/admin/settings**")
    hold = page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)")
    assert hold.input_value() == "2"
    page.get_by_role("heading", name="Retail stock location").wait_for()  # loaded by htmx
    hold.fill("abc")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("from 0 (no hold) to 60").wait_for()
    assert (
        page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)").input_value()
        == "abc"
    )
    page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)").fill("5")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Settings saved").wait_for()
    screenshot(page, "admin-settings")
    db.session.expire_all()
    assert db.session.scalars(select(RetailStore)).one().risk_hold_seconds == 300
