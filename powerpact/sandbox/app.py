"""The sandbox's Flask app: the Admin API, OAuth, and the control API under ``/_sandbox/``.

Control API (JSON in, JSON out):

- ``POST /_sandbox/reset``; ``POST /_sandbox/fixture`` ``{"name": "demo"}`` or ``{"shops": [...]}``
- ``GET /_sandbox/shops``; ``GET /_sandbox/shops/<shop>`` (products, stock, orders)
- ``POST /_sandbox/shops/<shop>/orders`` place a customer order: ``{"lines": [{"sku"|"variant_id",
  "quantity", "price"?, "tax"?}], "shipping": "5.00", "tax_rate": "0.1", "discount": "2.00",
  "email", "shipping_address": {...}, "financial_status": "PAID"|"PENDING", "risk": "ACCEPT"|
  "INVESTIGATE"|"CANCEL"}``; fires orders/create (and orders/paid when paid)
- ``POST /_sandbox/shops/<shop>/orders/<id>/pay|cancel|risk|fulfil`` (``risk``: ``{"risk"}``;
  ``fulfil``: ``{"tracking_number", "company", "url", "lines": {"<line id>": qty}}``)
- ``POST /_sandbox/shops/<shop>/stock`` ``{"sku"|"variant_id", "available"}``
- ``POST /_sandbox/shops/<shop>/products/<id>`` ``{"title"?, "price"?, "status"?}``;
  ``DELETE`` the same to delete
- ``POST /_sandbox/shops/<shop>/uninstall``; ``POST /_sandbox/shops/<shop>/scopes`` ``{"scopes"}``
- ``POST /_sandbox/shops/<shop>/compliance/<topic>`` (``customers/redact``...) with the payload
- ``POST /_sandbox/shops/<shop>/faults`` ``{"server_errors": n, "timeouts": n, "unauthorized": n}``
- ``POST /_sandbox/shops/<shop>/throttle`` ``{"maximum", "restore_rate"}``;
  ``POST /_sandbox/order-create-limit`` ``{"per_minute": 5 | null}``
- ``GET /_sandbox/shops/<shop>/calls``: calls, cost, throttled count, unmodelled fields
- ``POST /_sandbox/webhooks`` ``{"duplicates": bool, "shuffle": bool}``;
  ``POST /_sandbox/webhooks/flush``
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request

from powerpact.sandbox import fixtures
from powerpact.sandbox.api import run_graphql, shapes
from powerpact.sandbox.core import Sandbox, SandboxConfig, SandboxError, numeric
from powerpact.sandbox.oauth import approval_redirect, grant
from powerpact.sandbox.store import Order, Shop, now_iso

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105


def create_sandbox_app(
    config: SandboxConfig | None = None, sandbox: Sandbox | None = None
) -> Flask:
    sandbox = sandbox or Sandbox(config)
    app = Flask(__name__)
    app.extensions["sandbox"] = sandbox

    def shop_or_404(domain: str) -> Shop:
        try:
            return sandbox.shop(domain)
        except KeyError:
            abort(404)

    @app.errorhandler(SandboxError)
    def sandbox_error(exc: SandboxError) -> tuple[Response, int]:
        return jsonify(error=str(exc)), 400

    @app.post("/shops/<shop>/admin/api/<version>/graphql.json")
    def graphql(shop: str, version: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        fault = sandbox.faults[shop].take()
        if fault == "server_errors":
            return jsonify(errors="Internal Server Error"), 502
        if fault == "timeouts":
            time.sleep(sandbox.faults[shop].timeout_seconds)
            return jsonify(errors="Timeout"), 504
        token = sandbox.store.tokens.get(request.headers.get("X-Shopify-Access-Token", ""))
        if fault == "unauthorized" or token is None or token.shop != shop:
            return jsonify(errors=INVALID_TOKEN), 401
        if token.expires_at is not None and token.expires_at < time.time():
            return jsonify(errors="[API] This access token has expired"), 401
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(errors={"query": "Required parameter missing or invalid"}), 400
        return jsonify(run_graphql(sandbox, target, token.scopes, payload))

    @app.route("/shops/<shop>/admin/oauth/authorize", methods=["GET", "POST"])
    def authorize(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        if request.method == "GET" and not sandbox.config.auto_approve:
            return render_template(
                "approve.html", shop=target, scopes=request.args.get("scope", "")
            )
        return redirect(approval_redirect(sandbox, shop, request.args.to_dict()))

    @app.post("/shops/<shop>/admin/oauth/access_token")
    def access_token(shop: str):  # type: ignore[no-untyped-def]
        shop_or_404(shop)
        form = request.form.to_dict() or (request.get_json(silent=True) or {})
        try:
            return jsonify(grant(sandbox, shop, form))
        except SandboxError as exc:
            return jsonify(error=str(exc)), 400

    @app.get("/images/<path:name>.svg")
    def image(name: str) -> Response:
        hue = sum(name.encode()) % 360
        label = name.rsplit("/", 1)[-1].replace("-", " ")[:18]
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" '
            'viewBox="0 0 240 240">'
            f'<rect width="240" height="240" fill="hsl({hue},45%,62%)"/>'
            f'<rect x="70" y="50" width="100" height="140" rx="12" fill="hsl({hue},35%,28%)"/>'
            '<text x="120" y="215" font-family="sans-serif" font-size="16" '
            f'text-anchor="middle" fill="#fff">{label}</text></svg>'
        )
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    register_control(app, sandbox, shop_or_404)
    from powerpact.sandbox.console import register_console

    register_console(app, sandbox)
    return app


def _decimal(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value if value not in (None, "") else default))


def place_order(sandbox: Sandbox, shop: Shop, data: dict[str, Any]) -> Order:
    """A customer's checkout on ``shop``: lines, shipping, tax, discount, payment, risk."""
    lines = []
    for item in data.get("lines") or []:
        variant = sandbox.find_variant(shop, variant_id=item.get("variant_id"), sku=item.get("sku"))
        line = sandbox.line(
            shop,
            variant,
            int(item.get("quantity", 1)),
            _decimal(item["price"]) if item.get("price") else None,
        )
        lines.append(line)
    if not lines:
        raise SandboxError("an order needs at least one line")
    discount = _decimal(data.get("discount"))
    gross = sum((li.price * li.quantity for li in lines), Decimal(0))
    if discount > gross:
        raise SandboxError("the discount is larger than the order")
    remaining = discount
    for index, line in enumerate(lines):
        share = (
            remaining
            if index == len(lines) - 1
            else (discount * line.price * line.quantity / gross).quantize(Decimal("0.01"))
            if gross
            else Decimal(0)
        )
        line.discount = share
        remaining -= share
    rate = data.get("tax_rate")
    for line, item in zip(lines, data.get("lines") or [], strict=True):
        if item.get("tax") is not None:
            line.tax = _decimal(item["tax"])
        elif rate is not None:
            line.tax = ((line.price * line.quantity - line.discount) * _decimal(rate)).quantize(
                Decimal("0.01")
            )
    shipping = _decimal(data.get("shipping"))
    shipping_tax = (
        (shipping * _decimal(rate)).quantize(Decimal("0.01")) if rate is not None else Decimal(0)
    )
    tax = (
        sum((li.tax or Decimal(0) for li in lines), Decimal(0))
        + shipping_tax
        + _decimal(data.get("extra_tax"))
    )
    financial = str(data.get("financial_status", "PAID")).upper()
    order = sandbox.new_order(
        shop,
        lines,
        shipping=shipping,
        tax=tax,
        financial_status=financial,
        risk=str(data.get("risk", "ACCEPT")).upper(),
        email=data.get("email", "customer@example.com"),
        shipping_address=data.get("shipping_address")
        or {
            "firstName": "Sam",
            "lastName": "Rivera",
            "address1": "12 Harbour Street",
            "city": "Portland",
            "province": "Oregon",
            "provinceCode": "OR",
            "zip": "97201",
            "countryCodeV2": "US",
            "country": "United States",
        },
    )
    sandbox.decrement_stock(shop, order, "DECREMENT_IGNORING_POLICY")
    sandbox.emit(shop, "orders/create", sandbox.order_payload(order))
    if financial == "PAID":
        sandbox.emit(shop, "orders/paid", sandbox.order_payload(order))
    return order


