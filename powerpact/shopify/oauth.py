"""OAuth with Shopify: the install redirect, single-use state, and the token endpoint.

Three grants reach ``/admin/oauth/access_token``: the authorization code from the
install link, token exchange of an App Bridge id token (Shopify-managed install),
and refresh of an expiring offline token. Each answer may carry ``expires_in`` and
``refresh_token``; both tokens are stored together, encrypted.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from powerpact.db_types import utcnow
from powerpact.extensions import db, rows_matched
from powerpact.models import OAuthState, PartnerStore, RetailStore, StoreStatus
from powerpact.shopify.admin_urls import admin_url
from powerpact.shopify.errors import ReauthorizationRequired, ShopifyError, TransportError
from powerpact.shops import InstalledShop, Shop, is_retail_shop, missing_scopes

STATE_LIFETIME = timedelta(minutes=10)
INSTALLS_PER_MINUTE = 10
INSTALL_WINDOW = timedelta(minutes=1)
log = logging.getLogger(__name__)
REFRESH_MARGIN = timedelta(minutes=5)
AHEAD_OF_NEED = timedelta(minutes=15)
REFUSED_STATUSES = {400, 401, 403}
TOKEN_TIMEOUT = (5, 20)


class OAuthError(Exception):
    """Shopify refused a token request; the message is safe to show and log.

    ``status`` is the HTTP status Shopify answered with (None: no usable answer).
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> TokenGrant:
        now = utcnow()
        if not isinstance(body.get("access_token"), str):
            raise OAuthError("the token answer holds no access_token")

        def after(key: str) -> datetime | None:
            seconds = body.get(key)
            return now + timedelta(seconds=int(seconds)) if seconds else None

        return cls(
            access_token=body["access_token"],
            scope=str(body.get("scope", "")),
            expires_at=after("expires_in"),
            refresh_token=body.get("refresh_token"),
            refresh_token_expires_at=after("refresh_token_expires_in"),
        )


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def requester_key(address: str | None) -> str:
    """Who started an install, as stored: a hash of the address keyed with ``SECRET_KEY``.

    ``address`` is ``request.remote_addr``: the peer, or the client a trusted proxy
    names if the app is wrapped in ``ProxyFix``. ``X-Forwarded-For`` is never read
    here: any client can write it.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (address or "unknown").encode(), hashlib.sha256).hexdigest()


def install_wait(requested_by: str) -> int:
    """Seconds before ``requested_by`` may start another install; 0 means now.

    One address may start ``INSTALLS_PER_MINUTE`` installs a minute: the states it
    created in the last ``INSTALL_WINDOW`` are counted (a sliding window, in the table
    the limit protects, so it holds across processes and needs no other store). On
    PostgreSQL the requester's count is locked until the state is stored, so
    concurrent requests cannot all slip under it.
    """
    if db.engine.dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock(func.hashtext(f"install {requested_by}"))
        db.session.execute(select(lock))
    now = utcnow()
    recent = db.session.scalars(
        select(OAuthState.created_at)
        .where(
            OAuthState.requested_by == requested_by,
            OAuthState.created_at > now - INSTALL_WINDOW,
        )
        .order_by(OAuthState.created_at.desc())
        .limit(INSTALLS_PER_MINUTE)
    ).all()
    if len(recent) < INSTALLS_PER_MINUTE:
        return 0
    return max(1, math.ceil((recent[-1] + INSTALL_WINDOW - now).total_seconds()))


def create_state(shop: str, requested_by: str) -> str:
    nonce = secrets.token_urlsafe(32)
    db.session.add(OAuthState(nonce_hash=_hash(nonce), shop_domain=shop, requested_by=requested_by))
    db.session.commit()
    return nonce


class StateRefusal(enum.StrEnum):
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def consume_state(nonce: str, shop: str) -> StateRefusal | None:
    """Mark the state used; None the first time, for its shop, while fresh; else why not.

    A state is good for ``STATE_LIFETIME`` (10 minutes): an install left open longer
    starts again. Expired, used and never-issued states alike act on nothing;
    ``purge_states`` deletes the first two.
    """
    if not nonce:
        return StateRefusal.UNKNOWN
    result = db.session.execute(
        update(OAuthState)
        .where(
            OAuthState.nonce_hash == _hash(nonce),
            OAuthState.shop_domain == shop,
            OAuthState.used_at.is_(None),
            OAuthState.created_at > utcnow() - STATE_LIFETIME,
        )
        .values(used_at=utcnow())
    )
    db.session.commit()
    if rows_matched(result) == 1:
        return None
    expired = db.session.scalar(
        select(OAuthState.id).where(
            OAuthState.nonce_hash == _hash(nonce),
            OAuthState.shop_domain == shop,
            OAuthState.used_at.is_(None),
        )
    )
    return StateRefusal.EXPIRED if expired is not None else StateRefusal.UNKNOWN


def purge_states() -> int:
    """Delete the states no callback can use any more (used, or past ``STATE_LIFETIME``)."""
    result = db.session.execute(
        delete(OAuthState).where(
            or_(OAuthState.used_at.is_not(None), OAuthState.created_at <= utcnow() - STATE_LIFETIME)
        )
    )
    db.session.commit()
    return rows_matched(result)


def authorize_url(shop: str, state: str) -> str:
    settings = current_app.config["POWERPACT"]
    query = urlencode(
        {
            "client_id": settings.shopify_api_key,
            "scope": settings.shopify_scopes,
            "redirect_uri": f"{settings.app_url}/auth/callback",
            "state": state,
        }
    )
    return f"{admin_url(shop, 'oauth/authorize')}?{query}"


def request_token(shop: str, grant: dict[str, str]) -> TokenGrant:
    """POST a grant to the shop's token endpoint and read the answer."""
    settings = current_app.config["POWERPACT"]
    form = {
        "client_id": settings.shopify_api_key,
        "client_secret": settings.shopify_api_secret,
        **grant,
    }
    try:
        response = requests.post(
            admin_url(shop, "oauth/access_token"),
            data=form,
            headers={"Accept": "application/json"},
            timeout=TOKEN_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise OAuthError(f"could not reach {shop} for a token: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise OAuthError(
            f"{shop} refused the token request (HTTP {response.status_code})",
            status=response.status_code,
        )
    try:
        return TokenGrant.from_response(response.json())
    except ValueError:
        raise OAuthError(f"{shop} answered the token request with something not JSON") from None


def exchange_code(shop: str, code: str) -> TokenGrant:
    return request_token(shop, {"code": code, "expiring": "1"})


def exchange_id_token(shop: str, id_token: str) -> TokenGrant:
    return request_token(
        shop,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": "1",
        },
    )


