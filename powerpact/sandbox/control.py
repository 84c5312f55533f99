"""The control API under ``/_sandbox/``: what a test, a benchmark or the demo does to the shops.

JSON in, JSON out; a refused input answers 400 ``{"error"}``, an unknown shop,
order or product 404.

- ``POST /_sandbox/reset``: forget everything.
- ``POST /_sandbox/fixture``: ``{"name": "demo"|"empty"}`` or ``{"shops": [...]}`` (see
  ``fixtures``). ``GET /_sandbox/shops``; ``POST /_sandbox/shops`` ``{"domain", "name",
  "plan", "currency", "timezone"}``; ``GET /_sandbox/shops/<shop>`` (products, stock, orders).
- ``POST /_sandbox/shops/<shop>/tokens`` ``{"scopes": [...], "expiring": false}``: install
  without OAuth, answers the token grant.
- ``POST /_sandbox/shops/<shop>/orders``: a customer order, ``{"lines": [{"sku"|"variant_id",
  "quantity", "price"?, "tax"?}], "shipping": "5.00", "tax_rate": "0.1", "extra_tax",
  "discount": "2.00", "email", "customer": {...}, "shipping_address": {...},
  "financial_status": "PAID"|"PENDING", "risk": "ACCEPT"|"INVESTIGATE"|"CANCEL"}``; fires
  ``orders/create`` (and ``orders/paid`` when paid), then Shopify's fraud analysis reports
  ``risk`` later (``orders/risk_assessment_changed``; ``sandbox.risk``).
- ``POST /_sandbox/shops/<shop>/orders/<id>/<action>``: ``pay``; ``cancel`` ``{"reason",
  "restock"}``; ``risk`` ``{"risk"}`` (a fraud app's assessment); ``refund`` ``{"lines":
  {"<line id>": qty | {"quantity", "restock_type"}}, "restock": true, "shipping": "5.00",
  "note"}`` (``refunds/create``, ``orders/updated``; with ``restock``, unfulfilled units are
  refunded as ``CANCEL`` and fulfilled ones as ``RETURN``, without it ``NO_RESTOCK``);
  ``edit`` ``{"lines": {"<line id>": new qty}, "restock": true}`` (an order edit:
  ``orders/edited``, ``orders/updated``); ``fulfil``
  ``{"tracking_number", "company", "url", "lines": {"<line id>": qty}}`` (all that remains
  when no lines; one fulfilment per location); ``tracking``
  ``{"fulfillment_id"?, "tracking_number", "company", "url"}``.
- ``POST /_sandbox/shops/<shop>/fulfillment_orders/<id>/<action>``: ``hold`` ``{"reason",
  "reason_notes", "handle"}`` (``fulfillment_orders/placed_on_hold``); ``release``
  ``{"hold_ids"?}`` (``fulfillment_orders/hold_released``); ``schedule`` ``{"fulfill_at"}``;
  ``ready`` (its time arrives: ``fulfillment_orders/scheduled_fulfillment_order_ready``);
  ``incomplete`` (a fulfillment service gave up); ``move`` ``{"location_id"}``
  (``fulfillment_orders/moved``).
- ``POST /_sandbox/shops/<shop>/locations`` ``{"name", "address"?}``: a new location, last in
  the order routing's priority.
- ``POST /_sandbox/shops/<shop>/stock`` ``{"sku"|"variant_id", "available", "location_id"?,
  "notify": true}``: fires ``inventory_levels/update``.
- ``POST /_sandbox/shops/<shop>/products`` (a fixture product; ``products/create``);
  ``POST /_sandbox/shops/<shop>/products/<id>`` ``{"title", "price", "status", "vendor",
  "tags"}`` (``products/update``); ``DELETE`` the same (``products/delete``).
- ``POST /_sandbox/shops/<shop>/uninstall`` (``app/uninstalled``, tokens revoked);
  ``POST /_sandbox/shops/<shop>/scopes`` ``{"scopes"}`` (``app/scopes_update``);
  ``POST /_sandbox/shops/<shop>/compliance/<topic>`` with the payload's extra keys.
- ``GET|POST /_sandbox/shops/<shop>/faults`` ``{"server_errors": n, "timeouts": n,
  "unauthorized": n, "unavailable": n, "not_found": n, "timeout_seconds": s}``: the next n
  Admin API calls answer 502, 504 (late), 401, 402 (frozen shop) or 404.
- ``POST /_sandbox/shops/<shop>/throttle`` ``{"plan", "maximum", "restore_rate",
  "available"}``; ``POST /_sandbox/order-create-limit`` ``{"per_minute": 5 | null}``.
- ``GET /_sandbox/shops/<shop>/calls`` (calls, cost, throttled count, unmodelled fields,
  the last 200 calls); ``DELETE`` clears it.
- ``GET /_sandbox/webhooks`` (deliveries: topic, ids, attempts, outcomes, payload);
  ``POST /_sandbox/webhooks`` ``{"duplicates": bool, "shuffle": bool, "time_scale": f}``
  (``time_scale`` compresses Shopify's 4-hour retry schedule: 0.001 makes it 14 s);
  ``POST /_sandbox/webhooks/flush`` sends held deliveries in random order;
  ``GET /_sandbox/webhooks/summary`` counts them: delivered, given up, still trying, held.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask, Response, abort, jsonify, request

from powerpact.sandbox import fixtures, payloads
from powerpact.sandbox.core import FAULT_KINDS, Sandbox
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.oauth import token_response
from powerpact.sandbox.orders import place_order
from powerpact.sandbox.store import (
    PLANS,
    FulfillmentOrder,
    Order,
    Product,
    Shop,
    calculated_id,
    numeric,
)

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def shop_or_404(sandbox: Sandbox, domain: str) -> Shop:
    try:
        return sandbox.shop(domain)
    except KeyError:
        abort(404)


def order_or_404(shop: Shop, order_id: str) -> Order:
    gid = order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"
    order = shop.orders.get(gid)
    if order is None:
        abort(404)
    return order


def product_or_404(shop: Shop, product_id: str) -> Product:
    gid = product_id if product_id.startswith("gid://") else f"gid://shopify/Product/{product_id}"
    product = shop.products.get(gid)
    if product is None:
        abort(404)
    return product


def order_json(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "name": order.name,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "risk": order.risk_recommendation,
        "risk_levels": [a.risk_level for a in order.risk_assessments],
        "cancelled_at": order.cancelled_at,
        "source_identifier": order.source_identifier,
        "tags": order.tags,
        "subtotal": str(order.subtotal),
        "shipping": str(order.shipping),
        "tax": str(order.tax),
        "total": str(order.total),
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
                "unfulfilled": li.unfulfilled,
            }
            for li in order.line_items
        ],
        "refunds": [
            {
                "id": r.id,
                "created_at": r.created_at,
                "shipping": str(r.shipping),
                "lines": [
                    {"line_id": li.line_id, "quantity": li.quantity, "restock": li.restock_type}
                    for li in r.lines
                ],
            }
            for r in order.refunds
        ],
        "fulfillments": [
            {
                "id": f.id,
                "tracking": f.tracking,
                "lines": f.line_quantities,
                "location_id": f.location_id,
            }
            for f in order.fulfillments
        ],
        "fulfillment_orders": [
            {
                "id": fo.id,
                "status": fo.status(order),
                "location_id": fo.location_id,
                "line_items": list(fo.line_ids),
                "holds": [h.id for h in fo.holds],
            }
            for fo in order.fulfillment_orders
        ],
    }


def shop_json(sandbox: Sandbox, shop: Shop) -> dict[str, Any]:
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
                    "available": shop.available(v.inventory_item_id),
                    "inventory_item_id": v.inventory_item_id,
                }
                for v in p.variants
            ],
        }
        for p in shop.products.values()
    ]
    return {
        "domain": shop.domain,
        "id": shop.id,
        "plan": shop.plan,
        "installed": shop.installed,
        "location_id": shop.location_id,
        "locations": shop.locations,
        "products": products,
        "orders": [order_json(o) for o in shop.orders.values()],
        "subscriptions": [{"topic": s.topic, "uri": s.uri} for s in shop.subscriptions.values()],
    }


def shop_summary(shop: Shop) -> dict[str, Any]:
    return {
        "domain": shop.domain,
        "name": shop.name,
        "plan": shop.plan,
        "currency": shop.currency,
        "timezone": shop.timezone,
        "installed": shop.installed,
        "products": len(shop.products),
        "orders": len(shop.orders),
    }


def register_control(app: Flask, sandbox: Sandbox) -> None:
    @app.errorhandler(SandboxError)
    def refused(exc: SandboxError) -> tuple[Response, int]:
        return jsonify(error=str(exc)), 400

    register_world(app, sandbox)
    register_orders(app, sandbox)
    register_catalog(app, sandbox)
    register_installation(app, sandbox)
    register_faults(app, sandbox)
    register_webhooks(app, sandbox)


def register_world(app: Flask, sandbox: Sandbox) -> None:
    @app.post("/_sandbox/reset")
    def reset() -> Response:
        sandbox.reset()
        return jsonify(ok=True)

    @app.post("/_sandbox/fixture")
    def load_fixture() -> Response:
        data = body()
        with sandbox.lock:
            if data.get("name"):
                fixtures.load_named(sandbox, data["name"])
            else:
                fixtures.load(sandbox, data)
            return jsonify(shops=sorted(sandbox.store.shops))

    @app.get("/_sandbox/shops")
    def shops() -> Response:
        with sandbox.lock:
            return jsonify(shops=[shop_summary(s) for s in sandbox.store.shops.values()])

    @app.post("/_sandbox/shops")
    def add_shop() -> tuple[Response, int]:
        data = body()
        if not data.get("domain"):
            raise SandboxError("a shop needs its domain")
        fixtures.load(sandbox, {"shops": [data]})
        return jsonify(shop_summary(sandbox.shop(data["domain"]))), 201

    @app.get("/_sandbox/shops/<shop>")
    def shop_detail(shop: str) -> Response:
        target = shop_or_404(sandbox, shop)
        with sandbox.lock:
            return jsonify(shop_json(sandbox, target))


def register_orders(app: Flask, sandbox: Sandbox) -> None:
    @app.post("/_sandbox/shops/<shop>/orders")
    def new_order(shop: str) -> tuple[Response, int]:
        target = shop_or_404(sandbox, shop)
        with sandbox.lock:
            order = place_order(sandbox, target, body())
            return jsonify(order_json(order)), 201

    @app.post("/_sandbox/shops/<shop>/orders/<path:order_id>/<action>")
    def order_action(shop: str, order_id: str, action: str) -> Response:
        target = shop_or_404(sandbox, shop)
        data = body()
        with sandbox.lock:
            order = order_or_404(target, order_id)
            act_on_order(sandbox, target, order, action, data)
            return jsonify(order_json(order))

    @app.post("/_sandbox/shops/<shop>/fulfillment_orders/<path:fo_id>/<action>")
    def fulfillment_order_action(shop: str, fo_id: str, action: str) -> Response:
        target = shop_or_404(sandbox, shop)
        gid = fo_id if fo_id.startswith("gid://") else f"gid://shopify/FulfillmentOrder/{fo_id}"
        with sandbox.lock:
            found = target.find_fulfillment_order(gid)
            if found is None:
                abort(404)
            act_on_fulfillment_order(sandbox, target, *found, action, body())
            return jsonify(order_json(found[0]))

    @app.post("/_sandbox/shops/<shop>/locations")
    def add_location(shop: str) -> tuple[Response, int]:
        target = shop_or_404(sandbox, shop)
        data = body()
        if not data.get("name"):
            raise SandboxError("a location needs a name")
        with sandbox.lock:
            location = {"id": sandbox.store.ids.gid("Location"), "isActive": True, **data}
            target.locations.append(location)
            return jsonify(location), 201


def act_on_fulfillment_order(
    sandbox: Sandbox,
    shop: Shop,
    order: Order,
    fulfillment_order: FulfillmentOrder,
    action: str,
    data: dict[str, Any],
) -> None:
    if action == "hold":
        sandbox.hold_fulfillment_order(
            shop,
            order,
            fulfillment_order,
            reason=str(data.get("reason", "OTHER")).upper(),
            reason_notes=data.get("reason_notes"),
            handle=str(data.get("handle", "")),
        )
    elif action == "release":
        sandbox.release_fulfillment_order(shop, order, fulfillment_order, data.get("hold_ids"))
    elif action == "schedule":
        if not data.get("fulfill_at"):
            raise SandboxError("scheduling needs 'fulfill_at'")
        sandbox.schedule_fulfillment_order(order, fulfillment_order, str(data["fulfill_at"]))
    elif action == "ready":
        sandbox.fulfillment_order_due(shop, order, fulfillment_order)
    elif action == "incomplete":
        sandbox.mark_incomplete(order, fulfillment_order)
    elif action == "move":
        sandbox.move_fulfillment_order(
            shop, order, fulfillment_order, str(data.get("location_id", ""))
        )
    else:
        abort(404)


def refund_lines_from(order: Order, data: dict[str, Any]) -> list[tuple[str, int, str]]:
    """``{"<line id>": qty}`` or ``{"<line id>": {"quantity", "restock_type"}}``, and
    ``restock``: as a merchant refunds in the admin, restocked units that are unfulfilled
    are ``CANCEL`` and the rest ``RETURN``; without restock, ``NO_RESTOCK``."""
    restock = bool(data.get("restock", True))
    lines = {li.id: li for li in order.line_items}
    refund: list[tuple[str, int, str]] = []
    for line_id, asked in (data.get("lines") or {}).items():
        line = lines.get(line_id)
        if line is None:
            raise SandboxError(f"{order.name} has no line {line_id}")
        if isinstance(asked, dict):
            quantity = int(asked.get("quantity", 1))
            refund.append((line_id, quantity, str(asked.get("restock_type", "")).upper()))
            continue
        quantity = int(asked)
        if not restock:
            refund.append((line_id, quantity, "NO_RESTOCK"))
            continue
        cancel = min(quantity, line.unfulfilled)
        refund += [(line_id, cancel, "CANCEL")] if cancel else []
        refund += [(line_id, quantity - cancel, "RETURN")] if quantity > cancel else []
    return refund


def tracking_from(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": data.get("tracking_number"),
        "company": data.get("company", "UPS"),
        "url": data.get("url"),
    }


def act_on_order(
    sandbox: Sandbox, shop: Shop, order: Order, action: str, data: dict[str, Any]
) -> None:
    if action == "pay":
        sandbox.pay(shop, order)
    elif action == "cancel":
        reason = str(data.get("reason", "CUSTOMER")).upper()
        sandbox.cancel(shop, order, reason=reason, restock=bool(data.get("restock", True)))
    elif action == "risk":
        sandbox.change_risk(shop, order, str(data.get("risk", "ACCEPT")))
    elif action == "refund":
        refund_lines = refund_lines_from(order, data)
        shipping = Decimal(str(data.get("shipping") or "0"))
        sandbox.refund(shop, order, refund_lines, shipping=shipping, note=data.get("note"))
    elif action == "edit":
        session = sandbox.begin_edit(shop, order)
        restock = bool(data.get("restock", True))
        for line_id, quantity in (data.get("lines") or {}).items():
            if line_id not in {li.id for li in order.line_items}:
                raise SandboxError(f"{order.name} has no line {line_id}")
            session.quantities[calculated_id(line_id)] = (int(quantity), restock)
        try:
            sandbox.commit_edit(shop, session, note=data.get("note"))
        finally:
            shop.edits.pop(session.id, None)
    elif action == "fulfil":
        lines = data.get("lines")
        if lines:
            by_location: dict[str | None, dict[str, int]] = {}
            for line_id, quantity in lines.items():
                found = order.fulfillment_order_of(line_id)
                where = found.location_id if found else None
                by_location.setdefault(where, {})[line_id] = int(quantity)
            for quantities in by_location.values():
                sandbox.fulfil(shop, order, quantities, tracking_from(data))
        else:
            sandbox.fulfil_remaining(shop, order, tracking_from(data))
    elif action == "tracking":
        wanted = data.get("fulfillment_id")
        fulfillments = [f for f in order.fulfillments if wanted in (None, f.id)]
        if not fulfillments:
            raise SandboxError(f"{order.name} has no such fulfillment")
        tracking = {k: v for k, v in tracking_from(data).items() if v is not None}
        sandbox.update_tracking(shop, order, fulfillments[-1], tracking)
    else:
        abort(404)


def register_catalog(app: Flask, sandbox: Sandbox) -> None:
    @app.post("/_sandbox/shops/<shop>/stock")
    def stock(shop: str) -> Response:
        target = shop_or_404(sandbox, shop)
        data = body()
        if "available" not in data:
            raise SandboxError("stock needs 'available'")
        with sandbox.lock:
            variant = sandbox.find_variant(
                target, variant_id=data.get("variant_id"), sku=data.get("sku")
            )
            location = data.get("location_id") or target.location_id
            if target.location(location) is None:
                raise SandboxError(f"no location {location} on {shop}")
            sandbox.set_stock(
                target,
                variant,
                int(data["available"]),
                notify=bool(data.get("notify", True)),
                location_id=location,
            )
            return jsonify(
                variant_id=variant.id, available=target.available(variant.inventory_item_id)
            )

    @app.post("/_sandbox/shops/<shop>/products")
    def add_product(shop: str) -> tuple[Response, int]:
        target = shop_or_404(sandbox, shop)
        data = body()
        if not data.get("title"):
            raise SandboxError("a product needs a title")
        with sandbox.lock:
            product = sandbox.add_product(target, data)
            sandbox.product_changed(target, product, created=True)
            return jsonify(payloads.product(target, product)), 201

    @app.route("/_sandbox/shops/<shop>/products/<path:product_id>", methods=["POST", "DELETE"])
    def product(shop: str, product_id: str) -> Response:
        target = shop_or_404(sandbox, shop)
        with sandbox.lock:
            item = product_or_404(target, product_id)
            if request.method == "DELETE":
                sandbox.delete_product(target, item)
                return jsonify(deleted=item.id)
            sandbox.update_product(target, item, body())
            return jsonify(payloads.product(target, item))


def register_installation(app: Flask, sandbox: Sandbox) -> None:
    @app.post("/_sandbox/shops/<shop>/tokens")
    def mint_token(shop: str) -> tuple[Response, int]:
        shop_or_404(sandbox, shop)
        data = body()
        scopes = list(data.get("scopes") or sandbox.config.scopes)
        with sandbox.lock:
            token = sandbox.store.issue_token(
                shop, scopes, expiring=bool(data.get("expiring")), now=sandbox.config.wall_clock()
            )
            return jsonify(token_response(token)), 201

    @app.post("/_sandbox/shops/<shop>/uninstall")
    def uninstall(shop: str) -> Response:
        target = shop_or_404(sandbox, shop)
        with sandbox.lock:
            sandbox.uninstall(target)
        return jsonify(ok=True)

    @app.post("/_sandbox/shops/<shop>/scopes")
    def scopes(shop: str) -> Response:
        target = shop_or_404(sandbox, shop)
        new = [s for s in body().get("scopes", []) if s]
        with sandbox.lock:
            return jsonify(sandbox.change_scopes(target, new))

    @app.post("/_sandbox/shops/<shop>/compliance/<path:topic>")
    def compliance(shop: str, topic: str) -> Response:
        target = shop_or_404(sandbox, shop)
        if topic not in COMPLIANCE_TOPICS:
            abort(404)
        payload = {"shop_id": numeric(target.id), "shop_domain": shop, **body()}
        urls = [f"{sandbox.config.app_url}/webhooks"]
        sandbox.webhooks.emit(target.domain, topic, payload, urls)
        return jsonify(ok=True)


def register_faults(app: Flask, sandbox: Sandbox) -> None:
    @app.route("/_sandbox/shops/<shop>/faults", methods=["GET", "POST"])
    def faults(shop: str) -> Response:
        shop_or_404(sandbox, shop)
        current = sandbox.faults[shop]
        data = body()
        for name in FAULT_KINDS:
            if name in data:
                setattr(current, name, int(data[name]))
        if "timeout_seconds" in data:
            current.timeout_seconds = float(data["timeout_seconds"])
        return jsonify(current.as_dict())

    @app.post("/_sandbox/shops/<shop>/throttle")
    def throttle(shop: str) -> Response:
        shop_or_404(sandbox, shop)
        data = body()
        bucket = sandbox.buckets[shop]
        if data.get("plan"):
            if data["plan"] not in PLANS:
                raise SandboxError(f"unknown plan {data['plan']!r} ({', '.join(PLANS)})")
            preset = PLANS[data["plan"]]
            sandbox.shop(shop).plan = data["plan"]
            bucket.configure(preset["maximum"], preset["restore_rate"])
        bucket.configure(data.get("maximum"), data.get("restore_rate"), data.get("available"))
        return jsonify(bucket.status().as_dict())

    @app.post("/_sandbox/order-create-limit")
    def order_create_limit() -> Response:
        sandbox.order_create_limit = body().get("per_minute")
        return jsonify(per_minute=sandbox.order_create_limit)

    @app.route("/_sandbox/search-lag", methods=["GET", "POST"])
    def search_lag() -> Response:
        """How long an order change takes to reach the orders search (``order_search``)."""
        if request.method == "POST":
            sandbox.search_lag_seconds = float(body().get("seconds") or 0)
        return jsonify(seconds=sandbox.search_lag_seconds)

    @app.route("/_sandbox/shops/<shop>/calls", methods=["GET", "DELETE"])
    def calls(shop: str) -> Response:
        shop_or_404(sandbox, shop)
        if request.method == "DELETE":
            with sandbox.lock:
                sandbox.calls[shop] = []
                sandbox.unmodelled.pop(shop, None)
        return jsonify(sandbox.call_summary(shop))


def register_webhooks(app: Flask, sandbox: Sandbox) -> None:
    @app.get("/_sandbox/webhooks")
    def webhook_log() -> Response:
        return jsonify(deliveries=[d.as_dict() for d in sandbox.webhooks.log[-500:]])

    @app.post("/_sandbox/webhooks")
    def webhook_switches() -> Response:
        data = body()
        hooks = sandbox.webhooks
        hooks.duplicates = bool(data.get("duplicates", hooks.duplicates))
        hooks.shuffle = bool(data.get("shuffle", hooks.shuffle))
        if data.get("time_scale") is not None:
            scale = float(data["time_scale"])
            if not 0 < scale <= 1:
                raise SandboxError("time_scale must be above 0 and at most 1")
            hooks.time_scale = scale
        return jsonify(
            duplicates=hooks.duplicates,
            shuffle=hooks.shuffle,
            time_scale=hooks.time_scale,
            retry_delays=[d * hooks.time_scale for d in hooks.retry_delays],
        )

    @app.get("/_sandbox/webhooks/summary")
    def webhook_summary() -> Response:
        """How many deliveries were delivered, given up after every retry, are still
        trying, or are held unsent (``shuffle``), in the whole log, not just its tail."""
        retries = len(sandbox.webhooks.retry_delays)
        counts = {"delivered": 0, "given_up": 0, "trying": 0, "held": 0}
        for delivery in list(sandbox.webhooks.log):
            if any(200 <= outcome < 300 for outcome in delivery.outcomes):
                counts["delivered"] += 1
            elif delivery.attempts > retries:
                counts["given_up"] += 1
            elif delivery.attempts:
                counts["trying"] += 1
            else:
                counts["held"] += 1
        return jsonify(counts)

    @app.post("/_sandbox/webhooks/flush")
    def webhook_flush() -> Response:
        return jsonify(sent=sandbox.webhooks.flush())
