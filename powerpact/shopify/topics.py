"""Which webhook topics PowerPact receives, and which function handles each.

Topics are named as Shopify CLI and the ``X-Shopify-Topic`` header name them
(``orders/create``). Two paths bring them:

- shop-specific subscriptions, made at install through the Admin API
  (``powerpact.shopify.install``), because a store's topics depend on its role;
- the app configuration (``shopify.app.toml``) for the compliance topics, which
  cannot be subscribed through the Admin API (https://shopify.dev/docs/api/webhooks).
  A topic declared there reaches every store the app is installed on
  (https://shopify.dev/docs/apps/build/webhooks/subscribe), so no role topic goes
  there: it would reach the wrong stores and arrive twice where also subscribed.

Capability packages register their handlers with ``@handles("orders/create")``;
``powerpact.tasks`` imports them all, so a worker knows every handler. A
handler gets the stored delivery and its parsed payload (of its topic's shape,
``payload_shapes``) and returns what is worth keeping as the delivery's result (or
None); it raises ``DeliveryRefused`` to mark the delivery failed with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from powerpact.models import WebhookDelivery

RETAIL_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/risk_assessment_changed",
    # Tracking that waits for a held, scheduled or incomplete retail fulfillment order
    # is copied when it can be fulfilled again (powerpact.orders.aftercare).
    "fulfillment_orders/hold_released",
    "fulfillment_orders/scheduled_fulfillment_order_ready",
    "fulfillment_orders/moved",
)
PARTNER_TOPICS = (
    "products/update",
    "products/delete",
    "inventory_levels/update",
    "fulfillments/create",
    "fulfillments/update",
)
EVERY_SHOP_TOPICS = ("app/uninstalled", "app/scopes_update")
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")

Handler = Callable[[WebhookDelivery, dict[str, Any]], dict[str, Any] | None]


class DeliveryRefused(Exception):
    """The handler will not act on this delivery; the message is the stored reason."""

    transient = False


_HANDLERS: dict[str, Handler] = {}


def handles(*topics: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for topic in topics:
            if topic in _HANDLERS and _HANDLERS[topic] is not fn:
                raise ValueError(f"two handlers for webhook topic {topic!r}")
            _HANDLERS[topic] = fn
        return fn

    return register


def handler_for(topic: str) -> Handler | None:
    return _HANDLERS.get(topic)


def registered_topics() -> list[str]:
    return sorted(_HANDLERS)


def shop_topics(is_retail: bool) -> tuple[str, ...]:
    """The topics PowerPact subscribes a store to at install, by its role."""
    return (RETAIL_TOPICS if is_retail else PARTNER_TOPICS) + EVERY_SHOP_TOPICS


def subscription_topic(topic: str) -> str:
    """The ``WebhookSubscriptionTopic`` value of a topic: ``orders/create`` -> ``ORDERS_CREATE``."""
    return topic.replace("/", "_").upper()
