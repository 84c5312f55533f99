"""Sync now (one partner or all) with its progress, and the sync history."""

from urllib.parse import quote

from powerpact.db_types import utcnow
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
