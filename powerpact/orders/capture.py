"""Capturing a retail order: which lines belong to which partner, and one OrderSync each.

The webhook only names the order; the order itself is pulled over GraphQL
(``capture_order``) and parsed here into a ``CapturedOrder``. Recording it is
idempotent: one OrderSync per (order, partner), created ``pending`` and updated by
every later event until it is sent, whatever order the events arrive in.

A capture returns what it made due (``Captured``); the task or handler that called it
schedules that once its transaction commits (``orders.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, select, update

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore, insert_or_ignore_key
from powerpact.models import (
    Cadence,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    OrderSyncLine,
    PartnerStore,
    ProductMap,
    RetailOrderSeen,
    RetailPriceSource,
    RetailStore,
)
from powerpact.money import ZERO, quantum
from powerpact.orders import order_fields as fields
from powerpact.orders.readiness import OrderState, Readiness, RiskPolicy, readiness
from powerpact.orders.split import (
    RETAIL_PARTY,
    InvalidOrder,
    PartyShare,
    RetailLine,
    RetailOrder,
    split_order,
)
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ReauthorizationRequired
from powerpact.skus import SKU_PREFIX, partner_handle

UNSENT = (OrderStatus.PENDING, OrderStatus.READY_FOR_SYNC)
RISK_HOLD_GRACE = timedelta(seconds=2)
# The timeline event of a partner order to cancel: its outcome comes after it (aftercare).
CANCEL_REQUESTED = "cancel_requested"
LOST_AFTER = timedelta(hours=1)
"""A cancellation, a partner redaction, or a retail order's refunds and edits for its sent
partner orders, with no outcome this long after it fell due was lost (its task never reached
the queue, or failed every retry): longer than any of their tasks' retries take (five,
doubling from 30 s or 60 s: about 16 or 31 minutes)."""
SWEEP_WINDOW = timedelta(days=7)
# pg_advisory_xact_lock class of a retail order's captures ("PPRO" in ASCII).
RETAIL_ORDER_LOCK = 0x5050524F
# The capture a second look runs (``orders.tasks.capture_order``): it captures one order
# and schedules what became due once the transaction commits.
Capture = Callable[[str], str]


@dataclass(frozen=True)
class CapturedLine:
    line_id: str
    title: str
    sku: str | None
    variant_id: str | None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal | None
    product_title: str | None = None


@dataclass(frozen=True)
class CapturedOrder:
    order_id: str
    name: str
    currency: str
    state: OrderState
    lines: list[CapturedLine]
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    email: str | None = None
    shipping_address: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


def _scaled(amount: Decimal, current: int, ordered: int, currency: str) -> Decimal:
    """The part of a line amount that belongs to the units still on the order (rounded down)."""
    if ordered <= 0 or current == ordered:
        return amount
    return (amount * current / ordered).quantize(quantum(currency), rounding=ROUND_DOWN)


def _product_title(value: Any) -> str | None:
    """``LineItem.title``, the product's title, for the margins' grouping: informative only,
    so a title that is not plain text is left out rather than refusing the order."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None
    return value[:512]


def _parse_line(item: Any, where: str, currency: str) -> CapturedLine:
    ordered = fields.count(fields.field(item, "quantity", where), f"{where}.quantity")
    current = fields.count(fields.field(item, "currentQuantity", where), f"{where}.currentQuantity")
    if current > ordered:
        raise InvalidOrder(f"{where}.currentQuantity ({current}) is more than quantity ({ordered})")
    allocations = fields.items(
        item.get("discountAllocations") or [], f"{where}.discountAllocations"
    )
    discount = sum(
        (
            fields.amount(
                fields.field(d, "allocatedAmountSet", f"{where}.discountAllocations"), where
            )
            for d in allocations
        ),
        ZERO,
    )
    tax_lines = fields.items(item.get("taxLines") or [], f"{where}.taxLines")
    tax = sum(
        (fields.amount(fields.field(t, "priceSet", f"{where}.taxLines"), where) for t in tax_lines),
        ZERO,
    )
    variant = fields.optional_obj(item.get("variant"), f"{where}.variant") or {}
    return CapturedLine(
        line_id=fields.text(fields.field(item, "id", where), f"{where}.id", max_length=255),
        title=fields.text(item.get("name") or item.get("title"), f"{where}.title"),
        sku=fields.optional_text(item.get("sku"), f"{where}.sku", max_length=255),
        variant_id=fields.optional_text(variant.get("id"), f"{where}.variant.id", max_length=255),
        quantity=current,
        unit_price=fields.amount(
            fields.field(item, "originalUnitPriceSet", where), f"{where}.originalUnitPriceSet"
        ),
        discount=_scaled(discount, current, ordered, currency),
        tax=_scaled(tax, current, ordered, currency) if tax_lines else None,
        product_title=_product_title(item.get("title")),
    )


