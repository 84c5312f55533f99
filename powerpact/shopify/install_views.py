"""``/auth/install`` and ``/auth/callback``: the authorization-code install."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from powerpact.shopify import oauth
from powerpact.shopify.admin_urls import admin_url, is_sandbox
from powerpact.shopify.signatures import canonical_shop_domain, verify_oauth_query
from powerpact.shopify.tasks import after_install_task

log = logging.getLogger(__name__)
bp = Blueprint("install", __name__)
STATE_COOKIE = "pp_oauth_state"


def refuse(status: int, message: str) -> Response:
    log.warning("install refused (%s): %s", status, message)
    return make_response(render_template("shopify/install_error.html", message=message), status)


@bp.get("/auth/install")
def install() -> BaseResponse:
    shop = canonical_shop_domain(request.args.get("shop"))
    if shop is None:
        return refuse(400, "That is not a Shopify store address (it should end in .myshopify.com).")
    requester = oauth.requester_key(request.remote_addr)
    wait = oauth.install_wait(requester)
    if wait:
        response: BaseResponse = refuse(
            429, f"Too many installs from your address: try again in {wait} s."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    state = oauth.create_state(shop, requester)
    response = redirect(oauth.authorize_url(shop, state))
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=int(oauth.STATE_LIFETIME.total_seconds()),
        httponly=True,
        secure=current_app.config["POWERPACT"].is_production,
        samesite="Lax",
        path=url_for("install.callback"),
    )
    return response


@bp.get("/auth/callback")
def callback() -> BaseResponse:
    settings = current_app.config["POWERPACT"]
    params = request.args.to_dict()
    problem = verify_oauth_query(settings.shopify_api_secret, params)
    if problem:
        return refuse(400, f"This install link is not valid ({problem}). Start the install again.")
    shop = params["shop"].lower()
    state = params.get("state", "")
    refused = (
        oauth.StateRefusal.UNKNOWN
        if state != request.cookies.get(STATE_COOKIE)
        else oauth.consume_state(state, shop)
    )
    if refused == oauth.StateRefusal.EXPIRED:
        minutes = int(oauth.STATE_LIFETIME.total_seconds() // 60)
        return refuse(403, f"This install expired (it is good for {minutes} minutes). Start again.")
    if refused is not None:
        return refuse(403, "This install was not started from this browser, or was already used.")
    try:
        grant = oauth.exchange_code(shop, params.get("code", ""))
    except oauth.OAuthError as exc:
        return refuse(502, f"Shopify did not give PowerPact access: {exc}.")
    oauth.store_grant(shop, grant)
    after_install_task(shop)
    if is_sandbox():
        destination = url_for("devlogin.login_as", shop=shop)
    else:
        destination = admin_url(shop, f"apps/{settings.shopify_api_key}")
    response = redirect(destination)
    response.delete_cookie(STATE_COOKIE, path=url_for("install.callback"))
    return response
