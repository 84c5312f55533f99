"""Refunds and edits of a retail order after its partner orders were sent (issue #21).

Before a partner order is sent nothing here is needed: every event pulls the order again
and the split takes each line's remaining quantity (``capture.py``). Once it is sent, the
partner order holds the quantities of then, and each later refund or edit of the retail
order is a *fact* handled here, once per partner:

- ``refunds/create`` and ``orders/edited``, and ``orders/updated`` or the reconciliation
  when a sent line holds fewer units than were sent and nothing accounts for them yet
  (``capture.Captured.changed_after_send``), schedule ``apply_after_send``. It pulls the
  order's refunds and newest edits over GraphQL (``OrderChangesAfterSend``) and takes them
  in Shopify's time order (a refund's ``createdAt``, an edit agreement's ``happenedAt``),
  whatever order their webhooks came in, however often.
- Which units came after the send: a line's sent quantity less what it holds now
  (``LineItem.currentQuantity``, "excluding refunded and removed units", schema). They are
  the newest units taken off the line (``after_send``); the older ones were already left
  out by the split. Shipping likewise: what the split shared less what the order charges
  now (``currentShippingPriceSet``), from the newest refunds back.
- For each partner, inside the partner's lock (``push.lock_partner``, the lock of its sends
  and weekly appends) and its OrderSync's row lock, each fact not handled yet:
  - units the partner has not shipped are taken off its order in one order edit
    (``orderEditBegin``, ``orderEditSetQuantity`` with ``restock``, ``orderEditCommit``
    with ``notifyCustomer: false``; "you can only edit unfulfilled line items",
    https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditCommit), whatever
    the retail refund's restock type: Shopify takes refunded units off the retail order's
    fulfilment, so the customer will not get them. Its credit is ``applied_at_partner``;
  - units the partner already shipped stay on its order (Shopify refuses to edit them). A
    refund that restocks them (``RETURN``, or ``CANCEL`` where the retail store had not yet
    seen the shipment; ``RefundLineItemRestockType``,
    https://shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType),
    and an edit, make them a *return to settle*: a credit not applied at the partner. A
    refund without restock leaves the goods with the customer: nothing is owed back, and
    the timeline says so;
  - a refund's shipping, and the tax on it, is shared as the split shared the order's
    shipping (``shipping_credits``): largest remainder, exact to the minor unit. A credit
    of shipping alone changes nothing at the partner (``applied_at_partner`` False).
- Amounts are the partner's (``PartnerCredit``): a line's units at what they owe the
  partner, dearest first (``partner_lines.unit_prices``), so the units of a line credited
  over several facts add up to what the line owed, to the cent; its tax likewise, rounded
  down until the last unit (``prorated``).
- Exactly once. Under the locks, a fact whose timeline event exists is skipped, and each
  credit has a unique ``source_key`` (inserted ``ON CONFLICT DO NOTHING``):
  ``refund:<Refund gid>:<partner domain>`` or ``edit:<OrderEditAgreement gid>:<partner
  domain>`` for the units taken off the partner order and the shipping and tax shares, and
  the same key with ``:return`` for the units that had shipped. The partner edit sets
  each line to what it holds less what is taken off now; units the database still counts
  but the partner line no longer holds (an edit whose commit here was lost) count as taken
  off already, so a retry never takes them twice.
- A retail order refunded in full or cancelled goes the cancellation's way
  (``aftercare.cancel_partner_order``), not this one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore, upsert_key
from powerpact.models import (
    AfterSendDue,
    CreditKind,
    OrderStatus,
    OrderSync,
    OrderSyncLine,
    PartnerCredit,
    PartnerLineShare,
)
from powerpact.money import ZERO, allocate, quantum, round_money
from powerpact.orders import order_fields as fields
from powerpact.orders import partner_lines, push
from powerpact.orders.aftercare import settle_fulfilled
from powerpact.orders.capture import LOST_AFTER, SWEEP_WINDOW, add_event, retail_store
from powerpact.orders.readiness import GONE
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors

log = logging.getLogger(__name__)

SENT = (OrderStatus.SYNCED, OrderStatus.FULFILLED)
NO_RESTOCK = "NO_RESTOCK"
# The timeline kinds of a handled fact; its details name the fact (``"fact": gid``).
FACT_EVENTS = ("refund", "edit")
N = TypeVar("N", int, Decimal)


# -- the money, pure --------------------------------------------------------------------


def after_send(removals: Sequence[N], pending: N) -> list[N]:
    """Of each removal (oldest first), the part that came after the send: the newest
    ``pending`` units (or amount) taken off, counted back from the last removal."""
    parts = [removal - removal for removal in removals]
    left = pending
    for i in range(len(removals) - 1, -1, -1):
        if left <= 0:
            break
        take = min(removals[i], left)
        parts[i] = take
        left -= take
    return parts


def dearest_units(prices: Sequence[tuple[Decimal, int]], units: int) -> Decimal:
    """What a line's ``units`` dearest units owe the partner (``prices``: its units by unit
    price, ``partner_lines.unit_prices``)."""
    total, left = ZERO, units
    for price, count in sorted(prices, reverse=True):
        take = min(count, left)
        total += price * take
        left -= take
    return total


def prorated(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    """``amount`` times ``part / whole``, rounded down to the minor unit (all of it at
    ``part == whole``): a line's tax for the units taken off so far."""
    if whole <= 0:
        return ZERO
    return (amount * part / whole).quantize(quantum(currency), rounding=ROUND_DOWN)


