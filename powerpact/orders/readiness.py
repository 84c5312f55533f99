"""Is a retail order ready to go to its partners? Re-evaluated on every event for the order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from powerpact.models import OrderStatus

PAID = {"PAID", "PARTIALLY_REFUNDED"}
GONE = {"REFUNDED", "VOIDED", "EXPIRED"}


@dataclass(frozen=True)
class OrderState:
    financial_status: str | None
    risk_recommendation: str | None
    cancelled: bool
    test: bool = False
    risk_assessed: bool = False
    risk_facts: tuple[str, ...] = ()
    placed_at: datetime | None = None


@dataclass(frozen=True)
class Readiness:
    status: OrderStatus
    reason: str | None = None
    hold_until: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class RiskPolicy:
    """The retail store's risk hold and this order's release.

    ``window``: how long after its creation an order waits for a final fraud assessment
    (zero: not at all). ``released``: an admin pressed Release, which sends the order
    whatever Shopify's analysis says or has not yet said.
    """

    window: timedelta = timedelta(0)
    released: bool = False


def readiness(
    state: OrderState,
    *,
    accept_authorized: bool = False,
    risk: RiskPolicy = RiskPolicy(),
    now: datetime | None = None,
) -> Readiness:
    """Ready when paid (or authorized, if allowed), risk accepted, not cancelled, not a test.

    1. Cancellation wins over everything; a recommendation to cancel, or a payment
       refunded or voided, cancels; a test order is held.
    2. A recommendation to investigate holds the order, with Shopify's negative facts as
       the reason, until an admin releases it (or it is cancelled at Shopify).
    3. An unpaid order waits for its payment.
    4. Within the risk hold window, an order with no final assessment yet (none, or
       only ``PENDING`` ones) waits for Shopify's analysis; ``hold_until`` says until
       when. Once the window has passed it goes without one, and says so.
    """
    financial = (state.financial_status or "").upper()
    recommendation = (state.risk_recommendation or "NONE").upper()
    if state.cancelled:
        return Readiness(OrderStatus.CANCELLED, "The order was cancelled on the retail store.")
    if recommendation == "CANCEL":
        return Readiness(OrderStatus.CANCELLED, "Shopify's fraud analysis recommends cancelling.")
    if financial in GONE:
        return Readiness(OrderStatus.CANCELLED, f"The payment was {financial.lower()}.")
    if state.test:
        return Readiness(OrderStatus.PENDING, "Test order: it is not sent to partners.")
    if recommendation == "INVESTIGATE" and not risk.released:
        return Readiness(OrderStatus.PENDING, investigate_reason(state.risk_facts))
    if not (financial in PAID or (accept_authorized and financial == "AUTHORIZED")):
        shown = financial.lower().replace("_", " ") or "unknown"
        return Readiness(OrderStatus.PENDING, f"Waiting for payment (payment is {shown}).")
    if state.risk_assessed or risk.released or not risk.window:
        return Readiness(OrderStatus.READY_FOR_SYNC)
    deadline = state.placed_at + risk.window if state.placed_at else None
    if deadline is not None and now is not None and now < deadline:
        return Readiness(
            OrderStatus.PENDING,
            "Waiting for Shopify's fraud analysis (held at most "
            f"{minutes(risk.window)} after the order was placed).",
            hold_until=deadline,
        )
    return Readiness(
        OrderStatus.READY_FOR_SYNC,
        note=f"No final fraud assessment within {minutes(risk.window)}: sent without one.",
    )


INVESTIGATE_REASON = "Shopify's fraud analysis recommends investigating"


def investigate_reason(facts: tuple[str, ...]) -> str:
    """Shopify's negative facts, then what lifts the hold (Release, or a cancellation)."""
    because = f" ({'; '.join(facts)})" if facts else ""
    return f"{INVESTIGATE_REASON}{because}. Held until released, or cancelled in Shopify."


def minutes(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    count = seconds // 60
    return f"{count} minute{'s' if count != 1 else ''}"
