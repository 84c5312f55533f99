"""How one sandbox is set up: the app it serves, its clocks, its webhook transport."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from powerpact.sandbox.webhooks import Transport, http_transport
from powerpact.shopify.schema import API_VERSION

DEFAULT_SCOPES = (
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_orders",
    "write_orders",
    "read_fulfillments",
    "write_fulfillments",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "write_order_edits",
)


@dataclass
class SandboxConfig:
    """The PowerPact app this sandbox plays Shopify for, and the sandbox's own switches.

    ``clock`` (monotonic seconds) drives the leaky buckets and the development
    stores' order limit, so tests move time instead of sleeping; ``wall_clock``
    (epoch seconds) drives token expiry and OAuth timestamps. ``scopes`` are the
    app's configured scopes, granted by token exchange (Shopify-managed install).
    ``order_create_limit`` switches on development stores' five ``orderCreate``
    a minute. ``enforce_scopes`` answers ``ACCESS_DENIED`` for a root field the
    token's scopes do not cover (off by default: benchmarks mint narrow tokens).
    ``search_lag_seconds`` is how long a change to an order takes to reach the orders
    search index (``order_search``): Shopify documents no read-after-write consistency
    for ``orders(query:)``, so the lag is on by default; 0 turns it off.
    """

    api_key: str = "powerpact-dev-key"
    api_secret: str = "sandbox-secret-change-me-0123456789"  # noqa: S105 (a local stand-in)
    app_url: str = "http://127.0.0.1:5000"
    transport: Transport = http_transport
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    auto_approve: bool = True
    default_plan: str = "standard"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    webhook_retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    order_create_limit: int | None = None
    enforce_scopes: bool = False
    search_lag_seconds: float = 3.0
    api_version: str = API_VERSION
    base_url: str = "http://127.0.0.1:8765"
