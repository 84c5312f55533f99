"""Partner statements: for the retail admins, every partner's statement of a period and
each statement with its orders, credits and payments, where a payment is recorded; for a
partner, its own statements, read-only. Both download a statement as CSV and print it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import htmx_redirect, render_page_or_fragment, with_toast
from powerpact.models import PartnerStore
from powerpact.statements.export import file_name, statement_csv
from powerpact.statements.ledger import (
    Partner,
    RetailTerms,
    Statement,
    build_statement,
    monthly_figures,
    partner_of,
    period_summaries,
    retail_terms,
)
from powerpact.statements.payments import PaymentForm, check_payment, record_payment
from powerpact.statements.periods import (
    Period,
    current_month,
    parse_period,
    recent_months,
    today_in,
)

bp = Blueprint("statements", __name__)
PARTNER_MONTHS = 12  # the months a partner's list shows


def chosen_period(args: MultiDict[str, str], terms: RetailTerms) -> tuple[Period, str | None]:
    """The period the filters name: ``month`` (``2026-03``), or ``start`` and ``end`` days
    (both included); the current month if none, with what was wrong if they named none."""
    start, end, month = args.get("start", ""), args.get("end", ""), args.get("month", "")
    if start or end:
        period = parse_period(f"{start}..{end}")
        if period is None:
            return current_month(terms.zone), "Enter two days, the first on or before the last."
        return period, None
    if month:
        period = parse_period(month)
        if period is None or not period.is_month:
            return current_month(terms.zone), "Pick a month, such as 2026-03."
        return period, None
    return current_month(terms.zone), None


def period_or_404(text: str) -> Period:
    period = parse_period(text)
    if period is None:
        abort(404)
    return period


def staff_member() -> str:
    """Who pressed the button: the session token's user (``sub``) of the shop."""
    user = getattr(g.session_token, "user_id", None)
    shop = g.shop.shop_domain
    return f"staff member {user} of {shop}" if user else f"an admin of {shop}"


@bp.get("/admin/statements")
@embedded("admin")
def index() -> str:
    terms = retail_terms()
    period, problem = chosen_period(request.args, terms)
    summaries = period_summaries(period, terms)
    return render_page_or_fragment(
        "statements/index.html",
        "statements/_index_table.html",
        period=period,
        problem=problem,
        summaries=summaries,
        currency=terms.currency,
        zone=terms.zone,
    )


def admin_statement(partner_id: int, period_text: str) -> tuple[Statement, RetailTerms]:
    row = db.get_or_404(PartnerStore, partner_id)
    period = period_or_404(period_text)
    terms = retail_terms()
    return build_statement(partner_of(row), period, terms), terms


@bp.get("/admin/partners/<int:partner_id>/statements/<period>")
@embedded("admin")
def statement(partner_id: int, period: str) -> str:
    found, terms = admin_statement(partner_id, period)
    return render_page_or_fragment(
        "statements/statement.html",
        "statements/_statement.html",
        statement=found,
        audience="admin",
        retailer=terms.name,
        payment_form=PaymentForm.blank(found.figures, terms.currency, today_in(terms.zone)),
    )


@bp.get("/admin/partners/<int:partner_id>/statements/<period>.csv")
@embedded("admin")
def statement_csv_download(partner_id: int, period: str) -> Response:
    found, _ = admin_statement(partner_id, period)
    return csv_response(found)


@bp.post("/admin/partners/<int:partner_id>/statements/<period>/payments")
@embedded("admin")
def record(partner_id: int, period: str) -> ResponseReturnValue:
    """Check a payment and ask to confirm it (App Bridge's modal); once confirmed, record it.

    The first post answers the form again: with its errors (422), or with the modal that
    says what the payment leaves open. The modal's button posts the same fields with
    ``confirmed``, and the answer is the whole statement, with a toast.
    """
    row = db.get_or_404(PartnerStore, partner_id)
    chosen = period_or_404(period)
    terms = retail_terms()
    partner = partner_of(row)
    if request.form.get("confirmed") != "yes":
        form, after = check_payment(partner.domain, chosen, terms, request.form)
        answer = render_template(
            "statements/_payment.html",
            form=form,
            confirm=after,
            partner=partner,
            period=chosen,
            currency=terms.currency,
        )
        return answer if after is not None else (answer, 422)
    form, recorded = record_payment(partner.domain, chosen, terms, request.form, staff_member())
    if recorded is None:
        db.session.rollback()
        found = build_statement(partner, chosen, terms)
        page = render_template(
            "statements/_statement.html",
            statement=found,
            audience="admin",
            retailer=terms.name,
            payment_form=form,
        )
        return with_toast(page, "The payment was not recorded: see the form.", error=True)
    db.session.commit()
    found = build_statement(partner, chosen, terms)
    page = render_template(
        "statements/_statement.html",
        statement=found,
        audience="admin",
        retailer=terms.name,
        payment_form=PaymentForm.blank(found.figures, terms.currency, today_in(terms.zone)),
    )
    if not recorded.recorded:
        return with_toast(page, "That payment was already recorded.")
    status = recorded.status.value.replace("_", " ")
    return with_toast(page, f"Payment recorded. The statement is {status}.")


def csv_response(found: Statement) -> Response:
    return Response(
        statement_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={file_name(found)}"},
    )


def own_partner() -> Partner:
    return partner_of(g.shop)


@bp.get("/partner/statements")
@embedded("partner")
def partner_statements() -> ResponseReturnValue:
    """The partner's statements of the last twelve months that have anything in them; the
    filters open any month or range of days."""
    terms = retail_terms()
    problem = None
    if any(request.args.get(name) for name in ("month", "start", "end")):
        chosen, problem = chosen_period(request.args, terms)
        if problem is None:
            return htmx_redirect(url_for("statements.partner_statement", period=chosen.key))
    months = monthly_figures(g.shop.shop_domain, recent_months(terms.zone, PARTNER_MONTHS), terms)
    return render_template(
        "statements/partner_statements.html",
        months=[m for m in months if m.figures.orders or m.figures.credits or m.figures.paid],
        currency=terms.currency,
        retailer=terms.name,
        current=current_month(terms.zone),
        problem=problem,
    )


@bp.get("/partner/statements/<period>")
@embedded("partner")
def partner_statement(period: str) -> str:
    chosen = period_or_404(period)
    terms = retail_terms()
    found = build_statement(own_partner(), chosen, terms)
    return render_template(
        "statements/partner_statement.html",
        statement=found,
        audience="partner",
        retailer=terms.name,
    )


@bp.get("/partner/statements/<period>.csv")
@embedded("partner")
def partner_statement_csv(period: str) -> Response:
    chosen = period_or_404(period)
    return csv_response(build_statement(own_partner(), chosen, retail_terms()))
