"""The retail store's settings: the fraud hold window and authorized payments."""

import pytest
from markupsafe import escape

from tests.embedded_requests import toast_of


def post(client, session_token, personas, data, shop=None):
    return client.post(
        "/admin/settings",
        data=data,
        headers={"Authorization": f"Bearer {session_token(shop or personas.retail)}"},
    )


def test_the_page_shows_the_two_minute_default(as_shop, personas):
    page = as_shop("/admin/settings", personas.retail, htmx=False)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="risk_hold_minutes" value="2"' in html
    assert 'hx-get="/admin/inventory/location"' in html, "the retail stock location, loaded"
    assert personas.retail.risk_hold_seconds == 120


def test_a_new_window_and_authorized_payments_are_saved(client, session_token, personas):
    answer = post(
        client,
        session_token,
        personas,
        {"risk_hold_minutes": "5", "accept_authorized_payments": "on"},
    )
    assert answer.status_code == 200
    assert toast_of(answer) == "Settings saved"
    assert personas.retail.risk_hold_seconds == 300
    assert personas.retail.accept_authorized_payments is True
    again = post(
        client,
        session_token,
        personas,
        {"risk_hold_minutes": "5", "accept_authorized_payments": "on"},
    )
    assert toast_of(again) == "Nothing changed"
    off = post(client, session_token, personas, {"risk_hold_minutes": "0"})
    assert personas.retail.risk_hold_seconds == 0 and toast_of(off) == "Settings saved"


@pytest.mark.parametrize("typed", ["", "abc", "-1", "61", "1.5", "²", "9" * 40])
def test_a_bad_window_is_refused_under_its_field_keeping_what_was_typed(
    client, session_token, personas, typed
):
    answer = post(
        client,
        session_token,
        personas,
        {"risk_hold_minutes": typed, "accept_authorized_payments": "on"},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="risk_hold_minutes-error"' in page and "from 0 (no hold) to 60" in page
    assert 'aria-invalid="true"' in page
    kept = escape(typed[:16])
    assert f'name="risk_hold_minutes" value="{kept}"' in page, "what was typed is kept"
    assert 'name="accept_authorized_payments" checked' in page, "and the other field too"
    assert toast_of(answer) is None, "a refusal stays on the page, under its field"
    assert personas.retail.risk_hold_seconds == 120
    assert personas.retail.accept_authorized_payments is False


def test_partners_cannot_open_the_store_settings(as_shop, client, session_token, personas):
    assert as_shop("/admin/settings", personas.alice).status_code == 403
    assert (
        post(
            client, session_token, personas, {"risk_hold_minutes": "0"}, personas.alice
        ).status_code
        == 403
    )
    assert personas.retail.risk_hold_seconds == 120
