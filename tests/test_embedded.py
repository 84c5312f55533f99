"""Session tokens on full pages and htmx fragments, and the role each shop gets."""

import logging
import time

import jwt
import pytest

from powerpact.embedded import RETRY_HEADER
from powerpact.shopify.session_tokens import (
    InvalidSessionToken,
    decode_session_token,
    mint_session_token,
)
from tests.factories import OrderSyncFactory

PAGES = [("/admin/", "retail"), ("/partner/orders", "alice")]


@pytest.mark.parametrize(("url", "who"), PAGES)
@pytest.mark.parametrize("htmx", [True, False], ids=["fragment", "document"])
def test_a_good_token_opens_the_shops_own_pages(as_shop, personas, url, who, htmx):
    response = as_shop(url, getattr(personas, who), htmx=htmx)
    assert response.status_code == 200
    shop = getattr(personas, who).shop_domain
    assert response.headers["Content-Security-Policy"].startswith(
        f"frame-ancestors https://{shop} https://admin.shopify.com"
    )


BAD_TOKENS = {
    "wrong-secret": {"secret": "another-apps-secret-" + "z" * 32},
    "wrong-aud": {"api_key": "someone-else"},
    "expired": {"now": time.time() - 3600},
    "not-yet-valid": {"now": time.time() + 3600},
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_get_401_with_the_retry_header_on_fragments(as_shop, personas, case):
    response = as_shop("/partner/orders", personas.alice, **BAD_TOKENS[case])
    assert response.status_code == 401
    assert response.headers[RETRY_HEADER] == "1"
    assert "Alice" not in response.get_data(as_text=True)


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_in_the_url_get_a_page_that_says_so(as_shop, personas, case):
    response = as_shop("/partner/orders", personas.alice, htmx=False, **BAD_TOKENS[case])
    assert response.status_code == 401
    assert "could not confirm who you are" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/admin/", "/partner/orders", "/"])
def test_a_document_without_token_bounces_through_app_bridge_as_a_normal_step(
    client, personas, caplog, url, app, monkeypatch
):
    """Every embedded page starts so: a 200 page, logged as no refusal (it was a 401 and
    "embedded request refused: no session token" on every healthy load)."""
    monkeypatch.setattr("powerpact.home.is_sandbox", lambda: False)
    caplog.set_level(logging.DEBUG, logger="powerpact.embedded")
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "shopify.idToken()" in page
    assert "id_token" in page
    assert "Alice" not in page and "Bob" not in page
    assert response.headers["Cache-Control"] == "no-store"
    embedded = [r for r in caplog.records if r.name == "powerpact.embedded"]
    assert [r.levelno for r in embedded] == [logging.DEBUG]
    assert "refused" not in caplog.text


def test_a_fragment_without_token_is_refused_with_the_retry_header(client, personas, caplog):
    caplog.set_level(logging.INFO, logger="powerpact.embedded")
    response = client.get("/admin/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers[RETRY_HEADER] == "1"
    assert "embedded request refused: no session token" in caplog.text


def test_alg_none_is_refused(client, personas, app):
    claims = jwt.decode(
        mint_session_token(
            personas.alice.shop_domain,
            api_key=app.config["POWERPACT"].shopify_api_key,
            secret="x" * 40,
        ),
        options={"verify_signature": False},
    )
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    response = client.get("/partner/orders", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


def forge(app, **claims):
    settings = app.config["POWERPACT"]
    now = int(time.time())
    base = {
        "iss": "https://alice-roasters.myshopify.com/admin",
        "dest": "https://alice-roasters.myshopify.com",
        "aud": settings.shopify_api_key,
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
    }
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(base, settings.shopify_api_secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"dest": "https://bob-beans.myshopify.com"}, "different shops"),
        ({"dest": "https://evil.com", "iss": "https://evil.com/admin"}, "not a myshopify.com"),
        ({"dest": "http://alice-roasters.myshopify.com"}, "not a myshopify.com"),
        ({"exp": None}, "exp"),
        ({"nbf": None}, "nbf"),
        ({"aud": None}, "aud"),
    ],
)
def test_forged_claims_are_refused(app, claims, why):
    settings = app.config["POWERPACT"]
    with pytest.raises(InvalidSessionToken, match=why):
        decode_session_token(
            forge(app, **claims),
            api_key=settings.shopify_api_key,
            secret=settings.shopify_api_secret,
        )


