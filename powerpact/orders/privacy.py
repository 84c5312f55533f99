"""Erasing a customer: every copy PowerPact keeps, and the partner orders it created.

PowerPact's own copies of a customer's order, besides the stored webhooks
(``shopify.lifecycle`` redacts those):

- on the OrderSync: the email, the shipping address, the city and the country;
- text that may echo them: the failure message (Shopify's refusal can quote the
  address) and the hold reason, and the timeline's messages and details;
- what the partner sent back about the shipment: tracking numbers and links, on the
  timeline and in the tracking that waits for a held retail fulfillment order.

The partner order PowerPact created carries the customer's name, address and phone as
its shipping address (``orders/push.py``; never her email). PowerPact creates no
customer on the partner's store (``orderCreate`` is sent without one), so there is no
customer record there for ``customerRequestDataErasure``, which besides needs the
``write_customer_data_erasure`` scope and a user allowed to erase customer data
(https://shopify.dev/docs/api/admin-graphql/latest/mutations/customerRequestDataErasure).
What Shopify lets the app change is the order itself: ``orderUpdate``'s
``shippingAddress`` "overwrites the existing shipping address"
(https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderUpdate,
https://shopify.dev/docs/api/admin-graphql/latest/input-objects/OrderInput). Each such
partner order is overwritten by a task of its own, retried on transient errors, with
its outcome on the order's timeline. A batch order (daily or weekly) ships to the
retail store's fulfilment centre and holds no customer's address: it is left alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import OrderSync, OrderSyncEvent, PartnerStore, WaitingTracking
from powerpact.orders.capture import LOST_AFTER, SWEEP_WINDOW, add_event
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors
from powerpact.shopify.oauth import refresh_due_tokens

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Shorter values (a two-letter first name or country) would blank unrelated words.
MIN_NEEDLE_LENGTH = 3
TRACKING_SECRETS = ("number", "url")
PARTNER_REDACTION_DUE = "partner_redaction_due"
PARTNER_REDACTED = "partner_redacted"
PARTNER_REDACTION_FAILED = "partner_redaction_failed"
# The shipping address a partner order keeps once its customer is erased: every field
# PowerPact sent (``push.mailing_address_input``) overwritten, no country left.
ERASED_ADDRESS: dict[str, str] = {
    "firstName": "",
    "lastName": "Redacted",
    "company": "",
    "address1": "",
    "address2": "",
    "city": "",
    "province": "",
    "zip": "",
    "phone": "",
}


def scrub_order(order: OrderSync, needles: Sequence[str] = ()) -> None:
    """Erase the customer from everything PowerPact keeps of ``order`` (not its webhooks).

    1. Gather what identifies her here: the address's values and the email, the
       tracking numbers and links sent back, and ``needles`` (what the redaction
       request names, such as her phone).
    2. Clear the customer columns.
    3. Replace any of those values in the failure message, the hold reason and the
       timeline's messages and details; drop the tracking numbers and links.
    4. Drop the numbers and links of tracking that waits for the retail order.
    """
    waiting = list(
        db.session.scalars(select(WaitingTracking).where(WaitingTracking.order_sync_id == order.id))
    )
    pattern = needle_pattern(customer_values(order, waiting, needles))
    order.customer_email = None
    order.shipping_address = None
    order.ship_to_city = None
    order.ship_to_country = None
    order.error_message = blanked(order.error_message, pattern)
    order.hold_reason = blanked(order.hold_reason, pattern)
    for event in order.events:
        event.message = blanked(event.message, pattern) or ""
        event.details = scrubbed_details(event.details, pattern)
    for row in waiting:
        row.tracking = without_secrets(row.tracking)


def customer_values(
    order: OrderSync, waiting: Iterable[WaitingTracking], needles: Sequence[str]
) -> set[str]:
    """The values that identify the customer in this order's text (long enough to match)."""
    values = {v for v in (order.shipping_address or {}).values() if isinstance(v, str)}
    values.update(needles)
    values.add(order.customer_email or "")
    trackings: list[object] = [row.tracking for row in waiting]
    trackings += [(e.details or {}).get("tracking") for e in order.events]
    for tracking in trackings:
        if isinstance(tracking, dict):
            values.update(str(tracking[k]) for k in TRACKING_SECRETS if tracking.get(k))
    return {v.strip() for v in values if len(v.strip()) >= MIN_NEEDLE_LENGTH}


def needle_pattern(values: set[str]) -> re.Pattern[str] | None:
    if not values:
        return None
    alternatives = sorted(values, key=len, reverse=True)  # the longest first: no leftovers
    return re.compile("|".join(re.escape(v) for v in alternatives), re.IGNORECASE)


