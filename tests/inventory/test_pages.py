"""Sync now (one partner or all) with its progress, and the sync history."""

from datetime import UTC, datetime
from urllib.parse import quote

from powerpact.db_types import utcnow
from powerpact.inventory.sync import WEBHOOK_SYNC
from tests.embedded_requests import post_as
from tests.factories import (
    ProductMapFactory,
    SyncRunFactory,
)
from tests.inventory.test_sync import PARTNER, RETAIL, Levels


def test_sync_now_runs_and_reports_what_it_did(
    client, session_token, as_shop, stores, shopify, db_session
):
    partner, retail = stores
    pm = ProductMapFactory(partner=partner)
    db_session.commit()
    Levels(shopify, PARTNER, {pm.partner_variant_id: 3})
    retail_levels = Levels(shopify, RETAIL, {pm.bubbly_variant_id: 5})
    retail_levels.by_item = {pm.bubbly_inventory_item_id: pm.bubbly_variant_id}
    fragment = post_as(
        client, session_token, retail, "/admin/inventory/sync", {"partner": PARTNER}
    ).get_data(as_text=True)
    assert "Stock synced" in fragment
    assert retail_levels.quantities[pm.bubbly_variant_id] == 3
    assert "every 1s" not in fragment
    everyone = post_as(client, session_token, retail, "/admin/inventory/sync", {}).get_data(
        as_text=True
    )
    assert "Stock synced" in everyone
    assert (
        post_as(
            client,
            session_token,
            retail,
            "/admin/inventory/sync",
            {"partner": "nobody.myshopify.com"},
        ).status_code
        == 404
    )


def test_sync_status_polls_while_runs_are_missing(as_shop, stores):
    _, retail = stores
    since = quote(utcnow().isoformat())
    fragment = as_shop(f"/admin/inventory/sync?since={since}&expected=2", retail).get_data(
        as_text=True
    )
    assert "Syncing" in fragment and "every 1s" in fragment
    assert as_shop("/admin/inventory/sync?since=yesterday", retail).status_code == 400


def test_sync_history_lists_runs_newest_first_and_filters(as_shop, stores):
    _, retail = stores
    SyncRunFactory(
        partner_shop_domain=PARTNER,
        status="failed",
        errors=[{"reason": "throttled"}],
        error_count=1,
    )
    SyncRunFactory(partner_shop_domain="other.myshopify.com", status="succeeded")
    page = as_shop("/admin/sync-runs", retail, htmx=False).get_data(as_text=True)
    assert "throttled" in page and "other.myshopify.com" in page
    fragment = as_shop(f"/admin/sync-runs?partner={PARTNER}&outcome=failed", retail).get_data(
        as_text=True
    )
    assert "<html" not in fragment and "other.myshopify.com" not in fragment
    assert "No syncs yet" in as_shop("/admin/sync-runs?outcome=running", retail).get_data(
        as_text=True
    )


def test_sync_history_speaks_merchant_with_the_api_figures_behind_a_toggle(as_shop, stores):
    _, retail = stores
    retail.timezone = "America/New_York"
    SyncRunFactory(
        partner_shop_domain=PARTNER,
        kind=WEBHOOK_SYNC,
        status="partial",
        started_at=datetime(2026, 1, 5, 15, 0, tzinfo=UTC),
        finished_at=datetime(2026, 1, 5, 15, 0, 2, tzinfo=UTC),
        checked=120,
        changed=3,
        error_count=2,
        errors=[{"reason": "retail variant missing"}, {"reason": "retail variant missing"}],
        api_calls=4,
        requested_cost=40,
        actual_cost=22,
        throttled=1,
    )
    page = as_shop("/admin/sync-runs", retail, htmx=False).get_data(as_text=True)
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "Jan 05, 2026 10:00 EST" in row, "in the retail store's time zone"
    assert "Alice Roasters" in row and PARTNER not in row
    assert "Stock change" in row
    assert "Checked 120 variants, changed 3, 2 errors: retail variant missing" in row
    details = row.split("<details")[1].split("</details>")[0]
    assert "<summary>API usage</summary>" in details
    for figure in ("<dd>4</dd>", "22 of 40 requested", "<dt>Throttled calls</dt><dd>1</dd>"):
        assert figure in details
    assert '<option value="alice-roasters.myshopify.com" >Alice Roasters</option>' in page


def test_a_finished_sync_now_brings_the_partners_last_sync_up_to_date(
    client, session_token, stores, shopify, db_session
):
    """Bug 7: the report's final state swaps the partner's "Last stock sync" out of band."""
    partner, retail = stores
    pm = ProductMapFactory(partner=partner)
    db_session.commit()
    Levels(shopify, PARTNER, {pm.partner_variant_id: 3})
    retail_levels = Levels(shopify, RETAIL, {pm.bubbly_variant_id: 5})
    retail_levels.by_item = {pm.bubbly_inventory_item_id: pm.bubbly_variant_id}
    fragment = post_as(
        client, session_token, retail, "/admin/inventory/sync", {"partner": PARTNER}
    ).get_data(as_text=True)
    swap = fragment.split(f'<span class="last-sync" id="last-sync-{partner.id}"')[1]
    assert swap.startswith(' hx-swap-oob="true">')
    assert "Never" not in swap.split("</span>")[0]
    assert "Alice Roasters" in fragment and "Checked 1 variant, changed 1, 0 errors" in fragment
