"""The README's demo, walked in Chromium: sign-in to a tracked partner order.

Each step is what a newcomer does on ``make demo``: PowerPact's pages as the retail
store's admin, and the sandbox console as the customers and the partners. It leaves
``walkthrough-NN-*.png`` in ``artifacts/screenshots/``; the README shows copies from
``docs/screenshots/``.

Two things a running demo does on its own are done here by calling the same code: the
Huey consumer's per-minute dispatch (after a retry) and the inventory task it schedules
two seconds after an ``inventory_levels/update`` webhook (Huey runs inline in tests).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from powerpact.catalog import browse
from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.models import OrderStatus, OrderSync, PartnerStore
from powerpact.orders.tasks import dispatch_due_orders
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"
VIEWPORT = {"width": 1200, "height": 820}


@pytest.fixture
def pages(browser):  # type: ignore[no-untyped-def]
    """PowerPact and the sandbox console side by side, as two windows.

    Two tabs of one window would not do: Chromium throttles the hidden tab's animation
    frames, and every click there waits seconds for its target to be "stable".
    """
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    yield tuple(context.new_page() for context in contexts)
    for context in contexts:
        context.close()


def snap(page, number: int, name: str, *, full=False, part=None, since=None, until=None) -> Path:  # type: ignore[no-untyped-def]
    """The viewport, the whole page (``full``), one element (``part``) or the page from the
    top of ``since`` (else the page's) down to the end of ``until``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"walkthrough-{number:02d}-{name}.png"
    if part is not None:
        part.screenshot(path=str(path))
    elif until is not None:
        scroll = page.evaluate("window.scrollY")
        top = since.bounding_box()["y"] + scroll - 8 if since is not None else 0
        box = until.bounding_box()
        bottom = box["y"] + scroll + box["height"] + 8
        clip = {"x": 0, "y": top, "width": page.viewport_size["width"], "height": bottom - top}
        page.screenshot(path=str(path), full_page=True, clip=clip)
    else:
        page.screenshot(path=str(path), full_page=full)
    return path


def shop_section(console, name: str):  # type: ignore[no-untyped-def]
    """A partner's section of the console: its orders and its buttons."""
    return console.locator("section").filter(has=console.get_by_role("heading", name=name))


def go(page, link: str, url: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a link of the nav; htmx boosts it, and pushes the URL once the page is swapped."""
    page.get_by_role("link", name=link, exact=True).first.click()
    page.wait_for_url(url)


def press(console, harness, button: str, row=None) -> str:  # type: ignore[no-untyped-def]
    """Press a console button, let the webhooks reach PowerPact, return the console's answer."""
    (row or console).get_by_role("button", name=button).first.click()
    console.wait_for_load_state("load")
    harness.settle()
    console.reload()
    return console.locator(".msg").inner_text()


def syncs(name: str) -> dict[str, OrderSync]:
    db.session.expire_all()
    rows = db.session.scalars(select(OrderSync).where(OrderSync.bubbly_order_name == name))
    return {row.partner_shop_domain: row for row in rows}


def import_two_from_the_catalog(page, partner: str) -> None:  # type: ignore[no-untyped-def]
    go(page, "Partners", "**/admin/partners")
    page.locator("tr", has_text=partner).get_by_role("link", name="Catalog").click()
    page.wait_for_url("**/catalog**")
    page.fill("input[name=value]", "30")
    page.select_option("select[name=rounding]", "99")
    page.get_by_text("Retail prices use: 30%, ending .99").wait_for()
    boxes = page.locator("input[name=product_id]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_text("2 selected").wait_for()
    page.evaluate("window.scrollTo(0, 0)")  # ticking the second product scrolled it into view
    snap(page, 2, "catalog")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("All imported").wait_for(timeout=30000)


def import_two_directly(domain: str) -> None:
    """The same import the catalog page starts, for the second roaster (it saves the test time)."""
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == domain)
    ).one()
    products = browse.fetch_catalog_page(partner, rule=MarkupRule(), currency="USD").products[:2]
    rule = MarkupRule.from_dict({"kind": "percentage", "value": "30", "rounding": "99"})
    run_import_job(create_import_job(partner, [p.id for p in products], rule).id)


def test_the_readme_demo_from_sign_in_to_a_tracked_partner_order(live, pages):
    harness, base = live
    admin, console = pages
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)

    # 1. Sign in as the retail store's admin by clicking, as the README says.
    admin.goto(f"{base}/dev/login")
    snap(admin, 1, "login")
    admin.get_by_role("link", name="Bubbly (admin)").click()
    admin.wait_for_url("**/admin/?**")
    admin.get_by_role("link", name="Partners", exact=True).wait_for()

    # 2. Import two products from each of two roasters with a 30% markup ending .99.
    import_two_from_the_catalog(admin, "North Star Roasters")
    assert "Retail prices: 30%, ending .99." in admin.locator("#import-progress").inner_text()
    snap(admin, 3, "import")
    import_two_directly(HARBOR)
    prices = [v["price"] for p in harness.shop(RETAIL)["products"] for v in p["variants"]]
    assert sum(price.endswith(".99") for price in prices) >= 4

    # 3. A customer's mixed order: two roasters and Bubbly's own mug.
    console.goto(f"{harness.base}/_sandbox/")
    told = press(console, harness, "Place a mixed order")
    assert "from 2 partners and Bubbly" in told
    mixed = told.split()[1].rstrip(":")
    split = syncs(mixed)
    assert set(split) == {NORTH, HARBOR}
    assert {o.status for o in split.values()} == {OrderStatus.SYNCED}
    snap(console, 4, "console", until=shop_section(console, "Harbor Bean Co."))

    retail_order = next(o for o in harness.shop(RETAIL)["orders"] if o["name"] == mixed)
    partner_orders = [
        o
        for domain in (NORTH, HARBOR)
        for o in harness.shop(domain)["orders"]
        if o["note"] == f"PowerPact: retail order {mixed}"
    ]
    assert len(partner_orders) == 2, "exactly one partner order per roaster"
    go(admin, "Orders", "**/admin/orders")
    admin.locator("tr", has_text="North Star Roasters").get_by_role("link", name=mixed).click()
    admin.wait_for_url("**/admin/orders/*")
    table = admin.locator("#order-detail table.split")
    table.wait_for()
    figures = [row.split("\t") for row in table.locator("tbody tr").all_inner_texts()]
    own = next(row for row in figures if "its own lines" in row[0])
    shipping = sum(Decimal(o["shipping"]) for o in partner_orders) + Decimal(own[2])
    tax = sum(Decimal(o["tax"]) for o in partner_orders) + Decimal(own[3])
    assert shipping == Decimal(retail_order["shipping"]) and tax == Decimal(retail_order["tax"])
    assert own[2] != "0.00" and own[3] != "0.00", "the mug keeps its share"
    snap(admin, 5, "split", full=True)
    admin.get_by_role("link", name="Back to Orders").click()
    admin.wait_for_url("**/admin/orders?**")

    # 4. An order Shopify recommends investigating is held until Release on the desk; an
    # order a roaster cannot fill fails with its reason.
    risky = press(console, harness, "Place a high-risk order").split()[1]
    failing = press(console, harness, "Place an order that will fail at a partner").split()[1]
    failing = failing.rstrip(";")
    admin.reload()
    desk = admin.locator("table.orders").inner_text()
    assert "recommends investigating" in desk and "refused the order for lack of stock" in desk
    snap(admin, 6, "desk")
    admin.locator("tr", has_text=risky).get_by_role("button", name="Release").click()
    confirm = admin.get_by_role("dialog", name=f"Release {risky}?")  # App Bridge's modal
    confirm.get_by_role("button", name="Release").click()
    admin.get_by_text("Released 1 partner order(s)").wait_for()
    harness.settle()
    assert {o.status for o in syncs(risky).values()} == {OrderStatus.SYNCED}
    timeline = [e.message for o in syncs(risky).values() for e in o.events]
    assert any(m.startswith("Released by") for m in timeline), timeline
    (failed_partner,) = syncs(failing)
    section = shop_section(console, harness.sandbox.shop(failed_partner).name)
    press(console, harness, "Restock what is sold out", section)
    admin.reload()
    admin.locator("tr", has_text=failing).locator("input[name=order_id]").check()
    admin.locator("[data-bulk-bar]").get_by_text("1 selected").wait_for()
    admin.locator("[data-bulk-bar]").get_by_role("button", name="Retry").click()
    admin.get_by_text("1 order(s) will be sent again shortly.").wait_for()
    dispatch_due_orders.call_local()  # the consumer's per-minute dispatch
    assert syncs(failing)[failed_partner].status == OrderStatus.SYNCED
    admin.reload()
    assert "Failed" not in admin.locator("table.orders tbody").inner_text()
    snap(admin, 7, "retried")

    # 5. North Star on a daily batch: its share waits until "Send daily batch now".
    go(admin, "Partners", "**/admin/partners")
    admin.locator("tr", has_text="North Star").get_by_role("link", name="Settings").click()
    admin.wait_for_url("**/settings")
    admin.select_option("select[name=cadence]", "daily")
    admin.get_by_role("button", name="Save settings").click()
    admin.get_by_text("so they ship to the fulfilment centre").wait_for()
    admin.select_option("select[name=ship_to]", "fulfilment_centre")
    admin.get_by_role("button", name="Save settings").click()
    admin.locator(".sandbox-toasts [role=status]", has_text="Settings saved").wait_for()
    batched = press(console, harness, "Place a mixed order").split()[1].rstrip(":")
    assert syncs(batched)[NORTH].status == OrderStatus.READY_FOR_SYNC
    assert syncs(batched)[HARBOR].status == OrderStatus.SYNCED
    go(admin, "Partners", "**/admin/partners")
    north_row = admin.locator("tr", has_text="North Star")
    north_row.get_by_role("button", name="Send daily batch now").click()
    confirm = admin.get_by_role("dialog", name="Send daily batch now?")
    assert "1 order is waiting for the daily batch to North Star Roasters" in confirm.inner_text()
    confirm.get_by_role("button", name="Send batch").click()
    admin.get_by_text("Sent 1 order(s) to North Star Roasters.").wait_for()
    assert syncs(batched)[NORTH].status == OrderStatus.SYNCED
    batch_order = next(
        o for o in harness.shop(NORTH)["orders"] if "batch" in o["source_identifier"]
    )
    address = batch_order["shipping_address"]
    assert (address["address1"], address["city"]) == ("400 SE Water Ave", "Portland")
    snap(admin, 8, "batch")

    # 6. A roaster's stock changes: the retail level follows; a missed change waits for a sync.
    console.reload()
    stock_row = console.locator("tr", has_text="North Star Roasters").filter(has_text="NSR-").first
    sku = stock_row.locator("input[name=sku]").get_attribute("value")
    stock_row.locator("input[name=available]").fill("5")
    press(console, harness, "Set stock", stock_row)
    inventory.apply_reported_changes(NORTH)  # the task the webhook scheduled 2 s later
    console.reload()
    stock_row = console.locator("tr", has_text=sku).first
    assert stock_row.locator("td").nth(3).inner_text() == "5"
    stock = console.locator("section", has_text="Stock of imported")
    snap(console, 9, "stock", since=stock, until=stock.locator("tr").nth(4))
    stock_row.locator("input[name=available]").fill("9")
    stock_row.locator("input[name=quiet]").check()
    press(console, harness, "Set stock", stock_row)
    admin.get_by_role("button", name="Sync stock now (all partners)").click()
    report = admin.locator("#sync-status")
    report.get_by_text("Stock synced").wait_for(timeout=20000)
    north_report = report.locator("tr", has_text="North Star Roasters")
    result = north_report.locator("td").nth(2)
    assert int(re.search(r"changed (\d+)", result.inner_text())[1]) >= 1, result.inner_text()
    result.get_by_text("API usage").click()
    assert result.locator("dd").first.inner_text() != "0", "API calls"
    snap(admin, 10, "sync-now")
    console.reload()
    assert console.locator("tr", has_text=sku).first.locator("td").nth(3).inner_text() == "9"

    # 7. North Star ships the first order with tracking; it arrives on the retail order.
    partner_order = next(
        o for o in partner_orders if o["source_identifier"].endswith(str(split[NORTH].id))
    )
    north_section = shop_section(console, "North Star Roasters")
    row = north_section.locator("tr", has_text=partner_order["source_identifier"])
    told = press(console, harness, "Fulfil with tracking", row)
    tracking_number = told.rsplit(" ", 1)[-1].rstrip(".")
    retail_order = next(o for o in harness.shop(RETAIL)["orders"] if o["name"] == mixed)
    assert [f["tracking"]["number"] for f in retail_order["fulfillments"]] == [tracking_number]
    assert syncs(mixed)[NORTH].status == OrderStatus.FULFILLED
    go(admin, "Orders", "**/admin/orders")
    admin.locator("tr", has_text=mixed).filter(has_text="North Star Roasters").get_by_role(
        "link", name=mixed
    ).click()
    admin.wait_for_url("**/admin/orders/*")
    admin.locator("#order-detail").get_by_text(f"tracking {tracking_number}").wait_for()
    # sent to its customer before North Star switched to the fulfilment centre in step 5
    assert "Fulfilment centre" not in admin.locator("#order-detail").inner_text()
    snap(admin, 11, "tracking", full=True)

    # 8. The order page's "Retail order" button opens the order in the retail store's admin.
    admin.get_by_role("link", name="Retail order").click()
    admin.wait_for_url(f"{harness.base}/shops/{RETAIL}/admin/orders/**")
    admin.get_by_role("link", name=tracking_number).wait_for()
    snap(admin, 12, "retail-order", full=True)

    # 9. Back in PowerPact, the home draws what happened: orders per day stacked by partner,
    # the failure and its reason, the stock syncs.
    admin.go_back()
    go(admin, "Home", "**/admin/")
    admin.get_by_role("img", name="Orders per day").wait_for()
    assert "North Star Roasters" in admin.locator("#chart-orders").inner_text()
    snap(admin, 13, "home", full=True)
    low_stock = admin.locator("#low-stock")
    assert "North Star Roasters" in low_stock.inner_text(), "a sold-out variant is listed"
    snap(admin, 17, "low-stock", part=low_stock)
