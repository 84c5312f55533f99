"""The demo of money after the order, walked in Chromium as issue #21 tells it.

A customer's order from two roasters; before the roasters ship, Bubbly refunds one unit
with restock from the sandbox console. The roaster's order shrinks to match, the order's
timeline says so, the month's statement shows the order and the credit, and marking the
statement paid shows on the roaster's side.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderStatus, PartnerCredit
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_pages_in_chromium import sign_in
from tests.browser.test_walkthrough import (  # noqa: F401  (the fixture, reused)
    HARBOR,
    NORTH,
    RETAIL,
    import_two_directly,
    pages,
    press,
    syncs,
)

pytestmark = pytest.mark.browser


def partner_order_of(harness, partner: str, retail_name: str) -> dict:  # type: ignore[no-untyped-def]
    (order,) = [
        o
        for o in harness.shop(partner)["orders"]
        if o["note"].startswith(f"PowerPact: retail order {retail_name}")
    ]
    return order


def units(order: dict) -> int:
    return sum(line["quantity"] for line in order["line_items"])


def test_a_refund_before_the_roaster_ships_shrinks_its_order_and_reaches_the_statement(
    live,
    pages,  # noqa: F811
):
    harness, base = live
    admin, console = pages
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    import_two_directly(NORTH)
    import_two_directly(HARBOR)

    console.goto(f"{harness.base}/_sandbox/")
    told = press(console, harness, "Place a mixed order")
    name = told.split()[1].rstrip(":")
    split = syncs(name)
    assert set(split) == {NORTH, HARBOR}
    assert {o.status for o in split.values()} == {OrderStatus.SYNCED}
    roaster = next(d for d, o in split.items() if o.lines)
    before = units(partner_order_of(harness, roaster, name))

    row = console.locator("tr", has_text=name).filter(
        has=console.get_by_role("button", name="Refund one with restock")
    )
    told = press(console, harness, "Refund one with restock", row)
    assert "restocked (refunds/create)" in told, told

    shrunk = [d for d in (NORTH, HARBOR) if units(partner_order_of(harness, d, name)) == before - 1]
    assert len(shrunk) == 1, "exactly one roaster's order lost exactly one unit"
    (partner,) = shrunk
    db.session.expire_all()
    (credit,) = db.session.scalars(
        select(PartnerCredit).where(PartnerCredit.partner_shop_domain == partner)
    ).all()
    assert credit.applied_at_partner and credit.total > Decimal("0")
    partner_name = harness.sandbox.shop(partner).name

    sign_in(admin, base, RETAIL)
    admin.goto(f"{base}/admin/orders/{syncs(name)[partner].id}")
    timeline = admin.locator("ol.timeline")
    timeline.wait_for()
    said = timeline.inner_text()
    assert f"Refund on {name}" in said and "taken off partner order" in said, said
    assert f"Credit {credit.total:.2f} USD" in said, said
    screenshot(admin, "refund-demo-timeline")

    admin.goto(f"{base}/admin/statements")
    admin.wait_for_load_state("networkidle")
    statement_row = admin.locator("table.statements tbody tr", has_text=partner_name)
    assert "Open" in statement_row.locator(".badge").inner_text()
    statement_row.get_by_role("link").click()
    admin.wait_for_url("**/admin/partners/*/statements/*")
    admin.wait_for_load_state("networkidle")
    statement = admin.locator("#statement")
    text = statement.inner_text()
    assert name in text, "the order sent this month"
    assert "Refund on" in text and f"{credit.total:.2f}" in text, "and its credit"
    owed = syncs(name)[partner].total - credit.total
    assert f"{owed:.2f}" in text, f"the balance {owed} is the order less the credit"
    screenshot(admin, "refund-demo-statement")
    assert_accessible(admin, "admin statement after a refund")

    admin.get_by_label("Amount (USD)").fill(f"{owed:.2f}")
    admin.get_by_label("Reference").fill("WIRE-DEMO-1")
    admin.get_by_role("button", name="Record payment").click()
    modal = admin.get_by_role("dialog", name="Mark the statement paid?")
    modal.get_by_role("button", name="Mark paid").click()
    admin.locator(".sandbox-toasts [role=status]", has_text="Payment recorded").wait_for()
    assert statement.locator(".page-header .badge").inner_text() == "Paid"

    sign_in(console, base, partner)  # the console's window becomes the roaster's admin
    console.get_by_role("navigation", name="PowerPact").get_by_role(
        "link", name="Statements"
    ).click()
    console.wait_for_url("**/partner/statements")
    console.wait_for_load_state("networkidle")
    month = console.locator("table.statements tbody tr").first
    assert month.locator(".badge").inner_text() == "Paid"
    month.get_by_role("link").click()
    console.wait_for_url("**/partner/statements/*")
    console.wait_for_load_state("networkidle")
    theirs = console.locator("#statement").inner_text()
    assert name in theirs and "WIRE-DEMO-1" in theirs
    screenshot(console, "refund-demo-partner-statement")
