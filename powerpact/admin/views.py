"""The retail store's admin pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from powerpact.auth import embedded
from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, PartnerStore, RetailStore, StoreStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@embedded("admin")
def home():  # type: ignore[no-untyped-def]
    settings = current_app.config["POWERPACT"]
    retail = db.session.scalar(
        select(RetailStore).where(RetailStore.shop_domain == settings.retail_shop)
    )
    partners_active = db.session.scalar(
        select(func.count())
        .select_from(PartnerStore)
        .where(PartnerStore.status == StoreStatus.ACTIVE)
    )
    failed_orders = db.session.scalar(
        select(func.count()).select_from(OrderSync).where(OrderSync.status == OrderStatus.FAILED)
    )
    return render_template(
        "admin/home.html",
        retail=retail,
        retail_shop=settings.retail_shop,
        partners_active=partners_active,
        failed_orders=failed_orders,
    )