def shipping_credits(
    amounts: Sequence[Decimal], parts: Sequence[Decimal], currency: str
) -> list[list[Decimal]]:
    """Each refunded amount (oldest first) shared over the parties as the split shared the
    whole: ``parts`` are each party's share of it, as the split gave them.

    The parties' running totals are the largest-remainder split (``money.allocate``) of
    the running total refunded; each refund gives a party what its running total grew by.
    So a party's credits add up exactly to its part once everything is refunded, never to
    more before, and none is negative: should a larger total leave a party a minor unit
    less than a smaller one did (the remainders' paradox), it keeps what it had.
    """
    given = [ZERO] * len(parts)
    running = ZERO
    shares = []
    for amount in amounts:
        running += amount
        target = allocate(round_money(running, currency), parts, currency)
        step = [max(t - g, ZERO) for t, g in zip(target, given, strict=True)]
        given = [g + s for g, s in zip(given, step, strict=True)]
        shares.append(step)
    return shares


# -- what Shopify says happened ---------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A refund or an edit of the retail order: the units it took off each line (by line
    item gid), a refund's restock type per line, and the shipping it gave back."""

    kind: CreditKind
    gid: str
    occurred_at: datetime
    units: dict[str, int]
    restock: dict[str, str] = field(default_factory=dict)
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO


@dataclass(frozen=True)
class Changes:
    """The retail order's refunds and edits (oldest first) and what its lines and shipping
    hold now."""

    order_id: str
    name: str
    currency: str
    gone: bool
    current_shipping: Decimal
    current_quantities: dict[str, int]
    facts: list[Fact]


def parse_changes(node: Any) -> Changes:
    """Read ``OrderChangesAfterSend`` (each field checked, as ``order_fields`` does)."""
    fields.obj(node, "order")
    current: dict[str, int] = {}
    facts = [
        *(_refund(r, f"order.refunds[{i}]", current) for i, r in enumerate(_refunds(node))),
        *(_edit(a, f"order.agreements[{i}]", current) for i, a in enumerate(_edits(node))),
    ]
    financial = (node.get("displayFinancialStatus") or "").upper()
    return Changes(
        order_id=fields.text(fields.field(node, "id", "order"), "order.id", max_length=255),
        name=fields.text(fields.field(node, "name", "order"), "order.name", max_length=64),
        currency=fields.currency(fields.field(node, "currencyCode", "order"), "order.currency"),
        gone=bool(node.get("cancelledAt")) or financial in GONE,
        current_shipping=fields.amount(
            node.get("currentShippingPriceSet"), "order.currentShippingPriceSet"
        ),
        current_quantities=current,
        facts=sorted(facts, key=lambda f: (f.occurred_at, f.gid)),
    )


def _refunds(node: dict[str, Any]) -> list[Any]:
    return fields.items(node.get("refunds") or [], "order.refunds")


def _edits(node: dict[str, Any]) -> list[Any]:
    agreements = fields.optional_obj(node.get("agreements"), "order.agreements") or {}
    edges = fields.items(agreements.get("edges") or [], "order.agreements.edges")
    nodes = [edge.get("node") for edge in edges if isinstance(edge, dict)]
    return [a for a in nodes if isinstance(a, dict) and a.get("__typename") == "OrderEditAgreement"]


