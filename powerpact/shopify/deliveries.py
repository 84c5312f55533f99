"""Processing a stored webhook delivery, once, whatever Shopify repeats or reorders."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import DeliveryStatus, RetailStore, WebhookDelivery
from powerpact.shopify.oauth import refresh_due_tokens
from powerpact.shopify.signatures import canonical_shop_domain
from powerpact.shopify.topics import DeliveryRefused, handler_for, shape_problem
from powerpact.shops import find_shop

log = logging.getLogger(__name__)
SHOP_KEYS = ("myshopify_domain", "shop_domain", "domain")


def names_another_shop(key: str, named: object, shop: str) -> bool:
    """Does the payload's ``key`` name a shop other than ``shop``?

    The shop object's ``domain`` (app/uninstalled) is its primary domain, often the
    merchant's own (https://shopify.dev/docs/api/admin-rest/latest/resources/shop):
    it can only be compared when it is a myshopify.com domain.
    """
    if not isinstance(named, str):
        return False
    named = named.strip().lower()
    if key == "domain" and not named.endswith(".myshopify.com"):
        return False
    return named != shop


def read_payload(delivery: WebhookDelivery) -> tuple[dict[str, Any] | None, str | None]:
    """The delivery's payload, or None and why it cannot be processed (malformed body,
    untrustworthy shop, another topic's body).

    The intake stores a verified body without parsing it; it is parsed here, once.
    Shopify signs the body, not the headers: ``X-Shopify-Shop-Domain`` must be a
    lower-case ``*.myshopify.com`` domain, a payload that names its shop
    (``myshopify_domain`` on app/uninstalled, ``shop_domain`` on the compliance
    topics) must name the same one, and the payload must have its topic's shape
    (``payload_shapes``), so a genuine body replayed under another shop's header or
    another topic acts on nobody.
    """
    try:
        payload = json.loads(delivery.payload)
    except ValueError as exc:
        return None, f"malformed JSON body: {exc}"
    if not isinstance(payload, dict):
        return None, "malformed body: a JSON object was expected"
    shop = delivery.shop_domain
    if canonical_shop_domain(shop) != shop:
        return None, "X-Shopify-Shop-Domain is missing or not a lower-case *.myshopify.com domain"
    for key in SHOP_KEYS:
        if names_another_shop(key, payload.get(key), shop):
            return None, f"the payload's {key} names another shop than X-Shopify-Shop-Domain"
    problem = shape_problem(delivery.topic, payload)
    if problem is not None:
        return None, problem
    return payload, None


def _lock_delivery(delivery_id: int) -> WebhookDelivery | None:
    """Lock the row so two workers never run one delivery; a locked row is skipped."""
    statement = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalar(statement)


def _received_delivery(delivery_id: int) -> WebhookDelivery | None:
    """The delivery, locked, if it still waits to be processed (else the transaction ends)."""
    delivery = _lock_delivery(delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.RECEIVED:
        db.session.rollback()
        return None
    return delivery


def _refresh_due_tokens(delivery: WebhookDelivery) -> bool:
    """Refresh the tokens of the delivery's shop and the retail store if due; True if any was."""
    shop = find_shop(delivery.shop_domain)
    retail: RetailStore | None = (
        shop if isinstance(shop, RetailStore) else db.session.scalar(select(RetailStore))
    )
    return refresh_due_tokens(shop, retail)


