"""Forged signatures and tokens: webhook HMACs, the OAuth callback's HMAC and state,
and App Bridge session tokens. Each is refused, stores nothing, calls no shop, and
shows nothing of the shop it claims to be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from datetime import timedelta

import jwt
import jwt.warnings
import pytest
from sqlalchemy import func, select, update

from powerpact.db_types import utcnow
from powerpact.models import OAuthState, PartnerStore, StoreStatus, WebhookDelivery
from powerpact.shopify.install_views import STATE_COOKIE
from powerpact.shopify.signatures import oauth_hmac, webhook_hmac
from tests.factories import OrderSyncFactory, PartnerStoreFactory

ALICE = "alice-roasters.myshopify.com"
OTHER_SECRET = "another-apps-secret-" + "z" * 32
BODY = json.dumps({"id": 1, "myshopify_domain": ALICE}).encode()


def hex_digest(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


WEBHOOK_FORGERIES = {
    "missing": lambda secret: (BODY, None),
    "empty": lambda secret: (BODY, ""),
    "another-apps-secret": lambda secret: (BODY, webhook_hmac(OTHER_SECRET, BODY)),
    "body-changed-and-re-signed-elsewhere": lambda secret: (
        BODY.replace(b"1", b"2"),
        webhook_hmac(OTHER_SECRET, BODY.replace(b"1", b"2")),
    ),
    "body-changed-after-signing": lambda secret: (BODY + b" ", webhook_hmac(secret, BODY)),
    "hex-instead-of-base64": lambda secret: (BODY, hex_digest(secret, BODY)),
    "truncated": lambda secret: (BODY, webhook_hmac(secret, BODY)[:-4]),
    "sha1": lambda secret: (
        BODY,
        base64.b64encode(hmac.new(secret.encode(), BODY, hashlib.sha1).digest()).decode(),
    ),
    "non-ascii": lambda secret: (BODY, "\u00e9" * 44),
}


@pytest.mark.parametrize("topic", ["app/uninstalled", "customers/redact", "shop/redact"])
@pytest.mark.parametrize("forgery", WEBHOOK_FORGERIES.values(), ids=WEBHOOK_FORGERIES.keys())
def test_a_forged_webhook_gets_401_stores_nothing_and_changes_nothing(
    client, app, personas, db_session, topic, forgery
):
    body, signature = forgery(app.config["POWERPACT"].shopify_api_secret)
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": ALICE,
        "X-Shopify-Webhook-Id": "forged",
    }
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature.encode().decode("latin-1")
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 401
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    db_session.refresh(personas.alice)
    assert personas.alice.status == StoreStatus.ACTIVE


def start_install(client, shop: str = ALICE) -> str:
    response = client.get("/auth/install", query_string={"shop": shop})
    return response.headers["Location"].split("state=")[1].split("&")[0]


def callback(app, state: str, *, secret: str | None = None, **extra: str) -> dict[str, str]:
    params = {
        "code": "code-1",
        "shop": ALICE,
        "state": state,
        "timestamp": str(int(time.time())),
        **extra,
    }
    params["hmac"] = oauth_hmac(secret or app.config["POWERPACT"].shopify_api_secret, params)
    return params


CALLBACK_FORGERIES = {
    "re-signed-with-another-secret": lambda app, p: callback(app, p["state"], secret=OTHER_SECRET),
    "field-added-after-signing": lambda app, p: {**p, "shop": "bob-beans.myshopify.com"},
    "hmac-in-upper-case": lambda app, p: {**p, "hmac": p["hmac"].upper()},
    "hmac-in-base64": lambda app, p: {
        **p,
        "hmac": base64.b64encode(bytes.fromhex(p["hmac"])).decode(),
    },
    "empty-hmac": lambda app, p: {**p, "hmac": ""},
    "legacy-signature-only": lambda app, p: {
        **{k: v for k, v in p.items() if k != "hmac"},
        "signature": p["hmac"],
    },
    "stale-timestamp": lambda app, p: callback(
        app, p["state"], timestamp=str(int(time.time()) - 3600)
    ),
    "future-timestamp": lambda app, p: callback(
        app, p["state"], timestamp=str(int(time.time()) + 3600)
    ),
    "no-timestamp": lambda app, p: {
        **(q := {k: v for k, v in p.items() if k not in ("timestamp", "hmac")}),
        "hmac": oauth_hmac(app.config["POWERPACT"].shopify_api_secret, q),
    },
}


@pytest.mark.parametrize("forgery", CALLBACK_FORGERIES.values(), ids=CALLBACK_FORGERIES.keys())
def test_a_forged_callback_is_refused_before_the_state_or_any_request(
    client, app, db_session, shopify, forgery
):
    state = start_install(client)
    response = client.get("/auth/callback", query_string=forgery(app, callback(app, state)))
    assert response.status_code == 400
    assert len(shopify.mock.calls) == 0
    assert db_session.scalars(select(OAuthState.used_at)).all() == [None], "state spent"
    assert db_session.scalar(select(func.count()).select_from(PartnerStore)) == 0


def refused_callback(client, app, params) -> int:
    return client.get("/auth/callback", query_string=params).status_code


def test_a_state_spent_by_a_callback_shopify_refused_cannot_be_replayed(client, app, shopify):
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{ALICE}/admin/oauth/access_token", status=400, json={}
    )
    params = callback(app, start_install(client))
    assert refused_callback(client, app, params) == 502
    assert refused_callback(client, app, params) == 403


def test_an_expired_state_is_refused(client, app, db_session):
    state = start_install(client)
    db_session.execute(update(OAuthState).values(created_at=utcnow() - timedelta(minutes=11)))
    assert refused_callback(client, app, callback(app, state)) == 403


def test_a_state_never_issued_is_refused_even_with_a_matching_cookie(client, app, db_session):
    """An attacker can set the cookie and the parameter alike; only an issued state counts."""
    client.set_cookie(STATE_COOKIE, "made-up-state", path="/auth/callback")
    assert refused_callback(client, app, callback(app, "made-up-state")) == 403


def test_a_cookie_for_one_install_does_not_carry_another_installs_state(client, app):
    first = start_install(client)
    start_install(client)  # the cookie now holds the second state
    assert refused_callback(client, app, callback(app, first)) == 403


def session_claims(app, shop: str = ALICE, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": app.config["POWERPACT"].shopify_api_key,
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(app, claims: dict, *, secret: str | None = None, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # HS512 with the app's own (short for it) secret
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(
            claims, secret or app.config["POWERPACT"].shopify_api_secret, algorithm=algorithm
        )


def unsigned(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def swapped_payload(app) -> str:
    """Bob's claims under the signature of a genuine token of Alice's."""
    header, _, signature = signed(app, session_claims(app)).split(".")
    bob = signed(app, session_claims(app, "bob-beans.myshopify.com")).split(".")[1]
    return f"{header}.{bob}.{signature}"


def seconds_from_now(offset: int) -> int:
    """Read when a token is minted: a time taken at import goes stale in a long run."""
    return int(time.time()) + offset


BAD_TOKENS = {
    "alg-none": lambda app: unsigned(session_claims(app)),
    "alg-none-upper": lambda app: unsigned(session_claims(app)).replace("none", "NONE", 1),
    "another-secret": lambda app: signed(app, session_claims(app), secret=OTHER_SECRET),
    "hs512": lambda app: signed(app, session_claims(app), algorithm="HS512"),
    "expired": lambda app: signed(
        app, session_claims(app, exp=seconds_from_now(-60), nbf=seconds_from_now(-120))
    ),
    "not-yet-valid": lambda app: signed(
        app, session_claims(app, nbf=seconds_from_now(60), exp=seconds_from_now(120))
    ),
    "wrong-aud": lambda app: signed(app, session_claims(app, aud="another-app")),
    "no-aud": lambda app: signed(app, session_claims(app, aud=None)),
    "no-exp": lambda app: signed(app, session_claims(app, exp=None)),
    "dest-of-another-shop": lambda app: signed(
        app, session_claims(app, dest="https://bob-beans.myshopify.com")
    ),
    "iss-of-another-shop": lambda app: signed(
        app, session_claims(app, iss="https://bob-beans.myshopify.com/admin")
    ),
    "payload-swapped": swapped_payload,
    "garbage": lambda app: "not.a.jwt",
}


@pytest.mark.parametrize("url", ["/partner/orders", "/admin/"])
@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_session_token_is_refused_with_no_token_exchange_and_nothing_shown(
    client, app, personas, shopify, url, make
):
    OrderSyncFactory(partner=personas.alice, bubbly_order_name="#ALICE-SECRET")
    token = make(app)
    fragment = client.get(url, headers={"Authorization": f"Bearer {token}", "HX-Request": "true"})
    document = client.get(url, query_string={"id_token": token})
    for response in (fragment, document):
        assert response.status_code == 401
        assert "#ALICE-SECRET" not in response.get_data(as_text=True)
    assert len(shopify.mock.calls) == 0


def test_a_good_token_of_an_uninstalled_shop_is_refused_and_does_not_reinstall_it(
    client, app, db_session, shopify
):
    """Its token exchange is tried (a Shopify-managed reinstall would succeed) and refused."""
    carol = PartnerStoreFactory(shop_domain="carol-closed.myshopify.com", uninstalled=True)
    OrderSyncFactory(partner=carol, bubbly_order_name="#CAROL-SECRET")
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{carol.shop_domain}/admin/oauth/access_token",
        status=400,
        json={"error": "invalid_subject_token"},
    )
    token = signed(app, session_claims(app, carol.shop_domain))
    response = client.get("/partner/orders", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "#CAROL-SECRET" not in response.get_data(as_text=True)
    db_session.refresh(carol)
    assert carol.status == StoreStatus.DISABLED and carol.access_token is None
