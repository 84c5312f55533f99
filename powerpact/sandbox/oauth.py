"""OAuth as Shopify runs it: the authorize redirect, codes, tokens, refresh, token exchange."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt

from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.store import Token

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a grant type)
REFRESH_LIFETIME = 7776000 - 3600


def query_hmac(secret: str, params: dict[str, str]) -> str:
    """Shopify's OAuth ``hmac``: escaped ``k=v`` pairs, sorted, joined by ``&``, hex SHA-256."""

    def escape(value: str, key: bool = False) -> str:
        value = value.replace("%", "%25").replace("&", "%26")
        return value.replace("=", "%3D") if key else value

    message = "&".join(
        sorted(
            f"{escape(k, True)}={escape(v)}"
            for k, v in params.items()
            if k not in ("hmac", "signature")
        )
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def approval_redirect(sandbox: Sandbox, shop: str, args: dict[str, str]) -> str:
    """The redirect back to the app after the merchant approves (a code, signed)."""
    config = sandbox.config
    if args.get("client_id") != config.api_key:
        raise SandboxError("unknown client_id")
    redirect_uri = args.get("redirect_uri", "")
    if not redirect_uri.startswith(config.app_url):
        raise SandboxError("redirect_uri is not the app's address")
    sandbox.shop(shop)
    code = secrets.token_hex(16)
    scopes = [s for s in args.get("scope", "").split(",") if s]
    sandbox.store.codes[code] = (shop, scopes)
    params = {
        "code": code,
        "host": base64.urlsafe_b64encode(f"{shop}/admin".encode()).decode().rstrip("="),
        "shop": shop,
        "state": args.get("state", ""),
        "timestamp": str(int(config.wall_clock())),
    }
    params["hmac"] = query_hmac(config.api_secret, params)
    return f"{redirect_uri}?{urlencode(params)}"


def token_response(token: Token) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": token.value, "scope": ",".join(token.scopes)}
    if token.expires_at is not None:
        body.update(
            expires_in=3600, refresh_token=token.refresh_token, refresh_token_expires_in=7776000
        )
    return body


def check_id_token(sandbox: Sandbox, shop: str, token: str) -> dict[str, Any]:
    """An App Bridge id token: HS256 with the app secret, ``aud`` the key, ``dest`` the shop."""
    config = sandbox.config
    try:
        claims = jwt.decode(
            token,
            config.api_secret,
            algorithms=["HS256"],
            audience=config.api_key,
            options={"require": ["exp", "aud", "dest"]},
        )
    except jwt.PyJWTError:
        raise SandboxError("invalid_subject_token") from None
    if claims.get("dest") != f"https://{shop}":
        raise SandboxError("invalid_subject_token: dest is another shop")
    return claims


def grant(sandbox: Sandbox, shop: str, form: dict[str, str]) -> dict[str, Any]:
    """Answer ``/admin/oauth/access_token`` for the three grants; SandboxError means 400."""
    config = sandbox.config
    if form.get("client_id") != config.api_key or form.get("client_secret") != config.api_secret:
        raise SandboxError("invalid_client")
    expiring = form.get("expiring") == "1"
    now = config.wall_clock()
    store = sandbox.store
    grant_type = form.get("grant_type")
    if grant_type == "refresh_token":
        old = store.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if (
            old is not None
            and old.expires_at is not None
            and old.expires_at + REFRESH_LIFETIME < now
        ):
            raise SandboxError("invalid_grant: the refresh token has expired")
        if old is None or old.shop != shop:
            raise SandboxError("invalid_grant")
        store.tokens.pop(old.value, None)
        return token_response(store.issue_token(shop, old.scopes, expiring=True, now=now))
    if grant_type == TOKEN_EXCHANGE:
        check_id_token(sandbox, shop, form.get("subject_token", ""))
        scopes = store.granted_scopes(shop) or list(config.scopes)
        return token_response(store.issue_token(shop, scopes, expiring=expiring, now=now))
    code = store.codes.pop(form.get("code", ""), None)
    if code is None or code[0] != shop:
        raise SandboxError("invalid_grant: the code is unknown or was already used")
    return token_response(store.issue_token(shop, code[1], expiring=expiring, now=now))
