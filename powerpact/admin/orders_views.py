"""The admin's order desk: every partner's orders, counts, bulk retry, each order's timeline."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from sqlalchemy import select

from powerpact.auth import embedded
from powerpact.extensions import db
from powerpact.htmx import render_page_or_fragment
from powerpact.models import OrderSync, PartnerStore
from powerpact.orders.listing import Filters, order_page, order_split, status_counts
from powerpact.orders.retry import retry_order_syncs

bp = Blueprint("desk", __name__, url_prefix="/admin")


def desk_context(filters: Filters, notice: str | None = None) -> dict[str, object]:
    counts = status_counts(filters.partner)
    return {
        "page": order_page(filters, counts=counts),
        "filters": filters,
        "counts": counts,
        "partners": db.session.execute(
            select(PartnerStore.shop_domain, PartnerStore.name).order_by(PartnerStore.name)
        ).all(),
        "notice": notice,
    }


@bp.get("/orders")
@embedded("admin")
def orders():  # type: ignore[no-untyped-def]
    filters = Filters.from_args(request.args)
    return render_page_or_fragment("admin/orders.html", "admin/_desk.html", **desk_context(filters))


@bp.post("/orders/retry")
@embedded("admin")
def bulk_retry():  # type: ignore[no-untyped-def]
    ids = [int(i) for i in request.form.getlist("order_id") if i.isdigit()]
    outcome = retry_order_syncs(ids, actor=f"admin of {g.shop.shop_domain}")
    filters = Filters.from_args(request.form)
    return render_template("admin/_desk.html", **desk_context(filters, outcome.message))


@bp.get("/orders/<int:order_id>")
@embedded("admin")
def order_detail(order_id: int):  # type: ignore[no-untyped-def]
    order = db.session.get(OrderSync, order_id)
    if order is None:
        abort(404)
    split = order_split(order, g.shop.name or g.shop.shop_domain)
    return render_template("admin/_order_detail.html", order=order, split=split)
