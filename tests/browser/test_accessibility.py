"""In Chromium: axe-core finds no serious or critical violation on any page, at 1280 and at
390 pixels wide, for the retail admin and for a partner, empty and with data, and in the
states that matter beyond the first load: App Bridge's modal, a toast, the save bar, a
form's errors, a fragment htmx loads.

One sandbox harness, app server and signed-in browser context per audience serve the whole
module, so the tests run in the file's order: the empty pages first, then the same pages
once the stores hold orders, syncs and imports.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from powerpact.extensions import db
from powerpact.models import (
    Cadence,
    FailureReason,
    ImportJob,
    ImportJobItem,
    NotificationKind,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    OrderSyncLine,
    PartnerStore,
    ProductMap,
    RunStatus,
    StockChange,
    StockSource,
    SyncRun,
    utcnow,
)
from powerpact.notifications.delivery import send_one
from powerpact.notifications.outbox import Event, emit
from tests.browser.accessibility import assert_accessible
from tests.browser.test_walkthrough import import_two_directly
from tests.e2e.conftest import Harness, empty_every_table, running_harness

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"
ALPINE = "alpine-coffee-works.myshopify.com"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Site:
    """The harness's app on a loopback port, and a browser context signed in per shop."""

    def __init__(self, harness: Harness, base: str, browser: Any) -> None:
        self.harness = harness
        self.base = base
        self.browser = browser
        self.pages: dict[str, Any] = {}
        self.off_host: list[str] = []

    def install(self, *shops: str) -> None:
        installed = set(db.session.scalars(select(PartnerStore.shop_domain)))
        for shop in shops:
            if shop not in installed:
                self.harness.install(shop)

    def page_of(self, shop: str) -> Any:
        """The shop's signed-in page; a request that would leave the machine is refused and
        recorded (axe-core and the pages must need nothing from outside)."""
        if shop not in self.pages:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", self.keep_on_host)
            page = context.new_page()
            page.goto(f"{self.base}/dev/login/{shop}")
            page.wait_for_load_state("networkidle")
            self.pages[shop] = page
        return self.pages[shop]

    def keep_on_host(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.off_host.append(route.request.url)
            route.abort()

    def open(self, shop: str, path: str) -> Any:
        page = self.page_of(shop)
        page.goto(f"{self.base}{path}")
        page.wait_for_load_state("networkidle")
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def site(migrated_app, database_url: str, browser) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    with running_harness(database_url, clean_up=empty_every_table) as harness:
        server = make_server("127.0.0.1", 0, harness.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ready = Site(harness, f"http://127.0.0.1:{server.server_port}", browser)
        try:
            harness.install(RETAIL)
            yield ready
        finally:
            ready.close()
            server.shutdown()


@pytest.fixture(autouse=True)
def nothing_leaves_the_machine(site: Site) -> Iterator[None]:
    yield
    assert site.off_host == [], "the pages or axe-core asked for something off this machine"


def partner_id(domain: str) -> int:
    return db.session.scalars(
        select(PartnerStore.id).where(PartnerStore.shop_domain == domain)
    ).one()


def order(domain: str, name: str, status: OrderStatus, **fields: Any) -> OrderSync:
    row = OrderSync(
        bubbly_order_id=f"gid://shopify/Order/{name.strip('#')}",
        bubbly_order_name=name,
        partner_shop_domain=domain,
        currency="USD",
        ship_to_city="Portland",
        ship_to_country="US",
        status=status,
        subtotal=Decimal("24.00"),
        total=Decimal("24.00"),
        **fields,
    )
    row.lines.append(
        OrderSyncLine(
            bubbly_line_item_id=f"gid://shopify/LineItem/{name.strip('#')}",
            title="House Blend 250g",
            quantity=2,
            partner_unit_price=Decimal("12.00"),
        )
    )
    row.events.append(OrderSyncEvent(kind="captured", message="Captured from the retail order"))
    db.session.add(row)
    return row


@pytest.fixture(scope="module")
def filled(site: Site) -> Site:
    """Three partners (one on a daily batch with a saved markup that cannot be used, one to
    re-authorize), orders in every status, stock syncs of every outcome, an import running
    and one finished with a failure (the catalog's test adds one that succeeds)."""
    site.install(NORTH, HARBOR, ALPINE)
    now = utcnow()
    harbor = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == HARBOR)
    ).one()
    harbor.cadence = Cadence.DAILY
    harbor.default_markup_rule = {"kind": "percentage", "value": "lots"}
    alpine = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == ALPINE)
    ).one()
    alpine.reauthorization_required = True
    order(
        NORTH,
        "#1101",
        OrderStatus.SYNCED,
        partner_order_id="gid://shopify/Order/9101",
        partner_order_name="#N1101",
    )
    order(
        NORTH,
        "#1102",
        OrderStatus.FULFILLED,
        partner_order_id="gid://shopify/Order/9102",
        partner_order_name="#N1102",
    )
    failed = order(
        NORTH,
        "#1103",
        OrderStatus.FAILED,
        last_order_failure_reason=FailureReason.SHOPIFY_ERROR,
        error_message="Shopify answered HTTP 502",
    )
    failed.events.append(OrderSyncEvent(kind="failed", message="Shopify answered HTTP 502"))
    order(
        NORTH,
        "#1104",
        OrderStatus.PENDING,
        risk_hold_until=now + timedelta(hours=1),
        hold_reason="Held for Shopify's fraud analysis",
    )
    order(NORTH, "#1105", OrderStatus.CANCELLED, needs_attention=True)
    order(HARBOR, "#1106", OrderStatus.READY_FOR_SYNC)
    order(
        HARBOR,
        "#1107",
        OrderStatus.FAILED,
        last_order_failure_reason=FailureReason.VARIANT_NOT_MAPPED,
        error_message="A variant is not imported",
    )
    for status, errors in (
        (RunStatus.SUCCEEDED, []),
        (RunStatus.PARTIAL, [{"reason": "throttled"}]),
        (RunStatus.FAILED, [{"reason": "shopify_error"}]),
    ):
        db.session.add(
            SyncRun(
                kind="inventory",
                partner_shop_domain=NORTH,
                status=status,
                started_at=now - timedelta(minutes=5),
                finished_at=now - timedelta(minutes=4),
                checked=12,
                changed=3,
                error_count=len(errors),
                errors=errors,
                api_calls=4,
                actual_cost=40,
            )
        )
    for status in (RunStatus.RUNNING, RunStatus.PARTIAL):
        job = ImportJob(
            partner_shop_domain=NORTH,
            status=status,
            markup_rule={"kind": "percentage", "value": "30"},
        )
        job.items = [
            ImportJobItem(
                partner_product_id="gid://shopify/Product/1",
                title="House Blend",
                status=RunStatus.SUCCEEDED,
            ),
            ImportJobItem(
                partner_product_id="gid://shopify/Product/2",
                title="Decaf",
                status=RunStatus.FAILED if status == RunStatus.PARTIAL else RunStatus.QUEUED,
                error_message="Shopify refused the product: title is too long",
            ),
        ]
        db.session.add(job)
    db.session.commit()
    return site


