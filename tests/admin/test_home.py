import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inventory.sync import WEBHOOK_SYNC
from powerpact.models import PartnerStore, RetailStore
from powerpact.shopify.session_tokens import mint_session_token
from tests.e2e.conftest import sqlite_harness  # noqa: F401  (the fixture, reused)
from tests.factories import OrderSyncFactory, PartnerStoreFactory, SyncRunFactory

NOW = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)  # noon in New York
NY_LATE_13TH = datetime(2026, 7, 14, 3, 30, tzinfo=UTC)  # 23:30 on July 13 in New York


def test_empty_dashboard_says_what_is_missing(as_shop, personas, db_session):
    personas.alice.status = personas.bob.status = "disabled"
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Nothing to show yet" in page
    assert "Have at least one partner store install PowerPact" in page


def test_home_cards_count_what_needs_attention_and_link_to_the_lists(as_shop, personas):
    PartnerStoreFactory(needs_reauthorization=True)
    OrderSyncFactory(failed=True, partner=personas.alice)
    OrderSyncFactory(partner=personas.alice, needs_attention=True)
    SyncRunFactory(
        partner_shop_domain=personas.alice.shop_domain,
        status="succeeded",
        checked=5,
        changed=2,
        finished_at=utcnow(),
    )
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Connected" in page and "Nothing to show yet" not in page
    assert '<h2>Orders today</h2><p class="stat">2</p>' in page
    assert "1 failed, 1 cancelled after sending" in page
    assert '<h2>Partners needing re-authorization</h2><p class="stat">1</p>' in page
    assert "Alice: checked 5 variants, changed 2, 0 errors" in page, "named, in words"
    assert 'href="/admin/orders?status=failed"' in page
    assert 'href="/admin/sync-runs"' in page


def chart_section(page: str, key: str) -> str:
    """The card of one chart, from its section to the next section."""
    start = page.index(f'<section class="card chart-card" id="{key}"')
    return page[start : page.index("</section>", start)]


def table_cells(section: str) -> list[list[str]]:
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_home_charts_count_in_the_retail_stores_days_and_name_the_partners(as_shop, personas):
    personas.retail.timezone = "America/New_York"
    # 23:30 on July 13 in New York (03:30 on the 14th in UTC), split between two partners.
    for partner in (personas.alice, personas.bob):
        OrderSyncFactory(
            partner=partner, bubbly_order_id="gid://shopify/Order/9", created_at=NY_LATE_13TH
        )
    OrderSyncFactory(partner=personas.bob, failed=True, created_at=NY_LATE_13TH)
    SyncRunFactory(started_at=NY_LATE_13TH, changed=12, error_count=2, status="partial")
    with time_machine.travel(NOW, tick=False):
        page = as_shop("/admin/", personas.retail).get_data(as_text=True)

    orders = chart_section(page, "chart-orders")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in orders and 'role="img"' in orders
    assert "<script" not in page.partition("</head>")[2]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", orders).group(1)
    assert re.findall(r">([^<]+)</th>", header) == [
        "Day",
        "Retail orders",
        "Alice",
        "Bob",
        "All partner orders",
    ]
    rows = table_cells(orders)
    assert len(rows) == 30 and rows[-1][0] == "Jul 15"
    assert rows[-3] == ["Jul 13", "2", "1", "2", "3"]
    assert all(row[1:] == ["0"] * 4 for row in rows if row[0] != "Jul 13")
    assert "<summary>Show data</summary>" in orders
    assert "alice-roasters.myshopify.com" not in orders

    failures = chart_section(page, "chart-failures")
    assert table_cells(failures) == [["Shopify error", "1"]]
    assert 'href="/admin/orders?status=failed"' in failures

    sync = chart_section(page, "chart-sync")
    assert sync.count("<svg xmlns") == 2  # changes applied, errors
    hour = next(row for row in table_cells(sync) if row[1] != "0")
    assert hour == ["Mon Jul 13, 23:00 EDT", "1", "12", "2"]


