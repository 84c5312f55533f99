"""Tokens never reach the database in plaintext nor the logs: dump both and search."""

import logging
import shutil
import subprocess
import time

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore
from powerpact.shopify.signatures import oauth_hmac
from tests.shopify.test_install_flow import PARTNER, TOKEN_URL

ACCESS = "shpat_SECRETaccess0123456789abcdef"
REFRESH = "shprt_SECRETrefresh0123456789abcd"


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_full_install_leaves_no_token_in_the_database_dump_or_the_logs(
    committed_app, database_url, shopify, caplog
):
    caplog.set_level(logging.DEBUG)
    client = committed_app.test_client()
    shopify.on(
        PARTNER,
        "ShopInfo",
        lambda v: {
            "shop": {"name": "Alice", "currencyCode": "EUR", "ianaTimezone": "UTC", "plan": None},
            "locations": {"nodes": []},
            "currentAppInstallation": None,
        },
    )
    shopify.on(
        PARTNER,
        "WebhookSubscriptions",
        lambda v: {"webhookSubscriptions": {"nodes": [], "pageInfo": {"hasNextPage": False}}},
    )
    shopify.on(
        PARTNER,
        "WebhookSubscriptionCreate",
        lambda v: {
            "webhookSubscriptionCreate": {"webhookSubscription": {"id": "w"}, "userErrors": []}
        },
    )
    shopify.mock.post(
        TOKEN_URL,
        json={
            "access_token": ACCESS,
            "scope": "write_orders",
            "expires_in": 3600,
            "refresh_token": REFRESH,
        },
    )

    response = client.get(f"/auth/install?shop={PARTNER}")
    state = response.headers["Location"].split("state=")[1].split("&")[0]
    params = {"code": "c", "shop": PARTNER, "state": state, "timestamp": str(int(time.time()))}
    params["hmac"] = oauth_hmac(committed_app.config["POWERPACT"].shopify_api_secret, params)
    assert client.get("/auth/callback", query_string=params).status_code == 302
    db.session.remove()
    assert db.session.scalar(select(PartnerStore.access_token)) == ACCESS

    dump = subprocess.run(
        ["pg_dump", "--data-only", database_url], capture_output=True, text=True, check=True
    ).stdout
    assert PARTNER in dump
    for secret in (ACCESS, REFRESH, "SECRETaccess", "SECRETrefresh"):
        assert secret not in dump
        assert secret not in caplog.text
    assert "alice" in caplog.text.lower()
