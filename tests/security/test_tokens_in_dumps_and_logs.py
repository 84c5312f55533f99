"""Tokens never in plaintext in any table or any log line, on the roads the install test
(test_secrets_at_rest.py, a pg_dump after the OAuth callback) does not take: a refresh
that succeeds and one Shopify refuses, each inside a webhook whose delivery, payload,
result and error are stored, and the token exchange of a first embedded load.

The tokens here are opaque (not ``shpat_``-shaped), so the log filter that masks
token-shaped strings cannot hide a code path that logs one: the raw records are
searched, before any filter runs.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import DeliveryStatus, PartnerStore, RetailStore
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import RetailStoreFactory
from tests.security.dumps import captured_logs, database_dump
from tests.shopify_double import Answer
from tests.webhook_bodies import order_body

RETAIL = "bubbly-retail.myshopify.com"
NEWCOMER = "dora-drinks.myshopify.com"


def opaque(kind: str) -> str:
    return f"OPAQUE{kind}{secrets.token_hex(12)}"


def token_url(shop: str) -> str:
    return f"http://127.0.0.1:8765/shops/{shop}/admin/oauth/access_token"


def assert_nowhere(tokens: list[str], dump: str, logs: list[str]) -> None:
    text = "\n".join(logs)
    assert [t for t in tokens if t in dump] == [], "a token is in the database in plaintext"
    assert [t for t in tokens if t in text] == [], "a token reached a log line"


@pytest.fixture
def expiring_retail(db_session):
    tokens = {k: opaque(k) for k in ("access", "refresh", "new_access", "new_refresh")}
    RetailStoreFactory(
        access_token=tokens["access"],
        refresh_token=tokens["refresh"],
        access_token_expires_at=utcnow() + timedelta(minutes=1),
    )
    db_session.flush()
    return tokens


def test_a_refresh_inside_a_webhook_stores_the_new_pair_encrypted_and_logs_neither(
    expiring_retail, send_webhook, shopify, db_session
):
    tokens = expiring_retail
    shopify.mock.post(
        token_url(RETAIL),
        json={
            "access_token": tokens["new_access"],
            "scope": "write_orders",
            "expires_in": 3600,
            "refresh_token": tokens["new_refresh"],
            "refresh_token_expires_in": 7776000,
        },
    )

    def revoked(variables):
        raise Answer(
            401, {"errors": f"[API] Invalid API key or access token {tokens['new_access']}"}
        )

    shopify.on(RETAIL, "OrderForSync", revoked)
    with captured_logs() as logs:
        send_webhook("orders/create", order_body(42), webhook_id="refresh-then-401")
        dump = database_dump(db_session)
    delivery = delivery_by_webhook_id("refresh-then-401")
    assert delivery.status == DeliveryStatus.FAILED and delivery.error
    store = db_session.scalar(select(RetailStore))
    assert store.refresh_token == tokens["new_refresh"], "the refresh must really have run"
    assert "refresh-then-401" in dump
    assert_nowhere(list(tokens.values()), dump, logs)


def test_a_refused_refresh_keeps_the_tokens_out_of_the_stored_error_and_the_logs(
    expiring_retail, send_webhook, shopify, db_session
):
    tokens = expiring_retail
    shopify.mock.post(
        token_url(RETAIL),
        status=400,
        json={"error": "invalid_grant", "error_description": f"bad {tokens['refresh']}"},
    )
    with captured_logs() as logs:
        send_webhook("orders/create", order_body(43), webhook_id="refresh-refused")
        dump = database_dump(db_session)
    delivery = delivery_by_webhook_id("refresh-refused")
    assert delivery.status == DeliveryStatus.FAILED
    assert "Shopify refused to refresh it" in delivery.error
    assert_nowhere([tokens["access"], tokens["refresh"]], dump, logs)


def test_the_token_exchange_of_a_first_embedded_load_stores_and_logs_no_token(
    as_shop, session_token, shopify, db_session
):
    access, refresh = opaque("access"), opaque("refresh")
    shopify.mock.post(
        token_url(NEWCOMER),
        json={"access_token": access, "scope": "", "expires_in": 3600, "refresh_token": refresh},
    )
    shopify.on(
        NEWCOMER,
        "ShopInfo",
        lambda v: {
            "shop": {"name": "Dora", "currencyCode": "USD", "ianaTimezone": "UTC", "plan": None},
            "locations": {"nodes": []},
            "currentAppInstallation": None,
        },
    )
    shopify.on(
        NEWCOMER,
        "WebhookSubscriptions",
        lambda v: {"webhookSubscriptions": {"nodes": [], "pageInfo": {"hasNextPage": False}}},
    )
    shopify.on(
        NEWCOMER,
        "WebhookSubscriptionCreate",
        lambda v: {
            "webhookSubscriptionCreate": {"webhookSubscription": {"id": "w"}, "userErrors": []}
        },
    )
    with captured_logs() as logs:
        assert as_shop("/partner/orders", NEWCOMER, htmx=False).status_code == 200
        dump = database_dump(db_session)
    partner = db_session.scalar(select(PartnerStore).where(PartnerStore.shop_domain == NEWCOMER))
    assert partner.access_token == access and partner.refresh_token == refresh
    assert NEWCOMER in dump
    id_token = shopify.mock.calls[0].request.body.split("subject_token=")[1].split("&")[0]
    assert_nowhere([access, refresh, id_token], dump, logs)
