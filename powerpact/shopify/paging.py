"""Walking a GraphQL connection page by page with ``pageInfo { hasNextPage endCursor }``.

The operation must take an ``$after: String`` variable and select ``nodes`` and
``pageInfo { hasNextPage endCursor }`` on the connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from powerpact.shopify.client import ShopifyClient


def paginate(
    client: ShopifyClient,
    operation: str,
    variables: dict[str, Any] | None,
    connection_path: str | Sequence[str],
) -> Iterator[dict[str, Any]]:
    """Yield every node of the connection at ``connection_path``, one call per page.

    ``connection_path`` names the connection inside ``data``: ``"products"`` or
    ``("order", "fulfillmentOrders")`` (``"order.fulfillmentOrders"`` also works).
    Pages are fetched lazily, so a caller that stops early spends no more calls.
    """
    path = connection_path.split(".") if isinstance(connection_path, str) else connection_path
    page_variables = dict(variables or {})
    while True:
        connection = connection_at(client.execute(operation, page_variables), path)
        if connection is None:
            return
        yield from connection.get("nodes") or []
        page_info = connection["pageInfo"]
        if not page_info["hasNextPage"]:
            return
        page_variables["after"] = page_info["endCursor"]


def connection_at(data: dict[str, Any], path: Sequence[str]) -> dict[str, Any] | None:
    """The connection at ``path``; ``None`` when a parent is null (an unknown order id)."""
    node: Any = data
    for key in path:
        if node is None:
            return None
        node = node[key]
    connection: dict[str, Any] | None = node
    return connection