def read_changes(client: ShopifyClient, order_gid: str) -> Any:
    """The order as ``OrderChangesAfterSend`` selects it, each connection read to its end
    (a refund or an edit of a large order can touch more lines than one page holds).

    1. One call: the order, its refunds with their first lines, its newest edits with
       their first sales.
    2. Each refund with more lines: the rest, a page at a time (``RefundLineItemsPage``;
       a Refund is a Node).
    3. More edits: the older ones, a page at a time (``OrderAgreementsPage``).
    4. Each edit with more sales: the rest (``OrderEditSalesPage``). An edit agreement is
       not a Node, so it is reached as the one agreement after the cursor of the one
       before it; if another agreement turns up there (an edit made meanwhile), the run
       fails as transient, and its retry reads the order afresh.

    A malformed answer is left as it came: ``parse_changes`` says what is wrong with it.
    """
    node = client.execute("OrderChangesAfterSend", {"id": order_gid}).get("order")
    if not isinstance(node, dict):
        return node
    for refund in node.get("refunds") or []:
        items = refund.get("refundLineItems") if isinstance(refund, dict) else None
        cursor = next_page(items)
        if cursor is not None and isinstance(items, dict) and isinstance(refund.get("id"), str):
            rest = client.paginate(
                "RefundLineItemsPage",
                {"id": refund["id"], "after": cursor},
                ("node", "refundLineItems"),
            )
            items["nodes"] = [*_nodes(items), *rest]
    agreements = node.get("agreements")
    cursor = next_page(agreements)
    while cursor is not None and isinstance(agreements, dict):
        page = client.execute("OrderAgreementsPage", {"id": order_gid, "after": cursor})
        more = _agreements(page)
        agreements["edges"] = [*(agreements.get("edges") or []), *_edges(more)]
        cursor = next_page(more)
    edges = _edges(agreements)
    for index, edge in enumerate(edges):
        before = edges[index - 1].get("cursor") if index else None
        _read_all_sales(client, order_gid, edge.get("node"), before)
    return node


def next_page(connection: Any) -> str | None:
    """The cursor to read ``connection``'s next page after, or None if it has none."""
    page = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(page, dict) or page.get("hasNextPage") is not True:
        return None
    cursor = page.get("endCursor")
    return cursor if isinstance(cursor, str) else None


def _edges(connection: Any) -> list[dict[str, Any]]:
    edges = connection.get("edges") if isinstance(connection, dict) else None
    return [e for e in edges if isinstance(e, dict)] if isinstance(edges, list) else []


def _read_all_sales(
    client: ShopifyClient, order_gid: str, agreement: Any, before: str | None
) -> None:
    sales = agreement.get("sales") if isinstance(agreement, dict) else None
    cursor = next_page(sales)
    while cursor is not None and isinstance(sales, dict):
        variables = {"id": order_gid, "agreementAfter": before, "after": cursor}
        page = client.execute("OrderEditSalesPage", variables)
        found = _nodes(_agreements(page)) or [None]
        if not isinstance(found[0], dict) or found[0].get("id") != agreement.get("id"):
            raise ShopifyError(
                f"order {order_gid}: its agreements moved while their sales were read",
                reason="shopify_error",
            )
        more = found[0].get("sales")
        sales["nodes"] = [*_nodes(sales), *_nodes(more)]
        cursor = next_page(more)


def _agreements(page: dict[str, Any]) -> Any:
    order = page.get("order")
    return order.get("agreements") if isinstance(order, dict) else None


def _nodes(connection: Any) -> list[Any]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return nodes if isinstance(nodes, list) else []


def _line(item: Any, where: str, current: dict[str, int]) -> str:
    line = fields.obj(item, where)
    line_id = fields.text(fields.field(line, "id", where), f"{where}.id", max_length=255)
    current[line_id] = fields.count(
        fields.field(line, "currentQuantity", where), f"{where}.currentQuantity"
    )
    return line_id