def store_grant(shop: str, grant: TokenGrant) -> tuple[InstalledShop, bool]:
    """Create or reactivate the shop with its new tokens; return it and whether it is new.

    A partner that uninstalled and comes back keeps its settings and product maps.
    """
    model: type[InstalledShop] = RetailStore if is_retail_shop(shop) else PartnerStore
    record = _locked_shop(model, shop)
    created = record is None
    if record is None:
        record = model(shop_domain=shop)
        db.session.add(record)
    _apply_grant(record, grant)
    record.status = StoreStatus.ACTIVE
    record.uninstall_date = None
    record.installed_at = utcnow()
    record.reauthorization_required = bool(missing_scopes(grant.scope))
    db.session.commit()
    return record, created


def _locked_shop(model: type[Shop], shop: str) -> Shop | None:
    return db.session.scalar(select(model).where(model.shop_domain == shop).with_for_update())


def _apply_grant(record: InstalledShop, grant: TokenGrant) -> None:
    record.access_token = grant.access_token
    record.access_token_expires_at = grant.expires_at
    record.refresh_token = grant.refresh_token
    record.refresh_token_expires_at = grant.refresh_token_expires_at
    if grant.scope:
        record.scopes = grant.scope


def needs_refresh(record: InstalledShop, margin: timedelta = REFRESH_MARGIN) -> bool:
    expires = record.access_token_expires_at
    return bool(record.refresh_token) and expires is not None and expires - utcnow() < margin


