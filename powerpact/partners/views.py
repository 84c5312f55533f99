"""The partners' pages, for the retail admins: every partner and its connection (installed,
uninstalled, to re-authorize, the install link for a new one), a partner's settings, and
"Send batch now"."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, render_template, request, url_for
from sqlalchemy import func, select

from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.inventory.locations import Location, active_locations
from powerpact.models import (
    OrderStatus,
    OrderSync,
    PartnerSettingsChange,
    PartnerStore,
    ProductMap,
    SyncRun,
)
from powerpact.orders.batches import send_now
from powerpact.partners import settings as settings_service
from powerpact.shopify.errors import ShopifyError

bp = Blueprint("partners", __name__)
RECENT = timedelta(days=30)


@bp.get("/admin/partners")
@embedded("admin")
def index() -> str:
    """Every partner with what it imported, its last sync and its recent failures: one query."""
    imported = (
        select(func.count(func.distinct(ProductMap.partner_product_id)))
        .where(ProductMap.partner_shop_domain == PartnerStore.shop_domain)
        .scalar_subquery()
    )
    missing = (
        select(func.count())
        .select_from(ProductMap)
        .where(
            ProductMap.partner_shop_domain == PartnerStore.shop_domain,
            ProductMap.partner_variant_missing.is_(True),
        )
        .scalar_subquery()
    )
    failed = (
        select(func.count())
        .select_from(OrderSync)
        .where(
            OrderSync.partner_shop_domain == PartnerStore.shop_domain,
            OrderSync.status == OrderStatus.FAILED,
            OrderSync.created_at >= utcnow() - RECENT,
        )
        .scalar_subquery()
    )
    last_sync = (
        select(func.max(SyncRun.finished_at))
        .where(SyncRun.partner_shop_domain == PartnerStore.shop_domain, SyncRun.kind == "inventory")
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(PartnerStore, imported, missing, failed, last_sync).order_by(
            PartnerStore.name, PartnerStore.shop_domain
        )
    ).all()
    settings = current_app.config["POWERPACT"]
    return render_template(
        "partners/index.html",
        rows=rows,
        install_link=f"{settings.app_url}{url_for('install.install')}?shop=",
    )


@bp.route("/admin/partners/<int:partner_id>/settings", methods=["GET", "POST"])
@embedded("admin")
def settings(partner_id: int) -> tuple[str, int]:
    partner = db.get_or_404(PartnerStore, partner_id)
    saved = None
    stock_locations, locations_error = partner_stock_locations(partner)
    if request.method == "POST":
        form = settings_service.parse(
            request.form.to_dict(),
            None if stock_locations is None else [loc.id for loc in stock_locations],
            partner.location_id or "",
        )
        if not form.errors:
            saved = settings_service.apply(
                partner,
                {**settings_service.current_values(partner), **form.values},
                f"admin {g.session_token.user_id or ''} of {g.shop.shop_domain}",
            )
        values, errors = (form.typed if form.errors else form.values), form.errors
    else:
        values = settings_service.current_values(partner)
        errors = settings_service.saved_problems(partner)
    history = db.session.scalars(
        select(PartnerSettingsChange)
        .where(PartnerSettingsChange.partner_shop_domain == partner.shop_domain)
        .order_by(PartnerSettingsChange.changed_at.desc())
        .limit(10)
    ).all()
    status = 422 if errors and request.method == "POST" else 200
    return render_template(
        "partners/settings.html",
        partner=partner,
        values={**settings_service.current_values(partner), **values},
        errors=errors,
        saved=saved,
        history=history,
        stock_locations=stock_locations or [],
        locations_error=locations_error,
    ), status


def partner_stock_locations(partner: PartnerStore) -> tuple[list[Location] | None, str | None]:
    """The partner's active locations to count stock from, or None and why not."""
    if not partner.is_active:
        return None, "The partner is not connected, so its locations cannot be read."
    try:
        return active_locations(partner), None
    except ShopifyError as exc:
        return None, f"The partner's locations could not be read: {exc}"


@bp.post("/admin/partners/<int:partner_id>/send-batch")
@embedded("admin")
def send_batch_now(partner_id: int) -> str:
    partner = db.get_or_404(PartnerStore, partner_id)
    sent = send_now(partner.shop_domain)
    message = (
        f"Sent {sent} order(s) to {partner.name or partner.shop_domain}."
        if sent
        else "Nothing was waiting to be sent."
    )
    return render_template("partners/_batch_notice.html", message=message)
