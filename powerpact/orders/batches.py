"""Daily batches and weekly master orders.

- ``daily``: at each cutoff, one partner order holds every order that became
  ready in the day that just ended (in the partner's time zone), one line per
  partner variant and unit price (``partner_lines``): 30 orders of one bag are
  one line of 30, each retail order's share of it kept for the tracking back.
- ``weekly``: one master order per partner per week; every run appends the
  newly ready orders' units with an order edit, until the weekly cutoff: a
  variant the order holds already has its line raised, a new one is added. An
  edit cannot set prices: appended units are charged at the line's price, or a
  new variant at its price on the partner's store, and their shipping and tax
  shares are not added (the master order's total is the partner's, not the sum
  of its OrderSyncs' as a daily batch's is).

Batches ship to the retail fulfilment centre: one partner order can only have
one address. Appending is made idempotent by comparing quantities: the lines
added are what the master order should hold (its members) less what it holds
now, so an edit committed on Shopify but not recorded here is not applied twice.

A batch's id names its partner order (``sourceIdentifier``), so the batch row is
committed before its order is sent (``committed_batches``): inserted in the send's
own transaction, it would vanish with a crash after ``orderCreate``, and the retry
would send the same orders under a new id that no lookup connects to the order
Shopify created.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ScalarSelect, SQLColumnExpression, func, select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore
from powerpact.models import (
    BatchStatus,
    Cadence,
    FailureReason,
    OrderStatus,
    OrderSync,
    PartnerBatch,
    PartnerStore,
)
from powerpact.orders import partner_lines, push
from powerpact.orders.cadence import Window, window_for
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors

BATCH_IDENTIFIER = "powerpact-batch-"  # + the batch id: its partner order's sourceIdentifier


def batch_identifier(batch: PartnerBatch) -> str:
    return f"{BATCH_IDENTIFIER}{batch.id}"


def window_of(partner: PartnerStore, moment: datetime) -> Window:
    window = window_for(
        partner.cadence,
        moment,
        weekday=partner.cutoff_weekday,
        cutoff=partner.cutoff_time,
        tz_name=partner.cutoff_timezone,
    )
    if window is None:
        raise ValueError(f"{partner.shop_domain} sends orders immediately; it has no batches")
    return window


def insert_batch(partner: PartnerStore, window: Window) -> bool:
    """Insert the batch of (partner, cadence, window end) unless it exists; True if new."""
    now = utcnow()
    new_id = insert_or_ignore(
        PartnerBatch,
        {
            "partner_shop_domain": partner.shop_domain,
            "cadence": partner.cadence,
            "window_start": window.start,
            "window_end": window.end,
            "status": BatchStatus.OPEN,
            "created_at": now,
            "updated_at": now,
        },
        ["partner_shop_domain", "cadence", "window_end"],
    )
    return new_id is not None


def committed_batches(
    partner: PartnerStore, windows: Iterable[Window], cadence: Cadence
) -> PartnerStore | None:
    """Commit the batches of ``windows`` that are new, before anything is sent for them.

    The commit ends the partner's lock (and the orders'): the partner is locked
    again and returned (None if it no longer sends with ``cadence``), and the caller
    reads what is due again. With no new batch nothing is committed.
    """
    new = [window for window in windows if insert_batch(partner, window)]
    if not new:
        return partner
    db.session.commit()
    locked = push.lock_partner(partner.shop_domain)
    if locked is None or locked.cadence != cadence:
        db.session.rollback()
        return None
    return locked


def batch_for(partner: PartnerStore, window: Window) -> PartnerBatch:
    """The one batch of (partner, cadence, window end), created if new."""
    insert_batch(partner, window)
    return db.session.scalars(
        select(PartnerBatch).where(
            PartnerBatch.partner_shop_domain == partner.shop_domain,
            PartnerBatch.cadence == partner.cadence,
            PartnerBatch.window_end == window.end,
        )
    ).one()


def ready_time(order: OrderSync) -> datetime:
    assert order.ready_at is not None  # set on every order ``ready_unbatched`` returns
    return order.ready_at


def ready_unbatched(partner: PartnerStore, before: datetime) -> list[OrderSync]:
    """The partner's ready orders not yet in a batch, locked until the commit.

    Locked (the partner's lock is held already) so that a webhook cancelling or
    changing one of them waits for the send and then sees it sent, instead of
    being overwritten by it.
    """
    return list(
        db.session.scalars(
            select(OrderSync)
            .where(
                OrderSync.partner_shop_domain == partner.shop_domain,
                OrderSync.status == OrderStatus.READY_FOR_SYNC,
                OrderSync.ready_at < before,
                (OrderSync.next_attempt_at.is_(None)) | (OrderSync.next_attempt_at <= utcnow()),
            )
            .order_by(OrderSync.ready_at)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def waiting_for_batch(partner_domain: str | SQLColumnExpression[str]) -> ScalarSelect[int]:
    """How many of a partner's orders wait for its next batch: what ``send_now`` would send
    (less any waiting out a retry's backoff). Given a column, a count correlated with it."""
    return (
        select(func.count())
        .select_from(OrderSync)
        .where(
            OrderSync.partner_shop_domain == partner_domain,
            OrderSync.status == OrderStatus.READY_FOR_SYNC,
            (OrderSync.next_attempt_at.is_(None)) | (OrderSync.next_attempt_at <= utcnow()),
        )
        .scalar_subquery()
    )


def members_of(batch: PartnerBatch, status: OrderStatus) -> list[OrderSync]:
    return list(
        db.session.scalars(
            select(OrderSync)
            .where(OrderSync.batch_id == batch.id, OrderSync.status == status)
            .order_by(OrderSync.id)
        )
    )


def send_daily(partner_domain: str, now: datetime | None = None) -> int:
    """Send every closed daily window's ready orders as one partner order each."""
    now = now or utcnow()
    partner = push.lock_partner(partner_domain)
    if partner is None or partner.cadence != Cadence.DAILY:
        db.session.rollback()
        return 0
    sent = 0
    closed = window_of(partner, now).start
    due = ready_unbatched(partner, before=closed)
    windows = {window_of(partner, ready_time(order)) for order in due}
    batch_windows = {window: early_window(partner, window, now) for window in windows}
    partner = committed_batches(partner, batch_windows.values(), Cadence.DAILY)
    if partner is None:
        return 0
    due = ready_unbatched(partner, before=closed)
    by_window: dict[Window, list[OrderSync]] = {}
    for order in due:
        window = window_of(partner, ready_time(order))
        batch_window = batch_windows.get(window) or early_window(partner, window, now)
        by_window.setdefault(batch_window, []).append(order)
    for batch_window in sorted(by_window, key=lambda w: w.end):
        members = by_window[batch_window]
        batch = batch_for(partner, batch_window)
        for order in members:
            order.batch_id = batch.id
        if push.send(partner, members, batch_identifier(batch)):
            batch.status = BatchStatus.SENT
            batch.partner_order_id = members[0].partner_order_id
            batch.partner_order_name = members[0].partner_order_name
            sent += len(members)
        else:
            for order in members:
                order.batch_id = None
    db.session.commit()
    return sent


def held_quantities(client: ShopifyClient, order_id: str) -> Counter[str]:
    """The units of each variant the master order holds now."""
    data = client.execute("PartnerOrderLines", {"id": order_id})
    held: Counter[str] = Counter()
    for item in data["order"]["lineItems"]["nodes"]:
        variant = (item.get("variant") or {}).get("id")
        if variant:
            held[variant] += int(item["currentQuantity"])
    return held


def amount_of(item: dict[str, Any]) -> Decimal | None:
    amount = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return Decimal(str(amount)) if amount is not None else None


def _wanted_quantities(members: Sequence[OrderSync]) -> Counter[str]:
    wanted: Counter[str] = Counter()
    for order in members:
        for line in order.lines:
            if line.partner_variant_id:  # less what a refund or edit took off since
                wanted[line.partner_variant_id] += line.quantity - (line.removed_quantity or 0)
    return wanted


def line_to_raise(
    lines: Sequence[dict[str, Any]], variant_id: str, price: Decimal | None
) -> dict[str, Any] | None:
    """The master order's line of ``variant_id`` that more units go on: the one at
    ``price`` if there is one, else the first; None if the variant has no line yet."""
    of_variant = [
        n for n in lines if (n.get("variant") or {}).get("id") == variant_id and n["quantity"] > 0
    ]
    at_price = [n for n in of_variant if amount_of(n) == price]
    candidates = at_price or of_variant
    return candidates[0] if candidates else None


def append_to_master(
    client: ShopifyClient,
    master_order_id: str,
    to_add: Counter[str],
    prices: dict[str, Decimal],
) -> dict[str, Decimal | None]:
    """Add quantities to the partner's master order in one order edit; return the unit
    price of the line each variant's units went on.

    A variant the order already has a line of gets that line's quantity raised
    (``orderEditSetQuantity``, "to increase, decrease, or remove items",
    https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditSetQuantity):
    a second line of the variant is what a consolidated order avoids. The line raised is
    the one at the price the new units owe (``prices``), else the first. A new variant
    is added at its price on the partner's store ("respects the variant's contextual
    pricing"): an edit sets no price. The edit lists the order's first 200 lines (a
    mutation may cost 1,000 points); a variant whose line lies beyond them is added
    again (``allowDuplicates``) rather than refused.
    """
    begin = client.execute("OrderEditBegin", {"id": master_order_id})["orderEditBegin"]
    UserErrors.raise_for(begin)
    calculated = begin["calculatedOrder"]
    calculated_lines: list[dict[str, Any]] = (calculated.get("lineItems") or {}).get("nodes") or []
    went_on: dict[str, Decimal | None] = {}
    for variant_id, quantity in sorted(to_add.items()):
        line = line_to_raise(calculated_lines, variant_id, prices.get(variant_id))
        if line is not None:
            raised = client.execute(
                "OrderEditSetQuantity",
                {
                    "id": calculated["id"],
                    "lineItemId": line["id"],
                    "quantity": line["quantity"] + quantity,
                    "restock": False,
                },
            )["orderEditSetQuantity"]
            UserErrors.raise_for(raised)
            went_on[variant_id] = amount_of(line)
            continue
        added = client.execute(
            "OrderEditAddVariant",
            {"id": calculated["id"], "variantId": variant_id, "quantity": quantity},
        )["orderEditAddVariant"]
        UserErrors.raise_for(added)
        went_on[variant_id] = amount_of(added.get("calculatedLineItem") or {})
    committed = client.execute(
        "OrderEditCommit",
        {"id": calculated["id"], "notifyCustomer": False, "staffNote": "PowerPact weekly append"},
    )["orderEditCommit"]
    UserErrors.raise_for(committed)
    return went_on


def send_weekly(partner_domain: str, now: datetime | None = None) -> int:
    """Append newly ready orders to this week's master order (creating it if needed)."""
    now = now or utcnow()
    partner = push.lock_partner(partner_domain)
    if partner is None or partner.cadence != Cadence.WEEKLY:
        db.session.rollback()
        return 0
    window = window_of(partner, now)
    newcomers = ready_unbatched(partner, before=now)
    if not newcomers:
        db.session.rollback()
        return 0
    partner = committed_batches(partner, [window], Cadence.WEEKLY)
    if partner is None:
        return 0
    newcomers = ready_unbatched(partner, before=now)
    if not newcomers:
        db.session.rollback()
        return 0
    batch = batch_for(partner, window)
    for order in newcomers:
        order.batch_id = batch.id
    if batch.partner_order_id is None:
        if push.send(partner, newcomers, batch_identifier(batch)):
            batch.partner_order_id = newcomers[0].partner_order_id
            batch.partner_order_name = newcomers[0].partner_order_name
        else:
            for order in newcomers:
                order.batch_id = None
        db.session.commit()
        return sum(1 for o in newcomers if o.status == OrderStatus.SYNCED)
    return _append_newcomers(partner, batch, newcomers)


def _append_newcomers(
    partner: PartnerStore, batch: PartnerBatch, newcomers: list[OrderSync]
) -> int:
    attempted_at = utcnow()
    master_id = batch.partner_order_id or ""
    try:
        push.check_partner(partner)
        client = client_for(partner)
        lines = push.consolidated(newcomers)
        wanted = _wanted_quantities(members_of(batch, OrderStatus.SYNCED) + newcomers)
        to_add = wanted - held_quantities(client, master_id)
        prices = {line.variant_id: line.unit_price for line in reversed(lines)}
        went_on = append_to_master(client, master_id, to_add, prices) if to_add else {}
    except push.PushFailed as exc:
        push.record_failure(newcomers, exc.reason, exc.message, attempted_at)
    except UserErrors as exc:
        push.record_failure(
            newcomers, FailureReason.INVALID_ORDER, f"Shopify refused: {exc}", attempted_at
        )
    except ShopifyError as exc:
        push.record_failure(newcomers, FailureReason(exc.reason), str(exc), attempted_at)
    else:
        placed = on_master_lines(lines, went_on)
        partner_lines.record_shares(partner.shop_domain, master_id, placed)
        ref = push.PartnerOrderRef(master_id, batch.partner_order_name or "")
        push.mark_sent(newcomers, ref, "Appended to weekly master", attempted_at)
        db.session.commit()
        return len(newcomers)
    for order in newcomers:
        order.batch_id = None
    db.session.commit()
    return 0


def on_master_lines(
    lines: Sequence[partner_lines.PartnerLine], went_on: dict[str, Decimal | None]
) -> list[partner_lines.PartnerLine]:
    """The newcomers' lines as the master order holds them, at the price of the line
    their units went on, so that a shipment of that line finds them. Units the order
    already held (an edit this database did not record) or a line whose price the store
    did not say keep their own price: a shipment then finds them by variant.
    """
    placed = []
    for line in lines:
        price = went_on.get(line.variant_id)
        unit_price = line.unit_price if price is None else price
        placed.append(partner_lines.PartnerLine(line.variant_id, unit_price, line.shares))
    return placed


def close_past_weekly_batches(now: datetime | None = None) -> int:
    now = now or utcnow()
    batches = db.session.scalars(
        select(PartnerBatch).where(
            PartnerBatch.cadence == Cadence.WEEKLY,
            PartnerBatch.status == BatchStatus.OPEN,
            PartnerBatch.window_end <= now,
        )
    ).all()
    for batch in batches:
        batch.status = BatchStatus.CLOSED
    db.session.commit()
    return len(batches)


def early_window(partner: PartnerStore, current: Window, now: datetime) -> Window:
    """The batch window for orders of window ``current``: the window itself until its
    batch has a partner order, then an extra one inside it.

    "Run the batch now" sends the current window before its cutoff, so an order ready
    later in that window needs a batch (and a sourceIdentifier) of its own: from ``now``
    while the window is open, else ending just before the window's earliest batch.
    A batch of the window whose send recorded no partner order (it failed, or crashed
    after ``orderCreate``) is taken again, so the retry looks for that order under the
    same identifier.
    """
    in_window = (
        PartnerBatch.partner_shop_domain == partner.shop_domain,
        PartnerBatch.cadence == partner.cadence,
        PartnerBatch.window_start >= current.start,
        PartnerBatch.window_end <= current.end,
    )
    batches_now = select(PartnerBatch).where(*in_window)
    unsent = db.session.scalars(
        batches_now.where(PartnerBatch.partner_order_id.is_(None))
        .order_by(PartnerBatch.window_end)
        .limit(1)
    ).first()
    if unsent is not None:
        return Window(unsent.window_start, unsent.window_end)
    if not db.session.scalars(batches_now.where(PartnerBatch.window_end == current.end)).first():
        return current
    if now < current.end:
        return Window(now, now + timedelta(microseconds=1))
    earliest: datetime | None = db.session.scalar(
        select(func.min(PartnerBatch.window_end)).where(*in_window)
    )
    end = (earliest or current.end) - timedelta(microseconds=1)
    return Window(current.start, end)


def send_now(partner_domain: str) -> int:
    """ "Run the batch now": send every ready order of a daily or weekly partner at once.

    The current window is closed early: its orders go out as one partner order
    (daily) or are appended to the week's master order (weekly).
    """
    partner = push.lock_partner(partner_domain)
    if partner is None or partner.cadence == Cadence.IMMEDIATE:
        db.session.rollback()
        return 0
    if partner.cadence == Cadence.WEEKLY:
        return send_weekly(partner_domain)
    now = utcnow()
    if not ready_unbatched(partner, before=now):
        db.session.rollback()
        return 0
    window = early_window(partner, window_of(partner, now), now)
    partner = committed_batches(partner, [window], Cadence.DAILY)
    if partner is None:
        return 0
    members = ready_unbatched(partner, before=now)
    if not members:
        db.session.rollback()
        return 0
    batch = batch_for(partner, window)
    for order in members:
        order.batch_id = batch.id
    sent = 0
    if push.send(partner, members, batch_identifier(batch)):
        batch.status = BatchStatus.SENT
        batch.partner_order_id = members[0].partner_order_id
        batch.partner_order_name = members[0].partner_order_name
        sent = len(members)
    else:
        for order in members:
            order.batch_id = None
    db.session.commit()
    return sent


def send_batches(partner_domain: str) -> int:
    """Send what the partner's cadence says is due: the daily batch, or the week's appends
    (closing the master orders of weeks past first)."""
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    if partner is None:
        return 0
    if partner.cadence == Cadence.DAILY:
        return send_daily(partner_domain)
    if partner.cadence == Cadence.WEEKLY:
        close_past_weekly_batches()
        return send_weekly(partner_domain)
    return 0