def refresh_failure(exc: OAuthError) -> ShopifyError:
    """A refresh Shopify refused needs the shop to approve PowerPact again; else retry later."""
    if exc.status in REFUSED_STATUSES:
        return ReauthorizationRequired(f"{exc}: the shop must approve PowerPact again")
    return TransportError(str(exc))


def refresh_if_due(record: Shop, margin: timedelta = REFRESH_MARGIN) -> str | None:
    """Refresh the shop's access token if it expires within ``margin``; return the token.

    The one place a token is refreshed, and an explicit step: it commits. Shopify has
    spent the old refresh token by the time it answers, so the new pair must be kept
    whatever happens next; a commit in the middle of other work would also end that
    work's locks, so callers take this step before they lock or send anything
    (``refresh_due_tokens``) and ``client_for`` never refreshes. The refresh runs with
    the shop's row locked (``SELECT ... FOR UPDATE``), so two workers never spend one
    refresh token: the second finds the new pair and uses it.
    """
    if not needs_refresh(record, margin):
        return record.access_token
    model = type(record)
    locked = db.session.scalar(
        select(model)
        .where(model.id == record.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is not None and needs_refresh(locked, margin):
        try:
            grant = request_token(
                locked.shop_domain,
                {"grant_type": "refresh_token", "refresh_token": locked.refresh_token or ""},
            )
        except OAuthError as exc:
            raise refresh_failure(exc) from None
        _apply_grant(locked, grant)
    db.session.commit()
    return record.access_token


def refresh_due_tokens(*records: InstalledShop | None) -> bool:
    """Refresh each shop's token that is due, before the caller locks or sends; True if any was.

    The step the webhook path and the partner-order push both take first. Either way
    the transaction has ended afterwards (a refresh commits, a failure rolls back). A
    refresh Shopify refuses marks the shop ``reauthorization_required`` (the admin
    pages say so); any other failure is left for the caller, which meets the same
    problem through ``client_for`` and records it.
    """
    due = [r for r in dict.fromkeys(records) if r is not None and needs_refresh(r)]
    for record in due:
        model, shop_id = type(record), record.id
        try:
            refresh_if_due(record)
        except ReauthorizationRequired as exc:
            db.session.rollback()
            _mark_reauthorization_required(model, shop_id)
            log.warning("token refresh refused: %s", exc)
        except ShopifyError as exc:
            db.session.rollback()
            log.warning("token refresh failed: %s", exc)
    return bool(due)


def refresh_expiring_tokens(within: timedelta = AHEAD_OF_NEED) -> dict[str, int]:
    """Refresh every installed shop's token that expires within ``within``, a shop at a time.

    A periodic task runs this every minute, well ahead of ``REFRESH_MARGIN``, so the
    work that uses a token seldom refreshes it itself. A shop whose refresh Shopify
    refuses is marked ``reauthorization_required`` (the admin pages say so) and left
    alone until it approves PowerPact again; any other failure is tried next time.
    """
    counts = {"refreshed": 0, "refused": 0, "failed": 0}
    _refresh_expiring_of_kind(RetailStore, within, counts)
    _refresh_expiring_of_kind(PartnerStore, within, counts)
    return counts


def _refresh_expiring_of_kind(model: type[Shop], within: timedelta, counts: dict[str, int]) -> None:
    due = db.session.scalars(
        select(model.id).where(
            model.status == StoreStatus.ACTIVE,
            model.access_token.is_not(None),
            model.refresh_token.is_not(None),
            model.reauthorization_required.is_(False),
            model.access_token_expires_at < utcnow() + within,
        )
    ).all()
    for shop_id in due:
        record = db.session.get(model, shop_id)
        if record is None:
            continue
        try:
            refresh_if_due(record, margin=within)
            counts["refreshed"] += 1
        except ReauthorizationRequired as exc:
            db.session.rollback()
            _mark_reauthorization_required(model, shop_id)
            log.warning("token refresh refused: %s", exc)
            counts["refused"] += 1
        except TransportError as exc:
            db.session.rollback()
            log.warning("token refresh failed, trying again next run: %s", exc)
            counts["failed"] += 1


def _mark_reauthorization_required(model: type[Shop], shop_id: int) -> None:
    db.session.execute(
        update(model).where(model.id == shop_id).values(reauthorization_required=True)
    )
    db.session.commit()