def _parse_lines(
    node: dict[str, Any], more_lines: Sequence[Any], currency: str
) -> list[CapturedLine]:
    connection = fields.field(node, "lineItems", "order")
    nodes = fields.items(
        fields.field(connection, "nodes", "order.lineItems"), "order.lineItems.nodes"
    )
    lines = [
        _parse_line(item, f"order.lineItems.nodes[{i}]", currency)
        for i, item in enumerate([*nodes, *more_lines])
    ]
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise InvalidOrder(f"line item {line.line_id} appears twice in the order")
        seen.add(line.line_id)
    return lines


def parse_order(node: Any, more_lines: Sequence[Any] = ()) -> CapturedOrder:
    """Read the ``OrderForSync`` answer (``more_lines``: its line items past the first page).

    Every field is checked (see ``order_fields``): a malformed answer raises
    ``InvalidOrder`` naming the field, never ``KeyError`` or a database error later.
    """
    fields.obj(node, "order")
    currency = fields.currency(fields.field(node, "currencyCode", "order"), "order.currencyCode")
    risk = fields.optional_obj(node.get("risk"), "order.risk") or {}
    assessments = risk.get("assessments")
    assessed, facts = fields.risk_assessments(
        [] if assessments is None else assessments, "order.risk.assessments"
    )
    return CapturedOrder(
        order_id=fields.text(fields.field(node, "id", "order"), "order.id", max_length=255),
        name=fields.text(fields.field(node, "name", "order"), "order.name", max_length=64),
        currency=currency,
        state=OrderState(
            financial_status=fields.optional_text(
                node.get("displayFinancialStatus"), "order.displayFinancialStatus", max_length=64
            ),
            risk_recommendation=fields.optional_text(
                risk.get("recommendation"), "order.risk.recommendation", max_length=64
            ),
            cancelled=bool(node.get("cancelledAt")),
            test=bool(node.get("test")),
            risk_assessed=assessed,
            risk_facts=facts,
            placed_at=fields.moment(fields.field(node, "createdAt", "order"), "order.createdAt"),
        ),
        lines=_parse_lines(node, more_lines, currency),
        shipping=fields.amount(
            node.get("currentShippingPriceSet"), "order.currentShippingPriceSet"
        ),
        tax=fields.amount(node.get("currentTotalTaxSet"), "order.currentTotalTaxSet"),
        email=fields.optional_text(node.get("email"), "order.email", max_length=320),
        shipping_address=fields.address(node.get("shippingAddress"), "order.shippingAddress"),
        updated_at=(
            fields.moment(node["updatedAt"], "order.updatedAt") if node.get("updatedAt") else None
        ),
    )


@dataclass(frozen=True)
class LineOwner:
    party: str
    partner_variant_id: str | None = None
    partner_price: Decimal | None = None


def line_owners(lines: list[CapturedLine]) -> dict[str, LineOwner]:
    """Decide each line's party: by ProductMap, else by the ``PARTNER-{handle}-`` SKU, else retail.

    Two queries whatever the order's size: the maps of the order's variants, and
    the partner domains (for SKUs of variants PowerPact no longer maps).
    """
    variant_ids = [line.variant_id for line in lines if line.variant_id]
    maps = {
        m.bubbly_variant_id: m
        for m in db.session.scalars(
            select(ProductMap).where(ProductMap.bubbly_variant_id.in_(variant_ids))
        )
    }
    handles: dict[str, str] | None = None
    owners: dict[str, LineOwner] = {}
    for line in lines:
        mapped = maps.get(line.variant_id or "")
        if mapped is not None:
            owners[line.line_id] = LineOwner(
                mapped.partner_shop_domain, mapped.partner_variant_id, mapped.partner_price
            )
            continue
        if line.sku and line.sku.startswith(SKU_PREFIX):
            if handles is None:
                domains = db.session.scalars(select(PartnerStore.shop_domain))
                handles = {partner_handle(d): d for d in domains}
            rest = line.sku[len(SKU_PREFIX) :]
            match = max((h for h in handles if rest.startswith(h + "-")), key=len, default=None)
            if match is not None:
                owners[line.line_id] = LineOwner(handles[match])
                continue
        owners[line.line_id] = LineOwner(RETAIL_PARTY)
    return owners


