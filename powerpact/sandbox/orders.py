"""Orders in a shop: checkout, ``orderCreate``, payment, risk, cancellation, edits, refunds,
fulfilment.

Each change fires the webhooks Shopify fires for it (``orders/create``,
``orders/paid``, ``orders/updated``, ``orders/cancelled``, ``orders/edited``,
``refunds/create``, ``orders/risk_assessment_changed``, ``fulfillments/create``/``update``,
``fulfillment_orders/placed_on_hold``, ``hold_released``, ``scheduled_fulfillment_order_ready``
and ``moved``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from powerpact.sandbox import payloads, risk
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.order_search import index_order
from powerpact.sandbox.store import (
    FULFILLABLE,
    ZERO,
    Agreement,
    EditSession,
    Fulfillment,
    FulfillmentHold,
    FulfillmentOrder,
    LineItem,
    Order,
    Refund,
    RefundLine,
    ShippingLine,
    Shop,
    Store,
    TaxLine,
    Variant,
    calculated_id,
    now_iso,
    numeric,
)

if TYPE_CHECKING:
    from powerpact.sandbox.config import SandboxConfig

CENT = Decimal("0.01")
INVENTORY_BEHAVIOURS = ("BYPASS", "DECREMENT_IGNORING_POLICY", "DECREMENT_OBEYING_POLICY")
HOLD_REASONS = (
    "AWAITING_PAYMENT",
    "AWAITING_RETURN_ITEMS",
    "HIGH_RISK_OF_FRAUD",
    "INCORRECT_ADDRESS",
    "INVENTORY_OUT_OF_STOCK",
    "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
    "OTHER",
    "UNKNOWN_DELIVERY_DATE",
)
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


DEVELOPMENT_ORDERS_PER_MINUTE = 5
ORDER_LIMIT_MESSAGE = (
    "Exceeded order API rate limit, please try again in a minute."
    " Upgrade to a paid account to remove this limit."
)


class OrderLimitReached(SandboxError):
    """The shop's ``orderCreate`` limit for the minute is used up."""


