"""Hostile shop names on every entry that takes a shop: the install link, the OAuth
callback, a session token's ``dest``, and a webhook's ``X-Shopify-Shop-Domain``.

Each is refused with nothing stored and no request sent to any shop. Upper case
is the one variant that is not hostile: it names the same shop, and every entry
either refuses it or acts on the lower-case shop, never on another.
"""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from powerpact.models import DeliveryStatus, OAuthState, PartnerStore, StoreStatus
from powerpact.shopify.install_views import STATE_COOKIE
from powerpact.shopify.signatures import oauth_hmac
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.shopify_double import token_check_answers
from tests.webhook_bodies import shop_body

ALICE = "alice-roasters.myshopify.com"
HOSTILE = {
    "foreign": "evil.com",
    "suffixed": f"{ALICE}.evil.com",
    "path": f"{ALICE}/admin",
    "path-first": f"evil.com/{ALICE}",
    "port": f"{ALICE}:443",
    "userinfo": f"{ALICE}@evil.com",
    "scheme": f"https://{ALICE}",
    "trailing-dot": f"{ALICE}.",
    "cyrillic-a": "\u0430lice-roasters.myshopify.com",
    "kelvin-sign": "\u212aelvin.myshopify.com",  # lower() turns it into ASCII "k"
    "fullwidth-dots": "alice-roasters\uff0emyshopify\uff0ecom",
    "fullwidth-slash": f"{ALICE}\uff0f@evil.com",  # urlsplit raises on it
    "leading-hyphen": "-alice.myshopify.com",
    "empty": "",
}
IN_HEADERS = {  # what a header can carry: WSGI hands non-ASCII bytes over as latin-1
    name: value.encode().decode("latin-1") for name, value in HOSTILE.items() if name != "empty"
}


def partner_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(PartnerStore))


@pytest.mark.parametrize("shop", HOSTILE.values(), ids=HOSTILE.keys())
def test_install_refuses_a_hostile_shop_and_stores_no_state(client, db_session, shop):
    response = client.get("/auth/install", query_string={"shop": shop})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(OAuthState)) == 0
    assert client.get_cookie(STATE_COOKIE, path="/auth/callback") is None


def test_install_in_upper_case_goes_to_the_lower_case_shop(client, db_session):
    response = client.get("/auth/install", query_string={"shop": ALICE.upper()})
    assert response.status_code == 302
    assert f"/shops/{ALICE}/admin/oauth/authorize" in response.headers["Location"]
    assert db_session.scalars(select(OAuthState.shop_domain)).all() == [ALICE]


def signed_callback(app, shop: str, state: str) -> dict[str, str]:
    params = {"code": "c", "shop": shop, "state": state, "timestamp": str(int(time.time()))}
    params["hmac"] = oauth_hmac(app.config["POWERPACT"].shopify_api_secret, params)
    return params


@pytest.mark.parametrize("shop", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_correctly_signed_callback_for_a_hostile_shop_is_refused_before_any_request(
    client, app, db_session, shopify, shop
):
    install = client.get("/auth/install", query_string={"shop": ALICE})
    state = install.headers["Location"].split("state=")[1].split("&")[0]
    response = client.get("/auth/callback", query_string=signed_callback(app, shop, state))
    assert response.status_code == 400
    assert "not a myshopify.com domain" in response.get_data(as_text=True)
    assert len(shopify.mock.calls) == 0
    assert partner_count(db_session) == 0


def test_a_callback_in_upper_case_is_refused(client, app, db_session, shopify):
    install = client.get("/auth/install", query_string={"shop": ALICE})
    state = install.headers["Location"].split("state=")[1].split("&")[0]
    response = client.get("/auth/callback", query_string=signed_callback(app, ALICE.upper(), state))
    assert response.status_code == 400
    assert len(shopify.mock.calls) == 0


def test_a_callback_in_mixed_case_is_the_lower_case_shop(
    client, app, db_session, shopify, monkeypatch
):
    from powerpact.shopify import tasks

    monkeypatch.setattr(tasks, "after_install_task", lambda shop: None)
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{ALICE}/admin/oauth/access_token",
        json={"access_token": "opaque-token-for-alice", "scope": "write_orders"},
    )
    install = client.get("/auth/install", query_string={"shop": ALICE})
    state = install.headers["Location"].split("state=")[1].split("&")[0]
    mixed = "Alice-Roasters.myshopify.com"
    response = client.get("/auth/callback", query_string=signed_callback(app, mixed, state))
    assert response.status_code == 302
    assert db_session.scalars(select(PartnerStore.shop_domain)).all() == [ALICE]


def token_naming(app, shop: str) -> str:
    """A session token signed with the app's own secret whose iss and dest name ``shop``."""
    settings = app.config["POWERPACT"]
    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": settings.shopify_api_key,
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
    }
    return jwt.encode(claims, settings.shopify_api_secret, algorithm="HS256")