def retail_order_of(captured: CapturedOrder, owners: dict[str, LineOwner]) -> RetailOrder:
    return RetailOrder(
        currency=captured.currency,
        shipping=captured.shipping,
        tax=captured.tax,
        lines=[
            RetailLine(
                line_id=line.line_id,
                party=owners[line.line_id].party,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                tax=line.tax,
                partner_unit_price=owners[line.line_id].partner_price,
                sku=line.sku,
                retail_variant_id=line.variant_id,
                partner_variant_id=owners[line.line_id].partner_variant_id,
                product_title=line.product_title,
            )
            for line in captured.lines
        ],
    )


def add_event(order: OrderSync, kind: str, message: str, **details: Any) -> None:
    db.session.add(
        OrderSyncEvent(order_sync=order, kind=kind, message=message, details=details or None)
    )


def _locked_order_sync(order_id: str, partner: str, currency: str) -> tuple[OrderSync, bool]:
    """Get or create the one OrderSync of (order, partner), row-locked for this transaction."""
    now = utcnow()
    created = insert_or_ignore(
        OrderSync,
        {
            "bubbly_order_id": order_id,
            "partner_shop_domain": partner,
            "currency": currency,
            "status": OrderStatus.PENDING,
            "retry_count": 0,
            "needs_attention": False,
            "created_at": now,
            "updated_at": now,
        },
        ["bubbly_order_id", "partner_shop_domain"],
    )
    statement = select(OrderSync).where(
        OrderSync.bubbly_order_id == order_id, OrderSync.partner_shop_domain == partner
    )
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update()
    row = db.session.scalars(statement.execution_options(populate_existing=True)).one()
    return row, created is not None


def _replace_lines(order: OrderSync, share: PartyShare) -> None:
    order.lines.clear()
    db.session.flush()
    for line in share.lines:
        order.lines.append(
            OrderSyncLine(
                bubbly_line_item_id=line.line_id,
                bubbly_variant_id=line.retail_variant_id,
                partner_variant_id=line.partner_variant_id,
                sku=line.sku,
                title=line.title[:512],
                quantity=line.quantity,
                partner_unit_price=line.unit_price,
                discount=line.discount,
                tax=line.tax,
                product_title=line.product_title,
                retail_unit_price=line.retail_unit_price,
                retail_discount=line.retail_discount,
                retail_price_source=RetailPriceSource.ORDER,
            )
        )
    order.subtotal = share.subtotal
    order.discount_total = share.discount
    order.shipping_share = share.shipping
    order.tax_share = share.tax
    order.total = share.total


def _apply_readiness(order: OrderSync, verdict: Readiness) -> None:
    order.risk_hold_until = verdict.hold_until
    if verdict.status == order.status and verdict.reason == order.hold_reason:
        return
    previous = order.status
    order.status = verdict.status
    order.hold_reason = verdict.reason
    if verdict.status == OrderStatus.READY_FOR_SYNC and order.ready_at is None:
        order.ready_at = utcnow()
    if previous != verdict.status:
        message = verdict.reason or verdict.note or "Ready to send to the partner."
        add_event(order, verdict.status.value, message)
    elif verdict.status == OrderStatus.PENDING and verdict.reason:
        add_event(order, "held", verdict.reason)  # still pending, for another reason now


