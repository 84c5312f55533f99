"""Template filters and globals shared by the pages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from powerpact.models import OrderSync
from powerpact.shopify.admin_urls import admin_url
from powerpact.timezones import shop_zone


def local_time(moment: datetime | None, tz_name: str = "UTC") -> str:
    """A time in a shop's own time zone, as a merchant reads it."""
    if moment is None:
        return ""
    return moment.astimezone(shop_zone(tz_name)).strftime("%b %d, %Y %H:%M %Z")


def duration(seconds: float | None) -> str:
    """A run's length as a person reads it: milliseconds under a second, else seconds."""
    if seconds is None:
        return "…"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s"


def partner_order_url(order: OrderSync) -> str:
    numeric = (order.partner_order_id or "").rsplit("/", 1)[-1]
    return admin_url(order.partner_shop_domain, f"orders/{numeric}")


def retail_order_url(order: OrderSync) -> str:
    from flask import current_app

    numeric = order.bubbly_order_id.rsplit("/", 1)[-1]
    return admin_url(current_app.config["POWERPACT"].retail_shop, f"orders/{numeric}")


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(duration, "duration")
    app.add_template_global(partner_order_url, "partner_order_url")
    app.add_template_global(retail_order_url, "retail_order_url")
