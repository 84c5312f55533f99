"""htmx helpers: one view serves a page and the fragment htmx swaps into it."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse


def is_fragment_request() -> bool:
    """An htmx request that wants a fragment.

    A boosted navigation wants the whole page, and so does htmx's history restore (Back
    onto a page it has not cached), which swaps the answer in for the whole body.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_fragment(page_template: str, fragment_template: str, /, **context: Any) -> str:
    template = fragment_template if is_fragment_request() else page_template
    return render_template(template, **context)


def htmx_redirect(url: str) -> BaseResponse:
    """Send the browser to ``url``: ``HX-Redirect`` for htmx, a 303 otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


TOAST_EVENT = "powerpact:toast"


def with_toast(response: BaseResponse | str, message: str, *, error: bool = False) -> BaseResponse:
    """Have the page show ``message`` as an App Bridge toast once htmx has swapped ``response``.

    The toast travels in ``HX-Trigger`` (merged with any trigger already set), and
    ``static/embedded.js`` hands it to ``shopify.toast.show``: the admin's own toast under
    App Bridge, the sandbox's look-alike in the demo.
    """
    if isinstance(response, str):
        response = Response(response)
    triggers: dict[str, Any] = {}
    existing = response.headers.get("HX-Trigger")
    if existing:
        try:
            parsed = json.loads(existing)
        except ValueError:
            parsed = {name.strip(): None for name in existing.split(",") if name.strip()}
        if isinstance(parsed, dict):
            triggers.update(parsed)
    triggers[TOAST_EVENT] = {"message": message, "isError": error}
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response
