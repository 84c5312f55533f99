"""Token exchange on first embedded load, and refresh of expiring offline tokens."""

import json
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.models import DeliveryStatus, PartnerStore, WebhookDelivery
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ReauthorizationRequired, TokenRefreshDue
from powerpact.shopify.oauth import refresh_due_tokens, refresh_expiring_tokens, refresh_if_due
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import PartnerStoreFactory, RetailStoreFactory
from tests.webhook_bodies import order_body

SHOP = "carol-coffee.myshopify.com"
RETAIL = "bubbly-retail.myshopify.com"
TOKEN_URL = f"http://127.0.0.1:8765/shops/{SHOP}/admin/oauth/access_token"


def after_install_answers(shopify):
    shopify.on(
        SHOP,
        "ShopInfo",
        lambda v: {
            "shop": {"name": "Carol", "currencyCode": "USD", "ianaTimezone": "UTC", "plan": None},
            "locations": {"nodes": []},
            "currentAppInstallation": None,
        },
    )
    shopify.on(
        SHOP,
        "WebhookSubscriptions",
        lambda v: {"webhookSubscriptions": {"nodes": [], "pageInfo": {"hasNextPage": False}}},
    )
    shopify.on(
        SHOP,
        "WebhookSubscriptionCreate",
        lambda v: {
            "webhookSubscriptionCreate": {"webhookSubscription": {"id": "w"}, "userErrors": []}
        },
    )


def test_a_valid_id_token_for_a_new_shop_is_exchanged_for_an_offline_token(
    as_shop, shopify, db_session
):
    after_install_answers(shopify)
    shopify.mock.post(
        TOKEN_URL,
        json={
            "access_token": "shpat_carol",
            "scope": "write_orders",
            "expires_in": 3600,
            "refresh_token": "shprt_carol",
        },
    )
    response = as_shop("/partner/orders", SHOP, htmx=False)
    assert response.status_code == 200
    partner = db_session.scalars(select(PartnerStore).where(PartnerStore.shop_domain == SHOP)).one()
    assert partner.access_token == "shpat_carol"
    assert partner.name == "Carol"
    sent = shopify.mock.calls[0].request.body
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange" in sent
    assert (
        "requested_token_type=urn%3Ashopify%3Aparams%3Aoauth%3Atoken-type%3Aoffline-access-token"
        in sent
    )


def test_a_token_about_to_expire_is_refreshed_and_the_new_pair_stored(shopify, db_session):
    partner = PartnerStoreFactory(
        shop_domain=SHOP,
        access_token="shpat_old",
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(minutes=2),
    )
    shopify.mock.post(
        TOKEN_URL,
        json={
            "access_token": "shpat_new",
            "scope": "write_orders",
            "expires_in": 3600,
            "refresh_token": "shprt_new",
            "refresh_token_expires_in": 7776000,
        },
    )
    assert refresh_if_due(partner) == "shpat_new"
    assert partner.refresh_token == "shprt_new"
    assert partner.access_token_expires_at > utcnow() + timedelta(minutes=50)
    body = shopify.mock.calls[0].request.body
    assert "grant_type=refresh_token" in body and "refresh_token=shprt_old" in body
    assert refresh_if_due(partner) == "shpat_new"
    assert len(shopify.mock.calls) == 1


def test_a_token_far_from_expiry_is_used_as_is(db_session):
    partner = PartnerStoreFactory(
        access_token="shpat_ok",
        refresh_token="r",
        access_token_expires_at=utcnow() + timedelta(hours=1),
    )
    assert refresh_if_due(partner) == "shpat_ok"


def refresh_answer(access="shpat_new", refresh="shprt_new"):
    return {"access_token": access, "expires_in": 3600, "refresh_token": refresh}


def test_tokens_expiring_soon_are_refreshed_ahead_of_need(shopify, db_session):
    soon = PartnerStoreFactory(
        shop_domain=SHOP,
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(minutes=10),
    )
    later = PartnerStoreFactory(
        refresh_token="shprt_later", access_token_expires_at=utcnow() + timedelta(minutes=50)
    )
    shopify.mock.post(TOKEN_URL, json=refresh_answer())
    assert refresh_expiring_tokens() == {"refreshed": 1, "refused": 0, "failed": 0}
    assert soon.access_token == "shpat_new" and soon.refresh_token == "shprt_new"
    assert later.refresh_token == "shprt_later"
    assert len(shopify.mock.calls) == 1
    assert refresh_expiring_tokens()["refreshed"] == 0


