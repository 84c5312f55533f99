"""The events that make notifications, found by periodic tasks and emitted to the outbox.

Each is found from what PowerPact stores, not from the code path that made it, so a failure
recorded by a send, a batch or a retry is found the same way, and a finder run twice (or by
two workers) emits the same keys, which the outbox makes once:

- ``order_failure_events``: an OrderSync ``failed`` for a reason its partner can fix
  (``orders/push.py``'s ``record_failure`` stores it); one per order and reason;
- ``statement_events``: a partner's statement of the last closed calendar month (in the
  retail store's zone) that had activity; one per partner and month;
- ``admin_digest_events``: the retail admins' digest (``digest.py``), at most once an hour
  and only when one of its items is new since the last one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    FailureReason,
    NotificationKind,
    NotificationOutbox,
    OrderStatus,
    OrderSync,
    RetailStore,
)
from powerpact.money import round_money
from powerpact.notifications.digest import digest_sections
from powerpact.notifications.outbox import Event
from powerpact.orders.listing import reason_text
from powerpact.statements.ledger import period_summaries, retail_terms
from powerpact.statements.periods import Period, today_in

FIXABLE = (
    FailureReason.REAUTHORIZATION_REQUIRED,
    FailureReason.INSUFFICIENT_INVENTORY,
    FailureReason.VARIANT_NOT_MAPPED,
)
FAILURES_LOOKBACK = timedelta(days=2)  # the finder runs every minute; this covers an outage
DIGEST_EVERY = timedelta(hours=1)


def order_failure_events(since: datetime | None = None) -> list[Event]:
    since = since or utcnow() - FAILURES_LOOKBACK
    rows = db.session.execute(
        select(
            OrderSync.id,
            OrderSync.bubbly_order_name,
            OrderSync.partner_shop_domain,
            OrderSync.last_order_failure_reason,
            OrderSync.last_attempted_at,
            OrderSync.updated_at,
        )
        .where(
            OrderSync.status == OrderStatus.FAILED,
            OrderSync.last_order_failure_reason.in_(FIXABLE),
            OrderSync.updated_at >= since,
        )
        .order_by(OrderSync.id)
    ).all()
    return [
        order_failure_event(id_, name, partner, reason, attempted or updated)
        for id_, name, partner, reason, attempted, updated in rows
        if reason is not None
    ]


def order_failure_event(
    order_sync_id: int,
    order_name: str | None,
    partner_domain: str,
    reason: FailureReason,
    failed_at: datetime,
) -> Event:
    return Event(
        NotificationKind.ORDER_FAILED,
        partner_domain,
        f"order_failed:{order_sync_id}:{reason.value}",
        {
            "order_sync_id": order_sync_id,
            "order_name": order_name or f"#{order_sync_id}",
            "reason": reason.value,
            "reason_text": reason_text(reason),
            "failed_at": failed_at.isoformat(),
            "path": "/partner/orders?status=failed",
        },
    )


def statement_events(now: datetime | None = None) -> list[Event]:
    """The last closed month's statements that had activity (orders sent or credits)."""
    terms = retail_terms()
    period = Period.month_of(today_in(terms.zone, now)).previous_month()
    events = []
    for summary in period_summaries(period, terms):
        figures = summary.figures
        if not (figures.orders or figures.credits):
            continue
        payload: dict[str, Any] = {
            "period": period.key,
            "label": period.label,
            "orders": figures.orders,
            "sent": str(round_money(figures.sent, terms.currency)),
            "credits": figures.credits,
            "credited": str(round_money(figures.credited, terms.currency)),
            "balance": str(round_money(figures.balance, terms.currency)),
            "currency": terms.currency,
            "path": f"/partner/statements/{period.key}",
        }
        events.append(
            Event(
                NotificationKind.STATEMENT,
                summary.partner.domain,
                f"statement:{summary.partner.domain}:{period.key}",
                payload,
            )
        )
    return events


def last_digest(shop_domain: str) -> NotificationOutbox | None:
    return db.session.scalar(
        select(NotificationOutbox)
        .where(
            NotificationOutbox.shop_domain == shop_domain,
            NotificationOutbox.kind == NotificationKind.ADMIN_DIGEST,
        )
        .order_by(NotificationOutbox.created_at.desc(), NotificationOutbox.id.desc())
        .limit(1)
    )


def admin_digest_events(now: datetime | None = None) -> list[Event]:
    """The digest for the retail store, or nothing: none within the hour, or nothing new."""
    now = now or utcnow()
    retail = db.session.scalar(select(RetailStore).order_by(RetailStore.id).limit(1))
    if retail is None:
        return []
    previous = last_digest(retail.shop_domain)
    if previous is not None and previous.created_at > now - DIGEST_EVERY:
        return []
    sections = digest_sections(retail)
    keys = sorted(item["key"] for s in sections for item in s["items"])
    seen = set((previous.payload.get("keys") or []) if previous is not None else [])
    new = [key for key in keys if key not in seen]
    if not new:
        return []
    return [
        Event(
            NotificationKind.ADMIN_DIGEST,
            retail.shop_domain,
            f"admin_digest:{now:%Y-%m-%dT%H}",
            {
                "sections": sections,
                "keys": keys,
                "new": new,
                "path": "/admin/",
                "at": now.isoformat(),
            },
        )
    ]