def _refund(refund: Any, where: str, current: dict[str, int]) -> Fact:
    fields.obj(refund, where)
    units: dict[str, int] = {}
    restock: dict[str, str] = {}
    items = fields.field(fields.field(refund, "refundLineItems", where), "nodes", where)
    for i, item in enumerate(fields.items(items, f"{where}.refundLineItems")):
        here = f"{where}.refundLineItems[{i}]"
        line_id = _line(fields.field(item, "lineItem", here), f"{here}.lineItem", current)
        units[line_id] = units.get(line_id, 0) + fields.count(item.get("quantity"), here)
        restock[line_id] = str(item.get("restockType") or NO_RESTOCK)
    shipping = tax = ZERO
    lines = (refund.get("refundShippingLines") or {}).get("nodes") or []
    for i, line in enumerate(fields.items(lines, f"{where}.refundShippingLines")):
        here = f"{where}.refundShippingLines[{i}]"
        shipping += fields.amount(line.get("subtotalAmountSet"), f"{here}.subtotalAmountSet")
        tax += fields.amount(line.get("taxAmountSet"), f"{here}.taxAmountSet")
    when = refund.get("createdAt") or refund.get("processedAt")
    return Fact(
        CreditKind.REFUND,
        fields.text(fields.field(refund, "id", where), f"{where}.id", max_length=200),
        fields.moment(when, f"{where}.createdAt"),
        units,
        restock,
        shipping,
        tax,
    )


def _edit(agreement: dict[str, Any], where: str, current: dict[str, int]) -> Fact:
    units: dict[str, int] = {}
    sales = (agreement.get("sales") or {}).get("nodes") or []
    for i, sale in enumerate(fields.items(sales, f"{where}.sales")):
        here = f"{where}.sales[{i}]"
        if not isinstance(sale, dict) or sale.get("actionType") != "RETURN":
            continue  # units an edit added are not sent to a partner after the order went
        if not isinstance(sale.get("lineItem"), dict):
            continue  # a shipping or fee line
        line_id = _line(sale["lineItem"], f"{here}.lineItem", current)
        removed = abs(int(sale.get("quantity") or 0))
        units[line_id] = units.get(line_id, 0) + removed
    return Fact(
        CreditKind.EDIT,
        fields.text(fields.field(agreement, "id", where), f"{where}.id", max_length=200),
        fields.moment(agreement.get("happenedAt"), f"{where}.happenedAt"),
        units,
    )


# -- one partner's share of the facts ---------------------------------------------------


@dataclass
class LineTake:
    """What one fact took off one retail line of the partner, after the send."""

    line: OrderSyncLine
    units: int  # after the send
    before: int  # units of the line taken off after the send by older facts
    removed: int = 0  # taken off the partner order
    returned: int = 0  # shipped: a return to settle
    kept: int = 0  # shipped, refunded without restock: the customer keeps them


@dataclass
class Planned:
    """One fact for one partner: its lines, and its shipping and shipping tax shares."""

    fact: Fact
    takes: list[LineTake]
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO


def plan_facts(changes: Changes, order: OrderSync, parts: Sequence[Decimal]) -> list[Planned]:
    """The partner's part of every fact (oldest first): the units of its lines each took
    off after the send, and its share of the shipping each gave back (``parts``: the
    shipping shares of the split, this partner's first)."""
    plans = [Planned(fact, []) for fact in changes.facts]
    for line in order.lines:
        line_id = line.bubbly_line_item_id
        if line_id not in changes.current_quantities:
            continue
        pending = line.quantity - changes.current_quantities[line_id]
        units = after_send([f.units.get(line_id, 0) for f in changes.facts], pending)
        before = 0
        for plan, taken in zip(plans, units, strict=True):
            if taken:
                plan.takes.append(LineTake(line, taken, before))
                before += taken
    if order.order_shipping is not None and parts:
        pending_shipping = order.order_shipping - changes.current_shipping
        amounts = after_send([f.shipping for f in changes.facts], pending_shipping)
        taxes = [
            f.shipping_tax if a == f.shipping else _part(f.shipping_tax, a, f.shipping, order)
            for f, a in zip(changes.facts, amounts, strict=True)
        ]
        ship = shipping_credits(amounts, parts, order.currency)
        tax = shipping_credits(taxes, parts, order.currency)
        for plan, s, t in zip(plans, ship, tax, strict=True):
            plan.shipping, plan.shipping_tax = s[0], t[0]
    return [p for p in plans if p.takes or p.shipping or p.shipping_tax]


