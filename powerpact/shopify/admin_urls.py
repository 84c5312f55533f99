"""Where a shop's Admin lives: ``https://{shop}`` in production, the sandbox locally.

``SHOPIFY_ADMIN_ORIGIN`` is a template with ``{shop}``; everything that talks
to a shop builds its address here so the same code serves Shopify and the sandbox.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def admin_origin(shop: str, template: str | None = None) -> str:
    template = template or current_app.config["POWERPACT"].shopify_admin_origin
    return template.format(shop=shop).rstrip("/")


def admin_url(shop: str, path: str, template: str | None = None) -> str:
    return f"{admin_origin(shop, template)}/admin/{path.lstrip('/')}"


def is_sandbox(template: str | None = None) -> bool:
    """True when shops are served by the local sandbox rather than by Shopify."""
    template = template or current_app.config["POWERPACT"].shopify_admin_origin
    return not template.startswith("https://{shop}")


def frame_ancestors(shop: str | None, template: str | None = None) -> str:
    """Who may frame a response: the shop's admin and Shopify's, or Shopify's alone when no
    shop is signed in (https://shopify.dev/docs/apps/build/security/set-up-iframe-protection)."""
    sources = [f"https://{shop}"] if shop else []
    sources.append("https://admin.shopify.com")
    if is_sandbox(template):
        parts = urlsplit(admin_origin(shop or "sandbox", template))
        sources.append(f"{parts.scheme}://{parts.netloc}")
    return "frame-ancestors " + " ".join(sources)
