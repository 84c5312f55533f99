"""OAuth install: the redirect, the callback checks, encrypted tokens, webhook subscriptions."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import select, text

from powerpact.models import OAuthState, PartnerStore, RetailStore, StoreStatus
from powerpact.shopify.install_views import STATE_COOKIE
from powerpact.shopify.signatures import oauth_hmac
from tests.factories import PartnerStoreFactory

PARTNER = "alice-roasters.myshopify.com"
TOKEN_URL = f"http://127.0.0.1:8765/shops/{PARTNER}/admin/oauth/access_token"


def start_install(client, shop=PARTNER):
    response = client.get(f"/auth/install?shop={shop}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    return location, parse_qs(location.query)


def callback_params(app, state, shop=PARTNER, **overrides):
    params = {
        "code": "code-1",
        "shop": shop,
        "state": state,
        "timestamp": str(int(time.time())),
        "host": "aG9zdA",
    }
    params.update(overrides)
    params["hmac"] = oauth_hmac(app.config["POWERPACT"].shopify_api_secret, params)
    return params


@pytest.fixture
def shop_api(shopify):
    """The partner's Admin API as the after-install task sees it."""
    subscriptions = []

    shopify.on(
        PARTNER,
        "ShopInfo",
        lambda v: {
            "shop": {
                "name": "Alice Roasters",
                "contactEmail": "hello@alice-roasters.example",
                "currencyCode": "EUR",
                "ianaTimezone": "Europe/Paris",
                "plan": {"publicDisplayName": "Basic"},
            },
            "locations": {
                "nodes": [{"id": "gid://shopify/Location/7", "name": "Roastery", "isActive": True}]
            },
            "currentAppInstallation": {"accessScopes": [{"handle": "write_orders"}]},
        },
    )
    shopify.on(
        PARTNER,
        "WebhookSubscriptions",
        lambda v: {
            "webhookSubscriptions": {
                "nodes": subscriptions,
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            }
        },
    )

    def create(variables):
        subscriptions.append(
            {"id": f"w{len(subscriptions)}", "topic": variables["topic"], "uri": variables["uri"]}
        )
        return {
            "webhookSubscriptionCreate": {
                "webhookSubscription": subscriptions[-1],
                "userErrors": [],
            }
        }

    shopify.on(PARTNER, "WebhookSubscriptionCreate", create)
    return subscriptions


def test_install_redirects_to_the_shops_authorize_page_with_a_state(client, db_session):
    location, query = start_install(client)
    assert location.path == f"/shops/{PARTNER}/admin/oauth/authorize"
    assert query["client_id"] == ["test-api-key"]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/auth/callback"]
    assert "write_orders" in query["scope"][0]
    state = query["state"][0]
    assert client.get_cookie(STATE_COOKIE, path="/auth/callback").value == state
    stored = db_session.scalars(select(OAuthState)).one()
    assert stored.nonce_hash != state


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "x.myshopify.com/admin",
        "x.myshopify.com:8443",
        "",
        "-x.myshopify.com",
    ],
)
def test_install_refuses_what_is_not_a_shop(client, shop):
    assert client.get("/auth/install", query_string={"shop": shop}).status_code == 400


def install(client, app, shop_api, shopify, **token_extra):
    _, query = start_install(client)
    grant = {
        "access_token": "shpat_alice0000000000000000",
        "scope": app.config["POWERPACT"].shopify_scopes,
    }
    shopify.mock.post(TOKEN_URL, json={**grant, **token_extra})
    return client.get("/auth/callback", query_string=callback_params(app, query["state"][0]))


def test_callback_stores_the_token_encrypted_and_subscribes_webhooks(
    client, app, shop_api, shopify, db_session
):
    response = install(
        client,
        app,
        shop_api,
        shopify,
        expires_in=3600,
        refresh_token="shprt_refresh",
        refresh_token_expires_in=7776000,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dev/login/{PARTNER}")
    partner = db_session.scalars(select(PartnerStore)).one()
    assert partner.access_token == "shpat_alice0000000000000000"
    assert partner.refresh_token == "shprt_refresh"
    assert partner.access_token_expires_at is not None
    assert partner.name == "Alice Roasters" and partner.currency_code == "EUR"
    assert partner.contact_email == "hello@alice-roasters.example"  # where notifications go
    assert partner.location_id is None, "stock is counted at every location until chosen"
    raw = db_session.execute(text("SELECT access_token FROM partner_stores")).scalar_one()
    assert "alice0000" not in raw
    topics = {s["topic"] for s in shop_api}
    assert topics == {
        "PRODUCTS_UPDATE",
        "PRODUCTS_DELETE",
        "INVENTORY_LEVELS_UPDATE",
        "FULFILLMENTS_CREATE",
        "FULFILLMENTS_UPDATE",
        "APP_UNINSTALLED",
        "APP_SCOPES_UPDATE",
    }
    assert {s["uri"] for s in shop_api} == {"http://127.0.0.1:5000/webhooks"}


def test_a_reinstall_reactivates_the_partner_keeps_its_settings_and_adds_no_duplicate_webhooks(
    client, app, shop_api, shopify, db_session
):
    PartnerStoreFactory(shop_domain=PARTNER, uninstalled=True, cadence="weekly")
    install(client, app, shop_api, shopify)
    install(client, app, shop_api, shopify)
    partner = db_session.scalars(select(PartnerStore)).one()
    assert partner.status == StoreStatus.ACTIVE
    assert partner.uninstall_date is None
    assert partner.cadence == "weekly"
    assert len(shop_api) == 7


def test_a_replayed_state_is_refused(client, app, shop_api, shopify):
    _, query = start_install(client)
    params = callback_params(app, query["state"][0])
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "shpat_x", "scope": ""})
        assert client.get("/auth/callback", query_string=params).status_code == 302
    assert client.get("/auth/callback", query_string=params).status_code == 403


