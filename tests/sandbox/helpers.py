"""Helpers the sandbox tests share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from powerpact.sandbox import Sandbox

SHOP = "north-star-roasters.myshopify.com"
SECRET = "sandbox-test-secret-0123456789abcdef"
KEY = "key"
APP_URL = "http://127.0.0.1:5000"


def mint(sandbox: Sandbox, shop: str, scopes: list[str] | None = None) -> str:
    scopes = scopes or list(sandbox.config.scopes)
    return sandbox.store.issue_token(shop, scopes, expiring=False, now=time.time()).value


def subscribe(data: Callable[..., dict[str, Any]], token: str, topic: str, shop: str) -> None:
    created = data(
        token,
        """mutation($topic: WebhookSubscriptionTopic!) {
          webhookSubscriptionCreate(topic: $topic,
            webhookSubscription: {uri: "http://127.0.0.1:5000/webhooks", format: JSON}) {
            webhookSubscription { id } userErrors { message }
          }
        }""",
        {"topic": topic},
        shop,
    )
    assert created["webhookSubscriptionCreate"]["userErrors"] == []


def topics(sandbox: Sandbox, sent: list) -> list[str]:
    assert sandbox.webhooks.drain()
    return [headers["X-Shopify-Topic"] for _, headers, _ in sent]