def _part(amount: Decimal, part: Decimal, whole: Decimal, order: OrderSync) -> Decimal:
    if not whole:
        return ZERO
    return (amount * part / whole).quantize(quantum(order.currency), rounding=ROUND_DOWN)


def shipping_parts(order: OrderSync) -> list[Decimal]:
    """How the split shared the order's shipping: this partner's share, the other partners'
    (captured with the same order shipping), then the retail store's own rest."""
    if order.order_shipping is None:
        return []
    others = [
        o.shipping_share
        for o in db.session.scalars(
            select(OrderSync)
            .where(
                OrderSync.bubbly_order_id == order.bubbly_order_id,
                OrderSync.id != order.id,
                OrderSync.order_shipping == order.order_shipping,
            )
            .order_by(OrderSync.partner_shop_domain)
        )
    ]
    rest = order.order_shipping - order.shipping_share - sum(others, ZERO)
    if rest < 0:
        others, rest = [], order.order_shipping - order.shipping_share
    return [order.shipping_share, *others, rest]


# -- the partner order ------------------------------------------------------------------


Key = tuple[str, Decimal]  # a partner line: its variant and unit price


@dataclass
class PartnerOrder:
    """What the partner order holds of each variant, as its store says and as the shares
    count it, and what this run takes off each of its lines.

    Counted by variant: a weekly master order may hold a variant's units on a line whose
    price is not the one their shares name (``batches.on_master_lines``).
    """

    unshipped: dict[str, int]  # units of the variant not yet fulfilled at the partner
    gone: dict[str, int]  # units the shares count that the partner order no longer holds
    take: dict[Key, int] = field(default_factory=dict)  # to take off in this edit


def read_partner_order(
    client: ShopifyClient, partner_order_id: str, shares: Sequence[PartnerLineShare]
) -> PartnerOrder:
    data = client.execute("PartnerOrderLines", {"id": partner_order_id})["order"] or {}
    live: dict[str, int] = {}
    unshipped: dict[str, int] = {}
    for item in (data.get("lineItems") or {}).get("nodes") or []:
        variant = (item.get("variant") or {}).get("id")
        if not variant:
            continue
        live[variant] = live.get(variant, 0) + int(item["currentQuantity"])
        unshipped[variant] = unshipped.get(variant, 0) + int(item.get("unfulfilledQuantity") or 0)
    counted: dict[str, int] = {}
    for share in shares:
        variant = share.partner_variant_id
        counted[variant] = counted.get(variant, 0) + share.quantity
    gone = {variant: max(n - live.get(variant, 0), 0) for variant, n in counted.items()}
    return PartnerOrder(unshipped, gone)


def _price(item: dict[str, Any]) -> Decimal | None:
    amount = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return Decimal(str(amount)) if amount is not None else None


def take_off(partner_order: PartnerOrder, shares: Sequence[PartnerLineShare], units: int) -> int:
    """Take up to ``units`` of one retail line off the partner order (its ``shares``, dearest
    first): units already gone from the partner line first, then unshipped ones, which the
    edit will remove. Returns how many were taken; the shares shrink by them."""
    taken = 0
    for share in sorted(shares, key=lambda s: s.unit_price, reverse=True):
        variant = share.partner_variant_id
        while taken < units and share.quantity - share.fulfilled_quantity > 0:
            if partner_order.gone.get(variant, 0) > 0:
                partner_order.gone[variant] -= 1
            elif partner_order.unshipped.get(variant, 0) > 0:
                partner_order.unshipped[variant] -= 1
                key = (variant, share.unit_price)
                partner_order.take[key] = partner_order.take.get(key, 0) + 1
            else:
                break
            share.quantity -= 1
            taken += 1
    return taken


class PartnerOrderChanged(RuntimeError):
    """The partner shipped units between the read and the edit: nothing was committed, and
    the task is tried again (it reads the partner order anew)."""


