"""The partners page (each partner's connection and numbers, the install link) and
"Send batch now"."""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

from powerpact.db_types import utcnow
from powerpact.inventory.sync import WEBHOOK_SYNC
from powerpact.models import Cadence
from tests.embedded_requests import post_as, toast_of
from tests.factories import (
    OrderSyncFactory,
    PartnerStoreFactory,
    ProductMapFactory,
    RetailStoreFactory,
    SyncRunFactory,
)

PARTNER = "alice-roasters.myshopify.com"


def test_partners_page_lists_partners_with_their_numbers(as_shop, stores, db_session):
    partner, _ = stores
    ProductMapFactory(partner=partner)
    ProductMapFactory(partner=partner, partner_variant_missing=True)
    OrderSyncFactory(partner=partner, failed=True)
    SyncRunFactory(partner_shop_domain=PARTNER, finished_at=partner.installed_at)
    PartnerStoreFactory(uninstalled=True, name="Gone Roasters")
    page = as_shop("/admin/partners", stores[1]).get_data(as_text=True)
    assert "Alice Roasters" in page and "Gone Roasters" in page
    assert "1 missing" in page
    assert "Uninstalled" in page
    assert 'hx-post="/admin/inventory/sync"' in page


def test_partners_are_named_by_their_shop_name_never_their_domain(as_shop, stores):
    _, retail = stores
    PartnerStoreFactory(shop_domain="harbor-bean-co.myshopify.com", name="Harbor Bean Co.")
    page = as_shop("/admin/partners", retail).get_data(as_text=True)
    assert "Harbor Bean Co." in page and "Alice Roasters" in page
    shown = re.sub(r'"[^"]*"', '""', page)  # what a person reads: no attribute values
    assert "myshopify.com" not in shown and "alice-roasters" not in shown


def test_the_last_stock_sync_counts_syncs_a_stock_change_webhook_made(as_shop, stores):
    """Bug 7: a webhook's sync is a stock sync too; before, only full syncs counted."""
    partner, retail = stores
    retail.timezone = "Europe/Zurich"
    at = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    SyncRunFactory(
        partner_shop_domain=PARTNER,
        kind=WEBHOOK_SYNC,
        status="succeeded",
        started_at=at - timedelta(seconds=2),
        finished_at=at,
    )
    page = as_shop("/admin/partners", retail).get_data(as_text=True)
    cell = page.split(f'id="last-sync-{partner.id}"')[1].split("</span>")[0]
    assert "Jul 01, 2026 14:30 CEST" in cell, "in the retail store's own time zone"
    assert "Never" not in cell


def test_a_partner_never_synced_says_never_and_a_failed_sync_says_so(as_shop, stores):
    partner, retail = stores
    never = as_shop("/admin/partners", retail).get_data(as_text=True)
    assert "Never" in never.split(f'id="last-sync-{partner.id}"')[1].split("</span>")[0]
    SyncRunFactory(partner_shop_domain=PARTNER, status="failed", finished_at=utcnow())
    failed = as_shop("/admin/partners", retail).get_data(as_text=True)
    cell = failed.split(f'id="last-sync-{partner.id}"')[1].split("</span>\n")[0]
    assert "badge-critical" in cell and "Failed" in cell


def test_partners_page_empty_state_gives_the_install_link(as_shop, db_session):
    retail = RetailStoreFactory()
    page = as_shop("/admin/partners", retail).get_data(as_text=True)
    assert "No partner has connected yet" in page
    assert "/auth/install?shop=" in page


def test_the_partners_pages_need_the_retail_role(as_shop, client, session_token, stores):
    partner, _ = stores
    assert as_shop("/admin/partners", partner).status_code == 403
    assert as_shop(f"/admin/partners/{partner.id}/settings", partner).status_code == 403
    send = f"/admin/partners/{partner.id}/send-batch"
    assert post_as(client, session_token, partner, send, {}).status_code == 403
    assert client.post(send, headers={"HX-Request": "true"}).status_code == 401


def test_send_batch_now_asks_first_saying_how_many_orders_wait(as_shop, stores, db_session):
    partner, retail = stores
    partner.cadence = Cadence.DAILY
    OrderSyncFactory(partner=partner, ready=True)
    OrderSyncFactory(partner=partner, ready=True)
    OrderSyncFactory(partner=partner, failed=True)
    page = unescape(as_shop("/admin/partners", retail).get_data(as_text=True))
    button = page.split(f'id="batch-action-{partner.id}"')[1].split("</button>")[0]
    assert 'hx-confirm="2 orders are waiting for the daily batch to Alice Roasters.' in button
    assert 'data-confirm-title="Send daily batch now?"' in button
    assert 'data-confirm-action="Send batch"' in button
    assert "Send daily batch now (2)" in button


def test_send_batch_now_tells_its_result_in_a_toast(client, session_token, stores, db_session):
    partner, retail = stores
    partner.cadence = "daily"
    db_session.commit()
    response = post_as(
        client, session_token, retail, f"/admin/partners/{partner.id}/send-batch", {}
    )
    assert response.status_code == 200
    assert toast_of(response) == "Nothing was waiting to be sent."
    fragment = unescape(response.get_data(as_text=True))
    assert f'id="batch-action-{partner.id}"' in fragment, "the button again, for the next batch"
    assert "No order is waiting for the daily batch to Alice Roasters" in fragment


def test_a_batch_that_could_not_go_out_says_so_as_an_error(
    client, session_token, stores, db_session, monkeypatch
):
    """Orders waited and none went (the partner's store refused them): not "nothing waited"."""
    partner, retail = stores
    partner.cadence = Cadence.DAILY
    OrderSyncFactory(partner=partner, ready=True)
    db_session.commit()
    monkeypatch.setattr("powerpact.partners.views.send_now", lambda domain: 0)
    response = post_as(
        client, session_token, retail, f"/admin/partners/{partner.id}/send-batch", {}
    )
    trigger = json.loads(response.headers["HX-Trigger"])["powerpact:toast"]
    assert trigger == {
        "message": "The batch to Alice Roasters was not sent: Orders says why.",
        "isError": True,
    }