def _event_already_processed(delivery: WebhookDelivery) -> bool:
    """Was this delivery's (event, topic) processed under another webhook id?

    The key is the event id *and* the topic: Shopify shares ``X-Shopify-Event-Id``
    across every topic one merchant action produces (an edit of price and stock
    fires ``products/update`` and ``inventory_levels/update`` under one id), so the
    event id alone would take the second topic for a repeat of the first.
    Two deliveries of one event can be picked up at the same moment by two workers;
    on PostgreSQL the key is locked for the rest of the transaction first, so the
    second waits for the first to commit and then finds it processed.
    """
    if not delivery.event_id:
        return False
    if db.engine.dialect.name == "postgresql":
        key = f"{delivery.topic} {delivery.event_id}"
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    return (
        db.session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.event_id == delivery.event_id,
                WebhookDelivery.topic == delivery.topic,
                WebhookDelivery.id != delivery.id,
                WebhookDelivery.status == DeliveryStatus.PROCESSED,
            )
        )
        is not None
    )


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, **fields: Any) -> str:
    delivery.status = status
    delivery.processed_at = utcnow()
    for name, value in fields.items():
        setattr(delivery, name, value)
    db.session.commit()
    return status.value


def process_delivery(delivery_id: int) -> str:
    """Run the topic's handler for one delivery and record the outcome.

    1. Lock the row; a delivery not in ``received`` was handled already: do nothing.
       A body that cannot be processed (``read_payload``) is ``failed`` with why.
       A token the handler will use that is due for refresh is refreshed first, and
       the row locked again: a refresh commits, which inside the handler would end
       this transaction's locks and keep half its effects.
    2. A delivery whose (event id, topic) was already processed under another
       webhook id is marked ``duplicate`` (Shopify resends events under new delivery
       ids, and shares one event id across the topics of one merchant action).
    3. An unknown topic is ``ignored``; a handler's result is ``processed``.
    4. The handler's effects and the ``processed`` mark commit together, so an
       effect is never applied without its delivery being marked (nor the reverse).
    5. A transient error (Shopify throttling, 5xx) rolls back and re-raises so the
       task is retried; a refusal (``DeliveryRefused``) or any other error rolls back
       and is stored as ``failed`` with its reason.
    """
    delivery = _received_delivery(delivery_id)
    if delivery is None:
        return "skipped"
    payload, problem = read_payload(delivery)
    if payload is None:
        log.warning("webhook %s failed: %s", delivery_id, problem)
        delivery.attempts += 1
        return _finish(delivery, DeliveryStatus.FAILED, error=problem)
    if _refresh_due_tokens(delivery):
        delivery = _received_delivery(delivery_id)
    if delivery is None:
        return "skipped"
    delivery.attempts += 1
    if _event_already_processed(delivery):
        return _finish(delivery, DeliveryStatus.DUPLICATE)
    handler = handler_for(delivery.topic)
    if handler is None:
        return _finish(delivery, DeliveryStatus.IGNORED, error=f"no handler for {delivery.topic}")
    try:
        result = handler(delivery, payload)
    except DeliveryRefused as exc:
        attempts = delivery.attempts
        db.session.rollback()
        log.warning("webhook %s refused: %s", delivery_id, exc)
        _record_attempt(delivery_id, attempts, str(exc), status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED.value
    except Exception as exc:
        attempts = delivery.attempts
        db.session.rollback()
        reason = f"{type(exc).__name__}: {exc}"
        if getattr(exc, "transient", False):
            _record_attempt(delivery_id, attempts, reason)
            raise
        log.exception("webhook %s failed", delivery_id)
        _record_attempt(delivery_id, attempts, reason, status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED.value
    return _finish(delivery, DeliveryStatus.PROCESSED, result=result, error=None)


def _record_attempt(
    delivery_id: int, attempts: int, error: str, *, status: DeliveryStatus | None = None
) -> None:
    """Record an attempt after its effects were rolled back (a new transaction)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return
    delivery.attempts = attempts
    delivery.error = error
    if status is not None:
        delivery.status = status
        delivery.processed_at = utcnow()
    db.session.commit()


def unprocessed_delivery_ids(older_than: timedelta, limit: int = 500) -> list[int]:
    """Deliveries acknowledged but still not processed after ``older_than``."""
    cutoff = utcnow() - older_than
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.RECEIVED,
                WebhookDelivery.received_at < cutoff,
            )
            .order_by(WebhookDelivery.received_at)
            .limit(limit)
        )
    )
