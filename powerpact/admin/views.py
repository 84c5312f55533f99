"""The retail store's own pages, which gather several capabilities: the home (what needs
attention today, each card linking to its list) and the store settings (the orders' settings,
with the inventory's retail location form loaded in)."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, abort, current_app, g, render_template, request
from sqlalchemy import ColumnElement, ScalarSelect, func, select
from werkzeug.wrappers import Response as BaseResponse

from powerpact import charts
from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import Base, db
from powerpact.htmx import with_toast
from powerpact.inventory import charts_data as inventory_charts
from powerpact.inventory.low_stock import TREND_DAYS, low_stock_variants
from powerpact.inventory.service import latest_stock_sync
from powerpact.models import (
    OrderStatus,
    OrderSync,
    OrderSyncDayCount,
    PartnerStore,
    RetailStore,
    StoreStatus,
)
from powerpact.orders import charts_data as order_charts
from powerpact.orders import store_settings as settings_service
from powerpact.orders.rollup import retail_orders_since
from powerpact.shops import partner_names
from powerpact.timezones import shop_zone

bp = Blueprint("admin", __name__)


def home_figures(tz_name: str | None) -> dict[str, int]:
    """Every number on the home page in one query. "Today" starts at midnight in the retail
    store's time zone, and counts the retail orders first seen since (one order split
    between two partners is one; one that gained a partner today was counted on its first
    day), from the retail orders' hourly counts. The failed orders are summed from the
    daily counts (``orders/rollup.py``), and those needing attention are few, found by a
    partial index."""
    zone = shop_zone(tz_name)
    today = datetime.combine(utcnow().astimezone(zone).date(), time(0), tzinfo=zone)

    def count(model: type[Base], *conditions: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(func.count()).select_from(model).where(*conditions).scalar_subquery()

    orders_today = retail_orders_since(today)
    failed_orders = select(func.coalesce(func.sum(OrderSyncDayCount.orders), 0)).where(
        OrderSyncDayCount.status == OrderStatus.FAILED
    )
    row = db.session.execute(
        select(
            count(PartnerStore, PartnerStore.status == StoreStatus.ACTIVE).label("partners_active"),
            orders_today.label("orders_today"),
            failed_orders.scalar_subquery().label("failed_orders"),
            count(OrderSync, OrderSync.needs_attention.is_(True)).label("needs_attention"),
            count(
                PartnerStore,
                PartnerStore.status == StoreStatus.ACTIVE,
                PartnerStore.reauthorization_required.is_(True),
            ).label("needs_reauthorization"),
        )
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def home_charts(tz_name: str) -> dict[str, charts.Chart]:
    """The home's charts, in the retail store's time zone: orders per day (30 days), failed
    orders by reason, stock syncs per hour (7 days: 720 hourly bars would not read)."""
    zone = shop_zone(tz_name)
    days = order_charts.DAYS
    return {
        "orders_chart": charts.orders_chart(
            order_charts.retail_orders_per_day(days, zone),
            order_charts.partner_orders_per_day(None, days, zone),
        ),
        "failures_chart": charts.failures_chart(order_charts.failures_by_reason(days), days),
        "sync_chart": charts.sync_health_chart(
            inventory_charts.sync_health_per_hour(inventory_charts.HOURS, zone), zone
        ),
    }


@bp.get("/admin/")
@embedded("admin")
def home() -> str:
    settings = current_app.config["POWERPACT"]
    retail = db.session.scalar(
        select(RetailStore).where(RetailStore.shop_domain == settings.retail_shop)
    )
    return render_template(
        "admin/home.html",
        retail=retail,
        retail_shop=settings.retail_shop,
        last_sync=latest_stock_sync(),
        low_stock=low_stock_variants(retail.id) if retail else [],
        trend_days=TREND_DAYS,
        partner_names=partner_names(),
        **home_figures(g.shop.timezone),
        **home_charts(g.shop.timezone),
    )


@bp.route("/admin/settings", methods=["GET", "POST"])
@embedded("admin")
def store_settings() -> tuple[str, int] | BaseResponse:
    """The retail store's order settings (a document form: it posts and renders the page; a
    save is told in a toast, a refused one keeps what was typed with each error under its field)."""
    store: RetailStore | None = db.session.scalar(select(RetailStore))
    if store is None:
        abort(404)
    saved = None
    if request.method == "POST":
        form = settings_service.parse(request.form.to_dict())
        if not form.errors:
            saved = settings_service.apply(store, form.values)
            db.session.commit()
        values, errors = form.values, form.errors
    else:
        values, errors = settings_service.current_values(store), {}
    page = render_template("admin/settings.html", store=store, values=values, errors=errors)
    if saved is None:
        return page, 422 if errors else 200
    return with_toast(page, "Settings saved" if saved else "Nothing changed")
