"""Webhook deliveries to the app: real headers and HMAC, retries, duplicates, shuffling."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

log = logging.getLogger(__name__)
Transport = Callable[[str, dict[str, str], bytes], int]


def http_transport(url: str, headers: dict[str, str], body: bytes) -> int:
    """POST with Shopify's 5-second budget; a slow or failed answer counts as a failure."""
    try:
        return requests.post(url, data=body, headers=headers, timeout=5).status_code
    except requests.RequestException:
        return 0


TWO_WORD_RESOURCES = (
    "INVENTORY_LEVELS",
    "INVENTORY_ITEMS",
    "FULFILLMENT_ORDERS",
    "ORDER_TRANSACTIONS",
)


def topic_of(enum_name: str) -> str:
    """The REST name of a topic: ``INVENTORY_LEVELS_UPDATE`` is ``inventory_levels/update``."""
    for resource in TWO_WORD_RESOURCES:
        if enum_name.startswith(resource + "_"):
            return f"{resource.lower()}/{enum_name[len(resource) + 1 :].lower()}"
    head, _, rest = enum_name.lower().partition("_")
    return f"{head}/{rest}"


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    url: str
    topic: str
    shop: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat().replace("+00:00", "Z")
    )
    attempts: int = 0
    outcomes: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "topic": self.topic,
            "shop": self.shop,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "triggered_at": self.triggered_at,
            "attempts": self.attempts,
            "outcomes": list(self.outcomes),
            "payload": json.loads(self.body),
        }


# "Webhooks will now be retried a total of 8 times over 4 hours using an exponential backoff
# schedule" (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism): doubling
# delays that add up to 4 hours, after which the delivery is dropped.
SHOPIFY_RETRY_DELAYS: tuple[float, ...] = tuple(
    round(14400 * 2**k / (2**8 - 1), 1) for k in range(8)
)


class WebhookDispatcher:
    """Sends each event to the subscriptions for its topic, from a sender thread.

    Deliveries leave asynchronously, as Shopify's do (and never while a sandbox
    lock is held, so the app may call the sandbox back while handling one).
    ``duplicates`` resends every event under a new webhook id (same event id), as
    Shopify sometimes does; ``shuffle`` holds deliveries and sends them in random
    order on ``flush``. A non-2xx answer is retried with backoff, keeping the id, on
    Shopify's schedule (``SHOPIFY_RETRY_DELAYS``, times ``time_scale`` to compress it),
    then dropped; ``on_give_up`` is told.
    ``drain`` waits until everything queued has been sent.
    """

    def __init__(
        self,
        secret: str,
        transport: Transport,
        *,
        retry_delays: tuple[float, ...] = SHOPIFY_RETRY_DELAYS,
        api_version: str = "2026-07",
        time_scale: float = 1.0,
    ) -> None:
        self.secret = secret
        self.transport = transport
        self.retry_delays = retry_delays
        self.time_scale = time_scale
        self.api_version = api_version
        self.on_give_up: Callable[[Delivery], None] | None = None
        self.duplicates = False
        self.shuffle = False
        self.held: list[Delivery] = []
        self.log: list[Delivery] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._retrying = 0
        self._later: list[tuple[float, int, Callable[[], None]]] = []
        self._later_seq = itertools.count()
        self._later_ready = threading.Condition(self._lock)
        self._later_thread: threading.Thread | None = None
        self._sender = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._sender.start()

    def emit(
        self,
        shop: str,
        topic: str,
        payload: dict[str, Any],
        urls: list[str],
        *,
        event_id: str | None = None,
    ) -> list[Delivery]:
        """Queue ``topic`` for each of ``urls``; ``event_id`` is the action's, if it has one.

        Every delivery of one event carries the same ``X-Shopify-Event-Id``, and so does
        every topic one merchant action produces ("shared across all deliveries produced
        by the same merchant action",
        https://shopify.dev/docs/apps/build/webhooks/delivery-structure).
        """
        body = json.dumps(payload).encode()
        event_id = event_id or str(uuid.uuid4())
        copies = 2 if self.duplicates else 1
        deliveries = [
            Delivery(url, topic, shop, body, str(uuid.uuid4()), event_id)
            for url in urls
            for _ in range(copies)
        ]
        with self._lock:
            self.log.extend(deliveries)
            if self.shuffle:
                self.held.extend(deliveries)
                return deliveries
        for delivery in deliveries:
            self._queue.put(delivery)
        return deliveries

    def reset(self) -> None:
        """Drop held deliveries and the log; switches back off."""
        with self._lock:
            self.held, self.log = [], []
        self.duplicates = self.shuffle = False

    def flush(self) -> int:
        with self._lock:
            held, self.held = self.held, []
        random.shuffle(held)
        for delivery in held:
            self._queue.put(delivery)
        return len(held)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery (and retry or ``later`` action due within
        ``timeout``) was sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0 and self._retrying == 0:
                return True
            time.sleep(0.005)
        return False

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` seconds: something the shop does by itself later
        (its fraud analysis), which ``drain`` waits for like a retry.

        One timer thread serves them all, in due order (thousands of orders each schedule
        a few, which a thread apiece would not bear).
        """
        with self._later_ready:
            self._retrying += 1
            heapq.heappush(self._later, (time.monotonic() + delay, next(self._later_seq), action))
            self._later_ready.notify()
            if self._later_thread is None:
                self._later_thread = threading.Thread(
                    target=self._run_later, name="sandbox-later", daemon=True
                )
                self._later_thread.start()

    def _run_later(self) -> None:
        while True:
            with self._later_ready:
                while not self._later or self._later[0][0] > time.monotonic():
                    wait = self._later[0][0] - time.monotonic() if self._later else None
                    self._later_ready.wait(wait)
                _, _, action = heapq.heappop(self._later)
            try:
                action()
            except Exception:  # a failing action must not stop the later ones
                log.exception("a scheduled sandbox action failed")
            finally:
                with self._lock:
                    self._retrying -= 1

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                self._send(delivery)
            except Exception:  # a broken transport must not stop later deliveries
                log.exception("webhook delivery %s failed", delivery.webhook_id)
            finally:
                self._queue.task_done()

    def headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(self.secret, delivery.body),
            "X-Shopify-Shop-Domain": delivery.shop,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-API-Version": self.api_version,
        }

    def _send(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        status = self.transport(delivery.url, self.headers(delivery), delivery.body)
        delivery.outcomes.append(status)
        if 200 <= status < 300:
            return
        if delivery.attempts > len(self.retry_delays):
            log.warning(
                "webhook %s to %s given up after %s attempts",
                delivery.webhook_id,
                delivery.url,
                delivery.attempts,
            )
            if self.on_give_up is not None:
                self.on_give_up(delivery)
            return
        delay = self.retry_delays[delivery.attempts - 1] * self.time_scale
        with self._lock:
            self._retrying += 1
        timer = threading.Timer(delay, self._requeue, args=(delivery,))
        timer.daemon = True
        timer.start()

    def _requeue(self, delivery: Delivery) -> None:
        self._queue.put(delivery)
        with self._lock:
            self._retrying -= 1


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` (tests waiting for retried deliveries)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