def edit_partner_order(
    client: ShopifyClient, partner_order_id: str, take: dict[Key, int], note: str
) -> None:
    """Take ``take`` units off the partner order's lines in one edit, restocked at the
    partner, the customer not notified (``orderEditSetQuantity``: "to increase, decrease,
    or remove items", https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditSetQuantity)."""
    begin = client.execute("OrderEditBegin", {"id": partner_order_id})["orderEditBegin"]
    UserErrors.raise_for(begin)
    calculated = begin["calculatedOrder"]
    lines: list[dict[str, Any]] = (calculated.get("lineItems") or {}).get("nodes") or []
    for (variant, price), units in sorted(take.items()):
        left = units
        of_variant = [n for n in lines if (n.get("variant") or {}).get("id") == variant]
        ordered = sorted(of_variant, key=lambda n: _price(n) != price)
        for line in ordered:
            if left <= 0:
                break
            less = min(left, int(line.get("editableQuantity", line["quantity"])))
            if less <= 0:
                continue
            payload = client.execute(
                "OrderEditSetQuantity",
                {
                    "id": calculated["id"],
                    "lineItemId": line["id"],
                    "quantity": int(line["quantity"]) - less,
                    "restock": True,
                },
            )["orderEditSetQuantity"]
            UserErrors.raise_for(payload)
            line["quantity"] = int(line["quantity"]) - less
            line["editableQuantity"] = int(line.get("editableQuantity", less)) - less
            left -= less
        if left > 0:
            raise PartnerOrderChanged(
                f"{partner_order_id} no longer has {units} unfulfilled of {variant}; read it again"
            )
    committed = client.execute(
        "OrderEditCommit", {"id": calculated["id"], "notifyCustomer": False, "staffNote": note}
    )["orderEditCommit"]
    UserErrors.raise_for(committed)


# -- recording --------------------------------------------------------------------------


def handled_facts(order: OrderSync) -> set[str]:
    return {
        str((e.details or {}).get("fact"))
        for e in order.events
        if e.kind in FACT_EVENTS and (e.details or {}).get("fact")
    }


def source_key(fact: Fact, partner: str, returned: bool = False) -> str:
    base = f"{fact.kind.value}:{fact.gid}:{partner}"
    return f"{base}:return" if returned else base


def line_amounts(take: LineTake, start: int, units: int, currency: str) -> tuple[Decimal, Decimal]:
    """What ``units`` of the line, after ``start`` taken off before, owe the partner: their
    part of the line's amount (dearest units first) and of its tax."""
    line = take.line
    prices = partner_lines.unit_prices(line, currency)
    lines = dearest_units(prices, start + units) - dearest_units(prices, start)
    tax = prorated(line.tax, start + units, line.quantity, currency) - prorated(
        line.tax, start, line.quantity, currency
    )
    return lines, tax


@dataclass
class Credit:
    lines: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    units: int = 0

    @property
    def total(self) -> Decimal:
        return self.lines + self.shipping + self.tax

    def add(self, amounts: tuple[Decimal, Decimal], units: int) -> None:
        self.lines += amounts[0]
        self.tax += amounts[1]
        self.units += units


def record_credit(
    order: OrderSync, fact: Fact, credit: Credit, *, applied: bool, returned: bool, note: str
) -> bool:
    """Insert the credit once (its ``source_key`` is unique); False if it was there."""
    values = {
        "order_sync_id": order.id,
        "partner_shop_domain": order.partner_shop_domain,
        "kind": fact.kind,
        "source_key": source_key(fact, order.partner_shop_domain, returned),
        "occurred_at": fact.occurred_at,
        "recorded_at": utcnow(),
        "currency": order.currency,
        "lines": credit.lines,
        "shipping": credit.shipping,
        "tax": credit.tax,
        "total": credit.total,
        "applied_at_partner": applied,
        "note": note[:500],
    }
    return insert_or_ignore(PartnerCredit, values, ["source_key"]) is not None


def describe(takes: Sequence[LineTake], attribute: str) -> str:
    return ", ".join(
        f"{getattr(t, attribute)} x {t.line.title}" for t in takes if getattr(t, attribute)
    )