@pytest.mark.parametrize("shop", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("url", ["/partner/orders", "/admin/"])
def test_a_session_token_whose_dest_is_hostile_is_refused_with_no_token_exchange(
    client, app, personas, db_session, shopify, shop, url, caplog
):
    response = client.get(
        url, headers={"Authorization": f"Bearer {token_naming(app, shop)}", "HX-Request": "true"}
    )
    assert response.status_code == 401
    assert response.json == {"error": "not signed in"}
    assert "is not a myshopify.com shop" in caplog.text
    assert len(shopify.mock.calls) == 0
    assert partner_count(db_session) == 2


def test_a_session_token_in_upper_case_is_the_lower_case_shop(client, app, personas):
    response = client.get(
        "/partner/orders",
        headers={"Authorization": f"Bearer {token_naming(app, ALICE.upper())}"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith(
        f"frame-ancestors https://{ALICE}"
    )


def uninstall_alice(send_webhook, shop_header: str, webhook_id: str, payload=None):
    return send_webhook(
        "app/uninstalled",
        shop_body(ALICE) if payload is None else payload,
        shop=shop_header,
        webhook_id=webhook_id,
    )


@pytest.mark.parametrize("shop", [*IN_HEADERS.values(), ALICE.upper()], ids=[*IN_HEADERS, "upper"])
def test_a_signed_webhook_with_a_hostile_shop_header_is_stored_failed_and_acts_on_nobody(
    send_webhook, personas, db_session, shop
):
    response = uninstall_alice(send_webhook, shop, "hostile-shop", payload={})
    assert response.status_code == 200
    delivery = delivery_by_webhook_id("hostile-shop")
    assert delivery.status == DeliveryStatus.FAILED
    assert "X-Shopify-Shop-Domain" in delivery.error
    db_session.refresh(personas.alice)
    assert personas.alice.status == StoreStatus.ACTIVE and personas.alice.access_token


def test_a_webhook_without_a_shop_header_is_stored_failed(client, app, personas):
    from powerpact.shopify.signatures import webhook_hmac

    body = b'{"id": 1}'
    secret = app.config["POWERPACT"].shopify_api_secret
    headers = {
        "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body),
        "X-Shopify-Webhook-Id": "no-shop",
        "X-Shopify-Topic": "app/uninstalled",
    }
    assert client.post("/webhooks", data=body, headers=headers).status_code == 200
    assert delivery_by_webhook_id("no-shop").status == DeliveryStatus.FAILED


def test_a_genuine_body_replayed_under_another_shops_header_acts_on_nobody(
    send_webhook, personas, db_session
):
    """Shopify signs the body only: Alice's uninstall resent as Bob's must not uninstall Bob."""
    response = uninstall_alice(send_webhook, personas.bob.shop_domain, "replayed")
    assert response.status_code == 200
    delivery = delivery_by_webhook_id("replayed")
    assert delivery.status == DeliveryStatus.FAILED
    assert "myshopify_domain names another shop" in delivery.error
    db_session.refresh(personas.bob)
    assert personas.bob.status == StoreStatus.ACTIVE and personas.bob.access_token


@pytest.mark.parametrize("topic", ["shop/redact", "customers/redact", "customers/data_request"])
def test_compliance_payloads_naming_another_shop_are_refused(send_webhook, personas, topic):
    send_webhook(
        topic, {"shop_domain": ALICE}, shop=personas.bob.shop_domain, webhook_id="cross-shop"
    )
    delivery = delivery_by_webhook_id("cross-shop")
    assert delivery.status == DeliveryStatus.FAILED
    assert "shop_domain names another shop" in delivery.error


def test_the_genuine_uninstall_still_works(send_webhook, personas, db_session, shopify):
    token_check_answers(shopify, ALICE, 401)
    uninstall_alice(send_webhook, ALICE, "genuine")
    assert delivery_by_webhook_id("genuine").status == DeliveryStatus.PROCESSED
    db_session.refresh(personas.alice)
    assert personas.alice.status == StoreStatus.DISABLED


header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=80
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shop=st.one_of(header_text, st.sampled_from([ALICE, ALICE.upper(), *IN_HEADERS.values()])),
    topic=st.one_of(header_text, st.sampled_from(["app/uninstalled", "shop/redact"])),
    webhook_id=header_text,
    triggered_at=header_text,
)
def test_any_signed_webhook_headers_are_answered_without_a_500_and_stored_with_an_outcome(
    send_webhook, personas, shop, topic, webhook_id, triggered_at
):
    webhook_id = f"{webhook_id}-{uuid.uuid4()}" if webhook_id.strip() else ""
    response = send_webhook(
        topic, {"id": 1}, shop=shop, webhook_id=webhook_id or " ", triggered_at=triggered_at
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        delivery = delivery_by_webhook_id(webhook_id.strip())
        assert delivery.status != DeliveryStatus.RECEIVED
        assert delivery.status != DeliveryStatus.FAILED or delivery.error


@pytest.mark.parametrize(
    "shop",
    ["a" * 64 + ".myshopify.com", "a" * 250 + ".myshopify.com", "a" * 10_000 + ".myshopify.com"],
    ids=["label-over-63", "name-over-255", "name-of-10-kb"],
)
def test_install_refuses_a_shop_name_no_dns_name_can_be_and_stores_no_state(
    client, db_session, shop
):
    response = client.get("/auth/install", query_string={"shop": shop})
    assert response.status_code == 400
    assert "not a Shopify store address" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(OAuthState)) == 0
