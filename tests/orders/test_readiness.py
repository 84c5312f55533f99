import pytest

from powerpact.models import OrderStatus
from powerpact.orders.readiness import OrderState, readiness

S = OrderStatus


@pytest.mark.parametrize(
    ("state", "authorized_ok", "status", "reason"),
    [
        (OrderState("PAID", "ACCEPT", False), False, S.READY_FOR_SYNC, None),
        (OrderState("PARTIALLY_REFUNDED", None, False), False, S.READY_FOR_SYNC, None),
        (OrderState("AUTHORIZED", "ACCEPT", False), False, S.PENDING, "payment is authorized"),
        (OrderState("AUTHORIZED", "ACCEPT", False), True, S.READY_FOR_SYNC, None),
        (OrderState("PENDING", "ACCEPT", False), False, S.PENDING, "Waiting for payment"),
        (OrderState("PAID", "INVESTIGATE", False), False, S.PENDING, "fraud risk is reviewed"),
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
