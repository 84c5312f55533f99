"""The security headers of every response: pages, fragments, exports, errors, webhooks.

- ``Content-Security-Policy: frame-ancestors``: the signed-in shop's admin and
  ``https://admin.shopify.com`` (``embedded.authenticate`` names the shop with
  ``frame_for``, so a 403, 404 or 500 of a signed-in request has it too); with no
  signed-in shop (a 401, an anonymous 404, a webhook), the Shopify admin alone, never
  a wildcard (https://shopify.dev/docs/apps/build/security/set-up-iframe-protection).
- ``X-Content-Type-Options: nosniff``: a CSV export or a JSON answer is never run as
  a script or rendered as HTML by a browser guessing its type.
- ``Referrer-Policy: same-origin``: the app's URLs carry the session token
  (``id_token``) and the shop on the first load, and its pages link to partners'
  tracking sites and to the Shopify admin; none of those needs to know which page of
  PowerPact a link was followed from. Same-origin requests (htmx, forms) keep their
  referrer and, unlike ``no-referrer``, their ``Origin`` header. (base.html says the
  same in a meta tag.)
- ``Cache-Control: no-store`` on everything but static files: pages, fragments and CSV
  exports carry customers' names and addresses, and no browser or proxy cache should
  keep them (static files keep Flask's revalidating ``no-cache``).
- ``Strict-Transport-Security`` in production only: two years, subdomains included
  (development serves plain http on 127.0.0.1).

They are added as the response starts, around the whole app (``SecurityHeaders``), so
that no view, error handler or refusal before routing leaves one out. That costs about
2 us a request, plain list operations: the webhook intake's budget (docs/design.md)
counts every microsecond, and werkzeug's ``Headers`` takes about 2 us for each header set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from powerpact.shopify.admin_urls import frame_ancestors

HSTS = "max-age=63072000; includeSubDomains"
REFERRER_POLICY = "same-origin"
FRAMED_BY = "powerpact.framed_by"
OURS = frozenset({"content-security-policy", "cache-control"})
OURS_ON_STATIC = frozenset({"content-security-policy"})


def frame_for(shop_domain: str) -> None:
    """Let this request's response be framed by ``shop_domain``'s admin (a signed-in shop)."""
    request.environ[FRAMED_BY] = shop_domain


class SecurityHeaders:
    """WSGI middleware: the headers of the module's docstring on every response."""

    def __init__(
        self, wsgi_app: Any, *, static_prefix: str, admin_origin: str, production: bool
    ) -> None:
        self.wsgi_app = wsgi_app
        self.static_prefix = static_prefix
        self.admin_origin = admin_origin
        self.anonymous_framing = frame_ancestors(None, admin_origin)
        self.always = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", REFERRER_POLICY)]
        if production:
            self.always.append(("Strict-Transport-Security", HSTS))

    def framing(self, environ: dict[str, Any]) -> str:
        shop = environ.get(FRAMED_BY)
        return frame_ancestors(shop, self.admin_origin) if shop else self.anonymous_framing

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        static = environ.get("PATH_INFO", "").startswith(self.static_prefix)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            replaced = OURS_ON_STATIC if static else OURS
            headers[:] = [h for h in headers if h[0].lower() not in replaced]
            headers.append(("Content-Security-Policy", self.framing(environ)))
            if not static:
                headers.append(("Cache-Control", "no-store"))
            headers.extend(self.always)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_app(app: Flask) -> None:
    settings = app.config["POWERPACT"]
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]  # Flask's way to wrap its WSGI app
        app.wsgi_app,
        static_prefix=f"{app.static_url_path}/",
        admin_origin=settings.shopify_admin_origin,
        production=settings.is_production,
    )
