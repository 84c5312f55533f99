"""``shop/redact`` erases what notifications keep of the shop; a still-installed shop keeps it."""

from __future__ import annotations

from sqlalchemy import select

from powerpact.models import (
    DeliveryStatus,
    NotificationKind,
    NotificationOutbox,
    NotificationSetting,
    WebhookDelivery,
)
from powerpact.notifications.outbox import Event, emit
from tests.shopify_double import token_check_answers
from tests.webhook_bodies import shop_redact_body


def notification_rows(db_session, domain):
    return [
        *db_session.scalars(
            select(NotificationSetting).where(NotificationSetting.shop_domain == domain)
        ),
        *db_session.scalars(
            select(NotificationOutbox).where(NotificationOutbox.shop_domain == domain)
        ),
    ]


def test_shop_redact_of_a_partner_erases_its_notification_rows(
    personas, send_webhook, db_session, shopify
):
    alice, bob = personas.alice.shop_domain, personas.bob.shop_domain
    for domain in (alice, bob):
        db_session.add(NotificationSetting(shop_domain=domain, email=f"o@{domain}", muted=[]))
        emit([Event(NotificationKind.ORDER_FAILED, domain, "order_failed:1:x", {})])
    db_session.commit()
    token_check_answers(shopify, alice, 401)  # 48 hours after the uninstall
    send_webhook("shop/redact", shop_redact_body(alice), shop=alice, webhook_id="alice-redact")
    delivery = db_session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == "alice-redact")
    )
    assert delivery.status == DeliveryStatus.PROCESSED
    assert notification_rows(db_session, alice) == []
    assert len(notification_rows(db_session, bob)) == 2


def test_a_shop_still_installed_keeps_its_notification_rows(
    personas, send_webhook, db_session, shopify
):
    alice = personas.alice.shop_domain
    db_session.add(NotificationSetting(shop_domain=alice, email="o@alice.example", muted=[]))
    db_session.commit()
    token_check_answers(shopify, alice, 200)  # its token works: a forged or stale redact
    send_webhook("shop/redact", shop_redact_body(alice), shop=alice, webhook_id="alice-redact")
    assert len(notification_rows(db_session, alice)) == 1
