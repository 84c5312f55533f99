"""The unsubscribe link: a signed, expiring token that turns one kind off for one shop.

The token is ``itsdangerous.URLSafeTimedSerializer`` over ``{"s": shop, "k": kind}`` with the
app's ``SECRET_KEY`` and a salt of its own, so no other signed value of the app passes for
one. It works without signing in (an email is read outside Shopify) and expires after
``MAX_AGE``: an old email's link then says so and points to the settings page instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from powerpact.models import NotificationKind

SALT = "powerpact.notifications.unsubscribe"
MAX_AGE = 60 * 24 * 3600  # 60 days


class InvalidUnsubscribe(Exception):
    """A token that is not ours, was changed, or expired (``expired`` says which)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class Unsubscribe:
    shop_domain: str
    kind: NotificationKind


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(shop_domain: str, kind: NotificationKind) -> str:
    return serializer().dumps({"s": shop_domain, "k": kind.value})


def read_token(token: str, *, max_age: int = MAX_AGE) -> Unsubscribe:
    try:
        data = serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidUnsubscribe("This unsubscribe link has expired.", expired=True) from None
    except BadSignature:
        raise InvalidUnsubscribe("This unsubscribe link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise InvalidUnsubscribe("This unsubscribe link is not valid.")
    try:
        kind = NotificationKind(str(data.get("k")))
    except ValueError:
        raise InvalidUnsubscribe("This unsubscribe link is not valid.") from None
    return Unsubscribe(data["s"], kind)
