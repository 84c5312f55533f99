"""The sandbox itself: shops, rate limits, faults, the call log and webhook emission.

What happens inside a shop (catalog and stock changes, orders, fulfilment) lives
in ``catalog`` and ``orders``; control actions and GraphQL mutations share those
methods, so both fire the same webhooks.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from powerpact.sandbox import payloads
from powerpact.sandbox.catalog import CatalogActions, handleize
from powerpact.sandbox.config import SandboxConfig
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.orders import OrderActions
from powerpact.sandbox.store import PLANS, Shop, Store, now_iso, numeric
from powerpact.sandbox.throttle import LeakyBucket
from powerpact.sandbox.webhooks import Delivery, WebhookDispatcher, topic_of

__all__ = [
    "CallRecord",
    "Faults",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "handleize",
    "numeric",
]


@dataclass
class CallRecord:
    """One Admin API request as the call log keeps it."""

    operation: str
    requested_cost: int
    actual_cost: int
    throttled: bool
    status: int
    at: float = field(default_factory=time.time)
    unmodelled: list[str] = field(default_factory=list)


FAULT_KINDS = ("server_errors", "timeouts", "unauthorized", "unavailable", "not_found")


@dataclass
class Faults:
    """Injected failures of one shop's API: the next N calls answer so.

    ``server_errors`` 502, ``timeouts`` 504 after ``timeout_seconds``, ``unauthorized``
    401 (a revoked token), ``unavailable`` 402 (a frozen shop), ``not_found`` 404.
    """

    server_errors: int = 0
    timeouts: int = 0
    unauthorized: int = 0
    unavailable: int = 0
    not_found: int = 0
    timeout_seconds: float = 6.0

    def take(self) -> str | None:
        for kind in FAULT_KINDS:
            if getattr(self, kind) > 0:
                setattr(self, kind, getattr(self, kind) - 1)
                return kind
        return None

    def as_dict(self) -> dict[str, Any]:
        return {kind: getattr(self, kind) for kind in (*FAULT_KINDS, "timeout_seconds")}


class Sandbox(CatalogActions, OrderActions):
    """Every shop of one sandbox, with its bucket, faults and call log, behind one lock."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.webhooks = WebhookDispatcher(
            self.config.api_secret,
            self.config.transport,
            retry_delays=self.config.webhook_retry_delays,
            api_version=self.config.api_version,
            time_scale=self.config.webhook_time_scale,
        )
        self.webhooks.on_give_up = self._drop_failing_subscription
        self._action = threading.local()
        self._clear()

    def _clear(self) -> None:
        self.store = Store()
        self.buckets: dict[str, LeakyBucket] = {}
        self.faults: dict[str, Faults] = {}
        self.calls: dict[str, list[CallRecord]] = {}
        self.unmodelled: dict[str, set[str]] = {}
        self.order_create_limit: int | None = self.config.order_create_limit
        self.search_lag_seconds: float = self.config.search_lag_seconds
        self._order_create_times: dict[str, list[float]] = {}

    def reset(self) -> None:
        """Forget every shop, token, call and held webhook (the dispatcher keeps running)."""
        with self.lock:
            self._clear()
            self.webhooks.reset()

    # -- shops ---------------------------------------------------------------------
    def add_shop(self, domain: str, name: str, *, plan: str | None = None, **settings: Any) -> Shop:
        plan = plan or self.config.default_plan
        if plan not in PLANS:
            raise SandboxError(f"unknown plan {plan!r} ({', '.join(PLANS)})")
        with self.lock:
            shop = self.store.add_shop(domain, name, plan=plan, **settings)
            preset = PLANS[plan]
            self.buckets[domain] = LeakyBucket(
                preset["maximum"], preset["restore_rate"], self.config.clock
            )
            self.faults[domain] = Faults()
            self.calls[domain] = []
            return shop

    def shop(self, domain: str) -> Shop:
        return self.store.shop(domain)

    # -- the call log --------------------------------------------------------------
    def record_call(self, shop: str, record: CallRecord) -> None:
        with self.lock:
            self.calls.setdefault(shop, []).append(record)
            self.unmodelled.setdefault(shop, set()).update(record.unmodelled)

    def call_summary(self, shop: str) -> dict[str, Any]:
        with self.lock:
            calls = list(self.calls.get(shop, []))
            unmodelled = sorted(self.unmodelled.get(shop, set()))
        return {
            "calls": len(calls),
            "throttled": sum(c.throttled for c in calls),
            "requested_cost": sum(c.requested_cost for c in calls),
            "actual_cost": sum(c.actual_cost for c in calls),
            "operations": [c.operation for c in calls[-200:]],
            "log": [
                {
                    "operation": c.operation,
                    "requested_cost": c.requested_cost,
                    "actual_cost": c.actual_cost,
                    "throttled": c.throttled,
                    "status": c.status,
                    "at": c.at,
                }
                for c in calls[-200:]
            ],
            "unmodelled_fields": unmodelled,
        }

    # -- webhooks ------------------------------------------------------------------
    @contextlib.contextmanager
    def action(self) -> Iterator[str]:
        """One merchant action: every webhook emitted inside shares one event id.

        Shopify's ``X-Shopify-Event-Id`` is "shared across all deliveries produced by
        the same merchant action"
        (https://shopify.dev/docs/apps/build/webhooks/delivery-structure): a bulk edit
        that changes a price and the stock fires ``products/update`` and
        ``inventory_levels/update`` under one event id. Each request to the sandbox
        (a GraphQL call, a console or control action) is one action; nested actions
        keep the outer one's id.
        """
        outer = getattr(self._action, "event_id", None)
        if outer is not None:
            yield outer
            return
        self._action.event_id = str(uuid.uuid4())
        try:
            yield self._action.event_id
        finally:
            self._action.event_id = None

    def emit(
        self, shop: Shop, topic: str, payload: dict[str, Any] | Callable[[], dict[str, Any]]
    ) -> None:
        """Send ``topic`` to every subscription of ``shop`` for it (none: nothing happens).

        ``payload`` may be a function that builds it, called only if someone subscribed.
        """
        urls = [s.uri for s in shop.subscriptions.values() if topic_of(s.topic) == topic]
        if urls:
            body = payload() if callable(payload) else payload
            event_id = getattr(self._action, "event_id", None)
            self.webhooks.emit(shop.domain, topic, body, urls, event_id=event_id)

    def _drop_failing_subscription(self, delivery: Delivery) -> None:
        """After its last retry fails, the delivery is dropped and (``SandboxConfig.
        remove_failing_subscriptions``) the subscription made through the API deleted."""
        if not self.config.remove_failing_subscriptions:
            return
        with self.lock:
            shop = self.store.shops.get(delivery.shop)
            if shop is None:
                return
            for sub_id, sub in list(shop.subscriptions.items()):
                if sub.uri == delivery.url and topic_of(sub.topic) == delivery.topic:
                    del shop.subscriptions[sub_id]

    # -- the app's installation ----------------------------------------------------
    def uninstall(self, shop: Shop) -> None:
        """The merchant removes the app: its tokens stop working, ``app/uninstalled`` is
        sent, its webhook subscriptions are deleted.

        "Uninstalling an app triggers cleanup tasks in Shopify. This includes deleting any
        registered webhooks [...]. If an app is uninstalled during key rotation, then both
        the old and new access tokens will become unusable"
        (https://shopify.dev/docs/apps/build/authentication-authorization/app-installation/uninstall-app-api-request).
        The tokens go first, before the webhook leaves: the app confirms an
        ``app/uninstalled`` by its token answering 401 (``powerpact.shopify.lifecycle``).
        """
        self.store.revoke(shop.domain)
        self.emit(shop, "app/uninstalled", payloads.shop(shop))
        shop.subscriptions.clear()

    def change_scopes(self, shop: Shop, scopes: list[str]) -> dict[str, list[str]]:
        previous = self.store.granted_scopes(shop.domain)
        for token in self.store.tokens.values():
            if token.shop == shop.domain:
                token.scopes = list(scopes)
        self.emit(
            shop,
            "app/scopes_update",
            {
                "id": numeric(shop.id),
                "previous": previous,
                "current": list(scopes),
                "updated_at": now_iso(),
            },
        )
        return {"previous": previous, "current": list(scopes)}
