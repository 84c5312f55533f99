"""Against the sandbox, with committed data: workers and webhooks racing for a partner's orders."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, text, update

from powerpact.extensions import db
from powerpact.models import Cadence, OrderStatus, OrderSync, OrderSyncEvent, PartnerStore
from powerpact.orders import push
from powerpact.shopify.clients import client_for
from tests.e2e.test_orders import NORTH, RETAIL, set_up


def ready_orders_held_back(harness, maps, count: int) -> list[int]:
    """``count`` ready orders for North Star, not sent yet (its cadence was daily meanwhile)."""
    set_cadence(Cadence.DAILY)
    for _ in range(count):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": 1}], "shipping": "4.00"},
        )
    harness.settle()
    set_cadence(Cadence.IMMEDIATE)
    ids = list(
        db.session.scalars(
            select(OrderSync.id).where(OrderSync.status == OrderStatus.READY_FOR_SYNC)
        )
    )
    assert len(ids) == count
    return ids


def set_cadence(cadence: Cadence) -> None:
    db.session.execute(
        update(PartnerStore).where(PartnerStore.shop_domain == NORTH).values(cadence=cadence)
    )
    db.session.commit()


def in_threads(harness, *targets) -> tuple[list[threading.Thread], list[BaseException]]:
    """Run each target in its own thread and app context, all released at once."""
    start = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target):
        with harness.app.app_context():
            start.wait()
            try:
                target()
            except BaseException as exc:  # reported to the test below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    return threads, errors


def test_two_workers_racing_for_one_partner_send_each_order_once(harness):
    maps = set_up(harness)
    ids = ready_orders_held_back(harness, maps, 6)

    threads, errors = in_threads(
        harness, lambda: push.push_partner(NORTH), lambda: push.push_partner(NORTH)
    )
    for thread in threads:
        thread.join(60)
    assert not errors

    created = Counter(order["source_identifier"] for order in harness.shop(NORTH)["orders"])
    assert created == {f"powerpact-order-sync-{i}": 1 for i in ids}
    creates = [c for c in harness.sandbox.calls[NORTH] if c.operation == "OrderCreate"]
    assert len(creates) == 6
    db.session.expire_all()
    statuses = db.session.scalars(select(OrderSync.status).where(OrderSync.id.in_(ids)))
    assert set(statuses) == {OrderStatus.SYNCED}


def test_a_cancellation_committed_during_a_send_is_not_overwritten(harness):
    """A webhook holding the OrderSync (as capture does) makes the send wait, then skip it."""
    maps = set_up(harness)
    (order_id,) = ready_orders_held_back(harness, maps, 1)

    with db.engine.connect() as webhook:
        webhook.execute(
            text("SELECT 1 FROM order_syncs WHERE id = :id FOR UPDATE"), {"id": order_id}
        )
        webhook.execute(
            text("UPDATE order_syncs SET status = 'cancelled' WHERE id = :id"), {"id": order_id}
        )
        threads, errors = in_threads(harness, lambda: push.push_partner(NORTH))
        time.sleep(0.5)  # the send would have reached the partner by now, were it not waiting
        webhook.commit()
    threads[0].join(60)
    assert not errors

    assert harness.shop(NORTH)["orders"] == []
    db.session.expire_all()
    assert db.session.get(OrderSync, order_id).status == OrderStatus.CANCELLED


def test_a_send_killed_after_shopify_created_the_order_is_found_despite_the_lagging_search(
    harness, monkeypatch
):
    """The worker dies between Shopify's answer and our commit; the retry comes at once,
    while the sandbox's search index does not hold the new order yet."""
    maps = set_up(harness)
    (order_id,) = ready_orders_held_back(harness, maps, 1)
    assert harness.sandbox.search_lag_seconds >= 1

    def killed(*args, **kwargs):
        raise SystemExit("worker killed after Shopify's answer")

    monkeypatch.setattr(push, "mark_sent", killed)
    with pytest.raises(SystemExit):
        push.push_partner(NORTH)
    db.session.rollback()
    monkeypatch.undo()
    identifier = f"powerpact-order-sync-{order_id}"
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == NORTH)
    ).one()
    assert (
        push.find_partner_order(client_for(partner), identifier).existing is None
    )  # not indexed yet
    db.session.rollback()

    assert push.push_partner(NORTH) == {"sent": 1}
    created = Counter(order["source_identifier"] for order in harness.shop(NORTH)["orders"])
    assert created == {identifier: 1}
    db.session.expire_all()
    order = db.session.get(OrderSync, order_id)
    assert order.status == OrderStatus.SYNCED
    last = db.session.scalars(
        select(OrderSyncEvent.message)
        .where(OrderSyncEvent.order_sync_id == order_id)
        .order_by(OrderSyncEvent.id.desc())
    ).first()
    assert last.startswith("Found the already created")
