"""The inventory's pages, for the retail admins: "Sync now" (one partner or all, with the
run's progress and result shown by htmx), the retail stock location form, the sync history,
and an imported variant's stock (its history chart and its product's safety buffer)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, g, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from powerpact import charts
from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import render_page_or_fragment, with_toast
from powerpact.inventory import history, locations
from powerpact.inventory.buffer import InvalidBuffer, buffer_of, parse_units
from powerpact.inventory.service import partners_to_sync, set_product_buffer
from powerpact.inventory.sync import FULL_SYNC
from powerpact.inventory.tasks import buffer_resync_task, sync_partner_task
from powerpact.models import PartnerStore, ProductMap, RunStatus, StockSource, SyncRun
from powerpact.shops import partner_names, partners_by_domain
from powerpact.timezones import shop_zone

bp = Blueprint("inventory", __name__)


def runs_since(since: datetime, partner_domain: str | None = None) -> list[SyncRun]:
    statement = select(SyncRun).where(SyncRun.kind == FULL_SYNC, SyncRun.started_at >= since)
    if partner_domain:
        statement = statement.where(SyncRun.partner_shop_domain == partner_domain)
    return list(db.session.scalars(statement.order_by(SyncRun.started_at)))


def parse_since(value: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        abort(400)
    if moment.tzinfo is None:
        abort(400)
    return moment


@bp.post("/admin/inventory/sync")
@embedded("admin")
def sync_now() -> str:
    """Queue a sync of one partner (``partner`` field) or of every active partner."""
    since = utcnow()
    requested = request.form.get("partner")
    if requested:
        partner = db.session.scalar(
            select(PartnerStore).where(PartnerStore.shop_domain == requested)
        )
        if partner is None:
            abort(404)
        domains = [partner.shop_domain]
    else:
        domains = partners_to_sync()
    for domain in domains:
        sync_partner_task(domain, StockSource.SYNC_NOW.value)
    return sync_report(since, requested or "", len(domains))


@bp.get("/admin/inventory/sync")
@embedded("admin")
def sync_status() -> str:
    since = parse_since(request.args.get("since"))
    partner = request.args.get("partner") or ""
    expected = request.args.get("expected", type=int) or 0
    return sync_report(since, partner, expected)


def sync_report(since: datetime, partner: str, expected: int) -> str:
    """Sync now's progress, then its report; once done, it also brings each synced partner's
    "Last stock sync" on the partners list up to date (out-of-band swaps)."""
    runs = runs_since(since, partner or None)
    return render_template(
        "inventory/_sync_status.html",
        since=since,
        partner=partner,
        expected=expected,
        runs=runs,
        partners=partners_by_domain([run.partner_shop_domain or "" for run in runs]),
    )


@bp.get("/admin/inventory/location")
@embedded("admin")
def retail_location() -> tuple[str, int]:
    """The "Retail stock location" form, loaded into the Settings page."""
    return location_form()


@bp.post("/admin/inventory/location")
@embedded("admin")
def choose_retail_location() -> tuple[str, int] | BaseResponse:
    """Keep the retail stock at the chosen location; said in a toast, a refusal under the field."""
    try:
        chosen = locations.choose_retail_location(request.form.get("location_id", ""))
    except locations.LocationRefused as exc:
        return location_form(error=str(exc), status=422)
    form, _ = location_form()
    return with_toast(form, f"Saved: stock is now kept at {chosen.name}")


def location_form(*, error: str | None = None, status: int = 200) -> tuple[str, int]:
    try:
        retail, choices = locations.retail_location_choices()
    except locations.LocationRefused as exc:
        retail, choices, error = None, [], error or str(exc)
    return render_template(
        "inventory/_retail_location.html",
        retail=retail,
        choices=choices,
        error=error,
    ), status


@bp.get("/admin/sync-runs")
@embedded("admin")
def sync_runs() -> str:
    """Sync history, newest first, filterable by partner and outcome (the newest 50): each
    run in a merchant's words, its API figures behind a toggle."""
    partner = request.args.get("partner") or None
    outcome = request.args.get("outcome") or None
    statement = select(SyncRun).order_by(SyncRun.started_at.desc()).limit(50)
    if partner:
        statement = statement.where(SyncRun.partner_shop_domain == partner)
    if outcome in {s.value for s in RunStatus}:
        statement = statement.where(SyncRun.status == outcome)
    return render_page_or_fragment(
        "inventory/sync_runs.html",
        "inventory/_sync_runs_table.html",
        runs=db.session.scalars(statement).all(),
        names=partner_names(),
        partner=partner,
        outcome=outcome,
    )


@bp.route("/admin/stock/<int:product_map_id>", methods=["GET", "POST"])
@embedded("admin")
def variant_stock(product_map_id: int) -> tuple[str, int] | BaseResponse:
    """One imported variant's stock: its retail stock per day (the history's chart and
    table), the newest changes written, and its product's own safety buffer (a document
    form: a save is told in a toast and resyncs the product's levels; a refused one keeps
    what was typed, with the problem under the field)."""
    product_map = db.get_or_404(ProductMap, product_map_id)
    typed, error, saved = None, None, None
    if request.method == "POST":
        typed = request.form.get("safety_buffer", "")
        try:
            units = parse_units(typed, "the buffer")
        except InvalidBuffer as exc:
            error = str(exc)
        else:
            saved = set_product_buffer(product_map, units)
            if saved:
                buffer_resync_task(product_map.partner_shop_domain, product_map.partner_product_id)
            typed = None
    zone = shop_zone(g.shop.timezone)
    days = history.stock_per_day(
        product_map.id, product_map.retail_available, zone, since=product_map.created_at
    )
    page = render_template(
        "inventory/variant_stock.html",
        product_map=product_map,
        partner=product_map.partner,
        buffer=buffer_of(product_map, product_map.partner),
        typed=product_map.safety_buffer if typed is None else typed,
        error=error,
        chart=charts.stock_history_chart(days),
        changes=history.newest_changes(product_map.id),
        retention_days=history.RETENTION.days,
    )
    if saved is None:
        return page, 422 if error else 200
    return with_toast(page, "Buffer saved" if saved else "Nothing changed")