class OrderActions:
    """Order life cycle of a shop (mixed into ``Sandbox``)."""

    config: SandboxConfig
    store: Store
    lock: threading.RLock
    order_create_limit: int | None
    search_lag_seconds: float
    _order_create_times: dict[str, list[float]]
    emit: Callable[[Shop, str, dict[str, Any] | Callable[[], dict[str, Any]]], None]
    find_variant: Callable[..., Variant]
    adjust_stock: Callable[..., None]

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
        for location, line_ids in routed_groups(shop, lines):
            order.fulfillment_orders.append(
                FulfillmentOrder(self.store.ids.gid("FulfillmentOrder"), location, line_ids)
            )
        shop.add_order(order)
        self.reindex(order)
        return order

    def location_of(self, order: Order, line: LineItem) -> str | None:
        fulfillment_order = order.fulfillment_order_of(line.id)
        return fulfillment_order.location_id if fulfillment_order else None

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
        """Apply ``inventoryBehaviour``: BYPASS, DECREMENT_IGNORING_POLICY or _OBEYING_POLICY.

        Then ``products/update`` fires for each product ordered (``products_ordered``).
        """
        if behaviour not in INVENTORY_BEHAVIOURS:
            raise SandboxError(f"unknown inventory behaviour {behaviour}")
        wanted: dict[str, int] = {}
        at: dict[tuple[str, str | None], int] = {}
        for line in order.line_items:
            if line.variant_id:
                wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
                key = (line.variant_id, self.location_of(order, line))
                at[key] = at.get(key, 0) + line.quantity
        variants = shop.variants()
        if behaviour == "DECREMENT_OBEYING_POLICY":
            for variant_id, quantity in wanted.items():
                variant = variants[variant_id]
                short = shop.available(variant.inventory_item_id) < quantity
                if variant.inventory_policy == "DENY" and short:
                    raise SandboxError(f"Insufficient inventory for {variant.sku or variant.id}")
        if behaviour != "BYPASS":
            for (variant_id, location), quantity in at.items():
                self.adjust_stock(shop, variants[variant_id], -quantity, location)
        self.products_ordered(shop, [variants[v] for v in wanted if v in variants])

    def products_ordered(self, shop: Shop, variants: list[Variant]) -> None:
        """``products/update`` for each product of ``variants``, once, with its stock after.

        The schema's ``WebhookSubscriptionTopic.PRODUCTS_UPDATE``: it "Occurs whenever
        a product is updated, ordered, or variants are added, removed or updated", so
        every sale of a product sends it, the same REST product payload an edit sends.
        """
        for product_id in dict.fromkeys(v.product_id for v in variants):
            product = shop.products.get(product_id)
            if product is not None:
                product.updated_at = now_iso()
                self.emit(
                    shop, "products/update", functools.partial(payloads.product, shop, product)
                )

    def check_order_create_limit(self, shop: Shop) -> None:
        """Development and trial stores create at most five orders a minute with ``orderCreate``.

        The schema's description of ``orderCreate``: "If you're using the
        ``orderCreate`` mutation with a trial or development store, then you can create
        a maximum of five new orders per minute." How the sixth is refused is not
        documented for GraphQL; the REST Admin API's order endpoint, under the same
        limit (https://shopify.dev/docs/api/admin-rest/latest/resources/order), is seen
        answering ``ORDER_LIMIT_MESSAGE`` with a 429. The sandbox refuses with that
        message as a user error or as a ``THROTTLED`` error, per
        ``SandboxConfig.order_create_limit_answer``.
        """
        limit = self.order_create_limit
        if shop.plan == "development":
            limit = min(limit or DEVELOPMENT_ORDERS_PER_MINUTE, DEVELOPMENT_ORDERS_PER_MINUTE)
        if limit is None:
            return
        now = self.config.clock()
        recent = [t for t in self._order_create_times.get(shop.domain, []) if now - t < 60]
        if len(recent) >= limit:
            raise OrderLimitReached(ORDER_LIMIT_MESSAGE)
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
                        location = self.location_of(order, line)
                        self.adjust_stock(shop, variant, line.unfulfilled, location)
        self.order_changed(shop, order, "orders/cancelled")
        return order

    def change_risk(self, shop: Shop, order: Order, recommendation: str) -> Order:
        """A fraud app's assessment (``orderRiskAssessmentCreate``) leading to
        ``recommendation``: the newest final assessment sets the order's recommendation."""
        recommendation = recommendation.upper()
        if recommendation not in risk.RECOMMENDATION_LEVELS:
            raise SandboxError(f"unknown risk recommendation {recommendation}")
        if order.fulfillment_status == "FULFILLED":
            raise SandboxError(f"{order.name} is fulfilled: no new risk assessment")
        level = risk.RECOMMENDATION_LEVELS[recommendation]
        facts = [{"description": f"Reviewed: {recommendation.lower()}", "sentiment": "NEUTRAL"}]
        risk.add_assessment(
            self,  # type: ignore[arg-type]  # this mixin is only ever part of a Sandbox
            shop,
            order,
            level,
            provider_title="Fraud Filter",
            facts=facts,
        )
        return order

    def fulfil(
        self, shop: Shop, order: Order, quantities: dict[str, int], tracking: dict[str, Any]
    ) -> Fulfillment:
        """Ship ``quantities`` (line id -> quantity) with ``tracking`` (number, company, url).

        As ``fulfillmentCreate``: one fulfilment ships from one location (its fulfillment
        orders are "assigned to the same Location", schema), and only from fulfillment
        orders that can be fulfilled: ON_HOLD "can't be initiated until the hold on the
        fulfillment order is released", SCHEDULED waits for its ``fulfill_at``, and
        INCOMPLETE, CLOSED and CANCELLED are done
        (https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentOrderStatus).
        """
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is cancelled")
        lines = {li.id: li for li in order.line_items}
        for line_id, quantity in quantities.items():
            line = lines.get(line_id)
            if line is None or quantity <= 0 or quantity > line.unfulfilled:
                raise SandboxError(f"cannot fulfil {quantity} of line {line_id}")
        if not quantities:
            raise SandboxError(f"nothing left to fulfil on {order.name}")
        location = fulfilling_location(order, list(quantities))
        for line_id, quantity in quantities.items():
            lines[line_id].fulfilled += quantity
        fulfillment = Fulfillment(
            self.store.ids.gid("Fulfillment"),
            dict(quantities),
            dict(tracking),
            location_id=location or shop.location_id,
        )
        order.fulfillments.append(fulfillment)
        self.emit(shop, "fulfillments/create", payloads.fulfillment(order, fulfillment))
        done = "orders/fulfilled" if order.fulfillment_status == "FULFILLED" else None
        self.order_changed(shop, order, *(["orders/partially_fulfilled"] if not done else [done]))
        return fulfillment

    def fulfil_remaining(
        self, shop: Shop, order: Order, tracking: dict[str, Any]
    ) -> list[Fulfillment]:
        """Ship what remains, one fulfilment per location, as a merchant does in the admin.

        Fulfillment orders that cannot be fulfilled (on hold, scheduled...) are left as
        they are; when nothing else remains, the first one's refusal is raised.
        """
        by_location: dict[str, dict[str, int]] = {}
        refused: list[FulfillmentOrder] = []
        for fulfillment_order in order.fulfillment_orders:
            remaining = {li.id: li.unfulfilled for li in fulfillment_order.lines(order)}
            remaining = {k: v for k, v in remaining.items() if v}
            if not remaining:
                continue
            if fulfillment_order.status(order) not in FULFILLABLE:
                refused.append(fulfillment_order)
                continue
            by_location.setdefault(fulfillment_order.location_id, {}).update(remaining)
        if not by_location and refused:
            raise SandboxError(unfulfillable(refused[0], refused[0].status(order)))
        if not by_location:
            raise SandboxError(f"nothing left to fulfil on {order.name}")
        return [self.fulfil(shop, order, q, tracking) for q in by_location.values()]

    def update_tracking(
        self, shop: Shop, order: Order, fulfillment: Fulfillment, tracking: dict[str, Any]
    ) -> Fulfillment:
        fulfillment.tracking.update(
            {k: v for k, v in tracking.items() if k in ("number", "company", "url")}
        )
        fulfillment.updated_at = now_iso()
        self.emit(shop, "fulfillments/update", payloads.fulfillment(order, fulfillment))
        return fulfillment

    def hold_fulfillment_order(
        self,
        shop: Shop,
        order: Order,
        fulfillment_order: FulfillmentOrder,
        *,
        reason: str = "OTHER",
        reason_notes: str | None = None,
        handle: str = "",
    ) -> FulfillmentHold:
        """``fulfillmentOrderHold`` on a whole fulfillment order.

        Since 2025-01 a held fulfillment order can take more holds, one per ``handle``
        ("DUPLICATE_FULFILLMENT_HOLD_HANDLE"), up to 10 per app
        (https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentOrderHold).
        ``fulfillment_orders/placed_on_hold`` fires "only once when the first hold is
        applied" (schema, ``WebhookSubscriptionTopic``).
        """
        status = fulfillment_order.status(order)
        if status in ("CLOSED", "CANCELLED", "INCOMPLETE"):
            raise SandboxError(f"The fulfillment order is {status.lower()} and cannot be held.")
        if reason not in HOLD_REASONS:
            raise SandboxError(f"unknown fulfillment hold reason {reason}")
        if any(h.handle == handle for h in fulfillment_order.holds):
            raise SandboxError(
                "The handle provided for the fulfillment hold is already in use by this app"
                " for another hold on this fulfillment order."
            )
        if len(fulfillment_order.holds) >= 10:
            raise SandboxError("The maximum number of fulfillment holds has been reached.")
        hold = FulfillmentHold(self.store.ids.gid("FulfillmentHold"), reason, reason_notes, handle)
        first = not fulfillment_order.holds
        fulfillment_order.holds.append(hold)
        fulfillment_order.updated_at = now_iso()
        if first:
            self.emit(
                shop,
                "fulfillment_orders/placed_on_hold",
                lambda: payloads.placed_on_hold(order, fulfillment_order, hold),
            )
        return hold

    def release_fulfillment_order(
        self,
        shop: Shop,
        order: Order,
        fulfillment_order: FulfillmentOrder,
        hold_ids: list[str] | None = None,
    ) -> FulfillmentOrder:
        """``fulfillmentOrderReleaseHold``: the named holds, or all of them when none are named.

        ``fulfillment_orders/hold_released`` fires "only once when the last hold is
        released and the status of the fulfillment order is no longer ON_HOLD" (schema).
        """
        if not fulfillment_order.holds:
            raise SandboxError("The fulfillment order is not on hold.")
        wanted = set(hold_ids) if hold_ids else {h.id for h in fulfillment_order.holds}
        fulfillment_order.holds = [h for h in fulfillment_order.holds if h.id not in wanted]
        fulfillment_order.updated_at = now_iso()
        if not fulfillment_order.holds:
            self.emit(
                shop,
                "fulfillment_orders/hold_released",
                lambda: payloads.fulfillment_order_event(order, fulfillment_order),
            )
        return fulfillment_order

    def schedule_fulfillment_order(
        self, order: Order, fulfillment_order: FulfillmentOrder, fulfill_at: str
    ) -> FulfillmentOrder:
        """Defer an open fulfillment order to ``fulfill_at`` (a subscription or pre-order's
        SCHEDULED: "ready for fulfillment after the date and time specified in fulfill_at")."""
        if fulfillment_order.status(order) != "OPEN":
            raise SandboxError("Only an open fulfillment order can be scheduled.")
        fulfillment_order.scheduled, fulfillment_order.fulfill_at = True, fulfill_at
        fulfillment_order.updated_at = now_iso()
        return fulfillment_order

    def fulfillment_order_due(
        self, shop: Shop, order: Order, fulfillment_order: FulfillmentOrder
    ) -> FulfillmentOrder:
        """A scheduled fulfillment order's ``fulfill_at`` arrives: it "is automatically
        transitioned to open" (schema, ``FulfillmentOrder.fulfillAt``) and
        ``fulfillment_orders/scheduled_fulfillment_order_ready`` fires."""
        if not fulfillment_order.scheduled:
            raise SandboxError("The fulfillment order is not scheduled.")
        fulfillment_order.scheduled = False
        fulfillment_order.updated_at = now_iso()
        self.emit(
            shop,
            "fulfillment_orders/scheduled_fulfillment_order_ready",
            lambda: payloads.fulfillment_order_event(order, fulfillment_order),
        )
        return fulfillment_order

    def mark_incomplete(
        self, order: Order, fulfillment_order: FulfillmentOrder
    ) -> FulfillmentOrder:
        """A fulfillment service closes the fulfillment order unfinished
        (``fulfillmentOrderClose``: "Marks an in-progress fulfillment order as incomplete");
        the merchant may then move its lines to another location."""
        if fulfillment_order.status(order) in ("CLOSED", "CANCELLED"):
            raise SandboxError("The fulfillment order is already closed.")
        fulfillment_order.incomplete = True
        fulfillment_order.updated_at = now_iso()
        return fulfillment_order

    def move_fulfillment_order(
        self, shop: Shop, order: Order, fulfillment_order: FulfillmentOrder, location_id: str
    ) -> FulfillmentOrder:
        """``fulfillmentOrderMove`` of a whole fulfillment order: "the assignedLocation of
        the original fulfillment order will be updated to the new location"
        (schema). It fails on a closed one; the sandbox moves only fulfillment orders
        with nothing fulfilled yet (it keeps each line in one fulfillment order)."""
        if shop.location(location_id) is None:
            raise SandboxError(f"no location {location_id} on {shop.domain}")
        status = fulfillment_order.status(order)
        if status in ("CLOSED", "CANCELLED"):
            raise SandboxError(f"The fulfillment order is {status.lower()} and cannot be moved.")
        if any(li.fulfilled for li in fulfillment_order.lines(order)):
            raise SandboxError("the sandbox moves only fulfillment orders with nothing fulfilled")
        source = fulfillment_order.location_id
        fulfillment_order.location_id, fulfillment_order.incomplete = location_id, False
        fulfillment_order.updated_at = now_iso()
        self.emit(
            shop,
            "fulfillment_orders/moved",
            lambda: payloads.fulfillment_order_moved(order, fulfillment_order, source),
        )
        return fulfillment_order

    def begin_edit(self, shop: Shop, order: Order) -> EditSession:
        if order.cancelled_at:
            raise SandboxError(f"{order.name} is cancelled and cannot be edited")
        session = EditSession(self.store.ids.gid("CalculatedOrder"), order.id)
        shop.edits[session.id] = session
        return session

    def commit_edit(
        self, shop: Shop, session: EditSession, *, notify: bool = False, note: str | None = None
    ) -> Order:
        """Apply the staged edit: new lines (stock taken), changed quantities (maybe restocked).

        As ``orderEditCommit``: "you can only edit unfulfilled line items"
        (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditCommit), so a
        line keeps at least its shipped units. The edit is recorded as an
        ``OrderEditAgreement`` ("Shopify creates a sales agreement whenever an order is
        placed, edited, or refunded", schema ``SalesAgreement``) whose product sales say
        what it removed (``RETURN``) or added (``ORDER``); the tax of removed units leaves
        the order's current tax. ``orders/edited`` fires with the edit (``payloads.order_edit``),
        then ``orders/updated``.
        """
        order = shop.orders[session.order_id]
        by_calculated = {calculated_id(li.id): li for li in order.line_items}
        for calculated, (quantity, _) in session.quantities.items():
            line = by_calculated.get(calculated)
            if line is not None and quantity < line.shipped:
                raise SandboxError(
                    f"{line.title}: {line.shipped} fulfilled, the quantity can't be lower"
                )
        sales: list[tuple[str, int, str]] = []
        for calculated, (variant_id, quantity) in session.added.items():
            new_quantity = session.quantities.pop(calculated, (quantity, False))[0]
            if new_quantity <= 0:
                continue
            variant = self.find_variant(shop, variant_id=variant_id)
            line = self.line(shop, variant, new_quantity)
            line.id = calculated.replace("CalculatedLineItem", "LineItem")
            order.line_items.append(line)
            self.assign_added_line(shop, order, line)
            self.adjust_stock(shop, variant, -new_quantity, self.location_of(order, line))
            sales.append((line.id, new_quantity, "ORDER"))
        for calculated, (quantity, restock) in session.quantities.items():
            line = by_calculated[calculated]
            returned = line.current - quantity
            if returned > 0:
                line.removed_tax += removed_tax(line, returned)
                sales.append((line.id, -returned, "RETURN"))
            elif returned < 0:
                sales.append((line.id, -returned, "ORDER"))
            line.current_quantity = quantity
            stocked = shop.variants().get(line.variant_id or "")
            if stocked is not None and (returned < 0 or restock):
                self.adjust_stock(shop, stocked, returned, self.location_of(order, line))
        del shop.edits[session.id]
        agreement = Agreement(self.store.ids.gid("OrderEditAgreement"), "ORDER_EDIT", sales)
        order.agreements.append(agreement)
        order.updated_at = now_iso()
        self.reindex(order)
        edit = payloads.order_edit(order, session, agreement, notify=notify, note=note)
        self.emit(shop, "orders/edited", edit)
        self.emit(shop, "orders/updated", payloads.order(order))
        return order

    def refund(
        self,
        shop: Shop,
        order: Order,
        lines: list[tuple[str, int, str]],
        *,
        shipping: Decimal = ZERO,
        note: str | None = None,
    ) -> Refund:
        """Refund ``lines`` (line id, units, ``RefundLineItemRestockType``) and ``shipping``.

        As ``refundCreate`` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/refundCreate):
        ``CANCEL`` restocks unfulfilled units and ``RETURN`` fulfilled ones
        (https://shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType);
        ``NO_RESTOCK`` takes shipped units first, then unfulfilled ones. Every refunded
        unit leaves the line's ``currentQuantity`` ("excluding refunded and removed units",
        schema ``LineItem``), so unfulfilled ones leave its fulfilment too; their tax and
        the refunded shipping (with its tax, in proportion) leave the order's current
        amounts. The order becomes ``PARTIALLY_REFUNDED``, or ``REFUNDED`` once nothing is
        left to pay for. ``refunds/create`` fires with the refund (``payloads.refund``),
        then ``orders/updated``.
        """
        if order.financial_status not in ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED"):
            raise SandboxError(f"{order.name} has no payment to refund")
        if shipping < 0 or shipping > order.shipping:
            raise SandboxError(f"{order.name} has {order.shipping} of shipping to refund")
        by_id = {li.id: li for li in order.line_items}
        wanted: dict[str, int] = {}
        for line_id, quantity, restock_type in lines:
            line = by_id.get(line_id)
            if line is None or quantity <= 0:
                raise SandboxError(f"cannot refund {quantity} of line {line_id}")
            if restock_type not in ("CANCEL", "RETURN", "NO_RESTOCK"):
                raise SandboxError(f"unknown restock type {restock_type}")
            wanted[line_id] = wanted.get(line_id, 0) + quantity
            if wanted[line_id] > line.current:
                raise SandboxError(f"only {line.current} of {line.title} can be refunded")
        if not lines and not shipping:
            raise SandboxError("a refund needs lines or shipping")
        refund_lines = [self.refund_line(shop, order, by_id[i], q, t) for i, q, t in lines]
        shipping_tax = ZERO
        if shipping:
            shipping_tax = (order.shipping_tax * shipping / order.original_shipping).quantize(
                CENT, rounding=ROUND_DOWN
            )
            if shipping == order.shipping:  # the last of it: whatever tax is left on it
                shipping_tax = order.shipping_tax - sum(
                    (r.shipping_tax for r in order.refunds), ZERO
                )
        refund = Refund(self.store.ids.gid("Refund"), refund_lines, shipping, shipping_tax, note)
        order.refunds.append(refund)
        sales = [(rl.line_id, -rl.quantity, "RETURN") for rl in refund_lines]
        order.agreements.append(
            Agreement(
                self.store.ids.gid("RefundAgreement"),
                "REFUND",
                sales,
                refund_id=refund.id,
                happened_at=refund.created_at,
            )
        )
        order.financial_status = "REFUNDED" if order.total <= 0 else "PARTIALLY_REFUNDED"
        order.updated_at = now_iso()
        self.reindex(order)
        self.emit(shop, "refunds/create", payloads.refund(order, refund))
        self.emit(shop, "orders/updated", payloads.order(order))
        return refund

    def refund_line(
        self, shop: Shop, order: Order, line: LineItem, quantity: int, restock_type: str
    ) -> RefundLine:
        """Take ``quantity`` units off ``line`` for a refund; restock them if asked."""
        if restock_type == "CANCEL" and quantity > line.unfulfilled:
            raise SandboxError(f"only {line.unfulfilled} of {line.title} are unfulfilled")
        if restock_type == "RETURN" and quantity > line.shipped:
            raise SandboxError(f"only {line.shipped} of {line.title} were fulfilled")
        shipped = {"CANCEL": 0, "RETURN": quantity}.get(restock_type, min(quantity, line.shipped))
        discount = (line.discount * quantity / line.quantity).quantize(CENT)
        tax = removed_tax(line, quantity)
        line.current_quantity = line.current - quantity
        line.returned += shipped
        line.removed_tax += tax
        location = self.location_of(order, line) or shop.location_id
        stocked = shop.variants().get(line.variant_id or "")
        if stocked is not None and restock_type != "NO_RESTOCK":
            self.adjust_stock(shop, stocked, quantity, location)
        return RefundLine(
            self.store.ids.gid("RefundLineItem"),
            line.id,
            quantity,
            restock_type,
            line.price * quantity - discount,
            tax,
            location if restock_type != "NO_RESTOCK" else None,
        )

    def assign_added_line(self, shop: Shop, order: Order, line: LineItem) -> None:
        """Route a line an edit adds: to an open fulfillment order at its location, or a new one."""
        ((location, _),) = routed_groups(shop, [line])
        target = next(
            (
                fo
                for fo in order.fulfillment_orders
                if fo.location_id == location and fo.status(order) == "OPEN"
            ),
            None,
        )
        if target is None:
            target = FulfillmentOrder(self.store.ids.gid("FulfillmentOrder"), location, [])
            order.fulfillment_orders.append(target)
        target.line_ids.append(line.id)


