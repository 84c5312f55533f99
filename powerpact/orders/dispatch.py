"""What is due to go out: partners with orders to send now, orders whose risk hold ended.

The per-minute ``orders.tasks.dispatch_due_orders`` asks these and enqueues one send per
partner (at once, or the batch its cadence says) and a second look at each held order.
"""

from __future__ import annotations

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import Cadence, OrderStatus, OrderSync, PartnerStore
from powerpact.orders.capture import RISK_HOLD_GRACE


def orders_past_their_risk_hold(limit: int = 200) -> list[str]:
    """Retail orders still waiting for a fraud analysis whose hold ended (a lost schedule)."""
    cutoff = utcnow() - RISK_HOLD_GRACE
    return list(
        db.session.scalars(
            select(OrderSync.bubbly_order_id)
            .where(
                OrderSync.status == OrderStatus.PENDING,
                OrderSync.risk_hold_until.is_not(None),
                OrderSync.risk_hold_until < cutoff,
            )
            .distinct()
            .limit(limit)
        )
    )


def partners_with_due_orders() -> dict[str, list[str]]:
    """Partners with ready orders to send now: immediate ones, and batched ones to look at."""
    now = utcnow()
    rows = db.session.execute(
        select(PartnerStore.shop_domain, PartnerStore.cadence)
        .join(OrderSync, OrderSync.partner_shop_domain == PartnerStore.shop_domain)
        .where(
            OrderSync.status == OrderStatus.READY_FOR_SYNC,
            (OrderSync.next_attempt_at.is_(None)) | (OrderSync.next_attempt_at <= now),
        )
        .distinct()
    ).all()
    immediate = sorted(domain for domain, cadence in rows if cadence == Cadence.IMMEDIATE)
    batched = sorted(domain for domain, cadence in rows if cadence != Cadence.IMMEDIATE)
    return {"immediate": immediate, "batched": batched}
