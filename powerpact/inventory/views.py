"""The inventory's pages, for the retail admins: "Sync now" (one partner or all, with the
run's progress and result shown by htmx), the retail stock location form, the sync history."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import render_page_or_fragment
from powerpact.inventory import locations
from powerpact.inventory.service import partners_to_sync
from powerpact.inventory.tasks import sync_partner_task
from powerpact.models import PartnerStore, RunStatus, SyncRun

bp = Blueprint("inventory", __name__)


def runs_since(since: datetime, partner_domain: str | None = None) -> list[SyncRun]:
    statement = select(SyncRun).where(SyncRun.kind == "inventory", SyncRun.started_at >= since)
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
        sync_partner_task(domain)
    return render_template(
        "inventory/_sync_status.html",
        since=since,
        partner=requested or "",
        expected=len(domains),
        runs=runs_since(since, requested),
    )


@bp.get("/admin/inventory/sync")
@embedded("admin")
def sync_status() -> str:
    since = parse_since(request.args.get("since"))
    partner = request.args.get("partner") or ""
    expected = request.args.get("expected", type=int) or 0
    return render_template(
        "inventory/_sync_status.html",
        since=since,
        partner=partner,
        expected=expected,
        runs=runs_since(since, partner or None),
    )


@bp.get("/admin/inventory/location")
@embedded("admin")
def retail_location() -> tuple[str, int]:
    """The "Retail stock location" form, loaded into the Settings page."""
    return location_form()


@bp.post("/admin/inventory/location")
@embedded("admin")
def choose_retail_location() -> tuple[str, int]:
    try:
        chosen = locations.choose_retail_location(request.form.get("location_id", ""))
    except locations.LocationRefused as exc:
        return location_form(error=str(exc), status=422)
    return location_form(saved=chosen.name)


def location_form(
    *, error: str | None = None, saved: str | None = None, status: int = 200
) -> tuple[str, int]:
    try:
        retail, choices = locations.retail_location_choices()
    except locations.LocationRefused as exc:
        retail, choices, error = None, [], error or str(exc)
    return render_template(
        "inventory/_retail_location.html",
        retail=retail,
        choices=choices,
        error=error,
        saved=saved,
    ), status


@bp.get("/admin/sync-runs")
@embedded("admin")
def sync_runs() -> str:
    """Sync history, newest first, filterable by partner and outcome (50 a page)."""
    partner = request.args.get("partner") or None
    outcome = request.args.get("outcome") or None
    statement = select(SyncRun).order_by(SyncRun.started_at.desc()).limit(50)
    if partner:
        statement = statement.where(SyncRun.partner_shop_domain == partner)
    if outcome in {s.value for s in RunStatus}:
        statement = statement.where(SyncRun.status == outcome)
    partners = db.session.scalars(
        select(PartnerStore.shop_domain).order_by(PartnerStore.shop_domain)
    ).all()
    return render_page_or_fragment(
        "inventory/sync_runs.html",
        "inventory/_sync_runs_table.html",
        runs=db.session.scalars(statement).all(),
        partners=partners,
        partner=partner,
        outcome=outcome,
    )
