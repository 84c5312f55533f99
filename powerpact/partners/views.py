"""The partners' pages, for the retail admins: every partner and its connection (installed,
uninstalled, to re-authorize, the install link for a new one), a partner's settings, and
"Send batch now"."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import with_toast
from powerpact.inventory.locations import Location, active_locations
from powerpact.inventory.service import last_stock_syncs
from powerpact.inventory.tasks import buffer_resync_task
from powerpact.models import (
    OrderStatus,
    OrderSync,
    PartnerSettingsChange,
    PartnerStore,
    ProductMap,
)
from powerpact.orders.batches import send_now, waiting_for_batch
from powerpact.partners import settings as settings_service
from powerpact.shopify.errors import ShopifyError
from powerpact.shops import shop_name

bp = Blueprint("partners", __name__)
RECENT = timedelta(days=30)


@bp.get("/admin/partners")
@embedded("admin")
def index() -> str:
    """Every partner with what it imported, its recent failures and what waits for its batch
    (one query), and its last stock sync (one more)."""
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
    waiting = waiting_for_batch(PartnerStore.shop_domain)
    rows = db.session.execute(
        select(PartnerStore, imported, missing, failed, waiting).order_by(
            PartnerStore.name, PartnerStore.shop_domain
        )
    ).all()
    settings = current_app.config["POWERPACT"]
    return render_template(
        "partners/index.html",
        rows=rows,
        last_syncs=last_stock_syncs(),
        install_link=f"{settings.app_url}{url_for('install.install')}?shop=",
    )


@bp.route("/admin/partners/<int:partner_id>/settings", methods=["GET", "POST"])
@embedded("admin")
def settings(partner_id: int) -> tuple[str, int] | BaseResponse:
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
    page = render_template(
        "partners/settings.html",
        partner=partner,
        values={**settings_service.current_values(partner), **values},
        errors=errors,
        history=history,
        stock_locations=stock_locations or [],
        locations_error=locations_error,
    )
    if saved is None:
        return page, status
    if "safety_buffer" in saved:  # the retail levels follow at once
        buffer_resync_task(partner.shop_domain)
    return with_toast(page, "Settings saved" if saved else "Nothing changed")


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
def send_batch_now(partner_id: int) -> BaseResponse:
    """Send what waits for a daily or weekly partner's batch now; say so in a toast, and
    answer with the button again (what waits after the send)."""
    partner = db.get_or_404(PartnerStore, partner_id)
    domain, name = partner.shop_domain, shop_name(partner)
    waited = db.session.scalar(select(waiting_for_batch(domain))) or 0
    sent = send_now(domain)
    waiting = db.session.scalar(select(waiting_for_batch(domain))) or 0
    button = render_template("partners/_batch_action.html", partner=partner, waiting=waiting)
    if sent:
        return with_toast(button, f"Sent {sent} order(s) to {name}.")
    if waited:
        return with_toast(button, f"The batch to {name} was not sent: Orders says why.", error=True)
    return with_toast(button, "Nothing was waiting to be sent.")
