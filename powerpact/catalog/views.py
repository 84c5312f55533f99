"""The catalog's pages, for the retail admins: a partner's live catalog, importing from it,
an import's progress.

An import that would change live retail prices is not started: the answer is a modal listing
each change, whose buttons send the same request again with ``reprice=yes`` (and the digest of
the changes shown) or ``reprice=keep``. A confirmed repricing is checked again: if the
changes are no longer the ones shown, the modal asks again with the new ones.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from powerpact.catalog import browse, imports
from powerpact.catalog.pricing import InvalidRule, MarkupRule, saved_rule
from powerpact.catalog.tasks import run_import_job_task
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import (
    htmx_redirect,
    is_fragment_request,
    render_page_or_fragment,
    with_toast,
)
from powerpact.models import ImportJob, PartnerStore, RunStatus
from powerpact.shopify.errors import ShopifyError

bp = Blueprint("catalog", __name__)
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
# The fields that narrow the list ("Clear filters" drops them and keeps the markup).
FILTER_FIELDS = ("q", "status", "unimported")
PRODUCT_GID = re.compile(r"gid://shopify/Product/[0-9]{1,20}")
# What the price-change modal's buttons add to the import request they repeat.
REPRICE_FIELDS = ("reprice", "confirmed")
REPRICE_CHOICES = ("", "yes", "keep")


def rule_from(values: dict[str, str], partner: PartnerStore) -> MarkupRule:
    """The rule typed on the page, falling back to the partner's default for blank fields.

    A markup field left empty is an error, not the default: a cleared field must not
    silently price at 30%. If the saved default cannot be used, the page must give the
    kind and the value itself.
    """
    if "value" in values and not str(values["value"]).strip():
        raise InvalidRule("Enter a markup: a percentage like 30 or an amount like 2.50.")
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


@bp.get("/admin/partners/<int:partner_id>/catalog")
@embedded("admin")
def catalog(partner_id: int) -> str:
    partner = db.get_or_404(PartnerStore, partner_id)
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
            retail=g.shop,
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
        filtered=any(args.get(k) for k in FILTER_FIELDS),
        clear_args={
            k: v for k, v in args.items() if k in CATALOG_FIELDS and k not in FILTER_FIELDS
        },
    )


@bp.post("/admin/partners/<int:partner_id>/imports")
@embedded("admin")
def start_import(partner_id: int) -> tuple[str, int] | str | BaseResponse:
    partner = db.get_or_404(PartnerStore, partner_id)
    form = request.form
    try:
        rule = rule_from(form.to_dict(), partner)
    except InvalidRule as exc:
        return render_template("catalog/_import_error.html", message=str(exc)), 422
    reprice = form.get("reprice", "")
    if reprice not in REPRICE_CHOICES:
        return render_template(
            "catalog/_import_error.html", message="Choose whether to reprice."
        ), 422
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
    if reprice != "keep":
        try:
            changes = imports.changes_to_confirm(
                partner,
                g.shop,
                list(titles),
                rule,
                confirmed=form.get("confirmed", "") if reprice == "yes" else None,
            )
        except ShopifyError as exc:
            message = f"The live prices could not be checked, so nothing was imported: {exc}"
            return with_toast(
                render_template("catalog/_import_error.html", message=message), message, error=True
            )
        if changes:
            return render_template(
                "catalog/_import_price_changes.html",
                partner=partner,
                changes=changes,
                digest=imports.changes_digest(changes),
                rule=rule,
                currency=g.shop.currency_code,
                stale=reprice == "yes",
                request_fields=[
                    (k, v) for k, v in form.items(multi=True) if k not in REPRICE_FIELDS
                ],
            )
    job = imports.create_import_job(
        partner,
        list(titles),
        rule,
        product_status="DRAFT" if form.get("product_status") == "draft" else "ACTIVE",
        vendor=form.get("vendor") or None,
        requested_by=g.session_token.user_id,
        titles={k: v for k, v in titles.items() if v},
        keep_live_prices=reprice == "keep",
    )
    run_import_job_task(job.id)
    return htmx_redirect(url_for("catalog.import_job", job_id=job.id))


@bp.get("/admin/imports/<int:job_id>")
@embedded("admin")
def import_job(job_id: int) -> str | BaseResponse:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    rule, rule_problem = saved_rule(job.markup_rule)
    page = render_page_or_fragment(
        "catalog/import_job.html",
        "catalog/_import_progress.html",
        job=job,
        rule=rule,
        rule_problem=rule_problem,
    )
    if is_fragment_request() and job.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        # The poll that finds the import finished is its last: the result arrives as a toast.
        failed = job.status in (RunStatus.FAILED, RunStatus.PARTIAL)
        return with_toast(page, imports.job_summary(job), error=failed)
    return page