def record_fact(order: OrderSync, plan: Planned, retail_name: str, edited: bool) -> None:
    """The fact's credits and its timeline entry; the lines count what it took off."""
    fact, currency = plan.fact, order.currency
    applied, returned = Credit(), Credit()
    applied.shipping, applied.tax = plan.shipping, plan.shipping_tax
    for take in plan.takes:
        start = take.before
        applied.add(line_amounts(take, start, take.removed, currency), take.removed)
        start += take.removed
        returned.add(line_amounts(take, start, take.returned, currency), take.returned)
        take.line.removed_quantity += take.removed
        take.line.returned_quantity += take.returned + take.kept
    what = "Refund" if fact.kind == CreditKind.REFUND else "Edit"
    partner_order = order.partner_order_name or order.partner_order_id
    said = []
    if applied.units:
        how = "edited to match" if edited else "already without them"
        said.append(
            f"{describe(plan.takes, 'removed')} taken off partner order {partner_order}"
            f" before it shipped ({how}; the customer is not notified)."
        )
    elif applied.shipping or applied.tax:
        said.append("The partner order is unchanged; its share of the shipping is credited.")
    if applied.total or applied.units:
        record_credit(
            order,
            fact,
            applied,
            applied=applied.units > 0,
            returned=False,
            note=f"{what} on {retail_name}: {said[-1]}",
        )
        said.append(f"Credit {applied.total} {currency}" + _breakdown(applied) + ".")
    if returned.units:
        text = (
            f"{describe(plan.takes, 'returned')} had shipped: a return to settle with the"
            f" partner, credit {returned.total} {currency}; partner order {partner_order}"
            " unchanged."
        )
        record_credit(order, fact, returned, applied=False, returned=True, note=f"{what}: {text}")
        said.append(text[0].upper() + text[1:])
    kept = describe(plan.takes, "kept")
    if kept:
        said.append(
            f"{kept} had shipped and was refunded without restock: the customer keeps it,"
            " nothing is owed back."
        )
    add_event(
        order,
        fact.kind.value,
        f"{what} on {retail_name}: " + " ".join(said),
        fact=fact.gid,
        occurred_at=fact.occurred_at.isoformat(),
        credit=str(applied.total + returned.total),
    )


def _breakdown(credit: Credit) -> str:
    parts = [
        f"{name} {amount}"
        for name, amount in (
            ("lines", credit.lines),
            ("shipping", credit.shipping),
            ("tax", credit.tax),
        )
        if amount
    ]
    return f" ({', '.join(parts)})" if len(parts) > 1 else ""


# -- the run ----------------------------------------------------------------------------


def mark_after_send_due(order_gid: str) -> None:
    """Note, in the capture's transaction, that ``order_gid``'s changes are to be applied."""
    upsert_key(AfterSendDue, {"order_gid": order_gid, "due_at": utcnow()}, ["due_at"])


def clear_after_send_due(order_gid: str, started: datetime) -> None:
    """The changes due by ``started`` were applied (or need nothing): forget them; commit."""
    db.session.execute(
        delete(AfterSendDue).where(
            AfterSendDue.order_gid == order_gid, AfterSendDue.due_at <= started
        )
    )
    db.session.commit()


def after_send_left_waiting(
    older_than: timedelta = LOST_AFTER, within: timedelta = SWEEP_WINDOW
) -> list[str]:
    """The retail orders whose changes fell due between ``within`` and ``older_than`` ago
    and were not applied: the task never reached the queue, or failed every retry."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(AfterSendDue.order_gid)
            .where(
                AfterSendDue.due_at >= now - within,
                AfterSendDue.due_at < now - older_than,
            )
            .order_by(AfterSendDue.due_at)
        )
    )


def apply_after_send(order_gid: str, *, last_attempt: bool = True) -> dict[str, Any]:
    """Pull the retail order's refunds and edits and apply the new ones to each partner
    order already sent, one partner at a time (each in its own transaction). Once every
    partner has an outcome, the order's due mark is cleared (``AfterSendDue``).

    A Shopify error at a partner is raised for the task to retry, unless this is its
    ``last_attempt``: then the partner's OrderSync is flagged for a person, with the error
    on its timeline (``flag_unapplied``), and the others still get theirs. The facts stay
    unhandled, so the next refund or edit of the order tries them again.
    """
    started = utcnow()
    node = read_changes(client_for(retail_store()), order_gid)
    if node is None:
        db.session.rollback()
        clear_after_send_due(order_gid, started)
        return {"outcome": "order not found"}
    changes = parse_changes(node)
    if changes.gone:
        db.session.rollback()
        clear_after_send_due(order_gid, started)
        return {"outcome": "cancelled or refunded in full: the cancellation's way"}
    domains = sorted(
        db.session.scalars(
            select(OrderSync.partner_shop_domain).where(
                OrderSync.bubbly_order_id == changes.order_id,
                OrderSync.status.in_(SENT),
                OrderSync.partner_order_id.is_not(None),
            )
        )
    )
    db.session.rollback()
    outcomes: dict[str, str] = {}
    for domain in domains:
        try:
            outcomes[domain] = apply_for_partner(changes, domain)
        except ShopifyError as exc:
            if not last_attempt:
                raise
            outcomes[domain] = flag_unapplied(changes, domain, exc)
    clear_after_send_due(order_gid, started)
    return {"outcome": "applied", "partners": outcomes}


def flag_unapplied(changes: Changes, partner_domain: str, exc: ShopifyError) -> str:
    """The refunds and edits could not reach this partner's order after every retry: flag
    its OrderSync for a person, with Shopify's answer on the timeline; commit."""
    order = db.session.scalars(
        select(OrderSync)
        .where(
            OrderSync.bubbly_order_id == changes.order_id,
            OrderSync.partner_shop_domain == partner_domain,
        )
        .with_for_update()
    ).one_or_none()
    if order is None:
        return "not sent"
    log.warning("refunds and edits of %s not applied at %s: %s", changes.name, partner_domain, exc)
    order.needs_attention = True
    add_event(
        order,
        "needs_attention",
        f"A refund or edit of {changes.name} could not reach partner order"
        f" {order.partner_order_name or order.partner_order_id} ({exc}): adjust it by hand."
        " The next change to the retail order tries again; units already gone from the"
        " partner order are not taken twice.",
    )
    db.session.commit()
    return "flagged"


