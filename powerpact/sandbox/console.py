"""``/_sandbox/``: a small page of buttons for the demo (customer orders, fulfilment, stock),
and the admin order page that PowerPact's order links open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from powerpact.sandbox.control import shop_or_404
from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.fixtures import RETAIL
from powerpact.sandbox.orders import place_order
from powerpact.sandbox.store import Order, Shop

PREFIX = "PARTNER-"
RISKY = {"shipping": "5.00", "risk": "INVESTIGATE"}


def partner_of(sandbox: Sandbox, retail_sku: str) -> Shop | None:
    """The partner shop an imported SKU (``PARTNER-{handle}-{sku}``) comes from."""
    rest = retail_sku[len(PREFIX) :]
    handles = {s.domain.removesuffix(".myshopify.com"): s for s in sandbox.store.shops.values()}
    match = max((h for h in handles if rest.startswith(h + "-")), key=len, default=None)
    return handles[match] if match else None


def imported_skus(sandbox: Sandbox, retail: Shop) -> dict[str, list[str]]:
    """Imported retail SKUs by partner domain."""
    by_partner: dict[str, list[str]] = {}
    for product in retail.products.values():
        for variant in product.variants:
            if variant.sku and variant.sku.startswith(PREFIX):
                partner = partner_of(sandbox, variant.sku)
                if partner is not None:
                    by_partner.setdefault(partner.domain, []).append(variant.sku)
    return by_partner


def partner_variant(sandbox: Sandbox, retail_sku: str) -> tuple[Shop, str] | None:
    """The partner shop and variant id behind an imported retail SKU."""
    shop = partner_of(sandbox, retail_sku)
    if shop is None:
        return None
    source_sku = retail_sku[len(PREFIX) + len(shop.domain.removesuffix(".myshopify.com")) + 1 :]
    return shop, sandbox.find_variant(shop, sku=source_sku).id


@dataclass(frozen=True)
class StockRow:
    """An imported product's stock at its partner next to the retail store's copy."""

    partner: Shop
    sku: str
    retail_sku: str
    at_partner: int
    at_retail: int


def stock_rows(sandbox: Sandbox, retail: Shop) -> list[StockRow]:
    rows = []
    for variant in retail.variants().values():
        found = partner_variant(sandbox, variant.sku) if variant.sku else None
        if not variant.sku or not variant.sku.startswith(PREFIX) or found is None:
            continue
        shop, variant_id = found
        source = sandbox.find_variant(shop, variant_id=variant_id)
        rows.append(
            StockRow(
                shop,
                source.sku or "",
                variant.sku,
                shop.available(source.inventory_item_id),
                retail.available(variant.inventory_item_id),
            )
        )
    return rows


def in_stock(sandbox: Sandbox, retail_skus: list[str], quantity: int) -> str:
    """The first imported SKU its partner can ship ``quantity`` of (else the first one)."""
    for sku in retail_skus:
        found = partner_variant(sandbox, sku)
        if found is not None:
            shop, variant_id = found
            variant = sandbox.find_variant(shop, variant_id=variant_id)
            if shop.available(variant.inventory_item_id) >= quantity:
                return sku
    return retail_skus[0]


def refund_one(sandbox: Sandbox, retail: Shop, order: Order, skus: list[str]) -> str:
    """A partial refund with restock of one unit of the order's first partner line (a line
    of any other when it has none): unfulfilled, it is cancelled; shipped, returned."""
    lines = [li for li in order.line_items if li.current > 0]
    line = next((li for li in lines if li.sku in skus), lines[0] if lines else None)
    if line is None:
        raise SandboxError(f"{order.name} has nothing left to refund")
    restock = "CANCEL" if line.unfulfilled else "RETURN"
    sandbox.refund(retail, order, [(line.id, 1, restock)], note="Refunded from the console")
    how = "restocked" if restock == "CANCEL" else "returned"
    return f"Refunded 1 of {line.title} on {order.name}, {how} (refunds/create)."


def register_console(app: Flask, sandbox: Sandbox) -> None:
    @app.get("/_sandbox/")
    def console() -> str:
        retail = sandbox.store.shops.get(RETAIL)
        partners = [s for s in sandbox.store.shops.values() if s.domain != RETAIL]
        return render_template(
            "console.html",
            retail=retail,
            skus=imported_skus(sandbox, retail) if retail else {},
            stock=stock_rows(sandbox, retail) if retail else [],
            partners=partners,
            message=request.args.get("message"),
        )

    @app.get("/shops/<shop>/admin/orders/<int:number>")
    def admin_order(shop: str, number: int) -> str:
        """The order's page in the shop's admin, where PowerPact's order links point."""
        target = shop_or_404(sandbox, shop)
        order = target.orders.get(f"gid://shopify/Order/{number}")
        if order is None:
            abort(404)
        return render_template("admin_order.html", shop=target, order=order)

    @app.post("/_sandbox/console/<action>")
    def console_action(action: str) -> BaseResponse:
        retail = sandbox.shop(RETAIL)
        skus = [s for group in imported_skus(sandbox, retail).values() for s in group]
        try:
            with sandbox.lock:
                message = run_action(sandbox, retail, action, skus, request.form)
        except SandboxError as exc:
            message = f"Refused: {exc}"
        return redirect(url_for("console", message=message))