def test_home_charts_say_when_there_is_nothing_to_draw(as_shop, personas):
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "No orders with partners&#39; products in the last 30 days." in page
    assert "No failed orders in the last 30 days." in page
    assert "No stock sync ran in the last 7 days." in page
    assert "<svg xmlns" not in page and "Show data" not in page


def test_only_the_retail_admins_see_the_home_charts(client, as_shop, personas):
    OrderSyncFactory(partner=personas.bob, failed=True)
    anonymous = client.get("/admin/")
    assert anonymous.status_code == 200
    assert "chart-orders" not in anonymous.get_data(as_text=True)
    refused = as_shop("/admin/", personas.alice)
    assert refused.status_code == 403
    assert "chart-orders" not in refused.get_data(as_text=True)
    assert "Bob" in chart_section(
        as_shop("/admin/", personas.retail).get_data(as_text=True), "chart-orders"
    )


def test_the_demos_sqlite_draws_the_same_charts(sqlite_harness):  # noqa: F811
    """``make demo`` runs on SQLite: the charts' queries are plain SQL that it runs too."""
    harness = sqlite_harness
    for shop in ("bubbly-retail.myshopify.com", "north-star-roasters.myshopify.com"):
        harness.install(shop)
    retail = db.session.scalars(select(RetailStore)).one()
    retail.timezone = "America/New_York"
    partner = db.session.scalars(select(PartnerStore)).one()
    OrderSyncFactory(partner=partner, created_at=NY_LATE_13TH)
    OrderSyncFactory(partner=partner, failed=True, created_at=NY_LATE_13TH)
    SyncRunFactory(started_at=NY_LATE_13TH, changed=12, error_count=2, status="partial")
    db.session.commit()
    settings = harness.app.config["POWERPACT"]
    with time_machine.travel(NOW, tick=False):
        token = mint_session_token(
            retail.shop_domain,
            api_key=settings.shopify_api_key,
            secret=settings.shopify_api_secret,
        )
        page = harness.client.get(
            "/admin/", headers={"Authorization": f"Bearer {token}", "HX-Request": "true"}
        ).get_data(as_text=True)

    assert table_cells(chart_section(page, "chart-orders"))[-3] == ["Jul 13", "2", "2"]
    assert table_cells(chart_section(page, "chart-failures")) == [["Shopify error", "1"]]
    sync = chart_section(page, "chart-sync")
    assert ["Mon Jul 13, 23:00 EDT", "1", "12", "2"] in table_cells(sync)


def test_orders_today_counts_retail_orders_since_midnight_in_the_shops_zone(
    as_shop, personas, db_session
):
    """One retail order split between two partners is one order; "today" is the retail
    store's day, not UTC's."""
    personas.retail.timezone = "Pacific/Kiritimati"  # UTC+14: its day starts 14 hours early
    zone = ZoneInfo("Pacific/Kiritimati")
    zone_midnight = datetime.combine(utcnow().astimezone(zone).date(), time(0), tzinfo=zone)
    split = "gid://shopify/Order/9001"
    OrderSyncFactory(partner=personas.alice, bubbly_order_id=split, created_at=zone_midnight)
    OrderSyncFactory(partner=personas.bob, bubbly_order_id=split, created_at=zone_midnight)
    OrderSyncFactory(partner=personas.alice, created_at=zone_midnight + timedelta(minutes=1))
    OrderSyncFactory(partner=personas.bob, created_at=zone_midnight - timedelta(minutes=1))
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert '<h2>Orders today</h2><p class="stat">2</p>' in page


def test_the_last_stock_sync_card_shows_a_webhooks_sync_in_the_shops_zone(as_shop, personas):
    personas.retail.timezone = "Europe/Zurich"
    at = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    SyncRunFactory(
        partner_shop_domain=personas.bob.shop_domain,
        kind=WEBHOOK_SYNC,
        status="succeeded",
        checked=1,
        changed=1,
        started_at=utcnow(),
        finished_at=at,
    )
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    card = page.split('id="sync-h"')[1].split("</a>")[0]
    assert "Jul 01, 2026 14:30 CEST" in card
    assert "Bob: checked 1 variant, changed 1, 0 errors" in card
    assert "bob-beans" not in card
    assert "No sync has run yet" not in card
