"""In Chromium: an admin records a partial payment against a partner's statement (confirmed
in App Bridge's modal), the statement shows "Partly paid", and the partner sees it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    CreditKind,
    OrderStatus,
    OrderSync,
    PartnerCredit,
    RetailStore,
    StatementPayment,
)
from powerpact.statements.periods import current_month
from powerpact.timezones import shop_zone
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_pages_in_chromium import NORTH, RETAIL, sign_in

pytestmark = pytest.mark.browser


def sent_this_month(domain: str, names: list[str]) -> list[OrderSync]:
    """Orders sent to the partner in the retail store's current month (31.40 each)."""
    retail = db.session.scalars(select(RetailStore)).one()
    zone = shop_zone(retail.timezone)
    start, _ = current_month(zone).bounds(zone)
    so_far = utcnow() - start
    orders = []
    for number, name in enumerate(names):
        order = OrderSync(
            bubbly_order_id=f"gid://shopify/Order/{8100 + number}",
            bubbly_order_name=name,
            partner_shop_domain=domain,
            partner_order_id=f"gid://shopify/Order/{9100 + number}",
            partner_order_name=f"#P{9100 + number}",
            currency="USD",
            status=OrderStatus.SYNCED,
            sent_at=start + so_far / 3 + timedelta(seconds=number),
            subtotal=Decimal("24.00"),
            shipping_share=Decimal("5.00"),
            tax_share=Decimal("2.40"),
            total=Decimal("31.40"),
        )
        db.session.add(order)
        orders.append(order)
    db.session.flush()
    db.session.add(
        PartnerCredit(
            order_sync_id=orders[0].id,
            partner_shop_domain=domain,
            kind=CreditKind.REFUND,
            source_key="refund:browser",
            occurred_at=start + so_far * 2 / 3,
            currency="USD",
            lines=Decimal("2.40"),
            total=Decimal("2.40"),
            note="1 x House Blend refunded",
        )
    )
    db.session.commit()
    return orders


def test_a_partial_payment_shows_partly_paid_to_the_admin_and_the_partner(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH):
        harness.install(shop)
    sent_this_month(NORTH, ["#7101", "#7102"])

    sign_in(page, base, RETAIL)
    page.goto(f"{base}/admin/statements")
    page.wait_for_load_state("networkidle")
    row = page.locator("table.statements tbody tr", has_text="North Star")
    assert "60.40" in row.inner_text()
    assert "Open" in row.locator(".badge").inner_text()
    screenshot(page, "admin-statements")
    assert_accessible(page, "admin statements")
    this_month = page.locator("input[name=month]").input_value()
    now = current_month(shop_zone(db.session.scalars(select(RetailStore)).one().timezone))
    before = now.previous_month()  # a month with nothing sent
    page.locator("input[name=month]").fill(f"{before.start:%Y-%m}")
    page.locator("#statements-table .period-title", has_text=before.label).wait_for(timeout=10000)
    quiet = page.locator("table.statements tbody tr", has_text="North Star")
    assert quiet.locator(".badge").inner_text() == "Nothing due"
    page.locator("input[name=month]").fill(this_month)
    page.locator("#statements-table .period-title", has_text=now.label).wait_for(timeout=10000)
    row.get_by_role("link").click()
    page.wait_for_url("**/admin/partners/*/statements/*")
    page.wait_for_load_state("networkidle")
    assert "#7101" in page.locator("#statement").inner_text()
    assert "1 x House Blend refunded" in page.locator("#statement").inner_text()

    page.get_by_label("Amount (USD)").fill("1000")
    page.get_by_role("button", name="Record payment").click()
    page.locator("#payment-amount-error", has_text="Only 60.40 USD is open").wait_for(timeout=10000)
    assert_accessible(page, "admin statement, a payment too large")
    page.get_by_label("Amount (USD)").fill("25")
    page.get_by_label("Reference").fill("WIRE-2026-041")
    page.get_by_role("button", name="Record payment").click()
    modal = page.get_by_role("dialog", name="Record a partial payment?")
    modal.wait_for(timeout=10000)
    assert "35.40 USD stays open" in modal.inner_text()
    screenshot(page, "admin-statement-confirm-payment")
    assert_accessible(page, "admin statement, the payment to confirm")
    modal.get_by_role("button", name="Record payment").click()
    page.locator(
        ".sandbox-toasts [role=status]", has_text="Payment recorded. The statement is partly paid."
    ).wait_for(timeout=10000)
    modal.wait_for(state="detached", timeout=5000)
    header = page.locator("#statement .page-header")
    assert header.locator(".badge").inner_text() == "Partly paid"
    assert "WIRE-2026-041" in page.locator("#statement").inner_text()
    screenshot(page, "admin-statement-partly-paid")
    assert_accessible(page, "admin statement, partly paid")
    db.session.expire_all()
    (payment,) = db.session.scalars(select(StatementPayment)).all()
    assert payment.amount == Decimal("25.00")

    sign_in(page, base, NORTH)
    page.get_by_role("navigation", name="PowerPact").get_by_role("link", name="Statements").click()
    page.wait_for_url("**/partner/statements")
    page.wait_for_load_state("networkidle")
    month = page.locator("table.statements tbody tr").first
    assert "Partly paid" in month.locator(".badge").inner_text()
    assert "35.40" in month.inner_text()
    screenshot(page, "partner-statements")
    assert_accessible(page, "partner statements")
    month.get_by_role("link").click()
    page.wait_for_url("**/partner/statements/*")
    page.wait_for_load_state("networkidle")
    statement = page.locator("#statement")
    assert statement.locator(".page-header .badge").inner_text() == "Partly paid"
    assert "WIRE-2026-041" in statement.inner_text()
    assert page.get_by_role("button", name="Record payment").count() == 0
    screenshot(page, "partner-statement")
    assert_accessible(page, "partner statement")
    page.emulate_media(media="print")
    assert not page.locator("nav.nav").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert page.locator(".print-only").is_visible()
    screenshot(page, "partner-statement-print")
