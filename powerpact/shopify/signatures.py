"""Shopify's signatures: webhook HMACs and OAuth query HMACs.

Both compare in constant time. The OAuth form follows Shopify's rule (drop
``hmac`` and ``signature``, sort, join ``k=v`` with ``&``, hex HMAC-SHA256);
the tests check it against ShopifyAPI's own implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from powerpact.config import SHOP_DOMAIN_RE

OAUTH_TIMESTAMP_TOLERANCE = 300
DNS_LABEL_MAX = 63  # RFC 1035, section 2.3.4


def is_shop_domain(value: str | None) -> bool:
    """True only for ``<name>.myshopify.com``, anchored at both ends, ASCII only.

    ``<name>`` is one DNS label, so 63 characters at most (which also keeps the whole
    domain within DNS's 255 and the ``shop_domain`` columns' ``varchar(255)``).
    """
    if not value:
        return False
    return (
        value.isascii()
        and len(value.partition(".")[0]) <= DNS_LABEL_MAX
        and bool(SHOP_DOMAIN_RE.match(value))
    )


def canonical_shop_domain(value: str | None) -> str | None:
    """The lower-case shop domain ``value`` names, or None if it is not one.

    ASCII is checked before lower-casing: ``str.lower`` maps some look-alikes to
    ASCII (the Kelvin sign ``\u212a`` becomes ``k``), which must not pass.
    """
    if not value or not value.isascii():
        return None
    value = value.strip().lower()
    return value if is_shop_domain(value) else None


def webhook_hmac(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_webhook(secret: str, body: bytes, header_value: str | None) -> bool:
    if not header_value:
        return False
    return _same(webhook_hmac(secret, body), header_value.strip())


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also accepts hostile, non-ASCII input."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", errors="replace"))


def _escape(value: str, *, key: bool = False) -> str:
    value = value.replace("%", "%25").replace("&", "%26")
    return value.replace("=", "%3D") if key else value


def oauth_hmac(secret: str, params: Mapping[str, str]) -> str:
    """Shopify's query HMAC: the escaped ``k=v`` pairs, sorted as strings, joined by ``&``."""
    pairs = sorted(
        f"{_escape(k, key=True)}={_escape(v)}"
        for k, v in params.items()
        if k not in ("hmac", "signature")
    )
    message = "&".join(pairs)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_oauth_query(
    secret: str, params: Mapping[str, str], *, now: float | None = None
) -> str | None:
    """Return why ``params`` are not a fresh, genuine Shopify redirect, or None if they are."""
    given = params.get("hmac", "")
    if not given or not _same(oauth_hmac(secret, params), given):
        return "hmac does not match"
    try:
        timestamp = int(params.get("timestamp", ""))
    except ValueError:
        return "timestamp missing"
    if abs((time.time() if now is None else now) - timestamp) > OAUTH_TIMESTAMP_TOLERANCE:
        return "timestamp is stale"
    if not is_shop_domain(params.get("shop")):
        return "shop is not a myshopify.com domain"
    return None
