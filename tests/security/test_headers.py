"""Issue 18, finding 10: the security headers of every kind of response.

A page, a fragment, a CSV export, a static file, the error pages (401, 403, 404, 413,
500) and the webhook intake each carry ``nosniff``, the referrer policy and the
``frame-ancestors`` policy of their shop (the Shopify admin alone when no shop is
signed in); all but static files are ``no-store``; HSTS is sent in production only.
"""

from __future__ import annotations

import json
import secrets

import pytest
from cryptography.fernet import Fernet

from powerpact import create_app
from powerpact.config import Settings
from powerpact.logs import install_log_handler
from powerpact.shopify.signatures import webhook_hmac
from powerpact.shopify.webhooks import MAX_BODY_BYTES
from tests.conftest import REDIS_TEST_URL, TEST_INSTANCE

SANDBOX = "http://127.0.0.1:8765"
ANONYMOUS_FRAMING = f"frame-ancestors https://admin.shopify.com {SANDBOX}"


def shop_framing(shop) -> str:
    return f"frame-ancestors https://{shop.shop_domain} https://admin.shopify.com {SANDBOX}"


def assert_common_headers(response, framing: str) -> None:
    assert response.headers["Content-Security-Policy"] == framing
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # development


def assert_not_stored(response, framing: str) -> None:
    assert_common_headers(response, framing)
    assert response.headers["Cache-Control"] == "no-store"


def bearer(session_token, shop) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"}


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_page_and_a_fragment(as_shop, personas, htmx):
    response = as_shop("/partner/orders", personas.alice, htmx=htmx)
    assert response.status_code == 200
    assert_not_stored(response, shop_framing(personas.alice))


def test_a_csv_export(as_shop, personas):
    response = as_shop("/partner/orders.csv", personas.alice)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert_not_stored(response, shop_framing(personas.alice))


def test_a_static_file_keeps_its_revalidating_cache(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert_common_headers(response, ANONYMOUS_FRAMING)
    assert response.headers["Cache-Control"] == "no-cache"
    response.close()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_401_says_not_signed_in_and_nothing_of_why(as_shop, client, personas, htmx, caplog):
    expired = as_shop("/partner/orders", personas.alice, htmx=htmx, now=0)
    missing = client.get("/partner/orders", headers={"HX-Request": "true"} if htmx else {})
    reasons = [r.args[0] for r in caplog.records if r.msg == "embedded request refused: %s"]
    # A page without any token is the first step of every load (the bounce page, a 200).
    refused = (expired, missing) if htmx else (expired,)
    assert len(reasons) == len(refused)
    for response in refused:
        assert response.status_code == 401
        assert_not_stored(response, ANONYMOUS_FRAMING)
        body = response.get_data(as_text=True)
        assert not any(reason in body for reason in reasons)
        if htmx:
            assert response.json == {"error": "not signed in"}
    if not htmx:
        assert "You are not signed in" in expired.get_data(as_text=True)


def test_a_403_is_framed_by_the_shop_that_asked(as_shop, personas):
    response = as_shop("/admin/", personas.alice, htmx=False)
    assert response.status_code == 403
    assert_not_stored(response, shop_framing(personas.alice))


def test_a_404_of_a_signed_in_shop(client, personas, session_token):
    response = client.post(
        "/partner/orders/999999/retry", headers=bearer(session_token, personas.alice)
    )
    assert response.status_code == 404
    assert_not_stored(response, shop_framing(personas.alice))


def test_a_404_of_nobody(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_not_stored(response, ANONYMOUS_FRAMING)


def test_a_413(client):
    response = client.post("/webhooks", data=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert_not_stored(response, ANONYMOUS_FRAMING)


def test_a_500_of_a_signed_in_shop(app, client, personas, session_token, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail that must stay inside")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr("powerpact.orders.views.status_counts", broken)
    response = client.get("/partner/orders", headers=bearer(session_token, personas.alice))
    assert response.status_code == 500
    assert_not_stored(response, shop_framing(personas.alice))
    assert "internal detail" not in response.get_data(as_text=True)


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "wrong-hmac"])
def test_the_webhook_intake(app, client, signed):
    body = json.dumps({"id": 1}).encode()
    secret = app.config["POWERPACT"].shopify_api_secret
    response = client.post(
        "/webhooks",
        data=body,
        headers={
            "X-Shopify-Topic": "test/headers",
            "X-Shopify-Shop-Domain": "bubbly-retail.myshopify.com",
            "X-Shopify-Webhook-Id": secrets.token_hex(8),
            "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body) if signed else "d3Jvbmc=",
        },
    )
    assert response.status_code == (200 if signed else 401)
    assert_not_stored(response, ANONYMOUS_FRAMING)


@pytest.fixture
def production_app(database_url, app):
    settings = Settings.from_env(
        {
            "POWERPACT_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_TEST_URL,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SHOPIFY_API_KEY": "test-api-key",
            "SHOPIFY_API_SECRET": secrets.token_hex(16),
            "SHOPIFY_ADMIN_ORIGIN": "https://{shop}",
            "APP_URL": "https://powerpact.example.com",
            "RETAIL_SHOP": "bubbly-retail.myshopify.com",
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "POWERPACT_INSTANCE_DIR": str(TEST_INSTANCE),
        }
    )
    yield create_app({"TESTING": True}, settings=settings)
    install_log_handler(app.config["POWERPACT"])  # the test app's readable log lines again


def test_hsts_is_sent_in_production_only(production_app, client):
    for path in ("/healthz", "/no-such-page", "/static/app.css"):
        response = production_app.test_client().get(path)
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=63072000; includeSubDomains"
        )
        assert response.headers["Content-Security-Policy"] == (
            "frame-ancestors https://admin.shopify.com"
        )
        response.close()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
