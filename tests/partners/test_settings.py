"""Partner settings: validated with clear messages, saved, and recorded with who and when."""

from datetime import time

import pytest
from sqlalchemy import select

from powerpact.models import Cadence, PartnerSettingsChange, ShipTo
from tests.embedded_requests import toast_of

GOOD = {
    "cadence": "daily",
    "cutoff_weekday": "4",
    "cutoff_time": "16:30",
    "cutoff_timezone": "Europe/Zurich",
    "ship_to": "fulfilment_centre",
    "markup_kind": "percentage",
    "markup_value": "35",
    "markup_rounding": "99",
    "markup_min_margin": "20",
    "auto_import_on_install": "on",
}


@pytest.fixture(autouse=True)
def partner_locations(shopify, personas):
    """The settings page reads the partner's locations to offer them."""
    nodes = [{"id": "gid://shopify/Location/1", "name": "Roastery", "isActive": True}]
    shopify.on(personas.alice.shop_domain, "Locations", lambda _: {"locations": {"nodes": nodes}})


def post(client, session_token, personas, partner, data):
    return client.post(
        f"/admin/partners/{partner.id}/settings",
        data=data,
        headers={"Authorization": f"Bearer {session_token(personas.retail)}"},
    )


def test_the_settings_page_shows_the_current_settings(as_shop, personas):
    page = as_shop(f"/admin/partners/{personas.alice.id}/settings", personas.retail, htmx=False)
    assert page.status_code == 200
    assert 'value="17:00"' in page.get_data(as_text=True)


def test_valid_settings_are_saved_and_the_change_recorded(
    client, session_token, personas, db_session
):
    response = post(client, session_token, personas, personas.alice, GOOD)
    assert response.status_code == 200
    assert toast_of(response) == "Settings saved"
    changes = response.get_data(as_text=True).split("<h2>Changes</h2>")[1]
    assert "cadence" in changes and "ship to" in changes, "what changed, in the history"
    alice = personas.alice
    assert alice.cadence == Cadence.DAILY and alice.cutoff_time == time(16, 30)
    assert alice.ship_to == ShipTo.FULFILMENT_CENTRE and alice.auto_import_on_install
    assert alice.default_markup_rule["value"] == "35"
    change = db_session.scalars(select(PartnerSettingsChange)).one()
    assert change.changes["cadence"] == {"from": "immediate", "to": "daily"}
    assert "bubbly-retail.myshopify.com" in change.changed_by
    again = post(client, session_token, personas, personas.alice, GOOD)
    assert toast_of(again) == "Nothing changed"
    assert len(db_session.scalars(select(PartnerSettingsChange)).all()) == 1


