"""The Admin GraphQL client: the one way PowerPact talks to a shop.

One ``ShopConnection`` per shop holds a pooled ``requests.Session`` and the shop's
rate-limit state; it is shared by threads (its state is behind a lock). A
``ShopifyClient`` is a connection plus the ``CallStats`` of one piece of work,
so every sync run and benchmark counts its own calls and cost.

Pacing: after every answer the client knows the shop's bucket from
``extensions.cost.throttleStatus`` (never a guessed size); before a call it
reserves the cost the operation asked for last time and, if the bucket cannot
cover it, waits for the restore rate to refill it instead of being throttled.

Retries (exponential backoff with jitter): ``THROTTLED`` and 429 always (nothing
ran); 5xx, ``INTERNAL_SERVER_ERROR``, timeouts and dropped connections only for
queries and for mutations that are idempotent (the caller says so, or the document
carries Shopify's ``@idempotent`` directive) or guarded, since a mutation may have
taken effect. A connect timeout is always retried: nothing was sent.

Every HTTP call is one INFO line (``_log_call``): shop, operation, status, cost and
duration; never the token.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from powerpact.shopify.errors import (
    GraphQLErrors,
    ReauthorizationRequired,
    ShopGone,
    ShopifyError,
    Throttled,
    TransportError,
)
from powerpact.shopify.operations import is_mutation, name_of, operation
from powerpact.shopify.paging import paginate
from powerpact.shopify.schema import API_VERSION

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_EXPECTED_COST = 10
GONE_STATUSES = {402, 404, 423}
RETRYABLE_GRAPHQL_CODES = {"INTERNAL_SERVER_ERROR"}


@dataclass
class CallStats:
    """What a piece of work cost: for sync logs and benchmarks. Safe across threads."""

    calls: int = 0
    requested_cost: int = 0
    actual_cost: int = 0
    throttled: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def reset(self) -> dict[str, float]:
        """Zero the counters and return what they held (one run's totals)."""
        with self._lock:
            totals = self._totals()
            self.calls = self.requested_cost = self.actual_cost = 0
            self.throttled = self.retries = 0
            self.waited_seconds = 0.0
        return totals

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return self._totals()

    def _totals(self) -> dict[str, float]:
        return {
            "calls": self.calls,
            "requested_cost": self.requested_cost,
            "actual_cost": self.actual_cost,
            "throttled": self.throttled,
            "retries": self.retries,
            "waited_seconds": round(self.waited_seconds, 3),
        }


class RateLimiter:
    """The shop's leaky bucket as Shopify last reported it, with reservations in flight."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.maximum: float | None = None
        self.available = 0.0
        self.restore_rate = 0.0
        self._seen_at = 0.0
        self._in_flight = 0.0

    def _estimate(self, now: float) -> float:
        assert self.maximum is not None
        return min(self.maximum, self.available + (now - self._seen_at) * self.restore_rate)

    def reserve(self, cost: float) -> float:
        """Take ``cost`` from the bucket; return how long to wait before sending.

        The reservation stays counted as in flight until ``release``, so that an
        answer to another thread (which cannot know of it) does not hand it out twice.
        """
        with self._lock:
            self._in_flight += cost
            if self.maximum is None or self.restore_rate <= 0:
                return 0.0
            now = self._clock()
            estimate = self._estimate(now)
            wait = max(0.0, (min(cost, self.maximum) - estimate) / self.restore_rate)
            self.available, self._seen_at = estimate - min(cost, self.maximum), now
            return wait

    def release(self, cost: float) -> None:
        """The request that reserved ``cost`` has been answered (or given up)."""
        with self._lock:
            self._in_flight = max(0.0, self._in_flight - cost)

    def observe(self, status: dict[str, Any], answered: float = 0.0) -> None:
        """Shopify's view of the bucket, less what other requests still have in flight.

        ``answered`` is the reservation of the request this status came with: it is
        spent on Shopify's side already, so it is released here, not counted twice.
        """
        with self._lock:
            self._in_flight = max(0.0, self._in_flight - answered)
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"]) - self._in_flight
            self.restore_rate = float(status["restoreRate"])
            self._seen_at = self._clock()


def environment_read_once(session: requests.Session, url: str) -> requests.Session:
    """A session that reads the proxy and CA settings of the environment now, not per call.

    requests otherwise walks ``os.environ`` on every request, about half a
    millisecond of CPU a call, for settings that do not change while we run.
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class ShopConnection:
    """A shop's address, token, HTTP session and rate-limit state (shared by threads)."""

    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        api_version: str = API_VERSION,
        admin_origin: str = "https://{shop}",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shop = shop
        self.url = (
            f"{admin_origin.format(shop=shop).rstrip('/')}/admin/api/{api_version}/graphql.json"
        )
        self.timeout = timeout
        self.session = session or environment_read_once(requests.Session(), self.url)
        self.session.headers.update(
            {"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"}
        )
        self.limiter = RateLimiter(clock)
        self.expected_cost: dict[str, float] = {}
        self.token_fingerprint = hash(access_token)
        self._prepared = self.session.prepare_request(requests.Request("POST", self.url))

    def post(self, body: dict[str, Any]) -> requests.Response:
        """POST ``body`` as JSON to the shop's GraphQL endpoint.

        The URL and headers never change for a connection, so the request is
        prepared once and copied: ``Session.post`` would merge the session's
        settings and parse the URL again on every call, a third of its CPU.
        """
        request = self._prepared.copy()
        request.prepare_body(data=None, files=None, json=body)
        return self.session.send(request, timeout=self.timeout, proxies=self.session.proxies)

    def __repr__(self) -> str:
        return f"<ShopConnection {self.shop}>"


class ShopifyClient:
    """Runs named operations against one shop, counting them in its own ``stats``."""

    def __init__(
        self,
        connection: ShopConnection,
        *,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.stats = CallStats()
        self._reservation = threading.local()

    @classmethod
    def for_shop(
        cls,
        shop: str,
        access_token: str,
        *,
        api_version: str = API_VERSION,
        admin_origin: str = "https://{shop}",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        **options: Any,
    ) -> ShopifyClient:
        """A client with a connection of its own (``clients.client_for`` pools them instead)."""
        connection = ShopConnection(
            shop,
            access_token,
            api_version=api_version,
            admin_origin=admin_origin,
            timeout=timeout,
            clock=clock,
        )
        return cls(connection, **options)

    @property
    def shop(self) -> str:
        return self.connection.shop

    def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, idempotent: bool = False
    ) -> dict[str, Any]:
        """Run a named operation (or a document) and return its ``data``.

        ``idempotent=True`` allows retrying a mutation after a timeout or 5xx: pass it
        only when repeating the mutation cannot do harm (an idempotency key, a
        compare-and-set input, or a guard the caller checked).
        """
        text = operation(document) if "{" not in document else document
        name = name_of(text) or "anonymous"
        retry_unsafe = is_mutation(text) and not (idempotent or _declares_idempotency(text))
        body = {"query": text, "variables": variables or {}, "operationName": name}
        for attempt in range(self.max_retries + 1):
            self._reservation.cost = self._pace(name)
            try:
                return self._attempt(name, body, retry_unsafe)
            except _Retry as retry:
                if attempt == self.max_retries:
                    raise retry.final from None
                delay = retry.after if retry.after is not None else self._backoff(attempt)
                self.stats.add(retries=1, waited_seconds=delay)
                log.info("%s %s: %s, retrying in %.2fs", self.shop, name, retry.final, delay)
                self.sleep(delay)
            finally:
                self.connection.limiter.release(self._reservation.cost)
                self._reservation.cost = 0.0
        raise AssertionError("unreachable")  # pragma: no cover

    def _pace(self, name: str) -> float:
        """Reserve the operation's expected cost, waiting if the bucket cannot cover it yet."""
        expected = self.connection.expected_cost.get(name, DEFAULT_EXPECTED_COST)
        wait = self.connection.limiter.reserve(expected)
        if wait > 0:
            self.stats.add(waited_seconds=wait)
            self.sleep(wait)
        return expected

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return delay / 2 + random.random() * delay / 2  # noqa: S311 (jitter)

    def _attempt(self, name: str, body: dict[str, Any], retry_unsafe: bool) -> dict[str, Any]:
        connection = self.connection
        started = time.perf_counter()
        try:
            response = connection.post(body)
        except requests.ConnectTimeout as exc:
            _log_call(self.shop, name, "no-connection", {}, time.perf_counter() - started)
            error = TransportError(f"{self.shop}: could not connect ({exc.__class__.__name__})")
            raise _Retry(error) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            _log_call(self.shop, name, "no-answer", {}, time.perf_counter() - started)
            error = TransportError(f"{self.shop}: {name} got no answer ({exc.__class__.__name__})")
            if retry_unsafe:
                raise error from None
            raise _Retry(error) from None
        self.stats.add(calls=1)
        cost: dict[str, Any] = {}
        try:
            return self._read(name, response, retry_unsafe, cost)
        finally:
            _log_call(self.shop, name, response.status_code, cost, time.perf_counter() - started)

    def _read(
        self, name: str, response: requests.Response, retry_unsafe: bool, cost: dict[str, Any]
    ) -> dict[str, Any]:
        """Turn one HTTP answer into ``data``, a typed error, or a ``_Retry``."""
        status = response.status_code
        if status == 429:
            self.stats.add(throttled=1)
            raise _Retry(Throttled(f"{self.shop}: HTTP 429"), after=_retry_after(response))
        if status in (401, 403):
            raise ReauthorizationRequired(f"{self.shop} refused PowerPact's token (HTTP {status})")
        if status in GONE_STATUSES:
            raise ShopGone(f"{self.shop} is not available to PowerPact (HTTP {status})")
        if status >= 500:
            error = TransportError(f"{self.shop}: Shopify answered HTTP {status}")
            if retry_unsafe:
                raise error
            raise _Retry(error)
        try:
            payload = response.json()
        except ValueError:
            raise TransportError(f"{self.shop}: answer to {name} was not JSON") from None
        cost.update(self._observe_cost(name, payload))
        errors = payload.get("errors") or []
        if any(_code(e) == "THROTTLED" for e in errors):
            self.stats.add(throttled=1)
            raise _Retry(Throttled(f"{self.shop}: THROTTLED"), after=self._refill_time(name))
        if any(_code(e) == "ACCESS_DENIED" for e in errors):
            raise ReauthorizationRequired(f"{self.shop}: access denied for {name}")
        if any(_code(e) == "SHOP_INACTIVE" for e in errors):
            raise ShopGone(f"{self.shop} is not active (SHOP_INACTIVE)")
        if any(_code(e) in RETRYABLE_GRAPHQL_CODES for e in errors):
            error = TransportError(f"{self.shop}: Shopify failed inside {name}")
            if retry_unsafe:
                raise error
            raise _Retry(error)
        if errors:
            raise GraphQLErrors(errors)
        data: dict[str, Any] = payload.get("data") or {}
        return data

    def _observe_cost(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        cost: dict[str, Any] | None = (payload.get("extensions") or {}).get("cost")
        if not cost:
            return {}
        requested = int(cost.get("requestedQueryCost") or 0)
        actual = int(cost.get("actualQueryCost") or 0)
        self.stats.add(requested_cost=requested, actual_cost=actual)
        if requested:
            self.connection.expected_cost[name] = requested
        if cost.get("throttleStatus"):
            answered = getattr(self._reservation, "cost", 0.0)
            self._reservation.cost = 0.0
            self.connection.limiter.observe(cost["throttleStatus"], answered)
        return cost

    def _refill_time(self, name: str) -> float | None:
        limiter = self.connection.limiter
        if limiter.maximum is None or limiter.restore_rate <= 0:
            return None
        needed = self.connection.expected_cost.get(name, DEFAULT_EXPECTED_COST)
        return max(0.0, (needed - limiter.available) / limiter.restore_rate)

    def paginate(
        self, document: str, variables: dict[str, Any], path: str | Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """Yield every node of the connection at ``path`` (see ``paging.paginate``)."""
        return paginate(self, document, variables, path)


class _Retry(Exception):
    def __init__(self, final: ShopifyError, after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.after = after


def _declares_idempotency(document: str) -> bool:
    """Shopify deduplicates a mutation sent with ``@idempotent(key: ...)``."""
    return "@idempotent(" in document


def _log_call(
    shop: str, name: str, status: int | str, cost: dict[str, Any], seconds: float
) -> None:
    """One line per HTTP call: shop, operation, HTTP status (or why there was none), the
    query cost from ``extensions.cost`` (actual, and what was requested; ``-`` when the
    answer had none) and duration in milliseconds. Never the token, the variables or
    the answer: those hold customers' details."""
    log.info(
        "shopify call shop=%s operation=%s status=%s cost=%s requested=%s duration_ms=%.1f",
        shop,
        name,
        status,
        _or_dash(cost.get("actualQueryCost")),
        _or_dash(cost.get("requestedQueryCost")),
        seconds * 1000,
    )


def _or_dash(value: Any) -> Any:
    return "-" if value is None else value


def _code(error: dict[str, Any]) -> str | None:
    return (error.get("extensions") or {}).get("code")


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