# The check itself: it fails, and says where and why.

PROBE = """<!doctype html><html lang="en"><head><title>Probe</title>
<style>@media (max-width: 640px) { .pale { color: #b5b5b5; } }</style></head>
<body><main><h1>Probe</h1><p class="pale">Pale on a phone only</p>
<p><button id="nameless"></button></p></main>
<p>Outside every landmark (moderate)</p></body></html>"""


def test_the_check_lists_each_serious_or_critical_violation_at_each_width(page) -> None:  # type: ignore[no-untyped-def]
    page.set_content(PROBE)
    with pytest.raises(AssertionError) as wide:
        assert_accessible(page, "probe", widths=(1280,))
    assert "probe, 1280px wide: 1 serious or critical" in str(wide.value)
    assert "- button-name (critical): Buttons must have discernible text" in str(wide.value)
    assert "https://dequeuniversity.com/rules/axe/" in str(wide.value)
    assert "    #nameless\n" in str(wide.value)
    assert "color-contrast" not in str(wide.value) and "region" not in str(wide.value)

    with pytest.raises(AssertionError) as both:
        assert_accessible(page, "probe")
    assert "probe, 390px wide: 2 serious or critical" in str(both.value)
    assert "- color-contrast (serious)" in str(both.value)
    assert "    .pale\n      Fix any of the following: Element has insufficient color contrast" in (
        str(both.value)
    )
    assert page.viewport_size == {"width": 1280, "height": 900}, "the page's size is restored"

    page.evaluate("document.getElementById('nameless').textContent = 'Named'")
    page.evaluate("document.querySelector('.pale').className = ''")
    assert_accessible(page, "probe, moderate only")

    page.evaluate("document.getElementById('nameless').setAttribute('aria-describedby', 'gone')")
    with pytest.raises(AssertionError) as undecided:
        assert_accessible(page, "probe, a description that is not there")
    assert "- aria-valid-attr-value (critical, undecided by axe)" in str(undecided.value)
    assert 'ID does not exist on the page: aria-describedby="gone"' in str(undecided.value)


