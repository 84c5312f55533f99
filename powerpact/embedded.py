"""Who is asking: every embedded request carries an App Bridge session token.

The token arrives as ``Authorization: Bearer <jwt>`` (htmx requests, set by
``static/embedded.js``) or as the ``id_token`` query parameter Shopify adds to
the first page load. A page loaded without either gets the bounce page, which
asks App Bridge for a token and loads the page again with it. The shop it names
decides the role: ``RETAIL_SHOP`` gets the admin pages, an installed partner only
its own partner pages.

A shop with a valid token but no usable access token (Shopify-managed install,
or a reinstall) gets one at once by token exchange, unless the token was minted
before the shop's recorded uninstall (``minted_before_uninstall``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Literal

from flask import Response, current_app, g, make_response, render_template, request

from powerpact.headers import frame_for
from powerpact.logs import note_shop
from powerpact.models import PartnerStore, RetailStore
from powerpact.shopify import oauth
from powerpact.shopify.session_tokens import (
    InvalidSessionToken,
    SessionToken,
    decode_session_token,
)
from powerpact.shopify.tasks import after_install_task
from powerpact.shops import InstalledShop, find_shop

log = logging.getLogger(__name__)
Role = Literal["admin", "partner"]
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"


def presented_token() -> tuple[str | None, bool]:
    """The session token of this request and whether it came in the URL."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip(), False
    return request.args.get("id_token"), True


def is_document_request() -> bool:
    return request.headers.get("HX-Request") != "true" and "Authorization" not in request.headers


def bounce() -> Response:
    """The first load of a page, without a session token: a 200 page that asks App Bridge
    for one and loads the page again with it.

    This is how every embedded page starts ("When your embedded app first loads, it's
    unauthenticated", https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens),
    so it is neither a refusal nor an error: a 401 here made every healthy load log a
    refusal and print a failed request in the browser's console. The page holds nothing
    but the script.
    """
    log.debug("embedded page loaded without a session token: bouncing through App Bridge")
    return make_response(render_template("embedded/bounce.html", failed=False), 200)


def unauthorized(reason: str, *, had_token_in_url: bool = False) -> Response:
    """401 the way App Bridge expects: a retry header for fetch/htmx, a bounce page otherwise.

    The body says only "not signed in": why (an expired token, a wrong signature, a shop
    whose install failed) goes to the log, never to the caller.
    """
    log.info("embedded request refused: %s", reason)
    if is_document_request():
        body = render_template("embedded/bounce.html", failed=had_token_in_url)
        return make_response(body, 401)
    response = make_response({"error": "not signed in"}, 401)
    response.headers[RETRY_HEADER] = "1"
    return response


def forbidden(reason: str) -> Response:
    log.info("embedded request forbidden: %s", reason)
    return make_response(render_template("embedded/forbidden.html", reason=reason), 403)


def minted_before_uninstall(session: SessionToken, shop: InstalledShop) -> bool:
    """Was the token issued in a second before the shop's recorded uninstall?

    Such a token (it may live a minute past the uninstall) must not bring the shop
    back by token exchange: a reinstall goes through OAuth or a token App Bridge
    mints since. ``iat`` counts whole seconds, so a token of the uninstall's own
    second cannot be told apart and is let through.
    """
    uninstalled = shop.uninstall_date
    return uninstalled is not None and session.issued_at < int(uninstalled.timestamp())


def authenticate(role: Role) -> Response | None:
    """Check the session token and the shop's role; set ``g.shop``. None means allowed."""
    settings = current_app.config["POWERPACT"]
    token, in_url = presented_token()
    if not token:
        return bounce() if is_document_request() else unauthorized("no session token")
    try:
        session = decode_session_token(
            token, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )
    except InvalidSessionToken as exc:
        return unauthorized(str(exc), had_token_in_url=in_url)
    shop = find_shop(session.shop)
    if shop is not None and minted_before_uninstall(session, shop):
        return unauthorized(
            f"{session.shop} uninstalled PowerPact after this token was issued",
            had_token_in_url=in_url,
        )
    if shop is None or not shop.is_active:
        try:
            shop, _ = oauth.store_grant(session.shop, oauth.exchange_id_token(session.shop, token))
        except oauth.OAuthError as exc:
            return unauthorized(f"{session.shop} is not installed ({exc})", had_token_in_url=in_url)
        after_install_task(session.shop)
    frame_for(shop.shop_domain)
    note_shop(shop.shop_domain)
    if role == "admin" and not isinstance(shop, RetailStore):
        return forbidden("These pages belong to the retail store's admins.")
    if role == "partner" and not isinstance(shop, PartnerStore):
        return forbidden("These pages are for partner stores.")
    g.shop = shop
    g.session_token = session
    return None


def embedded(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Protect a view of the embedded app; the view finds its shop in ``g.shop``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = authenticate(role)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return wrapper

    return decorate