def removed_tax(line: LineItem, units: int) -> Decimal:
    """The tax of ``units`` taken off ``line``: its share of the line's tax, rounded down,
    and all that is left of it with the last unit."""
    if not line.tax_lines or units <= 0:
        return ZERO
    left = line.current_tax
    if units >= line.current:
        return left
    return min((line.tax or ZERO) * units / line.quantity, left).quantize(CENT, ROUND_DOWN)


def route_lines(shop: Shop, lines: list[LineItem]) -> dict[str, str]:
    """Order routing: the location each line is fulfilled from.

    Shopify's default routing first minimises split fulfilments, so one location that
    has every item in stock wins, in the shop's location order
    (https://help.shopify.com/manual/fulfillment/setup/order-routing/understanding-order-routing).
    Otherwise each line goes to the first location with enough of it, and a line no
    location can cover (or a custom line) to the primary location.
    """
    locations = [loc["id"] for loc in shop.locations if loc.get("isActive", True)]
    locations = locations or [shop.location_id]
    variants = shop.variants()

    def stocks(location: str, line: LineItem) -> bool:
        variant = variants.get(line.variant_id or "")
        if variant is None or not variant.tracked:
            return True
        return shop.levels.get((variant.inventory_item_id, location), 0) >= line.current

    for location in locations:
        if all(stocks(location, line) for line in lines):
            return {line.id: location for line in lines}
    return {
        line.id: next((loc for loc in locations if stocks(loc, line)), locations[0])
        for line in lines
    }