def run_action(sandbox: Sandbox, retail: Shop, action: str, skus: list[str], form: dict) -> str:
    if action in ("mixed", "risky", "failing") and not skus:
        raise SandboxError("import some partner products first")
    groups = imported_skus(sandbox, retail)
    if action == "mixed":
        lines = [
            {"sku": in_stock(sandbox, group, 2), "quantity": 2}
            for group in list(groups.values())[:2]
        ]
        lines.append({"sku": "BUB-MUG", "quantity": 1})
        order = place_order(
            sandbox, retail, {"lines": lines, "shipping": "7.50", "tax_rate": "0.08"}
        )
        return f"Placed {order.name}: {len(lines)} lines from {len(lines) - 1} partners and Bubbly."
    if action == "risky":
        order = place_order(
            sandbox,
            retail,
            {"lines": [{"sku": skus[0], "quantity": 1}], "shipping": "5.00", "risk": "INVESTIGATE"},
        )
        return (
            f"Placed {order.name} with a high fraud risk: Shopify's analysis will recommend "
            "investigating it, and PowerPact holds it until an admin presses Release."
        )
    if action == "failing":
        found = partner_variant(sandbox, skus[-1])
        if found is None:
            raise SandboxError("cannot find the partner product behind that SKU")
        shop, variant_id = found
        variant = sandbox.find_variant(shop, variant_id=variant_id)
        for location in shop.stocked_locations(variant.inventory_item_id):
            sandbox.set_stock(shop, variant, 0, notify=False, location_id=location["id"])
        order = place_order(
            sandbox, retail, {"lines": [{"sku": skus[-1], "quantity": 3}], "shipping": "5.00"}
        )
        return (
            f"Placed {order.name}; {shop.name} has none left in stock, so it will fail there."
            " Restock it, then Retry."
        )
    if action == "restock":
        shop = sandbox.shop(form["shop"])
        for variant in shop.variants().values():
            if shop.available(variant.inventory_item_id) <= 0:
                sandbox.set_stock(shop, variant, 50)
        return f"Restocked what was sold out at {shop.name.rstrip('.')}."
    if action == "stock":
        shop = sandbox.shop(form["shop"])
        variant = sandbox.find_variant(shop, sku=form["sku"])
        try:
            available = int(form["available"])
        except ValueError:
            raise SandboxError("stock is a whole number") from None
        quiet = form.get("quiet") == "on"
        sandbox.set_stock(shop, variant, available, notify=not quiet)
        how = (
            "without a webhook (as if it was missed)"
            if quiet
            else "and sent inventory_levels/update"
        )
        return f"{shop.name.rstrip('.')} now has {available} of {variant.sku}, {how}."
    if action == "fulfil":
        shop = sandbox.shop(form["shop"])
        order = shop.orders[form["order"]]
        number = f"1Z{order.number}{len(order.fulfillments)}"
        sandbox.fulfil_remaining(
            shop,
            order,
            {"number": number, "company": "UPS", "url": f"https://ups.example/track/{number}"},
        )
        return f"{shop.name} shipped {order.name} with UPS tracking {number}."
    if action == "refund":
        return refund_one(sandbox, retail, retail.orders[form["order"]], skus)
    if action == "risk":
        order = retail.orders[form["order"]]
        sandbox.change_risk(retail, order, "ACCEPT")
        return f"A fraud app reviewed {order.name} and recommends accepting it."
    if action in ("hold", "release"):
        order = retail.orders[form["order"]]
        fulfillment_order = order.fulfillment_order(form["fulfillment_order"])
        if fulfillment_order is None:
            raise SandboxError(f"{order.name} has no such fulfillment order")
        if action == "hold":
            sandbox.hold_fulfillment_order(retail, order, fulfillment_order, reason="OTHER")
            return f"Put {order.name}'s fulfilment on hold: tracking copied to it waits."
        sandbox.release_fulfillment_order(retail, order, fulfillment_order)
        return f"Released the hold on {order.name}'s fulfilment (fulfillment_orders/hold_released)."
    raise SandboxError(f"unknown action {action}")
