"""The sandbox's Flask app: the Admin API, OAuth, product images; control API in ``control``."""

from __future__ import annotations

import time

from flask import Flask, Response, g, jsonify, redirect, render_template, request
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from powerpact.sandbox.config import SandboxConfig
from powerpact.sandbox.console import register_console
from powerpact.sandbox.control import register_control, shop_or_404
from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.graphql_api import run_graphql
from powerpact.sandbox.oauth import approval_redirect, grant
from powerpact.shopify.schema import admin_schema

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105
EXPIRED_TOKEN = "[API] This access token has expired"  # noqa: S105
FAULT_ANSWERS = {
    "server_errors": ("Internal Server Error", 502),
    "timeouts": ("Timeout", 504),
    "unavailable": ("Unavailable Shop", 402),
    "not_found": ("Not Found", 404),
}


def create_sandbox_app(
    config: SandboxConfig | None = None, sandbox: Sandbox | None = None
) -> Flask:
    """A WSGI app playing Shopify for every shop of ``sandbox`` (a new one from ``config``)."""
    sandbox = sandbox or Sandbox(config)
    admin_schema()  # built now, so the first request answers as fast as the hundredth
    app = Flask(__name__)
    # Shopify answers in selection order.
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's, not the base's
    app.extensions["sandbox"] = sandbox
    register_actions(app, sandbox)
    register_admin_api(app, sandbox)
    register_oauth(app, sandbox)
    register_images(app)
    register_control(app, sandbox)
    register_console(app, sandbox)
    return app


def register_actions(app: Flask, sandbox: Sandbox) -> None:
    """Each request is one merchant action: its webhooks share an event id (``Sandbox.action``)."""

    @app.before_request
    def begin_action() -> None:
        g.sandbox_action = sandbox.action()
        g.sandbox_action.__enter__()

    @app.teardown_request
    def end_action(_exc: BaseException | None) -> None:
        action = g.pop("sandbox_action", None)
        if action is not None:
            action.__exit__(None, None, None)


def register_admin_api(app: Flask, sandbox: Sandbox) -> None:
    @app.post("/shops/<shop>/admin/api/<version>/graphql.json")
    def graphql(shop: str, version: str) -> tuple[Response, int] | Response:
        target = shop_or_404(sandbox, shop)
        with sandbox.lock:
            fault = sandbox.faults[shop].take()
        if fault == "timeouts":
            time.sleep(sandbox.faults[shop].timeout_seconds)
        if fault in FAULT_ANSWERS:
            message, status = FAULT_ANSWERS[fault]
            return jsonify(errors=message), status
        token = sandbox.store.tokens.get(request.headers.get("X-Shopify-Access-Token", ""))
        if fault == "unauthorized" or token is None or token.shop != shop:
            return jsonify(errors=INVALID_TOKEN), 401
        if token.expires_at is not None and token.expires_at < sandbox.config.wall_clock():
            return jsonify(errors=EXPIRED_TOKEN), 401
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(errors={"query": "Required parameter missing or invalid"}), 400
        response = jsonify(run_graphql(sandbox, target, token.scopes, payload))
        response.headers["X-Shopify-API-Version"] = sandbox.config.api_version
        return response


def register_oauth(app: Flask, sandbox: Sandbox) -> None:
    @app.route("/shops/<shop>/admin/oauth/authorize", methods=["GET", "POST"])
    def authorize(shop: str) -> BaseResponse | str | tuple[Response, int]:
        target = shop_or_404(sandbox, shop)
        if request.method == "GET" and not sandbox.config.auto_approve:
            return render_template(
                "approve.html", shop=target, scopes=request.args.get("scope", "")
            )
        try:
            with sandbox.lock:
                location = approval_redirect(sandbox, shop, request.args.to_dict())
        except SandboxError as exc:
            return jsonify(error=str(exc)), 400
        return redirect(location)

    @app.post("/shops/<shop>/admin/oauth/access_token")
    def access_token(shop: str) -> Response | tuple[Response, int]:
        shop_or_404(sandbox, shop)
        form = request.form.to_dict() or (request.get_json(silent=True) or {})
        try:
            with sandbox.lock:
                return jsonify(grant(sandbox, shop, form))
        except SandboxError as exc:
            return jsonify(error=str(exc)), 400


def register_images(app: Flask) -> None:
    @app.get("/images/<path:name>.svg")
    def image(name: str) -> Response:
        """A small generated picture of a coffee bag, coloured by the product's name."""
        hue = sum(name.encode()) % 360
        label = escape(name.rsplit("/", 1)[-1].replace("-", " ")[:18])
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" '
            'viewBox="0 0 240 240">'
            f'<rect width="240" height="240" fill="hsl({hue},45%,62%)"/>'
            f'<rect x="70" y="50" width="100" height="140" rx="12" fill="hsl({hue},35%,28%)"/>'
            '<text x="120" y="215" font-family="sans-serif" font-size="16" '
            f'text-anchor="middle" fill="#fff">{label}</text></svg>'
        )
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})
