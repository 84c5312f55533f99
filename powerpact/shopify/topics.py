"""Which function handles which webhook topic.

Capability packages register their handlers with ``@handles("orders/create")``;
``powerpact.tasks`` imports them all, so a worker knows every handler. A
handler gets the stored delivery and its parsed payload and returns what is
worth keeping as the delivery's result (or None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from powerpact.models import WebhookDelivery

Handler = Callable[[WebhookDelivery, dict[str, Any]], dict[str, Any] | None]
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
