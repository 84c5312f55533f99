"""Orders in a shop: checkout, ``orderCreate``, payment, risk, cancellation, edits, fulfilment.

Each change fires the webhooks Shopify fires for it (``orders/create``,
``orders/paid``, ``orders/updated``, ``orders/cancelled``, ``orders/edited``,
``orders/risk_assessment_changed``, ``fulfillments/create``/``update``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from powerpact.sandbox import payloads
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.order_search import index_order
from powerpact.sandbox.store import (
    ZERO,
    EditSession,
    Fulfillment,
    LineItem,
    Order,
    ShippingLine,
    Shop,
    Store,
    TaxLine,
    Variant,
    calculated_id,
    now_iso,
)

if TYPE_CHECKING:
    from powerpact.sandbox.config import SandboxConfig

CENT = Decimal("0.01")
INVENTORY_BEHAVIOURS = ("BYPASS", "DECREMENT_IGNORING_POLICY", "DECREMENT_OBEYING_POLICY")
DEFAULT_ADDRESS = {
    "firstName": "Sam",
    "lastName": "Rivera",
    "address1": "12 Harbour Street",
    "city": "Portland",
    "province": "Oregon",
    "provinceCode": "OR",
    "zip": "97201",
    "countryCodeV2": "US",
    "country": "United States",
}


class OrderActions:
    """Order life cycle of a shop (mixed into ``Sandbox``)."""

    config: SandboxConfig
    store: Store
    lock: threading.RLock
    order_create_limit: int | None
    search_lag_seconds: float
    _order_create_times: dict[str, list[float]]
    emit: Callable[[Shop, str, dict[str, Any]], None]
    find_variant: Callable[..., Variant]
    adjust_stock: Callable[[Shop, Variant, int], None]

    def new_order(self, shop: Shop, lines: list[LineItem], **fields: Any) -> Order:
        number = next(shop.order_numbers)
        order = Order(
            id=self.store.ids.gid("Order"),
            number=number,
            name=f"#{number}",
            currency=fields.pop("currency", None) or shop.currency,
            line_items=lines,
            **fields,
        )
        order.fulfillment_order_id = self.store.ids.gid("FulfillmentOrder")
        shop.add_order(order)
        self.reindex(order)
        return order

    def reindex(self, order: Order) -> None:
        """Queue ``order`` for the orders search index, which lags (``order_search``)."""
        index_order(order, self.config.clock(), self.search_lag_seconds)

    def line(
        self,
        shop: Shop,
        variant: Variant | None,
        quantity: int,
        price: Decimal | None = None,
        **extra: Any,
    ) -> LineItem:
        """A line for ``variant`` (or a custom line when None) at its price unless given."""
        title = extra.pop("title", None)
        sku = extra.pop("sku", None)
        if variant is not None:
            product = shop.products[variant.product_id]
            title = title or product.title
            extra.setdefault("product_id", product.id)
            extra.setdefault("vendor", product.vendor)
            extra.setdefault("variant_title", variant.title)
            sku = variant.sku
        if quantity <= 0:
            raise SandboxError("a line's quantity must be at least 1")
        return LineItem(
            id=self.store.ids.gid("LineItem"),
            title=title or "Custom item",
            variant_id=variant.id if variant else None,
            sku=sku,
            quantity=quantity,
            price=price if price is not None else (variant.price if variant else ZERO),
            **extra,
        )

    def order_payload(self, order: Order) -> dict[str, Any]:
        return payloads.order(order)

    def order_changed(self, shop: Shop, order: Order, *topics: str) -> None:
        """Stamp ``updated_at``, queue the order for the search index, fire ``topics``
        then ``orders/updated``."""
        order.updated_at = now_iso()
        self.reindex(order)
        for topic in (*topics, "orders/updated"):
            self.emit(shop, topic, payloads.order(order))

    def decrement_stock(self, shop: Shop, order: Order, behaviour: str) -> None:
        """Apply ``inventoryBehaviour``: BYPASS, DECREMENT_IGNORING_POLICY or _OBEYING_POLICY."""
        if behaviour not in INVENTORY_BEHAVIOURS:
            raise SandboxError(f"unknown inventory behaviour {behaviour}")
        if behaviour == "BYPASS":
            return
        wanted: dict[str, int] = {}
        for line in order.line_items:
            if line.variant_id:
                wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
        variants = shop.variants()
        if behaviour == "DECREMENT_OBEYING_POLICY":
            for variant_id, quantity in wanted.items():
                variant = variants[variant_id]
                short = shop.available(variant.inventory_item_id) < quantity
                if variant.inventory_policy == "DENY" and short:
                    raise SandboxError(f"Insufficient inventory for {variant.sku or variant.id}")
        for variant_id, quantity in wanted.items():
            self.adjust_stock(shop, variants[variant_id], -quantity)

    def check_order_create_limit(self, shop: Shop) -> None:
        """Development stores may create at most five orders a minute with ``orderCreate``."""
        if self.order_create_limit is None:
            return
        now = self.config.clock()
        recent = [t for t in self._order_create_times.get(shop.domain, []) if now - t < 60]
        if len(recent) >= self.order_create_limit:
            raise SandboxError(
                "Too many orders were created in the last minute on a development store"
            )
        recent.append(now)
        self._order_create_times[shop.domain] = recent

    def pay(self, shop: Shop, order: Order) -> Order:
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is cancelled")
        if order.financial_status == "PAID":
            raise SandboxError(f"{order.name} is already paid")
        order.financial_status = "PAID"
        self.order_changed(shop, order, "orders/paid")
        return order

    def cancel(
        self, shop: Shop, order: Order, *, reason: str = "CUSTOMER", restock: bool = True
    ) -> Order:
        """Cancel ``order``; restocking puts its unfulfilled quantities back."""
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is already cancelled")
        if order.fulfillment_status == "FULFILLED":
            raise SandboxError(f"{order.name} is fulfilled and cannot be cancelled")
        order.cancelled_at = now_iso()
        order.cancel_reason = reason
        if restock:
            for line in order.line_items:
                if line.variant_id and line.unfulfilled:
                    variant = shop.variants().get(line.variant_id)
                    if variant is not None:
                        self.adjust_stock(shop, variant, line.unfulfilled)
        self.order_changed(shop, order, "orders/cancelled")
        return order

    def change_risk(self, shop: Shop, order: Order, recommendation: str) -> Order:
        recommendation = recommendation.upper()
        if recommendation not in ("ACCEPT", "INVESTIGATE", "CANCEL", "NONE"):
            raise SandboxError(f"unknown risk recommendation {recommendation}")
        order.risk = recommendation
        self.emit(shop, "orders/risk_assessment_changed", payloads.risk(order))
        return order

    def fulfil(
        self, shop: Shop, order: Order, quantities: dict[str, int], tracking: dict[str, Any]
    ) -> Fulfillment:
        """Ship ``quantities`` (line id -> quantity) with ``tracking`` (number, company, url)."""
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is cancelled")
        lines = {li.id: li for li in order.line_items}
        for line_id, quantity in quantities.items():
            line = lines.get(line_id)
            if line is None or quantity <= 0 or quantity > line.unfulfilled:
                raise SandboxError(f"cannot fulfil {quantity} of line {line_id}")
        if not quantities:
            raise SandboxError(f"nothing left to fulfil on {order.name}")
        for line_id, quantity in quantities.items():
            lines[line_id].fulfilled += quantity
        fulfillment = Fulfillment(
            self.store.ids.gid("Fulfillment"), dict(quantities), dict(tracking)
        )
        order.fulfillments.append(fulfillment)
        self.emit(
            shop,
            "fulfillments/create",
            payloads.fulfillment(order, fulfillment, shop.location_id),
        )
        done = "orders/fulfilled" if order.fulfillment_status == "FULFILLED" else None
        self.order_changed(shop, order, *(["orders/partially_fulfilled"] if not done else [done]))
        return fulfillment

    def fulfil_remaining(self, shop: Shop, order: Order, tracking: dict[str, Any]) -> Fulfillment:
        remaining = {li.id: li.unfulfilled for li in order.line_items if li.unfulfilled}
        return self.fulfil(shop, order, remaining, tracking)

    def update_tracking(
        self, shop: Shop, order: Order, fulfillment: Fulfillment, tracking: dict[str, Any]
    ) -> Fulfillment:
        fulfillment.tracking.update(
            {k: v for k, v in tracking.items() if k in ("number", "company", "url")}
        )
        fulfillment.updated_at = now_iso()
        self.emit(
            shop,
            "fulfillments/update",
            payloads.fulfillment(order, fulfillment, shop.location_id),
        )
        return fulfillment

    def begin_edit(self, shop: Shop, order: Order) -> EditSession:
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is cancelled and cannot be edited")
        session = EditSession(self.store.ids.gid("CalculatedOrder"), order.id)
        shop.edits[session.id] = session
        return session

    def commit_edit(self, shop: Shop, session: EditSession) -> Order:
        """Apply the staged edit: new lines (stock taken), changed quantities (maybe restocked)."""
        order = shop.orders[session.order_id]
        by_calculated = {calculated_id(li.id): li for li in order.line_items}
        for calculated, (variant_id, quantity) in session.added.items():
            new_quantity = session.quantities.pop(calculated, (quantity, False))[0]
            if new_quantity <= 0:
                continue
            variant = self.find_variant(shop, variant_id=variant_id)
            line = self.line(shop, variant, new_quantity)
            line.id = calculated.replace("CalculatedLineItem", "LineItem")
            order.line_items.append(line)
            self.adjust_stock(shop, variant, -new_quantity)
        for calculated, (quantity, restock) in session.quantities.items():
            line = by_calculated[calculated]
            returned = line.current - quantity
            line.current_quantity = quantity
            variant = shop.variants().get(line.variant_id or "")
            if variant is not None and (returned < 0 or restock):
                self.adjust_stock(shop, variant, returned)
        del shop.edits[session.id]
        self.order_changed(shop, order, "orders/edited")
        return order


def _decimal(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value if value not in (None, "") else default))


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` by ``weights`` to the cent; the last part takes the rounding."""
    whole = sum(weights, ZERO)
    parts: list[Decimal] = []
    for weight in weights[:-1]:
        parts.append((total * weight / whole).quantize(CENT) if whole else ZERO)
    return [*parts, total - sum(parts, ZERO)] if weights else []


