"""How one sandbox is set up: the app it serves, its clocks, its webhook transport."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from powerpact.sandbox.webhooks import SHOPIFY_RETRY_DELAYS, Transport, http_transport
from powerpact.shopify.schema import API_VERSION

DEFAULT_SCOPES = (
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_orders",
    "write_orders",
    "read_all_orders",
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
    ``webhook_retry_delays`` is Shopify's schedule (8 retries over 4 hours) and
    ``webhook_time_scale`` compresses it (0.001: 4 hours in 14 s); after the last retry
    the delivery is dropped and, with ``remove_failing_subscriptions``, the subscription
    deleted (a secondary source says Shopify removes Admin API subscriptions that keep
    failing; off, they stay).
    ``risk_assessment_delays``: seconds after a checkout at which Shopify's fraud analysis
    reports, ``PENDING`` first and the final level last (empty: it never reports);
    ``risk_webhook_order_keys``: which keys name the order in
    ``orders/risk_assessment_changed`` (see ``powerpact.sandbox.risk``).

    ``product_set_variant_match`` picks one reading of ``productSet``'s variants.
    The schema's ``ProductVariantSetInput.id``: "Specifies the product variant to
    update or create a new variant if absent"; and ``productSet`` on list fields:
    "Creates new entries, updates existing entries, and deletes existing entries
    that aren't included in the mutation's input". ``"id"`` (the default, the strict
    reading): a variant input without ``id`` is a new variant, and every existing
    variant no input names by ``id`` is deleted with its stock. ``"options"``: a
    variant input without ``id`` updates the existing variant with the same option
    values (what REST's product update has done since 2019,
    https://shopify.dev/changelog/we-re-making-changes-to-how-variants-are-matched-with-options-when-products-are-updated).
    Which one ``productSet`` does is not documented; an app that passes the ids it
    knows is right under both.

    ``attribution_handles`` are the handles of the app's order attribution
    definitions: only a sales channel app has any, and PowerPact is none. An
    ``orderCreate`` ``sourceName`` outside them is refused with a user error when
    ``unregistered_source_name`` is ``"refuse"`` or dropped when ``"ignore"``: the
    schema (``OrderCreateOrderInput.sourceName``) says to set it to such a handle,
    but not what happens to any other value, so both readings are here.

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
    default_plan: str = "enterprise"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    webhook_retry_delays: tuple[float, ...] = SHOPIFY_RETRY_DELAYS
    webhook_time_scale: float = 1.0
    remove_failing_subscriptions: bool = True
    order_create_limit: int | None = None
    order_create_limit_answer: str = "user_error"
    attribution_handles: tuple[str, ...] = ()
    unregistered_source_name: str = "refuse"
    enforce_scopes: bool = False
    product_set_variant_match: str = "id"
    search_lag_seconds: float = 3.0
    api_version: str = API_VERSION
    base_url: str = "http://127.0.0.1:8765"
    risk_assessment_delays: tuple[float, ...] = (0.5, 2.0)
    risk_webhook_order_keys: tuple[str, ...] = ("order_id", "admin_graphql_api_order_id")
