"""Erasing a redacted customer from the partner order PowerPact created: each outcome.

The whole redaction (every table, the partner order's address) is tested in
``tests/security/test_compliance_redaction.py``; here, what happens when the partner's
store refuses, fails for a while, or is gone, and which partner orders are touched.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from powerpact.db_types import utcnow
from powerpact.models import OrderSyncEvent
from powerpact.orders.privacy import (
    ERASED_ADDRESS,
    PARTNER_REDACTED,
    PARTNER_REDACTION_FAILED,
    carries_the_customer,
    redact_partner_order,
    scrub_order,
)
from powerpact.orders.tasks import redact_partner_order_task
from powerpact.shopify.errors import TransportError
from tests.factories import OrderSyncFactory, PartnerBatchFactory, PartnerStoreFactory
from tests.shopify_double import Answer


def kinds(order):
    return [e.kind for e in order.events]


@pytest.fixture
def sent(db_session):
    partner = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com")
    order = OrderSyncFactory(partner=partner, synced=True, partner_order_name="#A7")
    db_session.commit()
    return order


def answering(shopify, shop, answer):
    calls = []

    def update(variables):
        calls.append(variables["input"])
        return answer(variables)

    shopify.on(shop, "PartnerOrderRedact", update)
    return calls


def accepted(variables):
    return {"orderUpdate": {"order": {"id": variables["input"]["id"]}, "userErrors": []}}


def test_the_address_is_overwritten_once_and_the_timeline_says_so(sent, shopify, db_session):
    calls = answering(shopify, sent.partner_shop_domain, accepted)
    assert redact_partner_order(sent.id) == "redacted"
    assert calls == [{"id": sent.partner_order_id, "shippingAddress": ERASED_ADDRESS}]
    assert redact_partner_order(sent.id) == "already redacted"
    assert len(calls) == 1
    db_session.expire_all()
    assert kinds(sent)[-1] == PARTNER_REDACTED and "#A7" in sent.events[-1].message


def test_a_refusal_is_recorded_at_once_for_a_person(sent, shopify, db_session):
    def refused(variables):
        error = {"field": ["shippingAddress"], "message": "Address is invalid"}
        return {"orderUpdate": {"order": None, "userErrors": [error]}}

    answering(shopify, sent.partner_shop_domain, refused)
    assert redact_partner_order(sent.id, last_attempt=False) == "failed"
    db_session.expire_all()
    assert kinds(sent)[-1] == PARTNER_REDACTION_FAILED
    assert "Address is invalid" in sent.events[-1].message
    assert "ask the partner" in sent.events[-1].message


def test_a_transient_failure_is_raised_for_a_retry_then_recorded_on_the_last(
    sent, shopify, db_session
):
    def down(variables):
        raise Answer(503)

    answering(shopify, sent.partner_shop_domain, down)
    with pytest.raises(TransportError):
        redact_partner_order(sent.id, last_attempt=False)
    db_session.expire_all()
    assert PARTNER_REDACTION_FAILED not in kinds(sent)
    assert redact_partner_order(sent.id, last_attempt=True) == "failed"
    db_session.expire_all()
    assert kinds(sent)[-1] == PARTNER_REDACTION_FAILED


def test_the_task_retries_until_its_last_attempt(sent, shopify, db_session):
    """Huey passes the task: with retries left it raises (Huey retries), then records."""

    def down(variables):
        raise Answer(503)

    answering(shopify, sent.partner_shop_domain, down)
    with pytest.raises(TransportError):
        redact_partner_order_task.call_local(sent.id, task=SimpleNamespace(retries=2))
    assert redact_partner_order_task.call_local(sent.id, task=SimpleNamespace(retries=0)) == (
        "failed"
    )


def test_an_uninstalled_partner_is_recorded_without_a_call(db_session, shopify):
    gone = PartnerStoreFactory(uninstalled=True)
    order = OrderSyncFactory(partner=gone, synced=True)
    assert redact_partner_order(order.id, last_attempt=False) == "failed"
    assert shopify.calls == []
    db_session.expire_all()
    assert "uninstalled" in order.events[-1].message


def test_only_a_partner_order_made_for_this_order_alone_carries_the_customer(db_session):
    batch = PartnerBatchFactory()
    assert carries_the_customer(OrderSyncFactory(synced=True))
    assert not carries_the_customer(OrderSyncFactory(ready=True))
    in_batch = OrderSyncFactory(partner=batch.partner, synced=True, batch_id=batch.id)
    assert not carries_the_customer(in_batch)
    assert redact_partner_order(in_batch.id) == "nothing to redact"


def test_scrub_order_blanks_her_values_wherever_they_are_echoed(db_session):
    order = OrderSyncFactory(
        customer_email="ada@example.com",
        shipping_address={"firstName": "Al", "lastName": "Lovelace", "city": "Redactville"},
        error_message="Refused: LOVELACE at redactville",
        hold_reason="ada@example.com placed it from far away",
    )
    order.events.append(
        OrderSyncEvent(
            kind="tracking_updated",
            message="Tracking is now 1Z42.",
            details={"tracking": {"company": "UPS", "number": "1Z42", "url": "https://u.example"}},
        )
    )
    db_session.flush()
    scrub_order(order, ["+15550001111"])
    assert order.error_message == "Refused: [redacted] at [redacted]"
    assert order.hold_reason == "[redacted] placed it from far away"
    assert order.events[-1].message == "Tracking is now [redacted]."
    assert order.events[-1].details == {"tracking": {"company": "UPS"}}
    assert (order.ship_to_city, order.ship_to_country, order.shipping_address) == (None,) * 3


def test_a_token_about_to_lapse_is_refreshed_before_the_redaction(shopify, db_session):
    """``client_for`` never refreshes: the task takes the refresh step first, as a push does."""
    partner = PartnerStoreFactory(
        shop_domain="carol-coffee.myshopify.com",
        access_token="shpat_old",
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(seconds=30),
    )
    order = OrderSyncFactory(partner=partner, synced=True)
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{partner.shop_domain}/admin/oauth/access_token",
        json={
            "access_token": "shpat_new",
            "scope": "write_orders",
            "expires_in": 3600,
            "refresh_token": "shprt_new",
            "refresh_token_expires_in": 7776000,
        },
    )
    calls = answering(shopify, partner.shop_domain, accepted)
    assert redact_partner_order(order.id, last_attempt=False) == "redacted"
    assert len(calls) == 1
    assert shopify.mock.calls[-1].request.headers["X-Shopify-Access-Token"] == "shpat_new"
