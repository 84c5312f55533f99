"""An admin's release of a retail order held for its fraud risk."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync
from powerpact.orders.capture import add_event
from powerpact.orders.readiness import INVESTIGATE_REASON

MAX_ACTOR_LENGTH = 255
NOT_RELEASABLE = "Only an order held for its fraud risk, and not released yet, can be released."


@dataclass
class ReleaseOutcome:
    order_gid: str | None = None
    released: list[int] = field(default_factory=list)
    refused: str | None = None

    @property
    def message(self) -> str:
        if self.refused:
            return self.refused
        return (
            f"Released {len(self.released)} partner order(s): they go to the partners "
            "as soon as the order's payment allows."
        )


def held_for_risk() -> ColumnElement[bool]:
    """Waiting for Shopify's analysis, or held because it recommends investigating."""
    return or_(
        OrderSync.risk_hold_until.is_not(None),
        OrderSync.hold_reason.startswith(INVESTIGATE_REASON, autoescape=True),
    )


def is_releasable(order: OrderSync) -> bool:
    """The Python twin of ``held_for_risk``, for the desk's Release button."""
    if order.status != OrderStatus.PENDING or order.risk_released_at is not None:
        return False
    return order.risk_hold_until is not None or (order.hold_reason or "").startswith(
        INVESTIGATE_REASON
    )


def release_risk_hold(order_sync_id: int, *, actor: str) -> ReleaseOutcome:
    """Release every unsent partner order of the retail order ``order_sync_id`` belongs to.

    The release is recorded on each of them, with who gave it, and the caller has the
    order captured again after the commit: readiness then ignores the risk hold (a
    cancellation, a cancel recommendation or a missing payment still hold it).
    """
    chosen = db.session.get(OrderSync, order_sync_id)
    if chosen is None:
        return ReleaseOutcome(refused="No such order.")
    statement = (
        select(OrderSync)
        .where(
            OrderSync.bubbly_order_id == chosen.bubbly_order_id,
            OrderSync.status == OrderStatus.PENDING,
            OrderSync.risk_released_at.is_(None),
            held_for_risk(),
        )
        .order_by(OrderSync.partner_shop_domain)
    )
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update()
    held = list(db.session.scalars(statement))
    if not held:
        db.session.rollback()
        return ReleaseOutcome(
            refused="Only an order held for its fraud risk, and not released yet, can be released."
        )
    now = utcnow()
    who = actor[:MAX_ACTOR_LENGTH]
    for order in held:
        order.risk_released_at = now
        order.risk_released_by = who
        add_event(
            order,
            "risk_released",
            f"Released by {who}: sent whatever Shopify's fraud analysis says.",
            released_by=who,
        )
    return ReleaseOutcome(order_gid=chosen.bubbly_order_id, released=[o.id for o in held])
