"""``/``: where Shopify opens the app; sends each shop to its own pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from powerpact.embedded import bounce, is_document_request, unauthorized
from powerpact.shopify.admin_urls import is_sandbox
from powerpact.shopify.session_tokens import InvalidSessionToken, decode_session_token
from powerpact.shops import is_retail_shop

bp = Blueprint("home", __name__)
# What Shopify adds to the app's URL and the pages may want; the rest of the query is dropped
# (spread into ``url_for``, a name such as ``endpoint`` or ``_external`` would break it).
LAUNCH_PARAMETERS = ("id_token", "shop", "host", "embedded", "locale")


@bp.get("/")
def index() -> BaseResponse:
    settings = current_app.config["POWERPACT"]
    token = request.args.get("id_token")
    if not token:
        if is_sandbox() and not settings.is_production:
            return redirect(url_for("devlogin.login"))
        return bounce() if is_document_request() else unauthorized("no session token")
    try:
        session = decode_session_token(
            token, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )
    except InvalidSessionToken as exc:
        return unauthorized(str(exc), had_token_in_url=True)
    endpoint = "admin.home" if is_retail_shop(session.shop) else "orders.partner_orders"
    passed_on: dict[str, Any] = {k: request.args[k] for k in LAUNCH_PARAMETERS if k in request.args}
    return redirect(url_for(endpoint, **passed_on))
