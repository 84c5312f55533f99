"""What every resolver gets: the sandbox, the shop, the token's scopes; and user errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.store import Shop


class Context:
    """One request's context: the shop it is for and what the call log should learn."""

    def __init__(self, sandbox: Sandbox, shop: Shop, scopes: list[str]) -> None:
        self.sandbox = sandbox
        self.shop = shop
        self.scopes = scopes
        self.idempotency_key: str | None = None
        self.unmodelled: set[str] = set()
        self.executed = False  # a root field ran: the variables were accepted

    @property
    def ids(self) -> Any:
        return self.sandbox.store.ids


Resolver = Callable[[Context, dict[str, Any], GraphQLResolveInfo], Any]


def user_error(
    message: str, field: list[str] | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def failed(
    payload_field: str | None, message: str, field: list[str], code: str | None = None
) -> dict[str, Any]:
    """A mutation payload that carries one user error and no object."""
    body: dict[str, Any] = {"userErrors": [user_error(message, field, code)]}
    if payload_field:
        body[payload_field] = None
    return body


def check_input_size(items: list[Any] | None) -> None:
    """Shopify's 250-item cap on input arrays: a top-level error, not a user error."""
    if items is not None and len(items) > 250:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of 250.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
