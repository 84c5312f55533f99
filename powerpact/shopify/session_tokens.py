"""App Bridge session tokens (id tokens): HS256 JWTs signed with the app secret.

A token is accepted only if it is signed with our secret (HS256 only, so
``alg: none`` and key confusion fail), its ``aud`` is our API key, it is within
``nbf``..``exp`` give or take ``LEEWAY_SECONDS`` of clock skew (10 s, the clock
tolerance Shopify's own app libraries allow, so a merchant's browser clock a few
seconds off does not sign them out), ``iss`` and ``dest`` name the same
``*.myshopify.com`` shop, and it carries ``iat`` and lives at most
``MAX_LIFETIME_SECONDS`` from ``iat`` to ``exp``. Shopify's live one minute
(https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens);
five minutes leaves room for nothing but a token that was not Shopify's. ``iat``
also tells the app whether a token was minted before the shop uninstalled PowerPact
(``powerpact.embedded``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt

from powerpact.shopify.signatures import canonical_shop_domain

LEEWAY_SECONDS = 10
MAX_LIFETIME_SECONDS = 5 * 60
ALGORITHM = "HS256"


class InvalidSessionToken(Exception):
    """The token cannot be trusted; the message says why (never the token itself)."""


@dataclass(frozen=True)
class SessionToken:
    shop: str
    user_id: str | None
    session_id: str | None
    issued_at: int
    expires_at: int
    raw: str


def _shop_of(url: str) -> str | None:
    """The shop an ``https://<shop>`` URL names; nothing else (no port, user, path, non-ASCII)."""
    if not url.isascii():
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return canonical_shop_domain(parts.netloc)


def decode_session_token(token: str, *, api_key: str, secret: str) -> SessionToken:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=api_key,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "nbf", "iat", "iss", "dest", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidSessionToken(f"{type(exc).__name__}: {exc}") from None
    issued_at, expires_at = int(claims["iat"]), int(claims["exp"])
    if expires_at - issued_at > MAX_LIFETIME_SECONDS:
        raise InvalidSessionToken(
            f"the token lives {expires_at - issued_at} s (at most {MAX_LIFETIME_SECONDS})"
        )
    dest_shop = _shop_of(str(claims["dest"]))
    if dest_shop is None:
        raise InvalidSessionToken("dest is not a myshopify.com shop")
    if _shop_of(str(claims["iss"]).removesuffix("/admin")) != dest_shop:
        raise InvalidSessionToken("iss and dest name different shops")
    return SessionToken(
        shop=dest_shop,
        user_id=str(claims["sub"]) if claims.get("sub") is not None else None,
        session_id=claims.get("sid"),
        issued_at=issued_at,
        expires_at=expires_at,
        raw=token,
    )


def mint_session_token(
    shop: str,
    *,
    api_key: str,
    secret: str,
    lifetime: int = 60,
    now: float | None = None,
    user_id: str = "1",
) -> str:
    """A token as App Bridge would carry it (the sandbox's dev login and the tests use this)."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": api_key,
        "sub": user_id,
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": secrets.token_hex(16),
        "sid": secrets.token_hex(16),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