def blanked(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    if text is None or pattern is None:
        return text
    return pattern.sub(REDACTED, text)


def without_secrets(tracking: Any) -> Any:
    """Tracking without its number and link (the carrier stays)."""
    if not isinstance(tracking, dict):
        return tracking
    return {key: value for key, value in tracking.items() if key not in TRACKING_SECRETS}


def scrubbed_details(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """A timeline event's details, rebuilt: tracking without secrets, every text blanked."""
    if isinstance(value, dict):
        return {
            key: scrubbed_details(without_secrets(item) if key == "tracking" else item, pattern)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrubbed_details(item, pattern) for item in value]
    if isinstance(value, str):
        return blanked(value, pattern)
    return value


def carries_the_customer(order: OrderSync) -> bool:
    """Whether ``order``'s partner order was created for it alone, to its customer's address."""
    return order.partner_order_id is not None and order.batch_id is None


def partner_redactions_due(orders: Sequence[OrderSync]) -> list[int]:
    """The orders whose partner order carries the customer, to erase her from once the
    redaction commits (``redact_partner_order``). Each gets a ``partner_redaction_due``
    event, which stays its last word on the redaction until the task records an outcome:
    the sweep finds a task that never ran by it (``redactions_left_waiting``)."""
    due = [order for order in orders if carries_the_customer(order)]
    for order in due:
        add_event(
            order,
            PARTNER_REDACTION_DUE,
            "The customer asked to be erased: erasing her from partner order"
            f" {order.partner_order_name or order.partner_order_id}.",
        )
    return [order.id for order in due]


REDACTION_KINDS = (PARTNER_REDACTION_DUE, PARTNER_REDACTED, PARTNER_REDACTION_FAILED)


def last_redaction_event(order: OrderSync) -> str | None:
    return next((e.kind for e in reversed(order.events) if e.kind in REDACTION_KINDS), None)


def redactions_left_waiting(
    older_than: timedelta = LOST_AFTER, within: timedelta = SWEEP_WINDOW
) -> list[int]:
    """OrderSyncs whose partner redaction fell due between ``within`` and ``older_than``
    ago and has no outcome yet: its task never ran or is lost. The sweep enqueues them
    again; ``redact_partner_order`` makes a repeat harmless."""
    now = utcnow()
    fell_due = select(OrderSyncEvent.order_sync_id).where(
        OrderSyncEvent.kind == PARTNER_REDACTION_DUE,
        OrderSyncEvent.created_at >= now - within,
        OrderSyncEvent.created_at < now - older_than,
    )
    latest = (
        select(OrderSyncEvent.kind)
        .where(
            OrderSyncEvent.order_sync_id == OrderSync.id,
            OrderSyncEvent.kind.in_(REDACTION_KINDS),
        )
        .order_by(OrderSyncEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            select(OrderSync.id)
            .where(OrderSync.id.in_(fell_due), latest == PARTNER_REDACTION_DUE)
            .order_by(OrderSync.id)
        )
    )


def redact_partner_order(order_sync_id: int, *, last_attempt: bool = True) -> str:
    """Overwrite the shipping address of the partner order made for ``order_sync_id``.

    The partner's token is refreshed first if due. The outcome goes on the order's
    timeline. A transient error (throttling, a 5xx after the client's own retries, a
    token about to lapse) is raised for the task to retry, unless this is its
    ``last_attempt``; then, like a refusal or an uninstalled partner, it is recorded
    as a failure for a person to follow up with the partner.
    """
    order = db.session.get(OrderSync, order_sync_id)
    if order is None or not carries_the_customer(order):
        return "nothing to redact"
    if last_redaction_event(order) == PARTNER_REDACTED:
        return "already redacted"
    name = order.partner_order_name or order.partner_order_id
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == order.partner_shop_domain)
    )
    refresh_due_tokens(partner)  # nothing is held yet; a refresh commits
    # Locked, so a run the sweep enqueued again waits for one still retrying, then sees it.
    order = db.session.get(OrderSync, order_sync_id, with_for_update=True, populate_existing=True)
    if order is None or last_redaction_event(order) in (PARTNER_REDACTED, PARTNER_REDACTION_FAILED):
        return "already handled"
    try:
        if partner is None or not partner.is_active:
            raise ShopifyError(
                "the partner has uninstalled PowerPact", reason="partner_uninstalled"
            )
        payload = client_for(partner).execute(
            "PartnerOrderRedact",
            {"input": {"id": order.partner_order_id, "shippingAddress": ERASED_ADDRESS}},
            idempotent=True,  # the same overwrite twice leaves the same address
        )["orderUpdate"]
        UserErrors.raise_for(payload)
    except ShopifyError as exc:
        if exc.transient and not last_attempt:
            raise
        log.warning("partner order %s of order sync %s not redacted: %s", name, order.id, exc)
        add_event(
            order,
            PARTNER_REDACTION_FAILED,
            f"Could not erase the customer's name, address and phone from partner order"
            f" {name} ({exc}): ask the partner to remove them.",
        )
        db.session.commit()
        return "failed"
    add_event(
        order,
        PARTNER_REDACTED,
        f"Erased the customer's name, address and phone from partner order {name}.",
    )
    db.session.commit()
    return "redacted"
