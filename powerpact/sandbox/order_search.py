"""The orders search index, and how far it lags behind the orders.

Shopify's ``orders`` query "supports pagination, sorting, and filtering"; its
``query`` argument is "a filter made up of terms, connectives, modifiers, and
comparators" (``source_identifier:``, ``tag:``, ...) and ``sortKey`` points at
"search performance considerations"
(https://shopify.dev/docs/api/admin-graphql/latest/queries/orders#arguments-query,
https://shopify.dev/docs/api/usage/pagination-graphql#search-performance-considerations):
a filtered read goes through a search index. Nothing documents read-after-write
consistency for that index, and client library users report searches that miss an
order created moments before. The docs are silent on how long, so the sandbox
models the uncertain reading and makes it a switch:

- a change to an order (creation, payment, cancellation, edit, fulfilment, tags)
  reaches the index ``search_lag_seconds`` later (``SandboxConfig``; 0 turns the lag
  off). Until then a ``query:`` search matches the order as it was indexed before
  the change, and a new order not at all;
- a read without ``query`` (a listing sorted by ``CREATED_AT``, ``order(id:)``) does
  not go through the index and sees every order at once;
- the nodes a search returns are the orders as they are now: only the match is stale.
"""

from __future__ import annotations

from typing import Any

from powerpact.sandbox.store import Order, numeric

Fields = dict[str, list[str]]


def order_fields(order: Order) -> Fields:
    """The searchable fields of ``order`` as it is now."""
    return {
        "name": [order.name, order.name.lstrip("#")],
        "tag": list(order.tags),
        "source_identifier": [order.source_identifier or ""],
        "source_name": [order.source_name],
        "created_at": [order.created_at],
        "updated_at": [order.updated_at],
        "email": [order.email or ""],
        "financial_status": [order.financial_status.lower()],
        "fulfillment_status": [order.fulfillment_status.lower()],
        "status": ["cancelled" if order.cancelled_at else "open"],
        "sku": [li.sku or "" for li in order.line_items],
        "id": [str(numeric(order.id))],
        "test": [str(order.test).lower()],
    }


def index_order(order: Order, now: float, lag: float) -> None:
    """Queue ``order`` as it is now for the index, visible to searches at ``now + lag``.

    With no lag the index reads the order live. Versions already superseded by a
    visible later one are dropped.
    """
    if lag <= 0:
        order.search_versions.clear()
        return
    visible = [i for i, (due, _) in enumerate(order.search_versions) if due <= now]
    if visible:
        del order.search_versions[: visible[-1]]
    order.search_versions.append((now + lag, order_fields(order)))


def indexed_fields(order: Order, now: float) -> Fields | None:
    """What a search sees of ``order`` at ``now``: its newest indexed version, or None."""
    if not order.search_versions:
        return order_fields(order)
    current = None
    for due, fields in order.search_versions:
        if due > now:
            break
        current = fields
    return current


def searchable(orders: Any, now: float) -> list[tuple[Order, Fields]]:
    """The orders the index holds at ``now``, each with the fields it was indexed with."""
    found = []
    for order in orders:
        fields = indexed_fields(order, now)
        if fields is not None:
            found.append((order, fields))
    return found
