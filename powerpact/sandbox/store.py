"""The sandbox's shops and everything in them, in memory, behind one lock.

Objects keep Shopify's shapes where it matters (GIDs, money as decimal strings,
UTC ISO times); ``graphql_api`` turns them into the schema's response shapes.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

PLANS = {
    "standard": {"maximum": 2000.0, "restore_rate": 100.0},
    "advanced": {"maximum": 4000.0, "restore_rate": 200.0},
    "plus": {"maximum": 20000.0, "restore_rate": 1000.0},
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Ids:
    """Shopify-looking numeric ids, unique across the whole sandbox."""

    def __init__(self, start: int = 7_000_000_000) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        return next(self._counter)

    def gid(self, kind: str) -> str:
        return f"gid://shopify/{kind}/{self.next()}"


@dataclass
class Variant:
    id: str
    product_id: str
    title: str
    sku: str | None
    price: Decimal
    compare_at: Decimal | None
    options: list[tuple[str, str]]
    inventory_item_id: str
    inventory_policy: str = "DENY"


@dataclass
class Product:
    id: str
    title: str
    handle: str
    vendor: str = ""
    product_type: str = ""
    status: str = "ACTIVE"
    tags: list[str] = field(default_factory=list)
    description_html: str = ""
    image_url: str | None = None
    options: list[tuple[str, list[str]]] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    metafields: dict[tuple[str, str], str] = field(default_factory=dict)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class LineItem:
    id: str
    title: str
    variant_id: str | None
    sku: str | None
    quantity: int
    price: Decimal
    discount: Decimal = Decimal(0)
    tax: Decimal | None = None
    current_quantity: int | None = None
    fulfilled: int = 0

    @property
    def current(self) -> int:
        return self.quantity if self.current_quantity is None else self.current_quantity


@dataclass
class Fulfillment:
    id: str
    line_quantities: dict[str, int]
    tracking: dict[str, Any]
    status: str = "SUCCESS"
    created_at: str = field(default_factory=now_iso)


@dataclass
class Order:
    id: str
    number: int
    name: str
    currency: str
    line_items: list[LineItem]
    shipping: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    financial_status: str = "PAID"
    risk: str = "ACCEPT"
    email: str | None = None
    shipping_address: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    source_identifier: str | None = None
    note: str | None = None
    test: bool = False
    cancelled_at: str | None = None
    created_at: str = field(default_factory=now_iso)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    fulfillment_order_id: str = ""

    @property
    def fulfillment_status(self) -> str:
        live = [li for li in self.line_items if li.current > 0]
        if not live or all(li.fulfilled == 0 for li in live):
            return "UNFULFILLED"
        if all(li.fulfilled >= li.current for li in live):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"


@dataclass
class Subscription:
    id: str
    topic: str
    uri: str


@dataclass
class Token:
    shop: str
    value: str
    scopes: list[str]
    expires_at: float | None = None
    refresh_token: str | None = None


@dataclass
class Shop:
    domain: str
    name: str
    currency: str = "USD"
    timezone: str = "UTC"
    plan: str = "standard"
    locations: list[dict[str, Any]] = field(default_factory=list)
    products: dict[str, Product] = field(default_factory=dict)
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    metafield_definitions: set[tuple[str, str]] = field(default_factory=set)
    installed: bool = False
    _variants_stale: bool = True
    idempotency: dict[str, Any] = field(default_factory=dict)
    order_numbers: itertools.count = field(default_factory=lambda: itertools.count(1001))

    @property
    def location_id(self) -> str:
        return self.locations[0]["id"]

    def variants(self) -> dict[str, Variant]:
        """Every variant by id; rebuilt only after ``catalog_changed`` (products added or set)."""
        if self._variants_stale:
            self._variant_index = {v.id: v for p in self.products.values() for v in p.variants}
            self._variants_stale = False
        return self._variant_index

    def catalog_changed(self) -> None:
        self._variants_stale = True

    def inventory_items(self) -> set[str]:
        return {v.inventory_item_id for v in self.variants().values()}

    def available(self, inventory_item_id: str) -> int:
        return sum(self.levels.get((inventory_item_id, loc["id"]), 0) for loc in self.locations)


class Store:
    """Every shop, token and pending OAuth code of one sandbox."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = Ids()
        self.shops: dict[str, Shop] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.codes: dict[str, tuple[str, list[str]]] = {}

    def shop(self, domain: str) -> Shop:
        if domain not in self.shops:
            raise KeyError(f"no sandbox shop {domain}")
        return self.shops[domain]

    def add_shop(self, domain: str, name: str, **settings: Any) -> Shop:
        shop = Shop(domain=domain, name=name, **settings)
        if not shop.locations:
            shop.locations = [
                {"id": self.ids.gid("Location"), "name": f"{name} warehouse", "isActive": True}
            ]
        self.shops[domain] = shop
        return shop

    def issue_token(self, shop: str, scopes: list[str], *, expiring: bool, now: float) -> Token:
        token = Token(shop, "shpat_sbx" + secrets.token_hex(16), scopes)
        if expiring:
            token.expires_at = now + 3600
            token.refresh_token = "shprt_sbx" + secrets.token_hex(16)
            self.refresh_tokens[token.refresh_token] = token
        self.tokens[token.value] = token
        self.shops[shop].installed = True
        return token

    def revoke(self, shop: str) -> None:
        for value in [v for v, t in self.tokens.items() if t.shop == shop]:
            del self.tokens[value]
        for value in [v for v, t in self.refresh_tokens.items() if t.shop == shop]:
            del self.refresh_tokens[value]
        self.shops[shop].installed = False
