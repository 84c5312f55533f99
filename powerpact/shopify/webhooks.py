"""``POST /webhooks``: verify, store, acknowledge, enqueue. Nothing else on the hot path.

0. The body is read before the view runs, at most ``MAX_BODY_BYTES`` of it, declared
   or chunked (``powerpact.limits``): a longer one is refused with 413, unread.
1. The HMAC is checked over the raw bytes before anything is parsed (401 if wrong).
2. The body is not parsed here: a malformed or cross-shop delivery is acknowledged
   (Shopify would only resend it) and stored; processing it marks it ``failed`` with
   its reason (``deliveries.read_payload``). Only what the stored text would hide is
   caught here: bytes that are not UTF-8, or a NUL (both stored replaced by U+FFFD).
3. The delivery is inserted keyed by ``X-Shopify-Webhook-Id`` and committed before
   the answer (``delivery_store``: on PostgreSQL one statement and one commit shared
   with the deliveries of concurrent requests), so an acknowledged webhook is never
   lost; a repeat finds the row already there and is acknowledged without a second
   enqueue. If the database cannot store it the answer is 503 and Shopify retries.
4. The new row's id goes to the enqueuer, which hands it to Huey from a background
   thread (``enqueuer``); if the queue is down the sweeper enqueues it later.
"""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg
from flask import Blueprint, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import Headers

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.limits import body_limit
from powerpact.logs import note_shop
from powerpact.models import DeliveryStatus, WebhookDelivery
from powerpact.shopify.delivery_store import (
    STORE_KEY,
    DeliveryNotStored,
    DeliveryRow,
    DeliveryStore,
)
from powerpact.shopify.enqueuer import enqueuer
from powerpact.shopify.signatures import verify_webhook

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
MAX_BODY_BYTES = 1024 * 1024
"""1 MiB. Shopify publishes no size limit for HTTPS deliveries. The one it documents is
for Amazon EventBridge deliveries: payloads up to 1,000,000 bytes arrive inline, and a
larger classic webhook is sent as ``{"id": ...}`` alone
(https://shopify.dev/changelog/amazon-eventbridge-webhook-payload-size-limit-increased-to-1-mb).
The payloads of PowerPact's topics (orders, products, inventory levels, fulfillments) are
a few to tens of kilobytes. A body is read whole before its HMAC can be checked, so what
is allowed is what an anonymous caller can make each serving thread hold (24 threads on
Render: 3 workers x 8): 1 MiB keeps Shopify's largest documented payload with room to
spare and halves the previous 2 MiB."""


def parse_triggered_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def stored_text(body: bytes) -> tuple[str, str | None]:
    """The body as text a database can hold, and why it is malformed if the text hides it.

    Bytes that are not UTF-8, and NUL (which PostgreSQL text cannot hold), are stored
    as U+FFFD, which could turn a malformed body into valid JSON: so they fail here.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"), (
            f"malformed body: not UTF-8 ({exc})"
        )
    if "\x00" in text:
        return text.replace("\x00", "\ufffd"), "malformed body: a NUL character"
    return text, None


def header_text(headers: Headers, name: str, length: int) -> str:
    """A header as text that fits its column (PostgreSQL text holds no NUL)."""
    return (headers.get(name) or "").replace("\x00", "\ufffd")[:length]


def delivery_row(webhook_id: str, headers: Headers, body: bytes) -> DeliveryRow:
    """The row to store for a verified delivery: ``received``, or ``failed`` with the reason."""
    shop = header_text(headers, "X-Shopify-Shop-Domain", 255)
    payload, problem = stored_text(body)
    return DeliveryRow(
        webhook_id=webhook_id.replace("\x00", "\ufffd"),
        event_id=header_text(headers, "X-Shopify-Event-Id", 255) or None,
        topic=header_text(headers, "X-Shopify-Topic", 128) or "unknown",
        shop_domain=shop or "unknown",
        api_version=header_text(headers, "X-Shopify-API-Version", 16) or None,
        triggered_at=parse_triggered_at(headers.get("X-Shopify-Triggered-At")),
        payload=payload,
        status=(DeliveryStatus.FAILED if problem else DeliveryStatus.RECEIVED).value,
        error=problem,
        received_at=utcnow(),
    )


def delivery_store() -> DeliveryStore:
    store: DeliveryStore = current_app.extensions[STORE_KEY]
    return store


@bp.post("/webhooks")
@body_limit(MAX_BODY_BYTES)
def receive() -> tuple[dict[str, object], int]:
    body = request.get_data(cache=False)
    secret = current_app.config["POWERPACT"].shopify_api_secret
    if not verify_webhook(secret, body, request.headers.get("X-Shopify-Hmac-Sha256")):
        return {"error": "invalid hmac"}, 401
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not webhook_id or len(webhook_id) > 255:
        return {"error": "missing X-Shopify-Webhook-Id"}, 400
    row = delivery_row(webhook_id, request.headers, body)
    note_shop(row.shop_domain)
    try:
        new_id = delivery_store().insert(row)
    except (DeliveryNotStored, psycopg.Error, SQLAlchemyError):
        log.exception("webhook %s not stored; answering 503 so Shopify retries", webhook_id)
        return {"error": "not stored, retry later"}, 503
    if row.error:
        log.warning("webhook %s stored as failed: %s", webhook_id, row.error)
    elif new_id is not None:
        enqueuer.submit(new_id)
    return {"ok": True}, 200


def delivery_by_webhook_id(webhook_id: str) -> WebhookDelivery | None:
    return db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    )