def routed_groups(shop: Shop, lines: list[LineItem]) -> list[tuple[str, list[str]]]:
    """(location, line ids) per location the lines were routed to, in the shop's location order."""
    routes = route_lines(shop, lines)
    order = [loc["id"] for loc in shop.locations]
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(routes[line.id], []).append(line.id)
    return sorted(groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else 0)


def unfulfillable(fulfillment_order: FulfillmentOrder, status: str) -> str:
    """Shopify's refusal, as apps report it (e.g. "has an unfulfillable status= closed")."""
    return (
        f"Fulfillment order {numeric(fulfillment_order.id)} has an unfulfillable"
        f" status= {status.lower()}."
    )


def several_locations(location_ids: list[str]) -> str:
    """Shopify's refusal of fulfillment orders at two locations in one ``fulfillmentCreate``
    (quoted at https://community.shopify.dev/t/error-in-fulfilling-order/29283)."""
    ids = ", ".join(str(numeric(i)) for i in location_ids)
    return (
        "All fulfillment orders must be assigned to a single location."
        f" Multiple locations with IDs [{ids}] were found"
    )


def fulfilling_location(order: Order, line_ids: list[str]) -> str | None:
    """The one location these lines ship from; refuses what ``fulfillmentCreate`` refuses."""
    fulfillment_orders: dict[str, FulfillmentOrder] = {}
    for line_id in line_ids:
        found = order.fulfillment_order_of(line_id)
        if found is not None:
            fulfillment_orders[found.id] = found
    for fulfillment_order in fulfillment_orders.values():
        status = fulfillment_order.status(order)
        if status not in FULFILLABLE:
            raise SandboxError(unfulfillable(fulfillment_order, status))
    locations = list(dict.fromkeys(fo.location_id for fo in fulfillment_orders.values()))
    if len(locations) > 1:
        raise SandboxError(several_locations(locations))
    return locations[0] if locations else None


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
    ``financial_status`` (PAID or PENDING), ``risk`` (ACCEPT, INVESTIGATE, CANCEL),
    ``created_at`` (an ISO time in the past: an order placed then; now if absent).
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
            **placed_at(data.get("created_at")),
        )
        sandbox.decrement_stock(shop, order, "DECREMENT_IGNORING_POLICY")
        sandbox.emit(shop, "orders/create", payloads.order(order))
        if financial == "PAID":
            sandbox.emit(shop, "orders/paid", payloads.order(order))
        risk.start_analysis(sandbox, shop, order, order.risk)
        return order


def placed_at(created_at: str | None) -> dict[str, str]:
    """``created_at`` and ``updated_at`` of an order placed at ``created_at`` (UTC, ISO)."""
    if not created_at:
        return {}
    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        raise SandboxError(f"created_at {created_at!r} is not an ISO time") from None
    if when.tzinfo is None:
        raise SandboxError("created_at needs its time zone")
    iso = when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"created_at": iso, "updated_at": iso}


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
