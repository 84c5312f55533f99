"""What every template sees beyond its view's context: filters, globals, App Bridge's keys.

This is the one place that registers them (``tests/test_views_layout.py`` checks it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, g, has_app_context

from powerpact.models import OrderSync, RunStatus, SyncRun
from powerpact.money import round_money
from powerpact.orders.listing import reason_text
from powerpact.shopify.admin_urls import admin_url, is_sandbox
from powerpact.shops import shop_name
from powerpact.timezones import shop_zone


def viewing_zone() -> str | None:
    """The time zone of the shop whose page is being drawn (``g.shop``), if any."""
    shop = g.get("shop") if has_app_context() else None
    return shop.timezone if shop is not None else None


def local_time(moment: datetime | None, tz_name: str | None = None) -> str:
    """A time in a shop's own time zone, as a merchant reads it: ``tz_name``'s, or else the
    viewing shop's (UTC where there is none)."""
    if moment is None:
        return ""
    zone = shop_zone(tz_name or viewing_zone() or "UTC")
    return moment.astimezone(zone).strftime("%b %d, %Y %H:%M %Z")


def local_date(moment: datetime | None, tz_name: str | None = None) -> str:
    """The day of a time in the viewing shop's (or ``tz_name``'s) zone: "Jul 01, 2026"."""
    if moment is None:
        return ""
    return moment.astimezone(shop_zone(tz_name or viewing_zone() or "UTC")).strftime("%b %d, %Y")


def money(amount: Decimal | None, currency: str) -> str:
    """An amount to its currency's minor unit (12.5000 USD reads 12.50), never via a float."""
    return "" if amount is None else str(round_money(amount, currency))


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
    numeric = order.bubbly_order_id.rsplit("/", 1)[-1]
    return admin_url(current_app.config["POWERPACT"].retail_shop, f"orders/{numeric}")


def failure_text(order: OrderSync, audience: str = "partner") -> str:
    """Why an order failed, worded for the partner or (``"admin"``) the retail admins."""
    return reason_text(order.last_order_failure_reason, for_admin=audience == "admin")


def sync_finished(runs: list[SyncRun], expected: int) -> bool:
    """Have the ``expected`` runs of a "Sync now" all started and stopped running?"""
    return len(runs) >= expected and all(r.status != RunStatus.RUNNING for r in runs)


def app_bridge_context() -> dict[str, Any]:
    """For the App Bridge script: the app's key, and whether the sandbox stands in for
    Shopify's CDN."""
    settings = current_app.config["POWERPACT"]
    return {"shopify_api_key": settings.shopify_api_key, "app_bridge_sandbox": is_sandbox()}


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(money, "money")
    app.add_template_filter(shop_name, "shop_name")
    app.add_template_global(partner_order_url, "partner_order_url")
    app.add_template_global(retail_order_url, "retail_order_url")
    app.add_template_global(failure_text, "failure_text")
    app.add_template_global(sync_finished, "sync_finished")
    app.context_processor(app_bridge_context)
