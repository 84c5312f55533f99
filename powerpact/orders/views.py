"""The orders' pages: the retail admin's order desk (every partner's orders, counts, bulk
retry, release of a risk hold) and each order's own page (its lines, split and timeline), and
a partner's own orders (its table, the CSV export, retry)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from powerpact.charts import partner_orders_chart
from powerpact.embedded import embedded
from powerpact.extensions import after_commit, db
from powerpact.htmx import is_fragment_request, render_page_or_fragment, with_toast
from powerpact.inputs import whole_number
from powerpact.models import OrderSync, PartnerStore
from powerpact.orders.charts_data import DAYS, partner_orders_per_day
from powerpact.orders.listing import (
    Filters,
    ShipToHistory,
    as_csv,
    export_rows,
    order_page,
    order_split,
    status_counts,
)
from powerpact.orders.retry import retry_order_syncs
from powerpact.orders.risk import is_releasable, release_risk_hold
from powerpact.orders.tasks import capture_order_task
from powerpact.shops import display_name, retail_store_name
from powerpact.timezones import shop_zone

bp = Blueprint("orders", __name__)


def partner_names() -> dict[str, str]:
    """Every partner's display name by its domain, in the order of those names."""
    rows = db.session.execute(select(PartnerStore.shop_domain, PartnerStore.name)).all()
    names = {domain: display_name(name, domain) for domain, name in rows}
    return dict(sorted(names.items(), key=lambda item: item[1].casefold()))


def desk_context(filters: Filters) -> dict[str, object]:
    counts = status_counts(filters.partner)
    return {
        "page": order_page(filters, counts=counts),
        "filters": filters,
        "counts": counts,
        "partner_names": partner_names(),
        "releasable": is_releasable,
    }


@bp.get("/admin/orders")
@embedded("admin")
def desk() -> str:
    filters = Filters.from_args(request.args)
    return render_page_or_fragment(
        "orders/desk.html", "orders/_desk_table.html", **desk_context(filters)
    )


@bp.post("/admin/orders/retry")
@embedded("admin")
def bulk_retry() -> ResponseReturnValue:
    given = request.form.getlist("order_id")
    ids = [number for number in map(whole_number, given) if number is not None]
    if len(ids) != len(given):
        abort(400, "An order_id of the form is not an order's number.")
    outcome = retry_order_syncs(ids, actor=f"admin of {g.shop.shop_domain}")
    filters = Filters.from_args(request.form)
    table = render_template("orders/_desk_table.html", **desk_context(filters))
    return with_toast(table, outcome.message, error=not outcome.retried)


@bp.post("/admin/orders/<int:order_id>/release")
@embedded("admin")
def release(order_id: int) -> ResponseReturnValue:
    outcome = release_risk_hold(order_id, actor=staff_member())
    if outcome.order_gid is not None:
        gid = outcome.order_gid
        after_commit(lambda: capture_order_task(gid, only_if_hold_ended=False))
        db.session.commit()
    filters = Filters.from_args(request.form)
    table = render_template("orders/_desk_table.html", **desk_context(filters))
    return with_toast(table, outcome.message, error=outcome.refused is not None)


def staff_member() -> str:
    """Who pressed a button: the session token's user (``sub``) of the shop."""
    user = getattr(g.session_token, "user_id", None)
    shop = g.shop.shop_domain
    return f"staff member {user} of {shop}" if user else f"an admin of {shop}"


@bp.get("/admin/orders/<int:order_id>")
@embedded("admin")
def order_detail(order_id: int) -> str:
    """An order's own page. Its query is the desk's filters it was opened from, read by the
    desk's own rules, for the back link: that link always leads to the desk."""
    order = db.session.get(OrderSync, order_id)
    if order is None:
        abort(404)
    filters = Filters.from_args(request.args)
    return render_template(
        "orders/order.html",
        order=order,
        partner_name=display_name(order.partner.name, order.partner_shop_domain),
        ship_to=ShipToHistory(order.partner),
        split=order_split(order, display_name(g.shop.name, g.shop.shop_domain)),
        back_url=url_for("orders.desk", **filters.query_args()),
    )


@bp.get("/partner/orders")
@embedded("partner")
def partner_orders() -> str:
    filters = Filters.from_args(request.args)
    counts = status_counts(g.shop.shop_domain)
    page = order_page(filters, partner_domain=g.shop.shop_domain, counts=counts)
    # The chart is the page's, above the table: a filtered table (the fragment) leaves it be.
    chart = None
    if not is_fragment_request():
        zone = shop_zone(g.shop.timezone)
        chart = partner_orders_chart(partner_orders_per_day(g.shop.shop_domain, DAYS, zone))
    return render_page_or_fragment(
        "orders/partner_orders.html",
        "orders/_partner_orders_table.html",
        ship_to=ShipToHistory(g.shop),
        retailer=retail_store_name(),
        page=page,
        filters=filters,
        counts=counts,
        chart=chart,
    )


@bp.get("/partner/orders.csv")
@embedded("partner")
def partner_orders_csv() -> Response:
    rows = export_rows(Filters.from_args(request.args), partner_domain=g.shop.shop_domain)
    return Response(
        as_csv(rows, g.shop.timezone),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=powerpact-orders.csv"},
    )


@bp.post("/partner/orders/<int:order_id>/retry")
@embedded("partner")
def partner_retry(order_id: int) -> ResponseReturnValue:
    outcome = retry_order_syncs(
        [order_id], actor=g.shop.shop_domain, partner_shop_domain=g.shop.shop_domain
    )
    order = db.session.get(OrderSync, order_id)
    if order is None or order.partner_shop_domain != g.shop.shop_domain:
        abort(404)
    row = render_template(
        "orders/_partner_order_row.html", order=order, ship_to=ShipToHistory(g.shop)
    )
    return with_toast(row, outcome.message, error=not outcome.retried)