def test_a_partner_token_opens_nothing_of_the_admin(as_shop, personas):
    for htmx in (True, False):
        response = as_shop("/admin/", personas.alice, htmx=htmx)
        assert response.status_code == 403


def test_the_retail_store_is_not_a_partner(as_shop, personas):
    assert as_shop("/partner/orders", personas.retail).status_code == 403


def test_a_partner_sees_only_its_own_orders(as_shop, personas):
    OrderSyncFactory(partner=personas.alice, bubbly_order_name="#ALICE-1")
    OrderSyncFactory(partner=personas.bob, bubbly_order_name="#BOB-1")
    page = as_shop("/partner/orders", personas.alice).get_data(as_text=True)
    assert "#ALICE-1" in page
    assert "#BOB-1" not in page


def test_an_uninstalled_partner_whose_token_cannot_be_exchanged_is_refused(
    as_shop, personas, db_session, caplog
):
    import responses

    personas.alice.status = "disabled"
    personas.alice.access_token = None
    db_session.flush()
    with responses.RequestsMock() as mock:
        mock.post(
            "http://127.0.0.1:8765/shops/alice-roasters.myshopify.com/admin/oauth/access_token",
            status=400,
            json={"error": "invalid_subject_token"},
        )
        response = as_shop("/partner/orders", personas.alice)
    assert response.status_code == 401
    assert response.json == {"error": "not signed in"}
    assert "alice-roasters.myshopify.com is not installed" in caplog.text


def test_an_unknown_shop_with_a_valid_token_is_refused_when_exchange_fails(as_shop, db_session):
    import responses

    with responses.RequestsMock() as mock:
        mock.post(
            "http://127.0.0.1:8765/shops/stranger.myshopify.com/admin/oauth/access_token",
            status=401,
        )
        response = as_shop("/partner/orders", "stranger.myshopify.com")
    assert response.status_code == 401


def test_root_routes_each_shop_to_its_home(client, personas, session_token):
    retail = client.get(f"/?id_token={session_token(personas.retail)}&shop=x")
    assert retail.status_code == 302 and "/admin/" in retail.headers["Location"]
    partner = client.get(f"/?id_token={session_token(personas.alice)}")
    assert "/partner/orders" in partner.headers["Location"]
    assert client.get("/?id_token=garbage").status_code == 401
    assert client.get("/").headers["Location"].endswith("/dev/login")


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"exp": -9}, True),
        ({"exp": -11}, False),
        ({"nbf": 9}, True),
        ({"nbf": 11}, False),
    ],
    ids=["expired-9s-ago", "expired-11s-ago", "valid-in-9s", "valid-in-11s"],
)
def test_ten_seconds_of_clock_skew_are_allowed(app, claims, accepted):
    """Shopify's own libraries allow 10 s of skew: 9 s out is accepted, 11 s is not."""
    settings = app.config["POWERPACT"]
    now = int(time.time())
    token = forge(app, **{name: now + offset for name, offset in claims.items()})

    def decode():
        return decode_session_token(
            token, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )

    if accepted:
        assert decode().shop == "alice-roasters.myshopify.com"
    else:
        with pytest.raises(InvalidSessionToken):
            decode()


def test_root_passes_on_only_shopifys_launch_parameters(client, personas, session_token):
    """``url_for``'s own keywords in the query (``endpoint``, ``_external``...) once made it
    raise or build another URL; only Shopify's launch parameters go on."""
    token = session_token(personas.alice)
    response = client.get(
        "/",
        query_string={
            "id_token": token,
            "shop": personas.alice.shop_domain,
            "host": "YWRtaW4",
            "endpoint": "x",
            "_external": "1",
            "_scheme": "javascript",
            "partner": "bob-beans.myshopify.com",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/partner/orders?")
    assert f"id_token={token}" in location and "host=YWRtaW4" in location
    assert "endpoint" not in location and "javascript" not in location
    assert "partner=" not in location
