"""Which webhook topics PowerPact receives: the one list of them, ``TOPICS``.

Topics are named as Shopify CLI and the ``X-Shopify-Topic`` header name them
(``orders/create``). Each is declared once, with:

- its audience. The retail store's, the partners' and every shop's topics are
  subscribed at install through the Admin API (``powerpact.shopify.install``),
  because a store's topics depend on its role. The compliance topics are declared in
  the app configuration (``shopify.app.toml``): they cannot be subscribed through the
  Admin API (https://shopify.dev/docs/api/webhooks). A topic declared there reaches
  every store the app is installed on
  (https://shopify.dev/docs/apps/build/webhooks/subscribe), so no role topic goes
  there: it would reach the wrong stores and arrive twice where also subscribed.
- its payload's shape (``payload_shapes``), checked before its handler runs.
- its handler, as ``"module:function"``, imported when first needed: this module, the
  edge to Shopify, imports no capability. ``powerpact.tasks`` imports every handler
  when a worker starts, so a wrong path stops the worker then.

A handler gets the stored delivery and its parsed payload and returns what is worth
keeping as the delivery's result (or None); it raises ``DeliveryRefused`` to mark the
delivery failed with its reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from powerpact.models import WebhookDelivery
from powerpact.shopify import payload_shapes as shapes

Handler = Callable[[WebhookDelivery, dict[str, Any]], dict[str, Any] | None]


class Audience(StrEnum):
    """Which stores a topic reaches (as ``shopify.app.toml`` lists the subscribed ones)."""

    RETAIL = "retail store"
    PARTNER = "partner stores"
    EVERY_SHOP = "every store"
    COMPLIANCE = "compliance"


@dataclass(frozen=True)
class Topic:
    name: str
    audience: Audience
    shape: shapes.Shape
    handler: str

    def load_handler(self) -> Handler:
        module, _, function = self.handler.partition(":")
        return cast(Handler, getattr(importlib.import_module(module), function))


RETAIL, PARTNER, EVERY_SHOP, COMPLIANCE = Audience
ORDER_EVENT = "powerpact.orders.tasks:on_order_event"
# Tracking that waits for a held, scheduled or incomplete retail fulfillment order is
# copied when it can be fulfilled again.
FULFILLMENT_ORDER_READY = "powerpact.orders.aftercare:on_fulfillment_order_ready"
PARTNER_FULFILMENT = "powerpact.orders.aftercare:on_partner_fulfilment"
# A refund or an edit may change partner orders already sent (``orders.refunds``).
REFUND_OR_EDIT = "powerpact.orders.tasks:on_refund_or_edit"
LIFECYCLE = "powerpact.shopify.lifecycle"

TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic("orders/create", RETAIL, shapes.ORDER, ORDER_EVENT),
        Topic("orders/paid", RETAIL, shapes.ORDER, ORDER_EVENT),
        Topic("orders/updated", RETAIL, shapes.ORDER, ORDER_EVENT),
        Topic("orders/cancelled", RETAIL, shapes.ORDER, ORDER_EVENT),
        Topic("orders/risk_assessment_changed", RETAIL, shapes.RISK_ASSESSMENT, ORDER_EVENT),
        Topic("orders/edited", RETAIL, shapes.ORDER_EDITED, REFUND_OR_EDIT),
        Topic("refunds/create", RETAIL, shapes.REFUND, REFUND_OR_EDIT),
        Topic(
            "fulfillment_orders/hold_released",
            RETAIL,
            shapes.FULFILLMENT_ORDER_EVENT,
            FULFILLMENT_ORDER_READY,
        ),
        Topic(
            "fulfillment_orders/scheduled_fulfillment_order_ready",
            RETAIL,
            shapes.FULFILLMENT_ORDER_EVENT,
            FULFILLMENT_ORDER_READY,
        ),
        Topic(
            "fulfillment_orders/moved",
            RETAIL,
            shapes.FULFILLMENT_ORDER_MOVED,
            FULFILLMENT_ORDER_READY,
        ),
        Topic(
            "products/update",
            PARTNER,
            shapes.PRODUCT,
            "powerpact.catalog.keeping:on_product_update",
        ),
        Topic(
            "products/delete",
            PARTNER,
            shapes.PRODUCT_DELETED,
            "powerpact.catalog.keeping:on_product_delete",
        ),
        Topic(
            "inventory_levels/update",
            PARTNER,
            shapes.INVENTORY_LEVEL,
            "powerpact.inventory.tasks:on_inventory_level_update",
        ),
        Topic("fulfillments/create", PARTNER, shapes.FULFILLMENT, PARTNER_FULFILMENT),
        Topic("fulfillments/update", PARTNER, shapes.FULFILLMENT, PARTNER_FULFILMENT),
        Topic("app/uninstalled", EVERY_SHOP, shapes.SHOP, f"{LIFECYCLE}:app_uninstalled"),
        Topic(
            "app/scopes_update", EVERY_SHOP, shapes.SCOPES_UPDATE, f"{LIFECYCLE}:app_scopes_update"
        ),
        Topic(
            "customers/data_request",
            COMPLIANCE,
            shapes.CUSTOMER_DATA_REQUEST,
            f"{LIFECYCLE}:customers_data_request",
        ),
        Topic(
            "customers/redact",
            COMPLIANCE,
            shapes.CUSTOMER_REDACT,
            f"{LIFECYCLE}:customers_redact",
        ),
        Topic("shop/redact", COMPLIANCE, shapes.SHOP_REDACT, f"{LIFECYCLE}:shop_redact"),
    )
}


class DeliveryRefused(Exception):
    """The handler will not act on this delivery; the message is the stored reason."""

    transient = False


def topics_for(audience: Audience) -> tuple[str, ...]:
    return tuple(name for name, topic in TOPICS.items() if topic.audience == audience)


def shop_topics(is_retail: bool) -> tuple[str, ...]:
    """The topics PowerPact subscribes a store to at install, by its role."""
    return topics_for(RETAIL if is_retail else PARTNER) + topics_for(EVERY_SHOP)


def subscription_topic(topic: str) -> str:
    """The ``WebhookSubscriptionTopic`` value of a topic: ``orders/create`` -> ``ORDERS_CREATE``."""
    return topic.replace("/", "_").upper()


_HANDLERS: dict[str, Handler] = {}  # imported so far, by topic


def handler_for(topic: str) -> Handler | None:
    """The topic's handler, or None for a topic PowerPact does not handle."""
    if topic not in _HANDLERS and topic in TOPICS:
        _HANDLERS[topic] = TOPICS[topic].load_handler()
    return _HANDLERS.get(topic)


def import_handlers() -> None:
    """Import every topic's handler now (a worker's start), so a wrong path fails at once."""
    for topic in TOPICS:
        handler_for(topic)


def shape_problem(topic: str, payload: dict[str, Any]) -> str | None:
    """Why ``payload`` is not a ``topic`` payload, or None (a topic without a shape has no
    handler either: it is ignored, not processed)."""
    declared = TOPICS.get(topic)
    if declared is None:
        return None
    problem = declared.shape.problem(payload)
    return None if problem is None else f"not a payload of {topic}: {problem}"
