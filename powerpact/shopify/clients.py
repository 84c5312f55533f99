"""``client_for(shop)``: a client for an installed shop's current token, pooled connection.

Getting a client never refreshes a token, so it never commits: refreshing is an
explicit step (``oauth.refresh_due_tokens``) taken before any lock, by the periodic
refresher 15 minutes ahead of need, by the webhook path and by the push.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import current_app

from powerpact.shopify.client import ShopConnection, ShopifyClient
from powerpact.shopify.errors import ReauthorizationRequired, TokenRefreshDue
from powerpact.shopify.oauth import needs_refresh
from powerpact.shops import InstalledShop

# A token this close to its expiry may lapse mid-call: refresh it first, do not use it.
CALL_MARGIN = timedelta(seconds=60)

_connections: dict[tuple[str, str], ShopConnection] = {}
_lock = threading.Lock()


def connection_for(shop: str, token: str, admin_origin: str, api_version: str) -> ShopConnection:
    """One pooled connection per (shop, address); replaced when the token changes."""
    key = (shop, admin_origin)
    with _lock:
        connection = _connections.get(key)
        if connection is None or connection.token_fingerprint != hash(token):
            connection = ShopConnection(
                shop, token, api_version=api_version, admin_origin=admin_origin
            )
            _connections[key] = connection
        return connection


def client_for(record: InstalledShop, **options: Any) -> ShopifyClient:
    """A client with the shop's current token; raises if it has none or it is about to lapse.

    A token within ``CALL_MARGIN`` of its expiry raises ``TokenRefreshDue`` (transient:
    the work is retried after the refresher ran), or ``ReauthorizationRequired`` when
    Shopify already refused to refresh it.
    """
    token = record.access_token
    if not token:
        raise ReauthorizationRequired(f"{record.shop_domain} has no access token")
    if needs_refresh(record, CALL_MARGIN):
        if record.reauthorization_required:
            raise ReauthorizationRequired(
                f"{record.shop_domain}'s token expired and Shopify refused to refresh it"
            )
        raise TokenRefreshDue(
            f"{record.shop_domain}'s access token expires within {CALL_MARGIN.seconds} s: "
            "refresh it before asking for a client"
        )
    settings = current_app.config["POWERPACT"]
    connection = connection_for(
        record.shop_domain,
        token,
        settings.shopify_admin_origin,
        settings.shopify_api_version,
    )
    return ShopifyClient(
        connection, **{**current_app.config.get("SHOPIFY_CLIENT_OPTIONS", {}), **options}
    )


def close_connections() -> None:
    """Close every pooled HTTP connection; the next call opens a new one.

    For a process about to hand its peer's socket to another process (the
    benchmarks fork the sandbox): a kept-alive connection would go on talking to
    the old peer.
    """
    with _lock:
        for connection in _connections.values():
            connection.session.close()
