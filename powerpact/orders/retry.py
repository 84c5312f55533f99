"""A person's retry of failed orders: back to ``ready_for_sync`` unless the cause remains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, PartnerStore, StoreStatus
from powerpact.orders.capture import add_event


@dataclass
class RetryOutcome:
    retried: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        parts = []
        if self.retried:
            parts.append(f"{len(self.retried)} order(s) will be sent again shortly.")
        for reason in sorted(set(self.refused.values())):
            count = sum(1 for r in self.refused.values() if r == reason)
            parts.append(f"{count} not retried: {reason}")
        return " ".join(parts) or "Nothing to retry."


def blocking_reason(order: OrderSync, partner: PartnerStore | None) -> str | None:
    if order.status != OrderStatus.FAILED:
        return "only failed orders can be retried."
    if partner is None or partner.status == StoreStatus.DISABLED or partner.access_token is None:
        return "the partner has uninstalled PowerPact; retry after they reinstall."
    if partner.reauthorization_required:
        return "the partner must re-authorize PowerPact first (Partners page, Re-authorize)."
    return None


def retry_order_syncs(
    ids: Sequence[int], *, actor: str, partner_shop_domain: str | None = None
) -> RetryOutcome:
    """Set the failed ones among ``ids`` back to ``ready_for_sync``; say why for the others.

    With ``partner_shop_domain`` only that partner's rows are looked at (a partner
    can never touch another partner's orders).
    """
    statement = select(OrderSync).where(OrderSync.id.in_(list(ids)))
    if partner_shop_domain is not None:
        statement = statement.where(OrderSync.partner_shop_domain == partner_shop_domain)
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update()
    orders = list(db.session.scalars(statement))
    partners = {
        p.shop_domain: p
        for p in db.session.scalars(
            select(PartnerStore).where(
                PartnerStore.shop_domain.in_({o.partner_shop_domain for o in orders})
            )
        )
    }
    outcome = RetryOutcome()
    for order in orders:
        reason = blocking_reason(order, partners.get(order.partner_shop_domain))
        if reason:
            outcome.refused[order.id] = reason
            continue
        order.status = OrderStatus.READY_FOR_SYNC
        order.next_attempt_at = None
        add_event(order, "retry", f"Retry requested by {actor}.")
        outcome.retried.append(order.id)
    db.session.commit()
    return outcome
