"""Root-field resolvers by name: what the sandbox models of the Admin API."""

from __future__ import annotations

from powerpact.sandbox.resolvers import (
    fulfillments,
    inventory,
    order_edits,
    orders,
    products,
    shop,
    subscriptions,
)
from powerpact.sandbox.resolvers.context import Context, Resolver

QUERIES: dict[str, Resolver] = {
    **shop.QUERIES,
    **products.QUERIES,
    **inventory.QUERIES,
    **orders.QUERIES,
    **fulfillments.QUERIES,
    **subscriptions.QUERIES,
}
MUTATIONS: dict[str, Resolver] = {
    **products.MUTATIONS,
    **inventory.MUTATIONS,
    **orders.MUTATIONS,
    **order_edits.MUTATIONS,
    **fulfillments.MUTATIONS,
    **subscriptions.MUTATIONS,
}

__all__ = ["MUTATIONS", "QUERIES", "Context"]
