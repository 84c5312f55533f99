"""Against the sandbox: smaller truths of Shopify PowerPact must live with.

A development store's five ``orderCreate`` a minute, a partner store in another
currency, old orders behind ``read_all_orders``, HTTPS webhook addresses.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus, OrderSync
from powerpact.orders.push import push_order_sync
from tests.e2e.test_orders import NORTH, RETAIL, set_up


def place(harness, sku, count):
    for _ in range(count):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": [{"sku": sku, "quantity": 1}], "shipping": "4.00"},
        )
    harness.settle()


def north_syncs():
    db.session.expire_all()
    statement = (
        select(OrderSync).where(OrderSync.partner_shop_domain == NORTH).order_by(OrderSync.id)
    )
    return db.session.scalars(statement).all()


@pytest.mark.parametrize("answer", ["user_error", "throttled"])
def test_a_development_stores_order_limit_is_waited_out_not_failed(harness, answer):
    maps = set_up(harness)
    harness.sandbox.config.order_create_limit_answer = answer
    harness.control("POST", f"/shops/{NORTH}/throttle", {"plan": "development"})
    place(harness, maps[NORTH].bubbly_sku, 6)

    syncs = north_syncs()
    assert [s.status for s in syncs] == [OrderStatus.SYNCED] * 5 + [OrderStatus.READY_FOR_SYNC]
    sixth = syncs[-1]
    assert sixth.last_order_failure_reason == FailureReason.THROTTLED, sixth.error_message
    assert sixth.next_attempt_at is not None
    assert len(harness.shop(NORTH)["orders"]) == 5

    harness.sandbox.config.clock = lambda: time.monotonic() + 61  # a minute later
    assert push_order_sync(sixth.id) == "sent"
    assert len(harness.shop(NORTH)["orders"]) == 6


def test_a_retail_order_older_than_60_days_is_still_read(harness):
    """Shopify shows an app orders older than 60 days only with ``read_all_orders``."""
    maps = set_up(harness)
    placed = datetime.now(UTC) - timedelta(days=75)
    harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {
            "lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": 1}],
            "shipping": "4.00",
            "created_at": placed.isoformat(),
        },
    )
    harness.settle()
    assert [s.status for s in north_syncs()] == [OrderStatus.SYNCED]
    assert len(harness.shop(NORTH)["orders"]) == 1
