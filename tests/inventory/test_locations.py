"""Where stock is counted: the retail stock location form and a partner's stock location."""

from html import unescape

import pytest

from powerpact.models import PartnerSettingsChange
from tests.embedded_requests import toast_of
from tests.partners.test_settings import GOOD
from tests.shopify_double import Answer

RETAIL = "bubbly-retail.myshopify.com"
SHOP_LOCATIONS = [
    {"id": "gid://shopify/Location/1", "name": "Warehouse", "isActive": True},
    {"id": "gid://shopify/Location/2", "name": "Shop", "isActive": True},
    {"id": "gid://shopify/Location/3", "name": "Closed", "isActive": False},
]


def answer_locations(shopify, shop):
    shopify.on(shop, "Locations", lambda _: {"locations": {"nodes": SHOP_LOCATIONS}})


def choose(client, session_token, shop, location_id):
    return client.post(
        "/admin/inventory/location",
        data={"location_id": location_id},
        headers={"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"},
    )


def test_the_admin_sees_and_chooses_the_retail_stock_location(
    client, session_token, as_shop, personas, shopify, db_session
):
    answer_locations(shopify, RETAIL)
    form = as_shop("/admin/inventory/location", personas.retail).get_data(as_text=True)
    assert "Retail stock location" in form and ">Shop</option>" in form
    assert "Closed" not in form, "only active locations can stock items"
    response = choose(client, session_token, personas.retail, "gid://shopify/Location/2")
    assert response.status_code == 200
    assert toast_of(response) == "Saved: stock is now kept at Shop"
    db_session.refresh(personas.retail)
    assert personas.retail.location_id == "gid://shopify/Location/2"


@pytest.mark.parametrize(
    "location_id", ["gid://shopify/Location/99", "gid://shopify/Location/3", ""]
)
def test_a_location_not_among_the_retail_stores_is_refused(
    client, session_token, personas, shopify, db_session, location_id
):
    answer_locations(shopify, RETAIL)
    response = choose(client, session_token, personas.retail, location_id)
    assert response.status_code == 422
    assert "not one of the retail store's active locations" in unescape(
        response.get_data(as_text=True)
    )
    db_session.refresh(personas.retail)
    assert personas.retail.location_id == "gid://shopify/Location/1"


def test_locations_that_cannot_be_read_are_said_so(client, session_token, personas, shopify):
    def unavailable(_):
        raise Answer(503, {})

    shopify.on(RETAIL, "Locations", unavailable)
    response = choose(client, session_token, personas.retail, "gid://shopify/Location/2")
    assert response.status_code == 422
    assert "locations could not be read" in response.get_data(as_text=True)
    assert personas.retail.location_id == "gid://shopify/Location/1"


def test_partners_cannot_choose_the_retail_location(client, session_token, personas, as_shop):
    assert (
        choose(client, session_token, personas.alice, "gid://shopify/Location/2").status_code == 403
    )
    assert as_shop("/admin/inventory/location", personas.alice).status_code == 403


def test_anonymous_requests_are_refused(client, personas):
    response = client.post(
        "/admin/inventory/location",
        data={"location_id": "gid://shopify/Location/2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 401
    assert (
        client.get("/admin/inventory/location", headers={"HX-Request": "true"}).status_code == 401
    )


def save_partner_settings(client, session_token, personas, **fields):
    return client.post(
        f"/admin/partners/{personas.alice.id}/settings",
        data={**GOOD, **fields},
        headers={"Authorization": f"Bearer {session_token(personas.retail)}"},
    )


def test_a_partners_stock_is_counted_from_all_locations_or_the_one_chosen(
    client, session_token, as_shop, personas, shopify, db_session
):
    answer_locations(shopify, personas.alice.shop_domain)
    page = as_shop(f"/admin/partners/{personas.alice.id}/settings", personas.retail, htmx=False)
    text = page.get_data(as_text=True)
    assert "Stock counted from" in text and "Only Shop" in text and "Only Closed" not in text
    chosen = save_partner_settings(
        client, session_token, personas, stock_location="gid://shopify/Location/2"
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    assert personas.alice.location_id == "gid://shopify/Location/2"
    change = db_session.query(PartnerSettingsChange).order_by(PartnerSettingsChange.id).all()[-1]
    assert change.changes["stock_location"] == {"from": "", "to": "gid://shopify/Location/2"}
    back = save_partner_settings(client, session_token, personas, stock_location="")
    assert back.status_code == 200 and personas.alice.location_id is None


def test_a_partner_location_not_its_own_is_refused(client, session_token, personas, shopify):
    answer_locations(shopify, personas.alice.shop_domain)
    refused = save_partner_settings(
        client, session_token, personas, stock_location="gid://shopify/Location/3"
    )
    assert refused.status_code == 422
    assert "one of the partner's active locations" in unescape(refused.get_data(as_text=True))
    assert personas.alice.location_id is None