def register_control(app: Flask, sandbox: Sandbox, shop_or_404: Any) -> None:
    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def order_or_404(shop: Shop, order_id: str) -> Order:
        gid = order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"
        order = shop.orders.get(gid)
        if order is None:
            abort(404)
        return order

    def order_json(shop: Shop, order: Order) -> dict[str, Any]:
        return {
            "id": order.id,
            "name": order.name,
            "financial_status": order.financial_status,
            "fulfillment_status": order.fulfillment_status,
            "cancelled_at": order.cancelled_at,
            "source_identifier": order.source_identifier,
            "tags": order.tags,
            "shipping": str(order.shipping),
            "tax": str(order.tax),
            "note": order.note,
            "shipping_address": order.shipping_address,
            "line_items": [
                {
                    "id": li.id,
                    "title": li.title,
                    "sku": li.sku,
                    "variant_id": li.variant_id,
                    "quantity": li.current,
                    "price": str(li.price),
                    "fulfilled": li.fulfilled,
                }
                for li in order.line_items
            ],
            "fulfillments": [
                {"id": f.id, "tracking": f.tracking, "lines": f.line_quantities}
                for f in order.fulfillments
            ],
        }

    @app.post("/_sandbox/reset")
    def reset():  # type: ignore[no-untyped-def]
        sandbox.reset()
        return jsonify(ok=True)

    @app.post("/_sandbox/fixture")
    def load_fixture():  # type: ignore[no-untyped-def]
        data = body()
        with sandbox.lock:
            if data.get("name"):
                fixtures.load_named(sandbox, data["name"])
            else:
                fixtures.load(sandbox, data)
        return jsonify(shops=sorted(sandbox.store.shops))

    @app.get("/_sandbox/shops")
    def shops():  # type: ignore[no-untyped-def]
        return jsonify(
            shops=[
                {
                    "domain": s.domain,
                    "name": s.name,
                    "plan": s.plan,
                    "currency": s.currency,
                    "timezone": s.timezone,
                    "installed": s.installed,
                    "products": len(s.products),
                    "orders": len(s.orders),
                }
                for s in sandbox.store.shops.values()
            ]
        )

    @app.get("/_sandbox/shops/<shop>")
    def shop_detail(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        with sandbox.lock:
            products = [
                {
                    "id": p.id,
                    "title": p.title,
                    "status": p.status,
                    "vendor": p.vendor,
                    "variants": [
                        {
                            "id": v.id,
                            "sku": v.sku,
                            "price": str(v.price),
                            "compare_at": str(v.compare_at) if v.compare_at else None,
                            "available": target.available(v.inventory_item_id),
                            "inventory_item_id": v.inventory_item_id,
                        }
                        for v in p.variants
                    ],
                }
                for p in target.products.values()
            ]
            return jsonify(
                domain=target.domain,
                location_id=target.location_id,
                products=products,
                orders=[order_json(target, o) for o in target.orders.values()],
                subscriptions=[
                    {"topic": s.topic, "uri": s.uri} for s in target.subscriptions.values()
                ],
            )

    @app.post("/_sandbox/shops/<shop>/orders")
    def new_order(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        with sandbox.lock:
            order = place_order(sandbox, target, body())
            return jsonify(order_json(target, order)), 201

    @app.post("/_sandbox/shops/<shop>/orders/<order_id>/<action>")
    def order_action(shop: str, order_id: str, action: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        data = body()
        with sandbox.lock:
            order = order_or_404(target, order_id)
            payload = sandbox.order_payload
            if action == "pay":
                order.financial_status = "PAID"
                sandbox.emit(target, "orders/paid", payload(order))
                sandbox.emit(target, "orders/updated", payload(order))
            elif action == "cancel":
                order.cancelled_at = now_iso()
                sandbox.emit(target, "orders/cancelled", payload(order))
                sandbox.emit(target, "orders/updated", payload(order))
            elif action == "risk":
                order.risk = str(data.get("risk", "ACCEPT")).upper()
                sandbox.emit(
                    target,
                    "orders/risk_assessment_changed",
                    {
                        "order_id": numeric(order.id),
                        "admin_graphql_api_id": order.id,
                        "id": numeric(order.id),
                        "recommendation": order.risk.lower(),
                    },
                )
            elif action == "fulfil":
                lines = data.get("lines") or {
                    li.id: li.current - li.fulfilled
                    for li in order.line_items
                    if li.current > li.fulfilled
                }
                tracking = {
                    "number": data.get("tracking_number"),
                    "company": data.get("company", "UPS"),
                    "url": data.get("url"),
                }
                sandbox.fulfil(target, order, {k: int(v) for k, v in lines.items()}, tracking)
            else:
                abort(404)
            return jsonify(order_json(target, order))

    @app.post("/_sandbox/shops/<shop>/stock")
    def stock(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        data = body()
        with sandbox.lock:
            variant = sandbox.find_variant(
                target, variant_id=data.get("variant_id"), sku=data.get("sku")
            )
            sandbox.set_stock(target, variant, int(data["available"]))
            return jsonify(
                variant_id=variant.id, available=target.available(variant.inventory_item_id)
            )

    @app.route("/_sandbox/shops/<shop>/products/<path:product_id>", methods=["POST", "DELETE"])
    def product(shop: str, product_id: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        gid = (
            product_id if product_id.startswith("gid://") else f"gid://shopify/Product/{product_id}"
        )
        with sandbox.lock:
            item = target.products.get(gid)
            if item is None:
                abort(404)
            if request.method == "DELETE":
                del target.products[gid]
                target.catalog_changed()
                sandbox.emit(target, "products/delete", {"id": numeric(gid)})
                return jsonify(deleted=gid)
            data = body()
            if data.get("title"):
                item.title = data["title"]
            if data.get("status"):
                item.status = str(data["status"]).upper()
            if data.get("price"):
                for variant in item.variants:
                    variant.price = _decimal(data["price"])
            item.updated_at = now_iso()
            sandbox.emit(target, "products/update", sandbox.product_payload(target, item))
            return jsonify(
                shapes.product_node(target, item) | {"variants": None, "metafield": None}
            )

    @app.post("/_sandbox/shops/<shop>/uninstall")
    def uninstall(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        with sandbox.lock:
            sandbox.emit(
                target,
                "app/uninstalled",
                {
                    "id": abs(hash(shop)) % 10**10,
                    "name": target.name,
                    "domain": shop,
                    "myshopify_domain": shop,
                },
            )
            target.subscriptions.clear()
            sandbox.store.revoke(shop)
        return jsonify(ok=True)

    @app.post("/_sandbox/shops/<shop>/scopes")
    def scopes(shop: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        new = [s for s in body().get("scopes", []) if s]
        with sandbox.lock:
            previous = sorted(
                {s for t in sandbox.store.tokens.values() if t.shop == shop for s in t.scopes}
            )
            for token in sandbox.store.tokens.values():
                if token.shop == shop:
                    token.scopes = new
            sandbox.emit(
                target,
                "app/scopes_update",
                {"id": 1, "previous": previous, "current": new, "updated_at": now_iso()},
            )
        return jsonify(previous=previous, current=new)

    @app.post("/_sandbox/shops/<shop>/compliance/<path:topic>")
    def compliance(shop: str, topic: str):  # type: ignore[no-untyped-def]
        target = shop_or_404(shop)
        if topic not in ("customers/data_request", "customers/redact", "shop/redact"):
            abort(404)
        urls = [f"{sandbox.config.app_url}/webhooks"]
        sandbox.webhooks.emit(target.domain, topic, {"shop_domain": shop, **body()}, urls)
        return jsonify(ok=True)

    @app.post("/_sandbox/shops/<shop>/faults")
    def faults(shop: str):  # type: ignore[no-untyped-def]
        shop_or_404(shop)
        current = sandbox.faults[shop]
        for name in ("server_errors", "timeouts", "unauthorized"):
            if name in body():
                setattr(current, name, int(body()[name]))
        if "timeout_seconds" in body():
            current.timeout_seconds = float(body()["timeout_seconds"])
        return jsonify(
            server_errors=current.server_errors,
            timeouts=current.timeouts,
            unauthorized=current.unauthorized,
        )

    @app.post("/_sandbox/shops/<shop>/throttle")
    def throttle(shop: str):  # type: ignore[no-untyped-def]
        shop_or_404(shop)
        data = body()
        sandbox.buckets[shop].configure(data.get("maximum"), data.get("restore_rate"))
        return jsonify(sandbox.buckets[shop].status().as_dict())

    @app.post("/_sandbox/order-create-limit")
    def order_create_limit():  # type: ignore[no-untyped-def]
        sandbox.order_create_limit = body().get("per_minute")
        return jsonify(per_minute=sandbox.order_create_limit)

    @app.get("/_sandbox/shops/<shop>/calls")
    def calls(shop: str):  # type: ignore[no-untyped-def]
        shop_or_404(shop)
        return jsonify(sandbox.call_summary(shop))

    @app.post("/_sandbox/webhooks")
    def webhook_switches():  # type: ignore[no-untyped-def]
        data = body()
        sandbox.webhooks.duplicates = bool(data.get("duplicates", sandbox.webhooks.duplicates))
        sandbox.webhooks.shuffle = bool(data.get("shuffle", sandbox.webhooks.shuffle))
        return jsonify(duplicates=sandbox.webhooks.duplicates, shuffle=sandbox.webhooks.shuffle)

    @app.post("/_sandbox/webhooks/flush")
    def webhook_flush():  # type: ignore[no-untyped-def]
        return jsonify(sent=sandbox.webhooks.flush())
