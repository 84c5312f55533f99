"""The demo's story through the real send: a roaster's store refuses an order for lack of
stock (``orders/push.py`` records the failure), the minute's task mails that roaster once,
a retry that fails again for the same reason mails nothing more, and after the roaster
follows the unsubscribe link the next failure mails nobody."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from powerpact.models import FailureReason, OrderStatus
from powerpact.notifications.tasks import notify_order_failures_task
from powerpact.orders import push
from powerpact.orders.retry import retry_order_syncs
from tests.factories import OrderSyncFactory, OrderSyncLineFactory, PartnerStoreFactory
from tests.orders.test_push import PartnerStoreDouble

ALICE = "alice-roasters.myshopify.com"


def a_ready_order(partner, name):
    order = OrderSyncFactory(
        partner=partner,
        ready=True,
        bubbly_order_name=name,
        shipping_address={"firstName": "Ada", "city": "Portland", "countryCodeV2": "US"},
    )
    OrderSyncLineFactory(order_sync=order, partner_variant_id="gid://shopify/ProductVariant/11")
    return order


@pytest.fixture
def no_waiting(monkeypatch):
    """A send's waits for Shopify's search to catch up, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(push, "sleep", waited.append)
    return waited


def test_a_sold_out_failure_mails_its_partner_once_until_it_unsubscribes(
    shopify, db_session, smtp_inbox, client, no_waiting
):
    partner = PartnerStoreFactory(
        shop_domain=ALICE, name="Alice Roasters", contact_email="owner@alice.example"
    )
    first = a_ready_order(partner, "#1042")
    db_session.commit()
    PartnerStoreDouble(shopify, ALICE)
    error = {"field": ["order"], "message": "Insufficient inventory", "code": "INVENTORY"}
    shopify.on(
        ALICE, "OrderCreate", lambda v: {"orderCreate": {"order": None, "userErrors": [error]}}
    )

    push.push_order_sync(first.id)
    assert first.last_order_failure_reason == FailureReason.INSUFFICIENT_INVENTORY
    assert notify_order_failures_task.call_local() == 1
    [message] = smtp_inbox.messages
    assert message["To"] == "owner@alice.example"
    assert message["Subject"] == "Order #1042 could not be sent to Alice Roasters"

    retry_order_syncs([first.id], actor="test")
    push.push_order_sync(first.id)
    assert first.status == OrderStatus.FAILED
    assert notify_order_failures_task.call_local() == 0  # same order, same reason
    assert len(smtp_inbox.messages) == 1

    link = message["List-Unsubscribe"].strip("<>")
    assert (
        client.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    )

    second = a_ready_order(partner, "#1043")
    db_session.commit()
    push.push_order_sync(second.id)
    assert second.status == OrderStatus.FAILED
    assert notify_order_failures_task.call_local() == 0
    assert len(smtp_inbox.messages) == 1
