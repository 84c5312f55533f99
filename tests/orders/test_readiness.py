from datetime import UTC, datetime, timedelta

import pytest

from powerpact.models import OrderStatus
from powerpact.orders.readiness import OrderState, RiskPolicy, readiness

S = OrderStatus


@pytest.mark.parametrize(
    ("state", "authorized_ok", "status", "reason"),
    [
        (OrderState("PAID", "ACCEPT", False), False, S.READY_FOR_SYNC, None),
        (OrderState("PARTIALLY_REFUNDED", None, False), False, S.READY_FOR_SYNC, None),
        (OrderState("AUTHORIZED", "ACCEPT", False), False, S.PENDING, "payment is authorized"),
        (OrderState("AUTHORIZED", "ACCEPT", False), True, S.READY_FOR_SYNC, None),
        (OrderState("PENDING", "ACCEPT", False), False, S.PENDING, "Waiting for payment"),
        (OrderState("PAID", "INVESTIGATE", False), False, S.PENDING, "recommends investigating"),
        (OrderState("PAID", "CANCEL", False), False, S.CANCELLED, "recommends cancelling"),
        (OrderState("PAID", "ACCEPT", True), False, S.CANCELLED, "cancelled on the retail"),
        (OrderState("REFUNDED", "ACCEPT", False), False, S.CANCELLED, "refunded"),
        (OrderState("PAID", "ACCEPT", False, test=True), False, S.PENDING, "Test order"),
        (OrderState(None, None, False), False, S.PENDING, "payment is unknown"),
    ],
)
def test_readiness(state, authorized_ok, status, reason):
    result = readiness(state, accept_authorized=authorized_ok)
    assert result.status == status
    if reason is None:
        assert result.reason is None
    else:
        assert reason in result.reason


PLACED = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOLD = RiskPolicy(window=timedelta(minutes=2))


def paid(**risk) -> OrderState:
    return OrderState("PAID", risk.pop("recommendation", "NONE"), False, placed_at=PLACED, **risk)


def test_an_order_without_a_final_assessment_waits_within_the_hold_window():
    for state in (paid(), paid(risk_assessed=False)):
        held = readiness(state, risk=HOLD, now=PLACED + timedelta(seconds=30))
        assert held.status == S.PENDING and "Waiting for Shopify's fraud analysis" in held.reason
        assert "2 minutes" in held.reason
        assert held.hold_until == PLACED + timedelta(minutes=2)


def test_a_final_assessment_ends_the_wait():
    ready = readiness(paid(recommendation="ACCEPT", risk_assessed=True), risk=HOLD, now=PLACED)
    assert ready.status == S.READY_FOR_SYNC and ready.hold_until is None


def test_once_the_window_has_passed_the_order_goes_without_an_assessment_and_says_so():
    late = readiness(paid(), risk=HOLD, now=PLACED + timedelta(minutes=2))
    assert late.status == S.READY_FOR_SYNC
    assert "No final fraud assessment within 2 minutes" in late.note


def test_a_zero_window_switches_the_hold_off_and_unpaid_orders_wait_for_payment_first():
    assert readiness(paid(), risk=RiskPolicy(), now=PLACED).status == S.READY_FOR_SYNC
    unpaid = OrderState("PENDING", "NONE", False, placed_at=PLACED)
    assert "Waiting for payment" in readiness(unpaid, risk=HOLD, now=PLACED).reason


def test_investigate_holds_with_shopifys_facts_until_released():
    state = paid(recommendation="INVESTIGATE", risk_assessed=True, risk_facts=("Proxy used",))
    held = readiness(state, risk=HOLD, now=PLACED)
    assert held.status == S.PENDING and "(Proxy used)" in held.reason
    assert "Held until released" in held.reason
    released = RiskPolicy(window=HOLD.window, released=True)
    assert readiness(state, risk=released, now=PLACED).status == S.READY_FOR_SYNC
    unassessed = readiness(paid(), risk=released, now=PLACED)
    assert unassessed.status == S.READY_FOR_SYNC, "a release also ends the wait"


def test_a_release_does_not_send_a_cancelled_or_unpaid_order():
    released = RiskPolicy(window=HOLD.window, released=True)
    cancel = paid(recommendation="CANCEL", risk_assessed=True)
    assert readiness(cancel, risk=released, now=PLACED).status == S.CANCELLED
    unpaid = OrderState("PENDING", "INVESTIGATE", False, risk_assessed=True)
    assert readiness(unpaid, risk=released, now=PLACED).status == S.PENDING