def test_a_state_from_another_browser_is_refused(client, app, db_session):
    _, query = start_install(client)
    client.delete_cookie(STATE_COOKIE, path="/auth/callback")
    response = client.get("/auth/callback", query_string=callback_params(app, query["state"][0]))
    assert response.status_code == 403


def test_a_state_issued_for_another_shop_is_refused(client, app):
    _, query = start_install(client, shop="bob-beans.myshopify.com")
    response = client.get("/auth/callback", query_string=callback_params(app, query["state"][0]))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "hmac": "0" * 64},
        lambda p: {**p, "code": "other"},
        lambda p: {k: v for k, v in p.items() if k != "hmac"},
    ],
    ids=["forged", "re-signed-field", "missing"],
)
def test_a_forged_callback_is_refused(client, app, tamper):
    _, query = start_install(client)
    response = client.get(
        "/auth/callback", query_string=tamper(callback_params(app, query["state"][0]))
    )
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_a_stale_callback_is_refused(client, app):
    _, query = start_install(client)
    params = callback_params(app, query["state"][0], timestamp=str(int(time.time()) - 3600))
    assert client.get("/auth/callback", query_string=params).status_code == 400


def test_shopify_refusing_the_code_is_reported(client, app):
    _, query = start_install(client)
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=400, json={"error": "invalid_request"})
        response = client.get(
            "/auth/callback", query_string=callback_params(app, query["state"][0])
        )
    assert response.status_code == 502
    assert "refused the token request" in response.get_data(as_text=True)


def test_the_retail_store_installs_as_the_retail_store(client, app, shopify, db_session):
    shop = "bubbly-retail.myshopify.com"
    shopify.on(
        shop,
        "ShopInfo",
        lambda v: {
            "shop": {
                "name": "Bubbly",
                "currencyCode": "USD",
                "ianaTimezone": "America/New_York",
                "plan": None,
            },
            "locations": {
                "nodes": [
                    {
                        "id": "gid://shopify/Location/1",
                        "name": "Warehouse",
                        "isActive": True,
                        "address": {
                            "address1": "400 SE Water Ave",
                            "address2": None,
                            "city": "Portland",
                            "province": "Oregon",
                            "provinceCode": "OR",
                            "zip": "97214",
                            "countryCode": "US",
                            "phone": None,
                        },
                    }
                ]
            },
            "currentAppInstallation": None,
        },
    )
    shopify.on(
        shop,
        "WebhookSubscriptions",
        lambda v: {
            "webhookSubscriptions": {
                "nodes": [],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            }
        },
    )
    created = []
    shopify.on(
        shop,
        "WebhookSubscriptionCreate",
        lambda v: (
            created.append(v["topic"])
            or {
                "webhookSubscriptionCreate": {
                    "webhookSubscription": {"id": "w", "topic": v["topic"], "uri": v["uri"]},
                    "userErrors": [],
                }
            }
        ),
    )
    shopify.on(
        shop,
        "MetafieldDefinitionCreate",
        lambda v: {
            "metafieldDefinitionCreate": {
                "createdDefinition": None,
                "userErrors": [{"field": ["definition"], "message": "taken", "code": "TAKEN"}],
            }
        },
    )
    _, query = start_install(client, shop=shop)
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{shop}/admin/oauth/access_token",
        json={"access_token": "shpat_retail", "scope": "write_orders"},
    )
    client.get("/auth/callback", query_string=callback_params(app, query["state"][0], shop=shop))
    retail = db_session.scalars(select(RetailStore)).one()
    assert retail.name == "Bubbly" and retail.location_id == "gid://shopify/Location/1"
    assert retail.fulfilment_centre_address == {
        "company": "Bubbly",
        "address1": "400 SE Water Ave",
        "city": "Portland",
        "province": "Oregon",
        "provinceCode": "OR",
        "zip": "97214",
        "countryCode": "US",
    }, "batched partner orders ship to the retail store's location"
    assert "ORDERS_CREATE" in created and "PRODUCTS_UPDATE" not in created
