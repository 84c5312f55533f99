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
    "read_all_orders",
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
    ``order_create_limit`` puts every shop under a limit of that many ``orderCreate``
    a minute (shops on the ``development`` plan always are, at five);
    ``order_create_limit_answer`` is how the limit refuses: ``"user_error"`` or a
    ``"throttled"`` top-level error (see ``OrderActions.check_order_create_limit``).
    ``default_plan`` is the plan of a shop added without one: Shopify for enterprise
    (2,000 points a second) unless set; ``standard`` and the others stay selectable.
    ``enforce_scopes`` answers ``ACCESS_DENIED`` for a root field the
    token's scopes do not cover (off by default: benchmarks mint narrow tokens).

    ``attribution_handles`` are the handles of the app's order attribution
    definitions: only a sales channel app has any, and PowerPact is none. An
    ``orderCreate`` ``sourceName`` outside them is refused with a user error when
    ``unregistered_source_name`` is ``"refuse"`` or dropped when ``"ignore"``: the
    schema (``OrderCreateOrderInput.sourceName``) says to set it to such a handle,
    but not what happens to any other value, so both readings are here.
    """

    api_key: str = "powerpact-dev-key"
    api_secret: str = "sandbox-secret-change-me-0123456789"  # noqa: S105 (a local stand-in)
    app_url: str = "http://127.0.0.1:5000"
    transport: Transport = http_transport
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    auto_approve: bool = True
    default_plan: str = "enterprise"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    webhook_retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    order_create_limit: int | None = None
    order_create_limit_answer: str = "user_error"
    attribution_handles: tuple[str, ...] = ()
    unregistered_source_name: str = "refuse"
    enforce_scopes: bool = False
    api_version: str = API_VERSION
    base_url: str = "http://127.0.0.1:8765"