# The pages before anything happened.


def test_the_retail_admins_pages_before_any_partner_or_order(site: Site) -> None:
    for path, name in (
        ("/admin/", "home, nothing connected"),
        ("/admin/orders", "order desk, no orders"),
        ("/admin/partners", "partners, none connected"),
        ("/admin/sync-runs", "sync history, no syncs"),
        ("/admin/margins", "margins, nothing sold"),
    ):
        page = site.open(RETAIL, path)
        assert_accessible(page, name)
    page = site.open(RETAIL, "/admin/settings")
    page.get_by_role("heading", name="Retail stock location").wait_for()
    assert_accessible(page, "store settings")


def test_the_store_settings_with_an_error_the_save_bar_and_the_leave_question(site: Site) -> None:
    page = site.open(RETAIL, "/admin/settings")
    page.get_by_role("heading", name="Retail stock location").wait_for()
    hold = page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)")
    hold.fill("abc")
    page.get_by_role("region", name="Unsaved changes").wait_for()
    assert_accessible(page, "store settings, save bar shown")

    page.get_by_role("navigation", name="PowerPact").get_by_role("link", name="Orders").click()
    page.get_by_role("dialog", name="Leave page with unsaved changes?").wait_for()
    assert_accessible(page, "store settings, leave question open")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("from 0 (no hold) to 60").wait_for()
    page.get_by_role("heading", name="Retail stock location").wait_for()
    assert_accessible(page, "store settings, invalid hold")

    page.get_by_label("Hold orders for Shopify's fraud analysis (minutes)").fill("5")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Settings saved").wait_for()
    assert_accessible(page, "store settings, saved")


def test_a_partner_with_no_orders_yet(site: Site) -> None:
    site.install(NORTH)
    page = site.open(NORTH, "/partner/orders")
    assert_accessible(page, "partner orders, none yet")


def test_the_pages_around_the_app(site: Site) -> None:
    """The sandbox's sign-in, the sign-in bounce that fails, a page for the other audience,
    and an install Shopify would refuse."""
    site.install(NORTH)
    page = site.open(RETAIL, "/dev/login")
    assert_accessible(page, "sandbox sign-in")
    page = site.open(NORTH, "/admin/")
    page.get_by_role("heading", name="Not available for this store").wait_for()
    assert_accessible(page, "an admin page opened by a partner")
    page = site.open(RETAIL, "/auth/install?shop=not-a-shop")
    page.get_by_role("heading", name="PowerPact could not be installed").wait_for()
    assert_accessible(page, "an install refused")

    context = site.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.route("**/*", site.keep_on_host)
        page = context.new_page()
        page.goto(f"{site.base}/admin/orders")
        page.get_by_text("We could not confirm who you are").wait_for()
        assert_accessible(page, "a page opened without signing in")
    finally:
        context.close()


