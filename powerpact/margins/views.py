"""The margins page (``/admin/margins``): what the markup earned per partner, product and
variant over the last 30 or 90 days, a chart of each partner's margin per week, and the
table as a CSV."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from powerpact.charts import margins_chart
from powerpact.embedded import embedded
from powerpact.htmx import render_page_or_fragment
from powerpact.margins.figures import (
    PERIODS,
    SHOWN_ROWS,
    Level,
    MarginFilters,
    MarginReport,
    Sort,
    as_csv,
    csv_name,
    margin_report,
    sorted_rows,
)
from powerpact.timezones import shop_zone

bp = Blueprint("margins", __name__)


def report_for(filters: MarginFilters) -> MarginReport:
    """The report in the retail store's days (the admin's shop is the retail store)."""
    return margin_report(filters.days, shop_zone(g.shop.timezone), partner=filters.partner)


@bp.get("/admin/margins")
@embedded("admin")
def margins() -> str:
    """The page; the period, the partner and the level re-render the chart and the table
    (the fragment), and so does sorting the table by a column."""
    filters = MarginFilters.from_args(request.args)
    report = report_for(filters)
    rows = sorted_rows(report.rows(filters.level), filters.sort, filters.descending)
    partner_names = dict(sorted(report.partner_names.items(), key=lambda i: i[1].casefold()))
    return render_page_or_fragment(
        "margins/margins.html",
        "margins/_margin_results.html",
        filters=filters,
        report=report,
        rows=rows[:SHOWN_ROWS],
        row_count=len(rows),
        totals=report.totals(),
        chart=margins_chart(report.partner_weeks(), report.period),
        partner_names=partner_names,
        periods=PERIODS,
        levels=Level,
        sorts=Sort,
    )


@bp.get("/admin/margins.csv")
@embedded("admin")
def margins_csv() -> Response:
    filters = MarginFilters.from_args(request.args)
    report = report_for(filters)
    return Response(
        as_csv(report, filters),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={csv_name(report.period)}"},
    )