def record_order(
    captured: CapturedOrder,
    *,
    accept_authorized: bool = False,
    risk_hold: timedelta = timedelta(0),
) -> list[OrderSync]:
    """Create or update the order's OrderSyncs from its current state; return those touched.

    The caller commits (a webhook commits it with the delivery's ``processed`` mark).

    1. Assign lines to parties and split (an ``InvalidOrder`` propagates to the caller).
    2. For each partner share, in domain order (the one lock order of every capture, so
       that captures and sends never deadlock), lock its OrderSync (created ``pending``
       if new).
    3. While unsent, refresh its lines and money and re-evaluate readiness (with the
       store's risk hold, and the release an admin may have given this OrderSync).
    4. Once sent, only a cancellation matters: it is flagged for the cancellation flow.
    5. A partner whose lines all went away before sending is cancelled.
    """
    owners = line_owners(captured.lines)
    shares = split_order(retail_order_of(captured, owners))
    now = utcnow()

    def verdict_for(order: OrderSync) -> Readiness:
        policy = RiskPolicy(window=risk_hold, released=order.risk_released_at is not None)
        return readiness(captured.state, accept_authorized=accept_authorized, risk=policy, now=now)

    touched = []
    partner_shares = {p: s for p, s in shares.items() if p != RETAIL_PARTY}
    for partner, share in sorted(partner_shares.items()):
        order, created = _locked_order_sync(captured.order_id, partner, captured.currency)
        if created:
            add_event(order, "captured", f"Captured from {captured.name}.")
        order.bubbly_order_name = captured.name
        _keep_customer_details(order, captured)
        verdict = verdict_for(order)
        if order.status in UNSENT:
            _replace_lines(order, share)
            order.order_shipping = captured.shipping
            order.order_tax = captured.tax
            _apply_readiness(order, verdict)
        elif (
            verdict.status == OrderStatus.CANCELLED
            and order.status in (OrderStatus.SYNCED, OrderStatus.FULFILLED)
            and not any(event.kind == CANCEL_REQUESTED for event in order.events)
        ):
            # Asked once: the order's later webhooks (orders/updated follows orders/cancelled)
            # neither ask the partner again nor flag again what a person already has.
            order.needs_attention = True
            add_event(order, CANCEL_REQUESTED, verdict.reason or "Cancelled on the retail store.")
        elif verdict.status == OrderStatus.CANCELLED and order.status == OrderStatus.FAILED:
            _apply_readiness(order, verdict)
        touched.append(order)
    for order in db.session.scalars(
        select(OrderSync).where(
            OrderSync.bubbly_order_id == captured.order_id,
            OrderSync.partner_shop_domain.not_in(list(partner_shares)),
            OrderSync.status.in_(UNSENT),
        )
    ):
        _apply_readiness(order, Readiness(OrderStatus.CANCELLED, "No lines left for this partner."))
        touched.append(order)
    db.session.flush()
    return touched


def _keep_customer_details(order: OrderSync, captured: CapturedOrder) -> None:
    address = captured.shipping_address or {}
    order.shipping_address = captured.shipping_address
    order.customer_email = captured.email
    order.ship_to_city = address.get("city")
    country = address.get("countryCodeV2") or address.get("countryCode")
    order.ship_to_country = country[:2] if country else None


