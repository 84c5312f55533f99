"""The sandbox-only sign-in mints the same session tokens Shopify would."""

from urllib.parse import parse_qs, urlsplit

from powerpact import create_app
from powerpact.shopify.session_tokens import decode_session_token
from tests.conftest import settings_for


def test_the_sign_in_page_lists_the_installed_stores(client, personas):
    page = client.get("/dev/login").get_data(as_text=True)
    assert "Alice" in page and "Bob" in page and "Bubbly" in page


def test_signing_in_as_a_partner_lands_on_its_orders_with_a_valid_token(client, app, personas):
    response = client.get("/dev/login/alice-roasters.myshopify.com")
    location = urlsplit(response.headers["Location"])
    assert location.path == "/partner/orders"
    token = parse_qs(location.query)["id_token"][0]
    settings = app.config["POWERPACT"]
    session = decode_session_token(
        token, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
    )
    assert session.shop == "alice-roasters.myshopify.com"
    assert client.get(f"{location.path}?{location.query}").status_code == 200
    fresh = client.get("/dev/session-token")
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"


def test_the_retail_store_lands_on_the_admin(client, personas):
    assert (
        urlsplit(client.get("/dev/login/bubbly-retail.myshopify.com").headers["Location"]).path
        == "/admin/"
    )


def test_no_token_without_signing_in_and_no_hostile_shops(client):
    assert client.get("/dev/session-token").status_code == 401
    assert client.get("/dev/login/evil.com").status_code == 404


def test_production_has_no_dev_sign_in(database_url):
    settings = settings_for(database_url, SHOPIFY_ADMIN_ORIGIN="https://{shop}")
    app = create_app({"TESTING": True}, settings=settings)
    assert app.test_client().get("/dev/login").status_code == 404
