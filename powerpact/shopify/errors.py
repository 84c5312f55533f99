"""Typed errors of the Shopify edge; ``reason`` is the failure code docs/design.md names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ShopifyError(Exception):
    """Base error. ``transient`` errors are worth retrying later; the rest need a person.

    ``reason`` is the ``last_order_failure_reason`` code a caller records.
    """

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
    """402/404/423 or ``SHOP_INACTIVE``: the shop uninstalled, closed, or was frozen."""

    reason = "partner_uninstalled"
    transient = False


class TokenRefreshDue(ShopifyError):
    """The shop's access token lapses within a minute and nobody refreshed it first.

    Transient: the periodic refresher renews it, and the work is retried after.
    """


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
        errors = _user_errors_of(payload)
        if errors:
            raise cls(errors)


def raise_for_user_errors(
    data: dict[str, Any] | None, path: str | Sequence[str] = ()
) -> dict[str, Any]:
    """Raise ``UserErrors`` if the mutation payload at ``path`` refused the input.

    ``data`` is what ``ShopifyClient.execute`` returned and ``path`` names the
    mutation's payload inside it (``"productSet"``; dotted or a sequence for deeper
    payloads). Any list field named ``userErrors`` or ending in ``UserErrors``
    (``orderCancelUserErrors``) counts; Shopify's ``field``/``message``/``code``
    are kept as they came. Returns the payload so the caller can read on.
    """
    keys = path.split(".") if isinstance(path, str) and path else path
    payload: dict[str, Any] = data or {}
    for key in keys:
        payload = payload.get(key) or {}
    UserErrors.raise_for(payload)
    return payload


def _user_errors_of(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for key, value in (payload or {}).items():
        if (key == "userErrors" or key.endswith("UserErrors")) and value:
            errors.extend(value)
    return errors