def test_a_refused_refresh_marks_the_shop_for_reauthorization_and_is_not_repeated(
    shopify, db_session
):
    partner = PartnerStoreFactory(
        shop_domain=SHOP,
        refresh_token="shprt_spent",
        access_token_expires_at=utcnow() + timedelta(minutes=10),
    )
    db_session.commit()
    shopify.mock.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    assert refresh_expiring_tokens() == {"refreshed": 0, "refused": 1, "failed": 0}
    db_session.refresh(partner)
    assert partner.reauthorization_required
    assert refresh_expiring_tokens() == {"refreshed": 0, "refused": 0, "failed": 0}
    assert len(shopify.mock.calls) == 1


def test_a_refresh_shopify_could_not_answer_is_tried_again(shopify, db_session):
    partner = PartnerStoreFactory(
        shop_domain=SHOP,
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(minutes=10),
    )
    db_session.commit()
    shopify.mock.post(TOKEN_URL, status=503)
    assert refresh_expiring_tokens()["failed"] == 1
    shopify.mock.replace("POST", TOKEN_URL, json=refresh_answer())
    assert refresh_expiring_tokens()["refreshed"] == 1
    assert partner.refresh_token == "shprt_new" and not partner.reauthorization_required


def test_a_webhook_refreshes_a_due_token_before_its_handler_runs(shopify, db_session, send_webhook):
    """Inside the handler the refresh's commit would end the delivery's locks and keep
    half of what the handler did; so it comes first."""
    retail = RetailStoreFactory(
        shop_domain=RETAIL,
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(minutes=2),
    )
    db_session.commit()
    attempts_at_refresh = []

    def refresh(request):
        attempts_at_refresh.append(
            db_session.scalar(
                select(WebhookDelivery.attempts).where(WebhookDelivery.webhook_id == "due-token")
            )
        )
        return 200, {}, json.dumps(refresh_answer())

    shopify.mock.add_callback(
        responses.POST,
        f"http://127.0.0.1:8765/shops/{RETAIL}/admin/oauth/access_token",
        callback=refresh,
    )
    shopify.on(RETAIL, "OrderForSync", lambda variables: {"order": None})
    send_webhook("orders/create", order_body(77), shop=RETAIL, webhook_id="due-token")
    delivery = delivery_by_webhook_id("due-token")
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.attempts == 1
    assert attempts_at_refresh == [0]
    assert retail.refresh_token == "shprt_new"
    assert shopify.count("OrderForSync") == 1


def test_getting_a_client_never_refreshes_or_commits(shopify, db_session):
    """A refresh commits, which would end its caller's locks: client_for only reads."""
    partner = PartnerStoreFactory(
        shop_domain=SHOP,
        access_token="shpat_current",
        refresh_token="shprt_old",
        access_token_expires_at=utcnow() + timedelta(minutes=3),
    )
    partner.name = "uncommitted"
    client = client_for(partner)
    assert client.connection.token_fingerprint == hash("shpat_current")
    assert len(shopify.mock.calls) == 0
    db_session.rollback()
    assert db_session.scalar(select(PartnerStore).where(PartnerStore.shop_domain == SHOP)) is None


def test_a_token_about_to_lapse_gets_no_client_but_a_clear_transient_error(db_session):
    partner = PartnerStoreFactory(
        refresh_token="shprt_old", access_token_expires_at=utcnow() + timedelta(seconds=30)
    )
    with pytest.raises(TokenRefreshDue, match="refresh it before asking for a client") as due:
        client_for(partner)
    assert due.value.transient
    partner.reauthorization_required = True
    with pytest.raises(ReauthorizationRequired):
        client_for(partner)


def test_refresh_due_tokens_refreshes_only_the_due_ones_and_marks_a_refusal(shopify, db_session):
    due = PartnerStoreFactory(
        shop_domain=SHOP, refresh_token="shprt_spent", access_token_expires_at=utcnow()
    )
    fine = RetailStoreFactory(
        refresh_token="shprt_fine", access_token_expires_at=utcnow() + timedelta(hours=1)
    )
    db_session.commit()
    shopify.mock.post(TOKEN_URL, status=401, json={"error": "invalid_grant"})
    assert refresh_due_tokens(due, fine, None) is True
    db_session.refresh(due)
    assert due.reauthorization_required and not fine.reauthorization_required
    assert len(shopify.mock.calls) == 1
    assert refresh_due_tokens(fine) is False