def test_bad_settings_say_what_to_fix_and_change_nothing(client, session_token, personas):
    bad = {
        **GOOD,
        "cutoff_timezone": "Mars/Olympus",
        "cutoff_time": "25:99",
        "markup_value": "-1",
        "ship_to": "customer",
    }
    response = post(client, session_token, personas, personas.alice, bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give a time zone such as America/New_York." in page
    assert "Give a time such as 17:00." in page
    assert "The markup cannot be negative." in page
    assert "ship to the fulfilment centre" in page
    assert personas.alice.cadence == Cadence.IMMEDIATE


def test_partners_cannot_edit_settings(as_shop, personas):
    assert (
        as_shop(f"/admin/partners/{personas.alice.id}/settings", personas.alice).status_code == 403
    )


def test_an_absurd_fixed_markup_is_refused_with_its_limit(client, session_token, personas):
    bad = {**GOOD, "markup_kind": "fixed", "markup_value": "10000000000"}
    response = post(client, session_token, personas, personas.alice, bad)
    assert response.status_code == 422
    assert "above 1,000,000,000" in response.get_data(as_text=True)
    assert personas.alice.default_markup_rule == {"kind": "percentage", "value": "30"}


def test_a_saved_markup_that_breaks_the_limits_shows_its_error_instead_of_failing(
    client, as_shop, session_token, personas, shopify
):
    """A rule saved before the limits (or written by hand) must not break the partner's pages:
    they show why it cannot be used, and saving a good one replaces it."""
    alice = personas.alice
    alice.default_markup_rule = {"kind": "fixed", "value": "1e309"}
    page = as_shop(f"/admin/partners/{alice.id}/settings", personas.retail, htmx=False)
    assert page.status_code == 200
    assert "The saved markup cannot be used" in page.get_data(as_text=True)
    shopify.on(
        alice.shop_domain,
        "CatalogProducts",
        lambda v: {
            "products": {"nodes": [], "pageInfo": {"hasNextPage": False, "hasPreviousPage": False}}
        },
    )
    catalog = as_shop(f"/admin/partners/{alice.id}/catalog", personas.retail, htmx=False)
    assert catalog.status_code == 200
    assert "The saved markup cannot be used" in catalog.get_data(as_text=True)
    assert post(client, session_token, personas, alice, GOOD).status_code == 200
    assert alice.default_markup_rule["value"] == "35"


def field_html(page: str, name: str) -> str:
    """The label that holds the field called ``name`` (each field sits in its own label)."""
    start = page.rindex("<label", 0, page.index(f'name="{name}"'))
    return page[start : page.index("</label>", start)]


def test_a_refused_save_keeps_every_typed_value(client, session_token, personas):
    typed = {
        **GOOD,
        "cadence": "weekly",
        "cutoff_weekday": "2",
        "cutoff_time": "25:99",
        "cutoff_timezone": "Europe/Zurich",
        "markup_kind": "fixed",
        "markup_value": "2.50",
        "markup_rounding": "95",
        "markup_min_margin": "12",
    }
    typed.pop("auto_import_on_install")
    response = post(client, session_token, personas, personas.alice, typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="25:99"' in field_html(page, "cutoff_time")
    assert 'value="2.50"' in field_html(page, "markup_value")
    assert 'value="12"' in field_html(page, "markup_min_margin")
    assert '<option value="fixed" selected>' in field_html(page, "markup_kind")
    assert '<option value="95" selected>' in field_html(page, "markup_rounding")
    assert '<option value="weekly" selected>' in field_html(page, "cadence")
    assert '<option value="2" selected>' in field_html(page, "cutoff_weekday")
    assert "checked" not in field_html(page, "markup_keep_compare_at")
    assert personas.alice.cutoff_time == time(17, 0)


def test_a_refused_markup_keeps_what_was_typed_and_says_so_under_its_field(
    client, session_token, personas
):
    bad = {**GOOD, "markup_value": "1e3", "markup_min_margin": "150"}
    page = post(client, session_token, personas, personas.alice, bad).get_data(as_text=True)
    markup = field_html(page, "markup_value")
    assert 'value="1e3"' in markup and "written plainly" in markup
    margin = field_html(page, "markup_min_margin")
    assert 'value="150"' in margin and "below 100%" in margin
    assert 'aria-describedby="markup_min_margin-error"' in margin


def test_an_empty_markup_in_the_settings_is_an_error_not_the_default(
    client, session_token, personas
):
    response = post(client, session_token, personas, personas.alice, {**GOOD, "markup_value": ""})
    assert response.status_code == 422
    assert "Enter a markup" in field_html(response.get_data(as_text=True), "markup_value")


def test_a_field_the_cadence_does_not_use_cannot_block_a_save(client, session_token, personas):
    """Immediate sending hides the cutoff fields, so a bad one there must not refuse the save."""
    unused = {**GOOD, "cadence": "immediate", "ship_to": "customer", "cutoff_time": "nope"}
    response = post(client, session_token, personas, personas.alice, unused)
    assert response.status_code == 200
    assert personas.alice.cutoff_time == time(17, 0)
