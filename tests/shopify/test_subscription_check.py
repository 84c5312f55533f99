"""The subscription check: what is missing is created, what is misaddressed replaced."""

import pytest

from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import UserErrors
from powerpact.shopify.install import TAKEN, repair_subscriptions
from tests.factories import RetailStoreFactory

RETAIL = "bubbly-retail.myshopify.com"
URI = "https://powerpact.example.com/webhooks"


def listing(shopify, nodes):
    shopify.on(
        RETAIL,
        "WebhookSubscriptions",
        lambda v: {
            "webhookSubscriptions": {
                "nodes": nodes,
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            }
        },
    )


def refuse_creates(shopify, error):
    shopify.on(
        RETAIL,
        "WebhookSubscriptionCreate",
        lambda v: {
            "webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [error]}
        },
    )


def test_a_subscription_another_worker_made_a_moment_ago_is_no_error(shopify, db_session):
    """An install and the worker's start-up check may subscribe at the same moment."""
    listing(shopify, [])
    refuse_creates(shopify, {"field": ["webhookSubscription", "callbackUrl"], "message": TAKEN})
    client = client_for(RetailStoreFactory())
    assert repair_subscriptions(client, ("ORDERS_CREATE",), URI) == {"created": [], "removed": []}


def test_any_other_refusal_is_raised(shopify, db_session):
    listing(shopify, [])
    refuse_creates(shopify, {"field": ["topic"], "message": "Topic is not supported"})
    with pytest.raises(UserErrors, match="Topic is not supported"):
        repair_subscriptions(client_for(RetailStoreFactory()), ("ORDERS_CREATE",), URI)


def test_only_our_topics_at_another_address_are_deleted(shopify, db_session):
    listing(
        shopify,
        [
            {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": URI},
            {
                "id": "gid://shopify/WebhookSubscription/2",
                "topic": "ORDERS_PAID",
                "uri": "https://old.example/webhooks",
            },
            {
                "id": "gid://shopify/WebhookSubscription/3",
                "topic": "CARTS_CREATE",
                "uri": "https://old.example/webhooks",
            },
        ],
    )
    deleted = []
    shopify.on(
        RETAIL,
        "WebhookSubscriptionDelete",
        lambda v: (
            deleted.append(v["id"])
            or {
                "webhookSubscriptionDelete": {
                    "deletedWebhookSubscriptionId": v["id"],
                    "userErrors": [],
                }
            }
        ),
    )
    shopify.on(
        RETAIL,
        "WebhookSubscriptionCreate",
        lambda v: {
            "webhookSubscriptionCreate": {
                "webhookSubscription": {
                    "id": "gid://shopify/WebhookSubscription/4",
                    "topic": v["topic"],
                },
                "userErrors": [],
            }
        },
    )
    changes = repair_subscriptions(
        client_for(RetailStoreFactory()), ("ORDERS_CREATE", "ORDERS_PAID"), URI
    )
    assert changes == {"created": ["ORDERS_PAID"], "removed": ["ORDERS_PAID"]}
    assert deleted == ["gid://shopify/WebhookSubscription/2"]
