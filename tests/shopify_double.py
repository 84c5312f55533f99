"""A programmable stand-in for Shopify's GraphQL endpoint, on top of ``responses``.

Unit tests register a handler per (shop, operation name); each handler gets the
variables and returns ``data`` (or raises ``Answer`` to send another status).
Every call is recorded, so tests can count what was sent. End-to-end tests use
the real sandbox instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import responses

GRAPHQL_URL = re.compile(
    r"http://127\.0\.0\.1:8765/shops/(?P<shop>[^/]+)/admin/api/[^/]+/graphql\.json"
)


class Answer(Exception):
    """Raise from a handler to answer with another HTTP status or GraphQL errors."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body or {}


class ShopifyDouble:
    def __init__(self, mock: responses.RequestsMock) -> None:
        self.handlers: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.mock = mock
        mock.add_callback(responses.POST, GRAPHQL_URL, callback=self._answer)

    def on(
        self, shop: str, operation: str, handler: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        self.handlers[(shop, operation)] = handler

    def count(self, operation: str, shop: str | None = None) -> int:
        return sum(1 for s, op, _ in self.calls if op == operation and (shop is None or s == shop))

    def variables(self, operation: str) -> list[dict[str, Any]]:
        return [v for _, op, v in self.calls if op == operation]

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        shop = GRAPHQL_URL.match(request.url).group("shop")
        body = json.loads(request.body)
        operation = body.get("operationName")
        variables = body.get("variables") or {}
        self.calls.append((shop, operation, variables))
        handler = self.handlers.get((shop, operation))
        if handler is None:
            raise AssertionError(f"unexpected {operation} on {shop}")
        try:
            data = handler(variables)
        except Answer as answer:
            return answer.status, {}, json.dumps(answer.body)
        cost = {
            "requestedQueryCost": 10,
            "actualQueryCost": 10,
            "throttleStatus": {
                "maximumAvailable": 2000,
                "currentlyAvailable": 1990,
                "restoreRate": 100,
            },
        }
        return 200, {}, json.dumps({"data": data, "extensions": {"cost": cost}})


INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login)"}


def token_check_answers(double: ShopifyDouble, shop: str, status: int) -> None:
    """The shop answers the uninstall confirmation (``ShopId``) with ``status``: 200 while
    PowerPact's token works, 401 once Shopify revoked it, or any other status."""

    def answer(variables: dict[str, Any]) -> dict[str, Any]:
        if status == 200:
            return {"shop": {"id": "gid://shopify/Shop/1"}}
        raise Answer(status, INVALID_TOKEN if status == 401 else {"errors": "Unavailable"})

    double.on(shop, "ShopId", answer)
