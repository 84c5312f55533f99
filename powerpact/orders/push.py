"""Sending a partner's orders to the partner's store, exactly once.

Exactly once, with ``orderCreate`` having no idempotency key (it does not take the
``@idempotent`` directive, whose mutations say so in their description):
- the partner's row is locked (``SELECT ... FOR UPDATE``) for the whole send, so
  two workers never send or edit the same partner's orders at once, and so are
  the OrderSyncs being sent, so a webhook changing or cancelling one waits for the
  send and then sees it sent (capture locks in partner order: no deadlock);
- every created order carries our ``sourceIdentifier``, and before creating, the
  partner store is asked for it: a crash between Shopify's answer and our commit
  leaves the order on Shopify, and the next attempt finds it instead of making
  another;
- the database keeps one OrderSync per (order, partner) and one batch per window.

Finding it is the subtle part. The search (``orders(query: "source_identifier:...")``)
goes through Shopify's search index, for which no read-after-write consistency is
documented, and client library users report searches missing an order created
moments before. A worker killed during ``orderCreate`` is retried within seconds
(its order is still due; another worker may be waiting for the partner's lock),
so the search alone would miss exactly the orders it is there to find; the killed
request may even still be on its way through Shopify. And the crash leaves no
trace in the database: the attempt's record is written in the transaction the
crash lost. Hence:

- each send first commits that it begins (``send_attempts``, on a connection of
  its own, answering whether a send of the same order began before). One small
  commit per send, and it is what tells the common case from the rare one;
- no earlier send: the search alone is asked (nothing can carry the identifier
  unless the database lost its record; the search still covers what is older
  than the lag). Two calls an order, as before: the search and ``orderCreate``;
- an earlier send, outcome unknown (``find_after_uncertain_send``): one request
  asks the search and lists the store's newest ``NEWEST_PAGE`` orders sorted by
  creation, which does not go through the index. An order of an earlier send,
  created after the first began, is in that listing unless the store took more
  than a page of orders since; an order older than the lag is in the search.
  Found: done, without waiting (the usual retry after a crash);
- not found, and the latest earlier send began less than ``PARTNER_SEARCH_LAG_SECONDS``
  ago: its ``orderCreate`` may still have been on its way through Shopify, so the
  send waits until the lag has passed since then and asks again;
- still not found, and neither answer covers the gap (the page is full and younger
  than both the lag and the first earlier send): the send waits until the lag has
  passed over the oldest listed order and searches again before it decides the
  order does not exist. The waits hold the partner's lock; they come only after a
  crash (or an unrecorded outcome) and last a lag at most, plus
  ``CREATED_AT_MARGIN``, each;
- ``createdAt`` has whole seconds and Shopify's clock is not ours:
  ``CREATED_AT_MARGIN`` covers both;
- what this cannot see: an ``orderCreate`` that Shopify carries out later than the
  lag after it was sent; and on SQLite (the demo), where no send's start is
  recorded, when an earlier send began, so there is no wait for it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    PartnerStore,
    RetailStore,
    ShipTo,
)
from powerpact.money import round_money
from powerpact.orders import partner_lines, send_attempts
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors
from powerpact.shopify.oauth import refresh_due_tokens

log = logging.getLogger(__name__)

MAX_AUTOMATIC_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
NEWEST_PAGE = 50  # the newest orders PartnerOrderLookup.graphql lists
CREATED_AT_MARGIN = timedelta(seconds=2)  # createdAt's whole seconds, and clock skew
sleep = time.sleep


class PushFailed(Exception):
    """A failure with its reason code (docs/design.md) and a message a person can act on."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class PartnerOrderRef:
    id: str
    name: str


ORDER_SYNC_IDENTIFIER = "powerpact-order-sync-"  # + the OrderSync id: its sourceIdentifier


def source_identifier(order: OrderSync) -> str:
    return f"{ORDER_SYNC_IDENTIFIER}{order.id}"