def test_the_notification_settings_the_unsubscribe_page_and_the_demo_mail(site: Site) -> None:
    """Each audience's notification choices (with an error, the save bar, a save), the
    unsubscribe page a message links to, and the demo's mail with that message in it."""
    site.install(NORTH)
    page = site.open(RETAIL, "/admin/settings/notifications")
    assert_accessible(page, "admin notifications")
    address = page.get_by_label("Email addresses (separate several with commas)")
    address.fill("not an address")
    page.get_by_role("region", name="Unsaved changes").wait_for()
    assert_accessible(page, "admin notifications, save bar shown")
    page.get_by_role("button", name="Save notifications").click()
    page.get_by_text("Not an email address: not an address").wait_for()
    assert_accessible(page, "admin notifications, invalid address")
    page.get_by_label("Email addresses (separate several with commas)").fill("ops@bubbly.example")
    page.get_by_role("button", name="Save notifications").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Notifications saved").wait_for()

    page = site.open(NORTH, "/partner/notifications")
    page.get_by_text(f"owner@{NORTH}").wait_for()  # its contact email, read at install
    assert_accessible(page, "partner notifications")

    event = Event(
        NotificationKind.ORDER_FAILED,
        NORTH,
        "order_failed:1:insufficient_inventory",
        {
            "order_name": "#1042",
            "reason_text": "Your store refused the order for lack of stock.",
            "failed_at": utcnow().isoformat(),
            "path": "/partner/orders?status=failed",
        },
    )
    [outbox_id] = emit([event])
    db.session.commit()
    assert send_one(outbox_id) == "sent"
    page = site.open(NORTH, "/dev/mail")
    assert_accessible(page, "demo mail")
    page.get_by_role("link", name="Order #1042 could not be sent to North Star Roasters").click()
    page.get_by_role("heading", name="Text part").wait_for()
    assert_accessible(page, "demo mail, a message")
    page.get_by_role("link", name="Open the HTML part as the recipient sees it").click()
    page.get_by_text("Your store refused the order for lack of stock.").wait_for()
    assert_accessible(page, "an order failure email's HTML part")
    link = page.get_by_role("link", name="Stop these emails").get_attribute("href")
    assert link.startswith("http://127.0.0.1:5000/notifications/unsubscribe/")  # APP_URL's
    page.goto(f"{site.base}{urlsplit(link).path}")
    assert_accessible(page, "unsubscribe, asked")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_text("will no longer get emails").wait_for()
    assert_accessible(page, "unsubscribe, done")


# The same pages once the stores hold orders, syncs and imports.


def test_the_order_desk_its_timeline_release_question_and_toasts(filled: Site) -> None:
    page = filled.open(RETAIL, "/admin/orders")
    assert_accessible(page, "order desk")

    page.get_by_role("link", name="#1103").click()
    page.get_by_role("heading", level=1, name="#1103").wait_for()
    assert_accessible(page, "#1103's order page with its timeline")

    page = filled.open(RETAIL, "/admin/orders")
    page.get_by_role("button", name="Release #1104").click()
    page.get_by_role("dialog", name="Release #1104?").wait_for()
    assert_accessible(page, "order desk, release question open")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    page.get_by_label("Select #1107").check()
    page.locator("[data-bulk-bar]").get_by_text("1 selected").wait_for()
    assert_accessible(page, "order desk, one order selected")
    page.locator("[data-bulk-bar]").get_by_role("button", name="Retry").click()
    page.get_by_role("region", name="Notifications").get_by_role("status").wait_for()
    assert_accessible(page, "order desk, toast")

    page.evaluate("window.shopify.toast.show('Nothing to retry.', {isError: true})")
    page.locator(".sandbox-toasts [role=alert]").wait_for()
    assert_accessible(page, "order desk, error toast")

    page = filled.open(RETAIL, "/admin/orders?q=nothing-like-this")
    assert_accessible(page, "order desk, no order matches")