def apply_for_partner(changes: Changes, partner_domain: str) -> str:
    """Apply the new facts to one partner's order, inside its lock; commit."""
    try:
        outcome = _apply_for_partner(changes, partner_domain)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return outcome


def _apply_for_partner(changes: Changes, partner_domain: str) -> str:
    locked = push.lock_partner(partner_domain)
    statement = select(OrderSync).where(
        OrderSync.bubbly_order_id == changes.order_id,
        OrderSync.partner_shop_domain == partner_domain,
    )
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update()
    order = db.session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
    if order is None or order.status not in SENT or order.partner_order_id is None:
        return "not sent"
    done = handled_facts(order)
    plans = [p for p in plan_facts(changes, order, shipping_parts(order)) if p.fact.gid not in done]
    if not plans:
        order.retail_shipping_applied = changes.current_shipping
        return "nothing new"
    shares = partner_lines.shares_of(partner_domain, order.partner_order_id)
    own = [s for s in shares if s.order_sync_id == order.id]
    to_take = any(take.units for plan in plans for take in plan.takes)
    client, partner_order = None, None
    if to_take and own:
        try:
            client = client_for(push.check_partner(locked))
        except push.PushFailed as exc:
            order.needs_attention = True
            add_event(order, "needs_attention", f"A refund or edit waits: {exc.message}")
            return "partner unavailable"
        partner_order = read_partner_order(client, order.partner_order_id, shares)
    for plan in plans:
        for take in plan.takes:
            mine = [s for s in own if s.bubbly_line_item_id == take.line.bubbly_line_item_id]
            if partner_order is not None:
                take.removed = take_off(partner_order, mine, take.units)
            rest = take.units - take.removed
            if plan.fact.restock.get(take.line.bubbly_line_item_id) == NO_RESTOCK:
                take.kept = rest
            else:
                take.returned = rest
    edited = False
    if client is not None and partner_order is not None and any(partner_order.take.values()):
        note = f"PowerPact: retail order {changes.name} refunded or edited"
        edit_partner_order(client, order.partner_order_id, partner_order.take, note)
        edited = True
    for plan in plans:
        record_fact(order, plan, changes.name, edited)
    order.retail_shipping_applied = changes.current_shipping
    settle(order)
    return f"{len(plans)} applied"


def settle(order: OrderSync) -> None:
    """Every unit taken off before the partner shipped it: the OrderSync is cancelled (its
    partner order holds none of its units); else fulfilled once the rest has shipped."""
    if order.lines and all(line.removed_quantity >= line.quantity for line in order.lines):
        if order.status != OrderStatus.CANCELLED:
            order.status = OrderStatus.CANCELLED
            add_event(
                order,
                "cancelled",
                "Every line was refunded or removed before the partner shipped it.",
            )
        return
    settle_fulfilled(order)
