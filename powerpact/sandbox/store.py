"""The sandbox's shops and everything in them, in memory.

Objects keep Shopify's identities and units (GIDs, ``Decimal`` money, UTC ISO
times); ``shapes`` turns them into the schema's response shapes. Callers hold
``Sandbox.lock`` while they read or change a shop.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict


# GraphQL Admin API restore rates by plan: 100, 200, 1,000 and 2,000 points a second
# for Standard, Advanced, Plus and Shopify for enterprise (Commerce Components)
# (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); the bucket
# holds twenty seconds of restore. An enterprise shop has a Plus subscription.
class Plan(TypedDict):
    """A Shopify plan's GraphQL rate limit (its bucket's size and refill per second)."""

    maximum: float
    restore_rate: float
    display: str


PLANS: dict[str, Plan] = {
    "standard": {"maximum": 2000.0, "restore_rate": 100.0, "display": "Basic"},
    "advanced": {"maximum": 4000.0, "restore_rate": 200.0, "display": "Advanced"},
    "plus": {"maximum": 20000.0, "restore_rate": 1000.0, "display": "Shopify Plus"},
    "enterprise": {"maximum": 40000.0, "restore_rate": 2000.0, "display": "Plus"},
    "development": {"maximum": 2000.0, "restore_rate": 100.0, "display": "Development"},
}
ZERO = Decimal(0)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def numeric(gid: str) -> int:
    """The number at the end of a GID (``gid://shopify/Order/12`` is 12)."""
    return int(gid.split("?", 1)[0].rsplit("/", 1)[1])


def calculated_id(line_id: str) -> str:
    """The ``CalculatedLineItem`` id an order edit gives an existing line."""
    return line_id.replace("/LineItem/", "/CalculatedLineItem/")


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
    tracked: bool = True
    updated_at: str = field(default_factory=now_iso)


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
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class TaxLine:
    title: str
    price: Decimal
    rate: Decimal | None = None


@dataclass
class ShippingLine:
    title: str
    price: Decimal
    code: str | None = None
    tax_lines: list[TaxLine] = field(default_factory=list)


@dataclass
class LineItem:
    id: str
    title: str
    variant_id: str | None
    sku: str | None
    quantity: int
    price: Decimal
    discount: Decimal = ZERO
    tax_lines: list[TaxLine] = field(default_factory=list)
    current_quantity: int | None = None
    fulfilled: int = 0
    product_id: str | None = None
    vendor: str | None = None
    variant_title: str | None = None
    # Shipped units refunded since (a return, or a refund without restock), and the tax of
    # every unit refunded or edited away: the order's current tax leaves it out.
    returned: int = 0
    removed_tax: Decimal = ZERO

    @property
    def current(self) -> int:
        return self.quantity if self.current_quantity is None else self.current_quantity

    @property
    def shipped(self) -> int:
        """Units shipped and not refunded since: the most an edit must leave on the line."""
        return max(self.fulfilled - self.returned, 0)

    @property
    def unfulfilled(self) -> int:
        return max(self.current - self.shipped, 0)

    @property
    def tax(self) -> Decimal | None:
        """The line's tax, or None when it carries no tax line."""
        return sum((t.price for t in self.tax_lines), ZERO) if self.tax_lines else None

    @property
    def current_tax(self) -> Decimal:
        """The tax of the units still on the order."""
        return (self.tax or ZERO) - self.removed_tax


@dataclass
class Fulfillment:
    id: str
    line_quantities: dict[str, int]
    tracking: dict[str, Any]
    status: str = "SUCCESS"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    location_id: str = ""


@dataclass
class FulfillmentHold:
    """One hold on a fulfillment order (schema: ``FulfillmentHold``)."""

    id: str
    reason: str = "OTHER"
    reason_notes: str | None = None
    handle: str = ""


FULFILLABLE = ("OPEN", "IN_PROGRESS")


@dataclass
class FulfillmentOrder:
    """The lines of an order that one location is to fulfil (schema: ``FulfillmentOrder``).

    Order routing gives an order one per location its lines were assigned to; the
    sandbox keeps each line whole in one fulfillment order. ``scheduled`` stands for
    a ``fulfillAt`` still in the future (the ``ready`` control action is its time
    arriving); ``incomplete`` for a fulfillment service that closed it unfinished
    (``fulfillmentOrderClose``); ``closed`` for one whose lines moved away.
    """

    id: str
    location_id: str
    line_ids: list[str]
    holds: list[FulfillmentHold] = field(default_factory=list)
    scheduled: bool = False
    fulfill_at: str | None = None
    incomplete: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def lines(self, order: Order) -> list[LineItem]:
        return [li for li in order.line_items if li.id in self.line_ids and li.current > 0]

    def status(self, order: Order) -> str:
        """``FulfillmentOrderStatus``: CANCELLED, CLOSED, INCOMPLETE, ON_HOLD, SCHEDULED,
        IN_PROGRESS or OPEN (https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentOrderStatus)."""
        lines = self.lines(order)
        if order.cancelled_at:
            return "CANCELLED"
        if not any(li.unfulfilled for li in lines):
            return "CLOSED"
        if self.incomplete:
            return "INCOMPLETE"
        if self.holds:
            return "ON_HOLD"
        if self.scheduled:
            return "SCHEDULED"
        return "IN_PROGRESS" if any(li.fulfilled for li in lines) else "OPEN"


LEVEL_RECOMMENDATIONS = {"LOW": "ACCEPT", "MEDIUM": "INVESTIGATE", "HIGH": "CANCEL", "NONE": "NONE"}


@dataclass
class RiskAssessment:
    """One risk assessment of an order (``OrderRiskAssessment``): its level, the app that
    made it (None: Shopify's own analysis) and its facts."""

    risk_level: str
    provider_title: str | None = None
    provider_id: int | None = None
    facts: list[dict[str, str]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)


@dataclass
class RefundLine:
    """One line of a refund (``RefundLineItem``): units, how they were restocked, and what
    was given back for them."""

    id: str
    line_id: str
    quantity: int
    restock_type: str
    subtotal: Decimal
    tax: Decimal
    location_id: str | None = None


@dataclass
class Refund:
    """A refund of an order (``Refund``): its lines, the shipping it gave back and when."""

    id: str
    lines: list[RefundLine]
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    note: str | None = None
    created_at: str = field(default_factory=now_iso)

    @property
    def total(self) -> Decimal:
        return sum((rl.subtotal + rl.tax for rl in self.lines), self.shipping + self.shipping_tax)


@dataclass
class Agreement:
    """A sales agreement of an order (``SalesAgreement``): an edit (``OrderEditAgreement``)
    or a refund (``RefundAgreement``), with its product sales: (line id, quantity, action
    type ``ORDER`` or ``RETURN``)."""

    id: str
    kind: str
    sales: list[tuple[str, int, str]]
    refund_id: str | None = None
    happened_at: str = field(default_factory=now_iso)


@dataclass
class Order:
    id: str
    number: int
    name: str
    currency: str
    line_items: list[LineItem]
    shipping_lines: list[ShippingLine] = field(default_factory=list)
    tax_lines: list[TaxLine] = field(default_factory=list)
    financial_status: str = "PAID"
    risk: str = "ACCEPT"
    email: str | None = None
    customer: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    source_identifier: str | None = None
    source_name: str = "web"
    note: str | None = None
    test: bool = False
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    risk_assessments: list[RiskAssessment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)

    @property
    def risk_recommendation(self) -> str:
        """From the newest final assessment; ``NONE`` before any (``powerpact.sandbox.risk``)."""
        for assessment in reversed(self.risk_assessments):
            if assessment.risk_level != "PENDING":
                return LEVEL_RECOMMENDATIONS[assessment.risk_level]
        return "NONE"

    @property
    def fulfillment_order_id(self) -> str:
        """The first fulfillment order's id (an order with one location has only that one)."""
        return self.fulfillment_orders[0].id if self.fulfillment_orders else ""

    def fulfillment_order(self, fulfillment_order_id: str) -> FulfillmentOrder | None:
        return next((fo for fo in self.fulfillment_orders if fo.id == fulfillment_order_id), None)

    def fulfillment_order_of(self, line_id: str) -> FulfillmentOrder | None:
        return next((fo for fo in self.fulfillment_orders if line_id in fo.line_ids), None)

    # (visible from, searchable fields): what the orders search index holds (order_search.py)
    search_versions: list[tuple[float, dict[str, list[str]]]] = field(
        default_factory=list, repr=False, compare=False
    )

    @property
    def original_shipping(self) -> Decimal:
        return sum((s.price for s in self.shipping_lines), ZERO)

    @property
    def shipping(self) -> Decimal:
        """The shipping charged now: ``currentShippingPriceSet``, "after applying refunds"."""
        return self.original_shipping - sum((r.shipping for r in self.refunds), ZERO)

    @property
    def original_tax(self) -> Decimal:
        return sum((t.price for t in self.all_tax_lines()), ZERO)

    @property
    def tax(self) -> Decimal:
        """The tax charged now (``currentTotalTaxSet``, "after returns and refunds"): every
        tax line of the order, its lines', its shipping's and its own, less the tax of the
        units and shipping refunded or edited away."""
        removed = sum((li.removed_tax for li in self.line_items), ZERO)
        return self.original_tax - removed - sum((r.shipping_tax for r in self.refunds), ZERO)

    @property
    def shipping_tax(self) -> Decimal:
        return sum((t.price for s in self.shipping_lines for t in s.tax_lines), ZERO)

    def all_tax_lines(self) -> list[TaxLine]:
        lines = [t for li in self.line_items for t in li.tax_lines]
        lines += [t for s in self.shipping_lines for t in s.tax_lines]
        return lines + list(self.tax_lines)

    @property
    def discounts(self) -> Decimal:
        return sum((li.discount for li in self.line_items), ZERO)

    @property
    def subtotal(self) -> Decimal:
        """Line items at their current quantities, after their discounts (a line's discount
        shrinks with its units)."""
        gross = sum((li.price * li.current for li in self.line_items), ZERO)
        discounts = sum(
            (
                (li.discount * li.current / li.quantity).quantize(Decimal("0.01"))
                if li.quantity and li.current != li.quantity
                else li.discount
                for li in self.line_items
            ),
            ZERO,
        )
        return gross - discounts

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    @property
    def fulfillment_status(self) -> str:
        live = [li for li in self.line_items if li.current > 0]
        if not live or all(li.fulfilled == 0 for li in live):
            return "UNFULFILLED"
        if all(li.unfulfilled == 0 for li in live):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"


@dataclass
class EditSession:
    """An open ``orderEditBegin``: staged additions and quantity changes until commit."""

    id: str
    order_id: str
    added: dict[str, tuple[str, int]] = field(default_factory=dict)
    quantities: dict[str, tuple[int, bool]] = field(default_factory=dict)


@dataclass
class Subscription:
    id: str
    topic: str
    uri: str
    created_at: str = field(default_factory=now_iso)


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
    id: str = ""
    currency: str = "USD"
    timezone: str = "UTC"
    plan: str = "enterprise"
    email: str = ""
    locations: list[dict[str, Any]] = field(default_factory=list)
    products: dict[str, Product] = field(default_factory=dict)
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    metafield_definitions: set[tuple[str, str]] = field(default_factory=set)
    edits: dict[str, EditSession] = field(default_factory=dict)
    installed: bool = False
    idempotency: dict[str, Any] = field(default_factory=dict)
    order_numbers: itertools.count = field(default_factory=lambda: itertools.count(1001))
    _variant_index: dict[str, Variant] = field(default_factory=dict, repr=False)
    _variants_stale: bool = field(default=True, repr=False)
    _orders_by_source: dict[str, list[Order]] = field(default_factory=dict, repr=False)

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

    def add_order(self, order: Order) -> None:
        self.orders[order.id] = order
        if order.source_identifier:
            self._orders_by_source.setdefault(order.source_identifier.lower(), []).append(order)

    def remove_order(self, order: Order) -> None:
        del self.orders[order.id]
        if order.source_identifier:
            self._orders_by_source[order.source_identifier.lower()].remove(order)

    def orders_with_source_identifier(self, identifier: str) -> list[Order]:
        """An index, as Shopify has one: an app looks its order up by it before every create."""
        return list(self._orders_by_source.get(identifier.lower(), []))

    def find_fulfillment_order(
        self, fulfillment_order_id: str
    ) -> tuple[Order, FulfillmentOrder] | None:
        for order in self.orders.values():
            found = order.fulfillment_order(fulfillment_order_id)
            if found is not None:
                return order, found
        return None

    def variant_by_item(self, inventory_item_id: str) -> Variant | None:
        return next(
            (v for v in self.variants().values() if v.inventory_item_id == inventory_item_id),
            None,
        )

    def inventory_items(self) -> set[str]:
        return {v.inventory_item_id for v in self.variants().values()}

    def location(self, location_id: str) -> dict[str, Any] | None:
        return next((loc for loc in self.locations if loc["id"] == location_id), None)

    def stocked(self, inventory_item_id: str, location_id: str) -> bool:
        """Whether the item has an inventory level at the location (is stocked there).

        A level exists only where the item was activated: by ``inventoryActivate``, by a
        variant created with quantities there, or by a merchant stocking it in the admin
        (https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/inventoryActivate).
        """
        return (inventory_item_id, location_id) in self.levels

    def stocked_locations(self, inventory_item_id: str) -> list[dict[str, Any]]:
        return [loc for loc in self.locations if self.stocked(inventory_item_id, loc["id"])]

    def available(self, inventory_item_id: str) -> int:
        """``ProductVariant.inventoryQuantity``: "the total sellable quantity of the variant"."""
        return sum(self.levels.get((inventory_item_id, loc["id"]), 0) for loc in self.locations)


class Store:
    """Every shop, token and pending OAuth code of one sandbox."""

    def __init__(self) -> None:
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
        shop = Shop(domain=domain, name=name, id=self.ids.gid("Shop"), **settings)
        shop.email = shop.email or f"owner@{domain}"
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

    def granted_scopes(self, shop: str) -> list[str]:
        return sorted({s for t in self.tokens.values() if t.shop == shop for s in t.scopes})

    def revoke(self, shop: str) -> None:
        for value in [v for v, t in self.tokens.items() if t.shop == shop]:
            del self.tokens[value]
        for value in [v for v, t in self.refresh_tokens.items() if t.shop == shop]:
            del self.refresh_tokens[value]
        self.shops[shop].installed = False