def test_a_partners_catalog_its_errors_and_an_import(filled: Site) -> None:
    north = partner_id(NORTH)
    page = filled.open(RETAIL, f"/admin/partners/{north}/catalog")
    page.locator("table.catalog").wait_for()
    assert_accessible(page, "catalog")

    page = filled.open(RETAIL, f"/admin/partners/{north}/catalog?value=")
    assert_accessible(page, "catalog, no markup")
    page = filled.open(RETAIL, f"/admin/partners/{north}/catalog?q=nothing-like-this")
    assert_accessible(page, "catalog, no product matches")

    page = filled.open(RETAIL, f"/admin/partners/{north}/catalog")
    boxes = page.locator("input[name=product_id]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert_accessible(page, "catalog, two products selected")
    page.locator("[data-bulk-bar]").get_by_role("button", name="Import").click()
    page.wait_for_url("**/admin/imports/**")
    page.get_by_text("All imported").wait_for()
    assert_accessible(page, "import, just finished")

    for job in db.session.scalars(select(ImportJob).order_by(ImportJob.id)):
        page = filled.open(RETAIL, f"/admin/imports/{job.id}")
        assert_accessible(page, f"import, {job.status.value}")


def test_the_home_partners_and_sync_history_with_data(filled: Site) -> None:
    if db.session.scalar(select(ProductMap.id).limit(1)) is None:  # run without the catalog's
        import_two_directly(NORTH)
    for path, name in (
        ("/admin/", "home"),
        ("/admin/sync-runs", "sync history"),
        ("/admin/partners", "partners"),
    ):
        page = filled.open(RETAIL, path)
        assert_accessible(page, name)
    page.get_by_role("button", name="Sync stock now (all partners)").click()
    page.locator("#sync-status").wait_for()
    assert_accessible(page, "partners, stock sync started")
    page.get_by_text("Stock synced").wait_for(timeout=15000)
    assert_accessible(page, "partners, stock synced")


def test_the_margins_by_partner_and_by_variant(filled: Site) -> None:
    for path, name in (
        ("/admin/margins", "margins"),
        ("/admin/margins?level=variant&sort=name", "margins by variant"),
    ):
        page = filled.open(RETAIL, path)
        page.locator("#margin-table").wait_for()
        assert_accessible(page, name)


def test_a_partners_settings_with_an_error_and_the_save_bar(filled: Site) -> None:
    page = filled.open(RETAIL, f"/admin/partners/{partner_id(HARBOR)}/settings")
    page.locator("#markup-error").wait_for()
    assert_accessible(page, "partner settings, a saved markup that cannot be used")
    page = filled.open(RETAIL, f"/admin/partners/{partner_id(NORTH)}/settings")
    assert_accessible(page, "partner settings")
    page.locator("select[name=cadence]").select_option("weekly")
    page.locator("select[name=ship_to]").select_option("fulfilment_centre")
    page.get_by_role("region", name="Unsaved changes").wait_for()
    assert_accessible(page, "partner settings, save bar shown")
    page.locator("input[name=cutoff_time]").fill("25:99")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".field-error").first.wait_for()
    assert_accessible(page, "partner settings, invalid cutoff")
    page.locator("input[name=cutoff_time]").fill("16:00")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".sandbox-toasts [role=status]", has_text="Settings saved").wait_for()
    assert_accessible(page, "partner settings, saved with its history")


def test_a_partners_orders_and_a_retry(filled: Site) -> None:
    page = filled.open(NORTH, "/partner/orders")
    assert_accessible(page, "partner orders")
    page.get_by_role("button", name="Retry").click()
    page.locator(".sandbox-toasts [role=status]").wait_for()
    assert_accessible(page, "partner orders, retried")
    page = filled.open(NORTH, "/partner/orders?status=failed")
    assert_accessible(page, "partner orders, none match")


def test_a_variants_stock_page_and_the_homes_low_stock_list(filled: Site) -> None:
    now = utcnow()
    product_map = ProductMap(
        partner_shop_domain=NORTH,
        partner_product_id="gid://shopify/Product/1",
        partner_variant_id="gid://shopify/ProductVariant/1",
        partner_price=Decimal("12.00"),
        bubbly_product_id="gid://shopify/Product/91",
        bubbly_variant_id="gid://shopify/ProductVariant/91",
        bubbly_sku="PARTNER-north-star-roasters-NSR-1",
        product_title="Kenya Nyeri",
        variant_title="250g / Whole bean",
        retail_available=1,
    )
    db.session.add(product_map)
    db.session.flush()
    for days_ago, before, after, source in (
        (6, 12, 5, StockSource.HOURLY),
        (1, 5, 1, StockSource.WEBHOOK),
    ):
        db.session.add(
            StockChange(
                product_map_id=product_map.id,
                before=before,
                after=after,
                source=source,
                at=now - timedelta(days=days_ago),
            )
        )
    db.session.commit()
    page = filled.open(RETAIL, "/admin/")
    page.locator("#low-stock").wait_for()
    assert_accessible(page, "home, with low stock")
    page = filled.open(RETAIL, f"/admin/stock/{product_map.id}")
    assert_accessible(page, "a variant's stock")
    page.locator("input[name=safety_buffer]").fill("-1")
    page.get_by_role("button", name="Save buffer").click()
    page.locator("#safety_buffer-error").wait_for()
    assert_accessible(page, "a variant's stock, a refused buffer")
