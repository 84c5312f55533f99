"""``POST /webhooks``: verify, store, acknowledge, enqueue. Nothing else on the hot path.

1. The HMAC is checked over the raw bytes before anything is parsed (401 if wrong).
2. The delivery is inserted keyed by ``X-Shopify-Webhook-Id``; a repeat finds the
   row already there and is acknowledged without a second enqueue.
3. The row is committed before the answer, so an acknowledged webhook is never lost;
   if the queue is down the sweeper enqueues it later.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import Blueprint, current_app, request
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore
from powerpact.models import DeliveryStatus, WebhookDelivery
from powerpact.shopify.signatures import canonical_shop_domain, verify_webhook

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
MAX_BODY_BYTES = 2 * 1024 * 1024
SHOP_KEYS = ("myshopify_domain", "shop_domain")


def parse_triggered_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def stored_text(body: bytes) -> str:
    """The body as text a database can hold (a malformed body may carry NUL bytes)."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def malformed_reason(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return f"malformed JSON body: {exc}"
    if not isinstance(payload, dict):
        return "malformed body: a JSON object was expected"
    return None


def shop_reason(shop: str | None, body: bytes) -> str | None:
    """Why the delivery's shop cannot be trusted, or None.

    Shopify signs the body, not the headers: ``X-Shopify-Shop-Domain`` must be a
    lower-case ``*.myshopify.com`` domain, and a payload that names its shop
    (``myshopify_domain`` on app/uninstalled, ``shop_domain`` on the compliance
    topics) must name the same one, so a genuine body replayed under another
    shop's header acts on nobody.
    """
    if not shop or canonical_shop_domain(shop) != shop:
        return "X-Shopify-Shop-Domain is missing or not a lower-case *.myshopify.com domain"
    payload = json.loads(body)
    for key in SHOP_KEYS:
        named = payload.get(key)
        if isinstance(named, str) and named.strip().lower() != shop:
            return f"the payload's {key} names another shop than X-Shopify-Shop-Domain"
    return None


def record_delivery(headers: dict[str, str | None], body: bytes) -> int | None:
    """Insert the delivery unless its webhook id is known; return the new row's id."""
    problem = malformed_reason(body) or shop_reason(headers["shop"], body)
    values = {
        "webhook_id": headers["webhook_id"],
        "event_id": headers["event_id"],
        "topic": headers["topic"] or "unknown",
        "shop_domain": headers["shop"] or "unknown",
        "api_version": headers["api_version"],
        "triggered_at": parse_triggered_at(headers["triggered_at"]),
        "payload": stored_text(body),
        "status": DeliveryStatus.FAILED if problem else DeliveryStatus.RECEIVED,
        "error": problem,
        "received_at": utcnow(),
    }
    new_id = insert_or_ignore(WebhookDelivery, values, ["webhook_id"])
    db.session.commit()
    if problem:
        log.warning("webhook %s stored as failed: %s", headers["webhook_id"], problem)
        return None
    return new_id


def enqueue_processing(delivery_id: int) -> None:
    from powerpact.shopify.tasks import process_delivery_task

    try:
        process_delivery_task(delivery_id)
    except Exception:  # the queue being down must not lose an acknowledged webhook
        log.exception("could not enqueue delivery %s; the sweeper will pick it up", delivery_id)


@bp.post("/webhooks")
def receive():  # type: ignore[no-untyped-def]
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return {"error": "body too large"}, 413
    body = request.get_data(cache=False)
    secret = current_app.config["POWERPACT"].shopify_api_secret
    if not verify_webhook(secret, body, request.headers.get("X-Shopify-Hmac-Sha256")):
        return {"error": "invalid hmac"}, 401
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not webhook_id or len(webhook_id) > 255:
        return {"error": "missing X-Shopify-Webhook-Id"}, 400
    headers = {
        "webhook_id": webhook_id,
        "event_id": (request.headers.get("X-Shopify-Event-Id") or "")[:255] or None,
        "topic": (request.headers.get("X-Shopify-Topic") or "")[:128],
        "shop": (request.headers.get("X-Shopify-Shop-Domain") or "")[:255],
        "api_version": (request.headers.get("X-Shopify-API-Version") or "")[:16] or None,
        "triggered_at": request.headers.get("X-Shopify-Triggered-At"),
    }
    new_id = record_delivery(headers, body)
    if new_id is not None:
        enqueue_processing(new_id)
    return {"ok": True}, 200


def delivery_by_webhook_id(webhook_id: str) -> WebhookDelivery | None:
    return db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    )
