"""``client_for(shop)``: a client for an installed shop, fresh token, pooled connection."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app

from powerpact.shopify.client import ShopConnection, ShopifyClient
from powerpact.shopify.errors import ReauthorizationRequired
from powerpact.shops import InstalledShop

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
    from powerpact.shopify.oauth import fresh_access_token

    token = fresh_access_token(record)
    if not token:
        raise ReauthorizationRequired(f"{record.shop_domain} has no access token")
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
