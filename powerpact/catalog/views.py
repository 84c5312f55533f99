"""Admin pages of the catalog: partners, a partner's live catalog, import progress."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from powerpact.catalog import browse, imports
from powerpact.catalog.pricing import InvalidRule, MarkupRule, saved_rule
from powerpact.catalog.tasks import run_import_job_task
from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import htmx_redirect, render_page_or_fragment
from powerpact.inventory.locations import Location, active_locations
from powerpact.models import (
    ImportJob,
    OrderStatus,
    OrderSync,
    PartnerSettingsChange,
    PartnerStore,
    ProductMap,
    SyncRun,
)
from powerpact.orders.batches import send_now
from powerpact.partners import settings as partner_settings_service
from powerpact.shopify.errors import ShopifyError

bp = Blueprint("catalog", __name__, url_prefix="/admin")
RECENT = timedelta(days=30)
# The catalog page's own fields, which its pager carries from page to page (the whole query,
# spread into ``url_for``, could hold ``partner_id`` or ``url_for``'s own ``endpoint``).
CATALOG_FIELDS = (
    "q",
    "status",
    "unimported",
    "kind",
    "value",
    "rounding",
    "keep_compare_at",
    "min_margin_percent",
)
PRODUCT_GID = re.compile(r"gid://shopify/Product/[0-9]{1,20}")


@bp.get("/partners")
@embedded("admin")
def partners() -> str:
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
        "catalog/partners.html",
        rows=rows,
        install_link=f"{settings.app_url}{url_for('install.install')}?shop=",
    )


def partner_or_404(partner_id: int) -> PartnerStore:
    partner = db.session.get(PartnerStore, partner_id)
    if partner is None:
        abort(404)
    return partner


def rule_from(values: dict[str, str], partner: PartnerStore) -> MarkupRule:
    """The rule typed on the page, falling back to the partner's default for blank fields.

    If the saved default cannot be used, the page must give the kind and the value itself.
    """
    saved, problem = saved_rule(partner.default_markup_rule)
    base = saved.to_dict()
    typed = {k: v for k, v in values.items() if k in base and v not in ("", None)}
    if problem and not {"kind", "value"} <= typed.keys():
        raise InvalidRule(
            f"{problem} The prices use PowerPact's default ({saved.describe()}) until a markup"
            " is saved in the partner's settings."
        )
    if "kind" in values and "keep_compare_at" not in values:
        typed["keep_compare_at"] = "off"
    return MarkupRule.from_dict({**base, **typed})


@bp.get("/partners/<int:partner_id>/catalog")
@embedded("admin")
def catalog(partner_id: int) -> str:
    partner = partner_or_404(partner_id)
    args = request.args
    error = None
    try:
        rule = rule_from(args.to_dict(), partner)
    except InvalidRule as exc:
        rule, error = saved_rule(partner.default_markup_rule)[0], str(exc)
    page = None
    try:
        page = browse.fetch_catalog_page(
            partner,
            rule=rule,
            currency=g.shop.currency_code,
            text=args.get("q", ""),
            status=args.get("status") or None,
            only_unimported=args.get("unimported") == "1",
            after=args.get("after") or None,
            before=args.get("before") or None,
        )
    except ShopifyError as exc:
        error = f"The partner's catalog could not be read: {exc}"
    return render_page_or_fragment(
        "catalog/catalog.html",
        "catalog/_catalog_results.html",
        partner=partner,
        page=page,
        rule=rule,
        error=error,
        args=MultiDict([(k, v) for k, v in args.items(multi=True) if k in CATALOG_FIELDS]),
        currency=g.shop.currency_code,
    )


@bp.post("/partners/<int:partner_id>/imports")
@embedded("admin")
def start_import(partner_id: int) -> tuple[str, int] | BaseResponse:
    partner = partner_or_404(partner_id)
    form = request.form
    try:
        rule = rule_from(form.to_dict(), partner)
    except InvalidRule as exc:
        return render_template("catalog/_import_error.html", message=str(exc)), 422
    if form.get("all_matching") == "1":
        titles = browse.matching_product_ids(partner, form.get("q", ""), form.get("status") or None)
    else:
        titles = {pid: "" for pid in form.getlist("product_id")}
        if not all(PRODUCT_GID.fullmatch(pid) for pid in titles):
            return render_template(
                "catalog/_import_error.html",
                message="A product_id is not a product of the catalog.",
            ), 422
    if not titles:
        return render_template(
            "catalog/_import_error.html", message="Pick at least one product."
        ), 422
    job = imports.create_import_job(
        partner,
        list(titles),
        rule,
        product_status="DRAFT" if form.get("product_status") == "draft" else "ACTIVE",
        vendor=form.get("vendor") or None,
        requested_by=g.session_token.user_id,
        titles={k: v for k, v in titles.items() if v},
    )
    run_import_job_task(job.id)
    return htmx_redirect(url_for("catalog.import_job", job_id=job.id))


@bp.get("/imports/<int:job_id>")
@embedded("admin")
def import_job(job_id: int) -> str:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    rule, rule_problem = saved_rule(job.markup_rule)
    return render_page_or_fragment(
        "catalog/import_job.html",
        "catalog/_import_progress.html",
        job=job,
        rule=rule,
        rule_problem=rule_problem,
    )


@bp.route("/partners/<int:partner_id>/settings", methods=["GET", "POST"])
@embedded("admin")
def partner_settings(partner_id: int) -> tuple[str, int]:
    partner = partner_or_404(partner_id)
    saved = None
    stock_locations, locations_error = partner_stock_locations(partner)
    if request.method == "POST":
        form = partner_settings_service.parse(
            request.form.to_dict(),
            None if stock_locations is None else [loc.id for loc in stock_locations],
            partner.location_id or "",
        )
        if not form.errors:
            saved = partner_settings_service.apply(
                partner,
                form.values,
                f"admin {g.session_token.user_id or ''} of {g.shop.shop_domain}",
            )
        values, errors = form.values, form.errors
    else:
        values = partner_settings_service.current_values(partner)
        errors = partner_settings_service.saved_problems(partner)
    history = db.session.scalars(
        select(PartnerSettingsChange)
        .where(PartnerSettingsChange.partner_shop_domain == partner.shop_domain)
        .order_by(PartnerSettingsChange.changed_at.desc())
        .limit(10)
    ).all()
    status = 422 if errors and request.method == "POST" else 200
    return render_template(
        "catalog/settings.html",
        partner=partner,
        values={**partner_settings_service.current_values(partner), **values},
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


@bp.post("/partners/<int:partner_id>/send-batch")
@embedded("admin")
def send_batch_now(partner_id: int) -> str:
    partner = partner_or_404(partner_id)
    sent = send_now(partner.shop_domain)
    message = (
        f"Sent {sent} order(s) to {partner.name or partner.shop_domain}."
        if sent
        else "Nothing was waiting to be sent."
    )
    return render_template("catalog/_notice.html", message=message)
