"""How much of a request body PowerPact reads: a fixed limit per route, declared or not.

Every body is read before any view or parser sees it, and at most one byte past the
route's limit; a body over it is refused with 413 and the rest is never read (gunicorn
then drains at most 64 KB of it and closes the connection).

Werkzeug's ``max_content_length`` alone is not enough: it refuses a declared
``Content-Length`` over the limit, but a chunked body (no length declared) is cut at
the limit and handed to ``get_data`` or the form parser as if it were whole (Werkzeug
3.1, ``LimitedStream.readall``), so a cut form would be acted on and a cut webhook
would fail its HMAC instead of being refused. Reading one byte more tells the two apart.

1. A request with no body (no ``Content-Length``, not chunked) is left alone.
2. The limit is the view's own (``body_limit``), else ``MAX_CONTENT_LENGTH``.
3. ``request.max_content_length`` is set to one byte past it, so Werkzeug refuses a
   larger declared length at once and stops reading an undeclared one there.
4. The body read is kept (``get_data(cache=True)``): views and form parsing read it
   from memory; more than the limit is a 413.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, abort, request

# Every form PowerPact serves posts a few hundred bytes (a page holds 25 orders).
MAX_REQUEST_BODY_BYTES = 64 * 1024
F = TypeVar("F", bound=Callable[..., Any])


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Give one view its own body limit (put it under the route decorator)."""

    def decorate(view: F) -> F:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]  # read back by bounded_body
        return view

    return decorate


def has_body(req: Request) -> bool:
    declared = req.content_length
    if declared is not None:
        return declared > 0
    return "chunked" in req.environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_bounded_body(app: Flask, req: Request) -> None:
    """The before-request check in the module's docstring (steps 1 to 4)."""
    if not has_body(req):
        return
    limit = getattr(app.view_functions.get(req.endpoint or ""), "max_body_bytes", None)
    if limit is None:
        limit = app.config["MAX_CONTENT_LENGTH"]
    req.max_content_length = limit + 1
    if len(req.get_data(cache=True)) > limit:
        abort(413)


def init_app(app: Flask) -> None:
    """Register the check (after the request id is assigned, before everything else)."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BODY_BYTES

    @app.before_request
    def bounded_body() -> None:
        read_bounded_body(app, request._get_current_object())  # type: ignore[attr-defined]  # a LocalProxy
