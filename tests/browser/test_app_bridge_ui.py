"""In Chromium: results arrive as App Bridge toasts, questions in its modal, unsaved settings
raise its save bar and guard the way out (the sandbox draws them as the admin does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, PartnerStore, utcnow
from tests.browser.test_pages_in_chromium import HARBOR, NORTH, RETAIL, add_orders, sign_in

pytestmark = pytest.mark.browser


def hold_for_risk(name: str) -> None:
    order = db.session.scalars(select(OrderSync).where(OrderSync.bubbly_order_name == name)).one()
    order.status = OrderStatus.PENDING
    order.risk_hold_until = utcnow() + timedelta(hours=1)
    order.hold_reason = "Held for Shopify's fraud analysis"
    db.session.commit()


def test_a_bulk_retry_reports_in_a_toast(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    add_orders(NORTH, ["#5101", "#5102"], failed=True)
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/orders")
    page.wait_for_load_state("networkidle")
    for box in page.locator("input[name=order_id]").all():
        box.check()
    page.locator("[data-bulk-bar]").get_by_role("button", name="Retry").click()
    toast = page.locator(".sandbox-toasts [role=status]")
    toast.wait_for(timeout=10000)
    assert "2 order(s) will be sent again shortly." in toast.inner_text()


def test_release_asks_in_a_modal_and_cancel_sends_nothing(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    add_orders(NORTH, ["#5201"])
    hold_for_risk("#5201")
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/orders")
    page.wait_for_load_state("networkidle")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/release" in r.url else None)

    page.get_by_role("button", name="Release #5201").click()
    modal = page.get_by_role("dialog", name="Release #5201?")
    modal.wait_for(timeout=5000)
    assert "whatever Shopify's fraud analysis says" in modal.inner_text()
    modal.get_by_role("button", name="Cancel").click()
    modal.wait_for(state="detached", timeout=5000)
    assert requests == []
    db.session.expire_all()
    order = db.session.scalars(select(OrderSync)).one()
    assert order.risk_released_at is None

    page.get_by_role("button", name="Release #5201").click()
    page.get_by_role("dialog", name="Release #5201?").get_by_role("button", name="Release").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Released 1 partner order(s)").wait_for(
        timeout=10000
    )
    assert len(requests) == 1
    db.session.expire_all()
    assert db.session.scalars(select(OrderSync)).one().risk_released_at is not None


def test_unsaved_settings_raise_the_save_bar_and_guard_leaving(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == NORTH)
    ).one()
    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/partners/{partner.id}/settings")
    page.wait_for_load_state("networkidle")
    save_bar = page.get_by_role("region", name="Unsaved changes")
    assert not save_bar.is_visible()

    page.locator("select[name=ship_to]").select_option("fulfilment_centre")
    save_bar.wait_for(timeout=5000)

    page.get_by_role("navigation", name="PowerPact").get_by_role("link", name="Orders").click()
    leave = page.get_by_role("dialog", name="Leave page with unsaved changes?")
    leave.wait_for(timeout=5000)
    leave.get_by_role("button", name="Cancel").click()
    assert "/settings" in page.url
    assert page.locator("select[name=ship_to]").input_value() == "fulfilment_centre"

    page.once("dialog", lambda dialog: dialog.accept())
    save_bar.get_by_role("button", name="Discard").click()
    assert page.locator("select[name=ship_to]").input_value() == "customer"
    assert not save_bar.is_visible()

    page.locator("select[name=ship_to]").select_option("fulfilment_centre")
    save_bar.get_by_role("button", name="Save").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Settings saved").wait_for(timeout=10000)
    assert not save_bar.is_visible()
    db.session.expire_all()
    assert db.session.get(PartnerStore, partner.id).ship_to.value == "fulfilment_centre"

    page.get_by_role("navigation", name="PowerPact").get_by_role("link", name="Orders").click()
    page.wait_for_url("**/admin/orders**", timeout=10000)
