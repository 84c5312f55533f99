"""The sandbox console's demo buttons, end to end: mixed, risky and failing orders, fulfilment."""

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus, OrderSync
from powerpact.orders.push import push_partner
from powerpact.orders.retry import retry_order_syncs
from tests.e2e.test_orders import HARBOR, NORTH, RETAIL, set_up


def press(harness, action, **form):
    response = harness.sandbox_client.post(f"/_sandbox/console/{action}", data=form)
    assert response.status_code == 302
    harness.settle()
    return response.headers["Location"]


def test_the_console_drives_the_whole_demo(harness):
    set_up(harness)
    page = harness.sandbox_client.get("/_sandbox/").get_data(as_text=True)
    assert "Place a mixed order" in page and "2 partners have products imported" in page

    press(harness, "mixed")
    synced = db.session.scalars(
        select(OrderSync).where(OrderSync.status == OrderStatus.SYNCED)
    ).all()
    assert {o.partner_shop_domain for o in synced} == {NORTH, HARBOR}

    press(harness, "risky")
    held = db.session.scalars(
        select(OrderSync).where(OrderSync.status == OrderStatus.PENDING)
    ).one()
    assert "recommends investigating" in held.hold_reason
    retail_order = harness.sandbox.shop(RETAIL).orders[held.bubbly_order_id]
    press(harness, "risk", order=retail_order.id)
    db.session.expire_all()
    assert db.session.get(OrderSync, held.id).status == OrderStatus.SYNCED

    press(harness, "failing")
    failed = db.session.scalars(
        select(OrderSync).where(OrderSync.status == OrderStatus.FAILED)
    ).one()
    assert failed.last_order_failure_reason == FailureReason.INSUFFICIENT_INVENTORY
    press(harness, "restock", shop=failed.partner_shop_domain)
    assert retry_order_syncs([failed.id], actor="test").retried == [failed.id]
    push_partner(failed.partner_shop_domain)
    db.session.expire_all()
    assert db.session.get(OrderSync, failed.id).status == OrderStatus.SYNCED

    partner_shop = harness.sandbox.shop(NORTH)
    press(harness, "fulfil", shop=NORTH, order=next(iter(partner_shop.orders)))
    db.session.expire_all()
    assert any(o.status == OrderStatus.FULFILLED for o in db.session.scalars(select(OrderSync)))