def lock_partner(shop_domain: str) -> PartnerStore | None:
    """The partner's row, locked until the commit: its sends and edits run one at a time."""
    statement = (
        select(PartnerStore)
        .where(PartnerStore.shop_domain == shop_domain)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return locked_with_fresh_token(statement, {})


def locked_with_fresh_token(
    statement: Select[PartnerStore], params: dict[str, Any]
) -> PartnerStore | None:
    """Lock the partner's row with ``statement``, its access token refreshed first if due.

    A refresh commits at once (Shopify has already spent the old refresh token), and
    a commit ends the lock: so it is done here, before anything is sent or changed,
    and the row is locked again after it. A refresh in the middle of a send would
    commit half of it and let another worker send the same order.
    """
    partner: PartnerStore | None = db.session.scalar(statement, params)
    if not refresh_due_tokens(partner):
        return partner
    return db.session.scalar(statement, params)


def check_partner(partner: PartnerStore | None) -> PartnerStore:
    if partner is None or partner.access_token is None or partner.status != "active":
        raise PushFailed(
            FailureReason.PARTNER_UNINSTALLED,
            "The partner has uninstalled PowerPact; retry after they reinstall.",
        )
    if partner.reauthorization_required:
        raise PushFailed(
            FailureReason.REAUTHORIZATION_REQUIRED,
            "The partner must re-authorize PowerPact before orders can be sent.",
        )
    return partner


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with full jitter on the upper half, capped."""
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    return delay / 2 + delay / 2 * random.random()  # noqa: S311 (jitter, not security)


def ship_to_address(partner: PartnerStore, order: OrderSync | None) -> dict[str, Any] | None:
    if partner.ship_to == ShipTo.FULFILMENT_CENTRE or order is None:
        retail: RetailStore | None = db.session.scalar(select(RetailStore))
        return retail.fulfilment_centre_address if retail else None
    return order.shipping_address


def mailing_address_input(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    keys = (
        "firstName", "lastName", "company", "address1", "address2", "city",
        "province", "provinceCode", "zip", "phone",
    )  # fmt: skip
    result = {k: address[k] for k in keys if address.get(k)}
    country = address.get("countryCodeV2") or address.get("countryCode")
    if country:
        result["countryCode"] = country
    return result


def money_input(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": str(round_money(amount, currency)), "currencyCode": currency}}


def order_create_input(
    partner: PartnerStore,
    members: Sequence[OrderSync],
    identifier: str,
    address: dict[str, Any] | None,
    lines: Sequence[partner_lines.PartnerLine],
) -> dict[str, Any]:
    """The partner order for one OrderSync (or a batch of them): its consolidated ``lines``
    (one per partner variant and unit price, ``partner_lines.consolidate``) and shares.

    A line's price is what its retail lines owe the partner per unit, discount included,
    so the order's total is the sum of its OrderSyncs' totals to the cent.

    No ``sourceName``: the schema makes it the handle of an order attribution
    definition of a sales channel app (``OrderCreateOrderInput.sourceName``), and
    PowerPact is none; ``sourceIdentifier`` and the tags mark the order as ours.
    """
    currency = members[0].currency
    line_items = [
        {
            "variantId": line.variant_id,
            "quantity": line.quantity,
            "priceSet": money_input(line.unit_price, currency),
            "properties": [
                {
                    "name": "Retail order" if len(line.shares) == 1 else "Retail orders",
                    "value": line.retail_orders,
                }
            ],
        }
        for line in lines
    ]
    shipping = sum((o.shipping_share for o in members), Decimal(0))
    tax = sum((o.tax_share for o in members), Decimal(0))
    names = ", ".join(o.bubbly_order_name or o.bubbly_order_id for o in members)
    order_input: dict[str, Any] = {
        "currency": currency,
        "lineItems": line_items,
        "financialStatus": "PENDING",
        "sourceIdentifier": identifier,
        "tags": ["powerpact", identifier],
        "note": f"PowerPact: retail order {names}",
        "shippingLines": [
            {"title": "Shipping (PowerPact share)", "priceSet": money_input(shipping, currency)}
        ],
    }
    if tax:
        order_input["taxLines"] = [
            {"title": "Tax (PowerPact share)", "rate": 0, "priceSet": money_input(tax, currency)}
        ]
    mailing = mailing_address_input(address)
    if mailing:
        order_input["shippingAddress"] = mailing
    return order_input


def consolidated(members: Sequence[OrderSync]) -> list[partner_lines.PartnerLine]:
    """The partner order's lines for ``members``; a retail line with no partner variant
    fails the send with ``variant_not_mapped``."""
    try:
        return partner_lines.consolidate(members)
    except partner_lines.UnmappedLine as exc:
        raise PushFailed(FailureReason.VARIANT_NOT_MAPPED, str(exc)) from exc


@dataclass(frozen=True)
class PartnerLookup:
    """What the partner's store said before a create: our order if made, and its currency."""

    existing: PartnerOrderRef | None
    currency: str | None


def search_query(identifier: str) -> str:
    return f"source_identifier:'{identifier}'"


def matching(nodes: Sequence[dict[str, Any]], identifier: str) -> PartnerOrderRef | None:
    """The first node carrying exactly ``identifier`` (the search ignores case)."""
    exact = [n for n in nodes if n.get("sourceIdentifier") == identifier]
    return PartnerOrderRef(exact[0]["id"], exact[0]["name"]) if exact else None


def store_currency(data: dict[str, Any]) -> str | None:
    """The store's currency, which rides on every lookup (one point, no round trip), so a
    partner store that changed its currency after install is seen before the next order."""
    return (data.get("shop") or {}).get("currencyCode")


def check_currency(partner: PartnerStore, members: Sequence[OrderSync], live: str | None) -> None:
    """Refuse to send an order in another currency than the partner store's.

    ``orderCreate`` takes the amounts as given in the order's ``currency``; a store
    selling in another one would book them as they are, unconverted, and PowerPact
    does not convert prices. ``live`` (the currency the store just reported)
    refreshes the one learnt at install.
    """
    if live and live != partner.currency_code:
        partner.currency_code = live
    currency = members[0].currency
    if partner.currency_code != currency:
        raise PushFailed(
            FailureReason.CURRENCY_MISMATCH,
            f"The partner's store sells in {partner.currency_code} and this order is in"
            f" {currency}; PowerPact does not convert prices. Send it by hand, or retry"
            " once both stores use the same currency.",
        )


def find_partner_order(client: ShopifyClient, identifier: str) -> PartnerLookup:
    """The partner order carrying ``identifier`` as the search sees it (it lags)."""
    data = client.execute("OrdersBySourceIdentifier", {"query": search_query(identifier)})
    return PartnerLookup(matching(data["orders"]["nodes"], identifier), store_currency(data))


def search_lag() -> timedelta:
    """How long a new order may take to reach the partner store's search (a setting)."""
    return timedelta(seconds=current_app.config["POWERPACT"].partner_search_lag_seconds)


def find_after_uncertain_send(
    client: ShopifyClient, identifier: str, earlier: send_attempts.EarlierAttempt
) -> PartnerLookup:
    """The partner order carrying ``identifier`` after earlier sends whose outcome was
    not recorded. The module docstring says why it is done this way."""
    lag = search_lag()
    lookup, newest = look_up(client, identifier)
    if lookup.existing is None and earlier.latest is not None and utcnow() < earlier.latest + lag:
        wait_until(earlier.latest + lag, f"{identifier}: an earlier send began at {earlier.latest}")
        lookup, newest = look_up(client, identifier)
    if lookup.existing is not None or len(newest) < NEWEST_PAGE:
        return lookup  # a short page lists every order of the store
    unlisted_until = datetime.fromisoformat(newest[-1]["createdAt"]) + CREATED_AT_MARGIN
    if unlisted_until <= utcnow() - lag:
        return lookup  # the search holds every order the listing does not
    if earlier.first is not None and unlisted_until < earlier.first:
        return lookup  # the listing reaches back before the first earlier send
    wait_until(unlisted_until + lag, f"{identifier}: {NEWEST_PAGE} orders in the lag window")
    return find_partner_order(client, identifier)


def look_up(client: ShopifyClient, identifier: str) -> tuple[PartnerLookup, list[dict[str, Any]]]:
    """The search's and the newest orders' answer in one request, and those newest orders."""
    data = client.execute("PartnerOrderLookup", {"query": search_query(identifier)})
    newest = data["newest"]["nodes"]
    found = matching(data["bySource"]["nodes"], identifier) or matching(newest, identifier)
    return PartnerLookup(found, store_currency(data)), newest


def wait_until(moment: datetime, why: str) -> None:
    """Sleep until ``moment`` (never longer than the lag and its margin)."""
    seconds = min(moment - utcnow(), search_lag() + CREATED_AT_MARGIN).total_seconds()
    if seconds > 0:
        log.info("%s; waiting %.1f s for the partner store's search", why, seconds)
        sleep(seconds)


def create_partner_order(
    client: ShopifyClient, partner: PartnerStore, order_input: dict[str, Any]
) -> PartnerOrderRef:
    variables = {
        "order": order_input,
        "options": {
            "inventoryBehaviour": partner.inventory_behaviour,
            "sendReceipt": False,
            "sendFulfillmentReceipt": False,
        },
    }
    try:
        data = client.execute("OrderCreate", variables)
        payload = data["orderCreate"]
        UserErrors.raise_for(payload)
    except UserErrors as exc:
        raise PushFailed(classify_user_errors(exc), f"Shopify refused the order: {exc}") from exc
    return PartnerOrderRef(payload["order"]["id"], payload["order"]["name"])


# A development or trial store's limit of five orderCreate a minute (the schema's
# description of orderCreate); Shopify words its refusal "Exceeded order API rate
# limit, please try again in a minute".
ORDER_LIMIT_WORDS = ("rate limit", "try again in a minute", "orders per minute")


def classify_user_errors(exc: UserErrors) -> FailureReason:
    """What Shopify's refusal of ``orderCreate`` means for the order.

    The development stores' order limit is throttling, retried with backoff; a
    shortage of stock and any other refusal need a person.
    """
    text = " ".join(f"{e.get('code') or ''} {e.get('message') or ''}" for e in exc.user_errors)
    lowered = text.lower()
    if any(words in lowered for words in ORDER_LIMIT_WORDS):
        return FailureReason.THROTTLED
    if any(word in lowered for word in ("inventory", "stock", "insufficient")):
        return FailureReason.INSUFFICIENT_INVENTORY
    return FailureReason.INVALID_ORDER


def mark_sent(
    members: Sequence[OrderSync], ref: PartnerOrderRef, how: str, attempted_at: datetime
) -> None:
    """Record a successful attempt: the members point at the partner order ``ref``, sent
    at ``attempted_at`` (the moment a partner statement counts them sent)."""
    write_attempt(
        [
            (
                order,
                {
                    **attempt_values(order, attempted_at),
                    "partner_order_id": ref.id,
                    "partner_order_name": ref.name,
                    "sent_at": attempted_at,
                    "status": OrderStatus.SYNCED,
                    "error_message": None,
                    "last_order_failure_reason": None,
                    "next_attempt_at": None,
                },
                Event("sent", f"{how} partner order {ref.name}.", {"partner_order_id": ref.id}),
            )
            for order in members
        ]
    )


def record_failure(
    members: Sequence[OrderSync], reason: FailureReason, message: str, attempted_at: datetime
) -> None:
    """Record a failed attempt on ``members``.

    A transient reason is retried later, with backoff, until the attempts run out;
    any other fails the orders at once.
    """
    outcomes = []
    for order in members:
        values = {
            **attempt_values(order, attempted_at),
            "last_order_failure_reason": reason,
            "error_message": message,
        }
        if reason.transient and values["retry_count"] < MAX_AUTOMATIC_ATTEMPTS:
            values["status"] = order.status  # every member's row sets the same columns
            values["next_attempt_at"] = utcnow() + backoff(values["retry_count"])
            event = Event("attempt_failed", f"{message} Retrying automatically.")
        else:
            values["status"] = OrderStatus.FAILED
            values["next_attempt_at"] = None
            event = Event("failed", message, {"reason": reason.value})
        outcomes.append((order, values, event))
    write_attempt(outcomes)


def attempt_values(order: OrderSync, attempted_at: datetime) -> dict[str, Any]:
    return {"last_attempted_at": attempted_at, "retry_count": order.retry_count + 1}


@dataclass(frozen=True)
class Event:
    kind: str
    message: str
    details: dict[str, Any] | None = None


ORDER_SYNCS = OrderSync.__table__
UPDATE_ORDER_SYNC = update(ORDER_SYNCS).where(ORDER_SYNCS.c.id == bindparam("order_sync_id"))
INSERT_EVENTS = insert(OrderSyncEvent.__table__)


def write_attempt(outcomes: Sequence[tuple[OrderSync, dict[str, Any], Event]]) -> None:
    """Write each order's new values and its timeline event with two Core statements.

    Sending is the hot path of PowerPact: through the unit of work (or the ORM's
    bulk statements) these few columns cost a third of a send's CPU. The loaded
    objects take the values as committed ones (no second UPDATE at the commit);
    their ``updated_at`` and ``events`` are expired, to be read again if asked for.
    (One statement, an UPDATE in a CTE feeding the INSERT, would save a round trip
    on PostgreSQL, but SQLite, which the demo runs on, has no DML in a CTE.)
    """
    if not outcomes:
        return
    connection = db.session.connection()  # Core, past the ORM's bulk-statement handling
    connection.execute(
        UPDATE_ORDER_SYNC, [{"order_sync_id": order.id, **values} for order, values, _ in outcomes]
    )
    connection.execute(
        INSERT_EVENTS,
        [
            {
                "order_sync_id": order.id,
                "kind": event.kind,
                "message": event.message,
                "details": event.details,
            }
            for order, _, event in outcomes
        ],
    )
    for order, values, _ in outcomes:
        for key, value in values.items():
            set_committed_value(order, key, value)
        db.session.expire(order, ["updated_at", "events"])


def send(
    locked_partner: PartnerStore | None, members: Sequence[OrderSync], identifier: str
) -> PartnerOrderRef | None:
    """Create (or find) the partner order for ``members``; record the attempt on them.

    The caller holds the partner's lock (``lock_partner``, whose row it passes)
    and commits afterwards.
    """
    attempted_at = utcnow()
    try:
        partner = check_partner(locked_partner)
        client = client_for(partner)
        earlier = send_attempts.record_start(identifier, partner.shop_domain, attempted_at)
        lookup = (
            find_partner_order(client, identifier)
            if earlier is None
            else find_after_uncertain_send(client, identifier, earlier)
        )
        lines = consolidated(members)
        if lookup.existing is not None:
            partner_lines.record_shares(partner.shop_domain, lookup.existing.id, lines)
            mark_sent(members, lookup.existing, "Found the already created", attempted_at)
            return lookup.existing
        check_currency(partner, members, lookup.currency)
        address = ship_to_address(partner, members[0] if len(members) == 1 else None)
        ref = create_partner_order(
            client, partner, order_create_input(partner, members, identifier, address, lines)
        )
    except PushFailed as exc:
        record_failure(members, exc.reason, exc.message, attempted_at)
        return None
    except ShopifyError as exc:
        record_failure(members, FailureReason(exc.reason), str(exc), attempted_at)
        return None
    partner_lines.record_shares(partner.shop_domain, ref.id, lines)
    mark_sent(members, ref, "Created", attempted_at)
    return ref


# Built once: push_order_sync runs these for every order it sends.
PARTNER_OF_ORDER_FOR_UPDATE = (
    select(PartnerStore)
    .where(
        PartnerStore.shop_domain
        == select(OrderSync.partner_shop_domain)
        .where(OrderSync.id == bindparam("order_sync_id"))
        .scalar_subquery()
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)
ORDER_SYNC_WITH_LINES = (
    select(OrderSync)
    .where(OrderSync.id == bindparam("order_sync_id"))
    .options(joinedload(OrderSync.lines))
    .with_for_update(of=OrderSync)
    .execution_options(populate_existing=True)
)


def push_order_sync(order_sync_id: int) -> str:
    """Send one ready OrderSync of an ``immediate`` partner; a no-op for anything else.

    The partner is locked first, then the OrderSync (read with its lines): no other
    worker sends for the partner, and a webhook that changes or cancels the retail
    order waits for the commit and then sees the order as sent, instead of being
    overwritten by it.
    """
    ids = {"order_sync_id": order_sync_id}
    partner = locked_with_fresh_token(PARTNER_OF_ORDER_FOR_UPDATE, ids)
    order = db.session.scalars(ORDER_SYNC_WITH_LINES, ids).unique().one_or_none()
    if order is None:
        db.session.rollback()
        return "missing"
    if order.status != OrderStatus.READY_FOR_SYNC or order.partner_order_id:
        db.session.rollback()
        return "skipped"
    ref = send(partner, [order], source_identifier(order))
    db.session.commit()
    return "sent" if ref else order.status.value


def due_immediate_ids(partner_domain: str | None = None, limit: int = 200) -> list[int]:
    now = utcnow()
    statement = (
        select(OrderSync.id)
        .join(PartnerStore, PartnerStore.shop_domain == OrderSync.partner_shop_domain)
        .where(
            OrderSync.status == OrderStatus.READY_FOR_SYNC,
            OrderSync.batch_id.is_(None),
            PartnerStore.cadence == "immediate",
            (OrderSync.next_attempt_at.is_(None)) | (OrderSync.next_attempt_at <= now),
        )
        .order_by(OrderSync.ready_at)
        .limit(limit)
    )
    if partner_domain:
        statement = statement.where(OrderSync.partner_shop_domain == partner_domain)
    return list(db.session.scalars(statement))


def push_partner(partner_domain: str) -> dict[str, int]:
    """Send a partner's due immediate orders one after another (serial per partner).

    Pages through everything due; an order that fails transiently is no longer due
    (its next attempt lies ahead), so the loop always ends.
    """
    outcomes: dict[str, int] = {}
    seen: set[int] = set()
    while batch := [i for i in due_immediate_ids(partner_domain) if i not in seen]:
        for order_sync_id in batch:
            seen.add(order_sync_id)
            outcome = push_order_sync(order_sync_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    current_app.logger.debug("pushed %s: %s", partner_domain, outcomes)
    return outcomes