def place_order(sandbox: Any, shop: Shop, data: dict[str, Any]) -> Order:
    """A customer's checkout on ``shop``: lines, shipping, tax, discount, payment, risk.

    ``data``: ``lines`` (``sku`` or ``variant_id``, ``quantity``, ``price``?, ``tax``?),
    ``shipping``, ``tax_rate`` (taxes lines and shipping), ``extra_tax``, ``discount``
    (spread over the lines), ``email``, ``customer``, ``shipping_address``,
    ``financial_status`` (PAID or PENDING), ``risk`` (ACCEPT, INVESTIGATE, CANCEL).
    Stock is taken, then ``orders/create`` (and ``orders/paid`` when paid) fire.
    """
    items = data.get("lines") or []
    if not items:
        raise SandboxError("an order needs at least one line")
    with sandbox.lock:
        lines = [checkout_line(sandbox, shop, item) for item in items]
        apply_discount(lines, _decimal(data.get("discount")))
        rate = _decimal(data["tax_rate"]) if data.get("tax_rate") is not None else None
        for line, item in zip(lines, items, strict=True):
            line.tax_lines = line_tax(line, item, rate)
        shipping = _decimal(data.get("shipping"))
        shipping_line = ShippingLine("Standard", shipping, "STANDARD")
        if rate is not None and shipping:
            shipping_line.tax_lines = [TaxLine("Tax", (shipping * rate).quantize(CENT), rate)]
        extra = _decimal(data.get("extra_tax"))
        financial = str(data.get("financial_status", "PAID")).upper()
        order = sandbox.new_order(
            shop,
            lines,
            shipping_lines=[shipping_line] if shipping else [],
            tax_lines=[TaxLine("Other tax", extra)] if extra else [],
            financial_status=financial,
            risk=str(data.get("risk", "ACCEPT")).upper(),
            email=data.get("email", "customer@example.com"),
            customer=data.get("customer")
            or {"first_name": "Sam", "last_name": "Rivera", "email": "customer@example.com"},
            shipping_address=data.get("shipping_address") or dict(DEFAULT_ADDRESS),
        )
        sandbox.decrement_stock(shop, order, "DECREMENT_IGNORING_POLICY")
        sandbox.emit(shop, "orders/create", payloads.order(order))
        if financial == "PAID":
            sandbox.emit(shop, "orders/paid", payloads.order(order))
        return order


def checkout_line(sandbox: Any, shop: Shop, item: dict[str, Any]) -> LineItem:
    variant = sandbox.find_variant(shop, variant_id=item.get("variant_id"), sku=item.get("sku"))
    price = _decimal(item["price"]) if item.get("price") else None
    return sandbox.line(shop, variant, int(item.get("quantity", 1)), price)


def apply_discount(lines: list[LineItem], discount: Decimal) -> None:
    gross = [li.price * li.quantity for li in lines]
    if discount > sum(gross, ZERO):
        raise SandboxError("the discount is larger than the order")
    if discount:
        for line, share in zip(lines, allocate(discount, gross), strict=True):
            line.discount = share


def line_tax(line: LineItem, item: dict[str, Any], rate: Decimal | None) -> list[TaxLine]:
    if item.get("tax") is not None:
        return [TaxLine("Tax", _decimal(item["tax"]), rate)]
    if rate is None:
        return []
    taxable = line.price * line.quantity - line.discount
    return [TaxLine("Tax", (taxable * rate).quantize(CENT), rate)]