def lock_retail_order(order_gid: str) -> None:
    """Hold the retail order's lock until this transaction ends (PostgreSQL; SQLite has one
    writer). The two-key form, with a class of its own: PostgreSQL keeps it apart from the
    single keys the other advisory locks take, so they never share a key by chance."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            select(func.pg_advisory_xact_lock(RETAIL_ORDER_LOCK, func.hashtext(order_gid)))
        )


def mark_seen(order_gid: str, updated_at: datetime) -> None:
    """Remember the newest state of the order captured (for the reconciliation)."""
    insert_or_ignore_key(RetailOrderSeen, {"order_gid": order_gid, "updated_at": updated_at})
    db.session.execute(
        update(RetailOrderSeen)
        .where(RetailOrderSeen.order_gid == order_gid, RetailOrderSeen.updated_at <= updated_at)
        .values(updated_at=updated_at, captured_at=utcnow())
    )


@dataclass(frozen=True)
class Captured:
    """What a capture recorded, and what is due once it commits: partner orders to cancel
    (by OrderSync id), a second look when the risk hold ends, partners to send to now.
    ``sent``: a partner order of the retail order went out; ``changed_after_send``: a sent
    line holds more units than the retail line now holds, and the refunds and edits
    applied so far do not account for them, or the order charges less shipping than they
    do (``orders/refunds.py`` is due)."""

    outcome: str
    to_cancel: tuple[int, ...] = ()
    look_again_at: datetime | None = None
    to_send: tuple[str, ...] = ()
    sent: bool = False
    changed_after_send: bool = False


SENT = (OrderStatus.SYNCED, OrderStatus.FULFILLED)


def unaccounted_after_send(order: OrderSync, current: dict[str, int]) -> bool:
    """Whether a sent OrderSync's lines hold more units than the retail lines hold now
    (``current``, by line item gid), beyond what the refunds and edits applied so far
    account for."""
    return order.status in SENT and any(
        line.quantity - line.accounted_after_send > current[line.bubbly_line_item_id]
        for line in order.lines
        if line.bubbly_line_item_id in current
    )


def shipping_unaccounted(order: OrderSync, current_shipping: Decimal) -> bool:
    """Whether a sent OrderSync's retail order charges less shipping now than when its
    refunds were last applied (or, before any were, than it was split with): a refund of
    shipping alone changes no line, so only this shows one whose webhook never came."""
    if order.status not in SENT:
        return False
    applied = order.retail_shipping_applied
    if applied is None:
        applied = order.order_shipping
    return applied is not None and current_shipping < applied


def retail_store() -> RetailStore:
    store: RetailStore | None = db.session.scalar(select(RetailStore))
    if store is None or not store.is_active:
        raise ReauthorizationRequired("the retail store has not installed PowerPact")
    return store


def capture_order(order_gid: str) -> Captured:
    """Pull the retail order and record its OrderSyncs; say what is due once that commits.

    The pull happens under the order's lock, held until the capture commits: two captures
    of one order (its webhooks processed at once, a reconciliation beside them) then pull
    one after the other, and the state recorded last is the newest. Without it, a pull
    made before a change (the payment, the final risk) and committed after the capture
    that saw the change would record the older state over it.
    """
    lock_retail_order(order_gid)
    store = retail_store()
    client = client_for(store)
    node = client.execute("OrderForSync", {"id": order_gid}).get("order")
    if node is None:
        return Captured("order not found")
    captured = parse_order(node, more_lines=remaining_line_items(client, node))
    seen_at = captured.updated_at or captured.state.placed_at
    if seen_at is not None:
        mark_seen(captured.order_id, seen_at)
    touched = record_order(
        captured,
        accept_authorized=store.accept_authorized_payments,
        risk_hold=timedelta(seconds=max(store.risk_hold_seconds, 0)),
    )
    ready_partners = sorted(
        {o.partner_shop_domain for o in touched if o.status == OrderStatus.READY_FOR_SYNC}
    )
    to_cancel = tuple(
        order.id
        for order in touched
        if order.needs_attention and order.events and order.events[-1].kind == CANCEL_REQUESTED
    )
    hold_ends = [o.risk_hold_until for o in touched if o.risk_hold_until is not None]
    current = {line.line_id: line.quantity for line in captured.lines}
    immediate = db.session.scalars(
        select(PartnerStore.shop_domain).where(
            PartnerStore.shop_domain.in_(ready_partners),
            PartnerStore.cadence == Cadence.IMMEDIATE,
        )
    )
    return Captured(
        f"recorded {len(touched)} partner orders",
        to_cancel=to_cancel,
        look_again_at=min(hold_ends) + RISK_HOLD_GRACE if hold_ends else None,
        to_send=tuple(immediate),
        sent=any(o.status in SENT for o in touched),
        changed_after_send=any(
            unaccounted_after_send(o, current) or shipping_unaccounted(o, captured.shipping)
            for o in touched
        ),
    )


def remaining_line_items(client: ShopifyClient, order: Any) -> list[Any]:
    """Lines past the first page of ``OrderForSync`` (an order may have hundreds).

    A malformed answer has no next page here; ``parse_order`` says what is wrong with it.
    """
    connection = order.get("lineItems") if isinstance(order, dict) else None
    page = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(page, dict) or page.get("hasNextPage") is not True:
        return []
    cursor, order_id = page.get("endCursor"), order.get("id")
    if not isinstance(cursor, str) or not isinstance(order_id, str):
        return []
    return list(
        client.paginate(
            "OrderLineItemsPage", {"id": order_id, "after": cursor}, ("order", "lineItems")
        )
    )


def capture_again(order_gid: str, capture: Capture) -> str:
    """A held order's second look once its risk hold ends (a scheduled task, or the sweep).

    Each capture of a held order schedules one, so several may come due at once: only
    the first that finds the hold over (and nothing else since) pulls the order again.
    """
    due = db.session.scalar(
        select(OrderSync.id)
        .where(
            OrderSync.bubbly_order_id == order_gid,
            OrderSync.status == OrderStatus.PENDING,
            OrderSync.risk_hold_until.is_not(None),
            OrderSync.risk_hold_until <= utcnow(),
        )
        .limit(1)
    )
    if due is None:
        db.session.rollback()
        return "no risk hold ended"
    return recapture_order(order_gid, capture)


def recapture_order(order_gid: str, capture: Capture) -> str:
    """Pull the order again outside any webhook (after a hold or a release) and commit."""
    try:
        outcome = capture(order_gid)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return outcome
