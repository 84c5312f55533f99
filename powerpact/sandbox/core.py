"""The sandbox itself: shops, rate limits, faults, the call log and what happens in a shop.

Control actions (a customer places an order, stock changes, an uninstall) and
the GraphQL mutations share these methods, so both fire the same webhooks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from powerpact.sandbox.store import (
    PLANS,
    Fulfillment,
    LineItem,
    Order,
    Product,
    Shop,
    Store,
    Variant,
    now_iso,
)
from powerpact.sandbox.throttle import LeakyBucket
from powerpact.sandbox.webhooks import Transport, WebhookDispatcher, http_transport, topic_of


class SandboxError(ValueError):
    """A control or mutation input the sandbox refuses; the message says why."""


@dataclass
class SandboxConfig:
    api_key: str = "powerpact-dev-key"
    api_secret: str = "sandbox-secret-change-me-0123456789"  # noqa: S105 (a local stand-in)
    app_url: str = "http://127.0.0.1:5000"
    transport: Transport = http_transport
    clock: Callable[[], float] = time.monotonic
    auto_approve: bool = True
    webhook_retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    default_plan: str = "standard"
    api_version: str = "2026-07"
    base_url: str = "http://127.0.0.1:8765"


@dataclass
class CallRecord:
    operation: str
    requested_cost: int
    actual_cost: int
    throttled: bool
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class Faults:
    """Injected failures of one shop's API: the next N calls answer so."""

    server_errors: int = 0
    timeouts: int = 0
    unauthorized: int = 0
    timeout_seconds: float = 6.0

    def take(self) -> str | None:
        for kind in ("server_errors", "timeouts", "unauthorized"):
            if getattr(self, kind) > 0:
                setattr(self, kind, getattr(self, kind) - 1)
                return kind
        return None


