"""The partners page (each partner's connection and numbers, the install link) and
"Send batch now"."""

from tests.embedded_requests import post_as
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


def test_partners_page_empty_state_gives_the_install_link(as_shop, db_session):
    retail = RetailStoreFactory()
    page = as_shop("/admin/partners", retail).get_data(as_text=True)
    assert "No partner has connected yet" in page
    assert "/auth/install?shop=" in page


def test_the_partners_pages_need_the_retail_role(as_shop, stores):
    partner, _ = stores
    assert as_shop("/admin/partners", partner).status_code == 403
    assert as_shop(f"/admin/partners/{partner.id}/settings", partner).status_code == 403


def test_send_batch_now_button_reports_what_it_sent(client, session_token, stores, db_session):
    partner, retail = stores
    partner.cadence = "daily"
    db_session.commit()
    response = post_as(
        client, session_token, retail, f"/admin/partners/{partner.id}/send-batch", {}
    )
    assert "Nothing was waiting to be sent." in response.get_data(as_text=True)
