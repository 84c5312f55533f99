"""Typed errors of the Shopify edge; ``reason`` is the failure code DESIGN.md names."""

from __future__ import annotations

from typing import Any


class ShopifyError(Exception):
    """Base error. ``transient`` errors are worth retrying later; the rest need a person."""

    reason = "shopify_error"
    transient = True

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
            self.transient = reason in ("throttled", "shopify_error")


class ReauthorizationRequired(ShopifyError):
    """401/403 or a missing scope: the shop must approve PowerPact again."""

    reason = "reauthorization_required"
    transient = False


class ShopGone(ShopifyError):
    """402/404/423 of a shop that uninstalled, closed or was frozen."""

    reason = "partner_uninstalled"
    transient = False


class Throttled(ShopifyError):
    """Still throttled after every retry."""

    reason = "throttled"


class TransportError(ShopifyError):
    """Timeouts, connection errors and 5xx answers that outlasted the retries."""


class GraphQLErrors(ShopifyError):
    """Top-level GraphQL ``errors`` (a bad document, an unknown id...)."""

    transient = False

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e.get("message")) for e in errors) or "GraphQL error")


class UserErrors(ShopifyError):
    """A mutation answered with ``userErrors``: the input was refused, nothing changed."""

    reason = "invalid_order"
    transient = False

    def __init__(self, user_errors: list[dict[str, Any]]) -> None:
        self.user_errors = user_errors
        super().__init__(
            "; ".join(
                f"{'.'.join(map(str, e.get('field') or [])) or 'input'}: {e.get('message')}"
                for e in user_errors
            )
        )

    @classmethod
    def raise_for(cls, payload: dict[str, Any] | None) -> None:
        """Raise if a mutation payload carries ``userErrors``."""
        errors = (payload or {}).get("userErrors") or []
        if errors:
            raise cls(errors)
