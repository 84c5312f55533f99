"""Two captures of one retail order at once, on PostgreSQL: the one that pulled the order
before it was paid must not record that older state over the capture that saw it paid."""

import threading
import time
from decimal import Decimal

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync
from powerpact.orders.capture import capture_order
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.orders.test_capture import line, order_node

RETAIL = "bubbly-retail.myshopify.com"


def test_a_pull_made_before_the_payment_does_not_overwrite_the_paid_state(committed_app, shopify):
    RetailStoreFactory(shop_domain=RETAIL)
    alice = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com")
    pm = ProductMapFactory(partner=alice, partner_price=Decimal("12.00"))
    db.session.commit()
    lines = [line(1, pm.bubbly_variant_id, "15.60")]
    state = {"order": order_node(lines, financial="PENDING"), "pulls": 0}
    first_pulled = threading.Event()

    def pull(variables):
        state["pulls"] += 1
        snapshot = state["order"]
        if state["pulls"] == 1:
            first_pulled.set()
            time.sleep(0.5)  # the second capture pulls and commits now, unless it waits
        return {"order": snapshot}

    shopify.on(RETAIL, "OrderForSync", pull)
    errors: list[BaseException] = []

    def capture() -> None:
        try:
            with committed_app.app_context():
                capture_order(state["order"]["id"])
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    before_payment = threading.Thread(target=capture)
    before_payment.start()
    assert first_pulled.wait(10)
    state["order"] = order_node(lines, financial="PAID")
    after_payment = threading.Thread(target=capture)
    after_payment.start()
    before_payment.join(30)
    after_payment.join(30)
    assert errors == []
    db.session.expire_all()
    (order,) = db.session.scalars(select(OrderSync)).all()
    assert order.status == OrderStatus.READY_FOR_SYNC