def numeric(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def handleize(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.store = Store()
        self.buckets: dict[str, LeakyBucket] = {}
        self.faults: dict[str, Faults] = {}
        self.calls: dict[str, list[CallRecord]] = {}
        self.unmodelled: dict[str, set[str]] = {}
        self.order_create_limit: int | None = None
        self._order_create_times: dict[str, list[float]] = {}
        self.webhooks = WebhookDispatcher(
            self.config.api_secret,
            self.config.transport,
            retry_delays=self.config.webhook_retry_delays,
            api_version=self.config.api_version,
        )
        self.lock = threading.RLock()

    # -- shops ---------------------------------------------------------------------
    def add_shop(self, domain: str, name: str, *, plan: str | None = None, **settings: Any) -> Shop:
        with self.lock:
            plan = plan or self.config.default_plan
            shop = self.store.add_shop(domain, name, plan=plan, **settings)
            preset = PLANS[plan]
            self.buckets[domain] = LeakyBucket(
                preset["maximum"], preset["restore_rate"], self.config.clock
            )
            self.faults[domain] = Faults()
            self.calls[domain] = []
            return shop

    def shop(self, domain: str) -> Shop:
        return self.store.shop(domain)

    def reset(self) -> None:
        with self.lock:
            self.__init__(self.config)  # type: ignore[misc]

    def record_call(self, shop: str, record: CallRecord) -> None:
        self.calls.setdefault(shop, []).append(record)

    def call_summary(self, shop: str) -> dict[str, Any]:
        calls = self.calls.get(shop, [])
        return {
            "calls": len(calls),
            "throttled": sum(c.throttled for c in calls),
            "requested_cost": sum(c.requested_cost for c in calls),
            "actual_cost": sum(c.actual_cost for c in calls),
            "operations": [c.operation for c in calls[-200:]],
            "unmodelled_fields": sorted(self.unmodelled.get(shop, set())),
        }

    # -- webhooks ----------------------------------------------------------------
    def emit(self, shop: Shop, topic: str, payload: dict[str, Any]) -> None:
        urls = [s.uri for s in shop.subscriptions.values() if topic_of(s.topic) == topic]
        if urls:
            self.webhooks.emit(shop.domain, topic, payload, urls)

    # -- catalog -------------------------------------------------------------------
    def add_product(self, shop: Shop, data: dict[str, Any]) -> Product:
        ids = self.store.ids
        product = Product(
            id=ids.gid("Product"),
            title=data["title"],
            handle=data.get("handle") or handleize(data["title"]),
            vendor=data.get("vendor", shop.name),
            product_type=data.get("product_type", ""),
            status=data.get("status", "ACTIVE"),
            tags=list(data.get("tags", [])),
            description_html=data.get("description", ""),
            image_url=data.get("image_url"),
        )
        option_names = data.get("options") or ["Title"]
        values: dict[str, list[str]] = {name: [] for name in option_names}
        for v in data.get("variants") or [
            {"title": "Default Title", "price": data.get("price", "10.00")}
        ]:
            chosen = v.get("options") or [v.get("title", "Default Title")]
            for name, value in zip(option_names, chosen, strict=False):
                if value not in values[name]:
                    values[name].append(value)
            variant = Variant(
                id=ids.gid("ProductVariant"),
                product_id=product.id,
                title=" / ".join(chosen),
                sku=v.get("sku"),
                price=Decimal(str(v["price"])),
                compare_at=Decimal(str(v["compare_at"])) if v.get("compare_at") else None,
                options=list(zip(option_names, chosen, strict=False)),
                inventory_item_id=ids.gid("InventoryItem"),
            )
            product.variants.append(variant)
            shop.levels[(variant.inventory_item_id, shop.location_id)] = int(v.get("stock", 0))
        product.options = [(name, vals) for name, vals in values.items()]
        shop.products[product.id] = product
        shop.catalog_changed()
        return product

    def find_variant(
        self, shop: Shop, *, variant_id: str | None = None, sku: str | None = None
    ) -> Variant:
        for product in shop.products.values():
            for variant in product.variants:
                if variant.id == variant_id or (sku is not None and variant.sku == sku):
                    return variant
        raise SandboxError(f"no variant {variant_id or sku} on {shop.domain}")

    def set_stock(
        self, shop: Shop, variant: Variant, available: int, *, notify: bool = True
    ) -> None:
        key = (variant.inventory_item_id, shop.location_id)
        shop.levels[key] = available
        if notify:
            self.emit(
                shop,
                "inventory_levels/update",
                {
                    "inventory_item_id": numeric(variant.inventory_item_id),
                    "location_id": numeric(shop.location_id),
                    "available": available,
                    "updated_at": now_iso(),
                    "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{numeric(variant.inventory_item_id)}",
                },
            )

    def product_payload(self, shop: Shop, product: Product) -> dict[str, Any]:
        return {
            "id": numeric(product.id),
            "admin_graphql_api_id": product.id,
            "title": product.title,
            "status": product.status.lower(),
            "updated_at": product.updated_at,
            "variants": [
                {
                    "id": numeric(v.id),
                    "sku": v.sku,
                    "price": f"{v.price:.2f}",
                    "inventory_item_id": numeric(v.inventory_item_id),
                }
                for v in product.variants
            ],
        }

    # -- orders --------------------------------------------------------------------
    def new_order(
        self,
        shop: Shop,
        lines: list[LineItem],
        **fields: Any,
    ) -> Order:
        number = next(shop.order_numbers)
        order = Order(
            id=self.store.ids.gid("Order"),
            number=number,
            name=f"#{number}",
            currency=fields.pop("currency", shop.currency),
            line_items=lines,
            **fields,
        )
        order.fulfillment_order_id = self.store.ids.gid("FulfillmentOrder")
        shop.orders[order.id] = order
        return order

    def line(
        self,
        shop: Shop,
        variant: Variant | None,
        quantity: int,
        price: Decimal | None = None,
        **extra: Any,
    ) -> LineItem:
        title = extra.pop("title", None)
        if variant is not None:
            product = shop.products[variant.product_id]
            title = title or f"{product.title} - {variant.title}"
        return LineItem(
            id=self.store.ids.gid("LineItem"),
            title=title or "Custom item",
            variant_id=variant.id if variant else None,
            sku=variant.sku if variant else extra.pop("sku", None),
            quantity=quantity,
            price=price if price is not None else (variant.price if variant else Decimal(0)),
            **extra,
        )

    def order_payload(self, order: Order) -> dict[str, Any]:
        return {
            "id": numeric(order.id),
            "admin_graphql_api_id": order.id,
            "name": order.name,
            "financial_status": order.financial_status.lower(),
            "cancelled_at": order.cancelled_at,
            "created_at": order.created_at,
            "email": order.email,
            "line_items": [
                {
                    "id": numeric(li.id),
                    "variant_id": numeric(li.variant_id) if li.variant_id else None,
                    "quantity": li.quantity,
                    "sku": li.sku,
                }
                for li in order.line_items
            ],
        }

    def decrement_stock(self, shop: Shop, order: Order, behaviour: str) -> None:
        """Apply ``inventoryBehaviour``: BYPASS, DECREMENT_IGNORING_POLICY or _OBEYING_POLICY."""
        if behaviour == "BYPASS":
            return
        variants = shop.variants()
        wanted: dict[str, int] = {}
        for line in order.line_items:
            if line.variant_id:
                wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
        if behaviour == "DECREMENT_OBEYING_POLICY":
            for variant_id, quantity in wanted.items():
                variant = variants[variant_id]
                if (
                    variant.inventory_policy == "DENY"
                    and shop.available(variant.inventory_item_id) < quantity
                ):
                    raise SandboxError(f"Insufficient inventory for {variant.sku or variant.id}")
        for variant_id, quantity in wanted.items():
            variant = variants[variant_id]
            key = (variant.inventory_item_id, shop.location_id)
            shop.levels[key] = shop.levels.get(key, 0) - quantity

    def check_order_create_limit(self, shop: Shop) -> None:
        """Development stores may create at most five orders a minute with ``orderCreate``."""
        if self.order_create_limit is None:
            return
        now = self.config.clock()
        recent = [t for t in self._order_create_times.get(shop.domain, []) if now - t < 60]
        if len(recent) >= self.order_create_limit:
            raise SandboxError("Too many orders created in the last minute on a development store")
        recent.append(now)
        self._order_create_times[shop.domain] = recent

    def fulfil(
        self, shop: Shop, order: Order, quantities: dict[str, int], tracking: dict[str, Any]
    ) -> Fulfillment:
        lines = {li.id: li for li in order.line_items}
        for line_id, quantity in quantities.items():
            line = lines.get(line_id)
            if line is None or quantity <= 0 or quantity > line.current - line.fulfilled:
                raise SandboxError(f"cannot fulfil {quantity} of line {line_id}")
        for line_id, quantity in quantities.items():
            lines[line_id].fulfilled += quantity
        fulfillment = Fulfillment(
            self.store.ids.gid("Fulfillment"), dict(quantities), dict(tracking)
        )
        order.fulfillments.append(fulfillment)
        self.emit(shop, "fulfillments/create", self.fulfillment_payload(order, fulfillment))
        return fulfillment

    def fulfillment_payload(self, order: Order, fulfillment: Fulfillment) -> dict[str, Any]:
        lines = {li.id: li for li in order.line_items}
        info = fulfillment.tracking
        return {
            "id": numeric(fulfillment.id),
            "admin_graphql_api_id": fulfillment.id,
            "order_id": numeric(order.id),
            "status": "success",
            "tracking_company": info.get("company"),
            "tracking_number": info.get("number"),
            "tracking_numbers": [info["number"]] if info.get("number") else [],
            "tracking_url": info.get("url"),
            "tracking_urls": [info["url"]] if info.get("url") else [],
            "line_items": [
                {
                    "id": numeric(line_id),
                    "variant_id": numeric(lines[line_id].variant_id)
                    if lines[line_id].variant_id
                    else None,
                    "sku": lines[line_id].sku,
                    "quantity": quantity,
                }
                for line_id, quantity in fulfillment.line_quantities.items()
            ],
        }
