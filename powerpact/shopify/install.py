"""What follows an install: learn the shop, subscribe to its webhooks."""

from __future__ import annotations

from typing import Any

from flask import current_app

RETAIL_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_PAID",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_RISK_ASSESSMENT_CHANGED",
)
PARTNER_TOPICS = (
    "PRODUCTS_UPDATE",
    "PRODUCTS_DELETE",
    "INVENTORY_LEVELS_UPDATE",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
)
COMMON_TOPICS = ("APP_UNINSTALLED", "APP_SCOPES_UPDATE")


def webhook_topics(is_retail: bool) -> tuple[str, ...]:
    return (RETAIL_TOPICS if is_retail else PARTNER_TOPICS) + COMMON_TOPICS


def webhook_callback_url() -> str:
    return f"{current_app.config['POWERPACT'].app_url}/webhooks"


def after_install(shop_domain: str) -> dict[str, Any]:
    raise NotImplementedError(f"after_install({shop_domain}) waits for the GraphQL client")
