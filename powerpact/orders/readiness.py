"""Is a retail order ready to go to its partners? Re-evaluated on every event for the order."""

from __future__ import annotations

from dataclasses import dataclass

from powerpact.models import OrderStatus

PAID = {"PAID", "PARTIALLY_REFUNDED"}
GONE = {"REFUNDED", "VOIDED", "EXPIRED"}


@dataclass(frozen=True)
class OrderState:
    financial_status: str | None
    risk_recommendation: str | None
    cancelled: bool
    test: bool = False


@dataclass(frozen=True)
class Readiness:
    status: OrderStatus
    reason: str | None = None


def readiness(state: OrderState, *, accept_authorized: bool = False) -> Readiness:
    """Ready when paid (or authorized, if allowed), risk accepted, not cancelled, not a test.

    Cancellation wins over everything; a risk recommendation to cancel cancels; a
    review or a pending payment holds the order as ``pending`` with a visible reason.
    """
    financial = (state.financial_status or "").upper()
    risk = (state.risk_recommendation or "NONE").upper()
    if state.cancelled:
        return Readiness(OrderStatus.CANCELLED, "The order was cancelled on the retail store.")
    if risk == "CANCEL":
        return Readiness(OrderStatus.CANCELLED, "Shopify's fraud analysis recommends cancelling.")
    if financial in GONE:
        return Readiness(OrderStatus.CANCELLED, f"The payment was {financial.lower()}.")
    if state.test:
        return Readiness(OrderStatus.PENDING, "Test order: it is not sent to partners.")
    if risk == "INVESTIGATE":
        return Readiness(OrderStatus.PENDING, "Held while the order's fraud risk is reviewed.")
    if financial in PAID or (accept_authorized and financial == "AUTHORIZED"):
        return Readiness(OrderStatus.READY_FOR_SYNC)
    shown = financial.lower().replace("_", " ") or "unknown"
    return Readiness(OrderStatus.PENDING, f"Waiting for payment (payment is {shown}).")
