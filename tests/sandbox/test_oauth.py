"""OAuth as Shopify runs it: a signed redirect (checked by ShopifyAPI's own code), single-use
codes, expiring tokens with refresh, token exchange of an id token, revocation on uninstall."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import shopify

from powerpact.sandbox.oauth import TOKEN_EXCHANGE
from tests.sandbox.helpers import APP_URL, KEY, SECRET, SHOP

AUTHORIZE = (
    f"/shops/{SHOP}/admin/oauth/authorize?client_id={KEY}&scope=read_products,write_orders"
    f"&redirect_uri={APP_URL}/auth/callback&state=s1"
)
TOKEN_URL = f"/shops/{SHOP}/admin/oauth/access_token"


def approve(client):
    response = client.get(AUTHORIZE)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{APP_URL}/auth/callback"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def exchange(client, code, **extra):
    form = {"client_id": KEY, "client_secret": SECRET, "code": code, **extra}
    return client.post(TOKEN_URL, data=form)


def test_the_redirect_hmac_passes_shopifyapis_own_validation(sandbox_app):
    params = approve(sandbox_app.test_client())
    assert params["state"] == "s1" and params["shop"] == SHOP
    assert set(params) == {"code", "host", "shop", "state", "timestamp", "hmac"}
    shopify.Session.setup(api_key=KEY, secret=SECRET)
    try:
        assert shopify.Session.validate_params(params)
        assert shopify.Session.calculate_hmac(params) == params["hmac"]
        assert not shopify.Session.validate_params({**params, "state": "forged"})
    finally:
        shopify.Session.setup(api_key=None, secret=None)


def test_a_code_is_exchanged_once_for_the_granted_scopes(sandbox_app, gql):
    client = sandbox_app.test_client()
    code = approve(client)["code"]
    grant = exchange(client, code).get_json()
    assert grant == {"access_token": grant["access_token"], "scope": "read_products,write_orders"}
    assert grant["access_token"].startswith("shpat_")
    assert exchange(client, code).status_code == 400, "a code works once"
    assert gql(grant["access_token"], "{ shop { name } }")[0] == 200


def test_expiring_tokens_expire_and_refresh_rotates_both(sandbox_app, gql, clock):
    client = sandbox_app.test_client()
    grant = exchange(client, approve(client)["code"], expiring="1").get_json()
    assert grant["expires_in"] == 3600 and grant["refresh_token_expires_in"] == 7776000
    clock.advance(3601)
    status, body = gql(grant["access_token"], "{ shop { name } }")
    assert status == 401 and "expired" in body["errors"]
    form = {
        "client_id": KEY,
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": grant["refresh_token"],
    }
    refreshed = client.post(TOKEN_URL, data=form).get_json()
    assert refreshed["refresh_token"] != grant["refresh_token"]
    assert gql(refreshed["access_token"], "{ shop { name } }")[0] == 200
    assert client.post(TOKEN_URL, data=form).status_code == 400, "a refresh token works once"


def test_a_stale_refresh_token_is_refused(sandbox_app, clock):
    client = sandbox_app.test_client()
    grant = exchange(client, approve(client)["code"], expiring="1").get_json()
    clock.advance(7776000 + 60)
    form = {
        "client_id": KEY,
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": grant["refresh_token"],
    }
    assert "expired" in client.post(TOKEN_URL, data=form).get_json()["error"]


def test_wrong_client_credentials_or_redirect_are_refused(sandbox_app):
    client = sandbox_app.test_client()
    assert exchange(client, approve(client)["code"], client_secret="nope").status_code == 400
    assert client.get(AUTHORIZE.replace(f"client_id={KEY}", "client_id=other")).status_code == 400
    elsewhere = AUTHORIZE.replace(APP_URL, "https://evil.example")
    assert client.get(elsewhere).status_code == 400
    assert client.get("/shops/nobody.myshopify.com/admin/oauth/authorize").status_code == 404


def id_token(shop=SHOP, key=KEY, secret=SECRET, **claims):
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": key,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 1,
        "iat": now,
        "jti": "j",
        "sid": "s",
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def token_exchange(client, subject, shop=SHOP, **extra):
    form = {
        "client_id": KEY,
        "client_secret": SECRET,
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        **extra,
    }
    return client.post(f"/shops/{shop}/admin/oauth/access_token", data=form)


def test_token_exchange_grants_the_apps_scopes_for_a_valid_id_token(sandbox_app, sandbox):
    client = sandbox_app.test_client()
    answer = token_exchange(client, id_token(), expiring="1").get_json()
    assert answer["scope"] == ",".join(sandbox.config.scopes)
    assert answer["expires_in"] == 3600


@pytest.mark.parametrize(
    "subject",
    [
        id_token(shop="harbor-bean-co.myshopify.com"),
        id_token(key="someone-else"),
        id_token(secret="another-secret-0123456789abcdef-xyz"),
        id_token(exp=int(time.time()) - 10),
        "not-a-jwt",
    ],
)
def test_token_exchange_refuses_a_bad_id_token(sandbox_app, subject):
    assert token_exchange(sandbox_app.test_client(), subject).status_code == 400


def test_the_approval_page_when_not_automatic(sandbox_app, sandbox):
    sandbox.config.auto_approve = False
    client = sandbox_app.test_client()
    page = client.get(AUTHORIZE)
    assert page.status_code == 200 and b"Install PowerPact on North Star Roasters" in page.data
    approved = client.post(AUTHORIZE)
    assert approved.status_code == 302 and "code=" in approved.headers["Location"]


def test_uninstall_revokes_every_token_and_fires_the_webhook(
    sandbox_app, sandbox, token, gql, data, sent
):
    from tests.sandbox.helpers import subscribe, topics

    subscribe(data, token, "APP_UNINSTALLED", SHOP)
    assert sandbox_app.test_client().post(f"/_sandbox/shops/{SHOP}/uninstall").status_code == 200
    assert topics(sandbox, sent) == ["app/uninstalled"]
    assert gql(token, "{ shop { name } }")[0] == 401
    assert not sandbox.shop(SHOP).installed and not sandbox.shop(SHOP).subscriptions


def test_the_uninstall_webhook_leaves_after_the_token_stopped_working(
    sandbox_app, sandbox, token, gql, data, sent
):
    """PowerPact confirms an ``app/uninstalled`` by its token answering 401 (as on Shopify)."""
    from tests.sandbox.helpers import subscribe, topics

    subscribe(data, token, "APP_UNINSTALLED", SHOP)
    answered_then = []
    record = sandbox.webhooks.transport

    def probe(url, headers, body):
        answered_then.append(gql(token, "query ShopId { shop { id } }")[0])
        return record(url, headers, body)

    sandbox.webhooks.transport = probe
    sandbox_app.test_client().post(f"/_sandbox/shops/{SHOP}/uninstall")
    assert topics(sandbox, sent) == ["app/uninstalled"]
    assert answered_then == [401]
