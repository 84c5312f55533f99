"""The partner's own pages, embedded in the partner's Shopify admin."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request

from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import render_page_or_fragment
from powerpact.models import OrderSync
from powerpact.orders.listing import Filters, as_csv, order_page, status_counts
from powerpact.orders.retry import retry_order_syncs

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/orders")
@embedded("partner")
def orders() -> str:
    filters = Filters.from_args(request.args)
    counts = status_counts(g.shop.shop_domain)
    page = order_page(filters, partner_domain=g.shop.shop_domain, counts=counts)
    return render_page_or_fragment(
        "partner/orders.html",
        "partner/_orders_table.html",
        partner=g.shop,
        page=page,
        filters=filters,
        counts=counts,
    )


@bp.get("/orders.csv")
@embedded("partner")
def orders_csv() -> Response:
    filters = Filters.from_args(request.args)
    rows = order_page(
        Filters(filters.status, filters.q, filters.sort, 1), partner_domain=g.shop.shop_domain
    ).rows
    return Response(
        as_csv(rows, g.shop.timezone),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=powerpact-orders.csv"},
    )


@bp.post("/orders/<int:order_id>/retry")
@embedded("partner")
def retry(order_id: int) -> str:
    outcome = retry_order_syncs(
        [order_id], actor=g.shop.shop_domain, partner_shop_domain=g.shop.shop_domain
    )
    order = db.session.get(OrderSync, order_id)
    if order is None or order.partner_shop_domain != g.shop.shop_domain:
        abort(404)
    return render_template(
        "partner/_order_row.html", order=order, partner=g.shop, notice=outcome.message
    )
