"""The notifications' pages: each audience's choices (``/partner/notifications``,
``/admin/settings/notifications``), the unsubscribe link (no sign-in: the signed token is
the permission) and, in the demo only, ``/dev/mail``, the messages the maildir holds."""

from __future__ import annotations

import mailbox
import re
from datetime import UTC
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from powerpact.config import Settings
from powerpact.embedded import embedded
from powerpact.extensions import db
from powerpact.htmx import with_toast
from powerpact.notifications import preferences
from powerpact.notifications.transport import maildir_path
from powerpact.notifications.unsubscribe import InvalidUnsubscribe, read_token
from powerpact.shopify.admin_urls import is_sandbox
from powerpact.shops import display_name, find_shop

bp = Blueprint("notifications", __name__)
MAIL_KEY = re.compile(r"\A[A-Za-z0-9._,:=-]{1,200}\Z")
MAIL_LISTED = 200


def preferences_page(template: str) -> ResponseReturnValue:
    """A shop's choices (a document form, as the store settings: it posts and renders the
    page; a save is told in a toast, a refused one keeps what was typed)."""
    shop = g.shop
    saved = None
    if request.method == "POST":
        form = preferences.parse(
            shop, {"email": request.form.get("email", ""), "kind": request.form.getlist("kind")}
        )
        if not form.errors:
            saved = preferences.apply(shop, form)
            db.session.commit()
    else:
        form = preferences.current_values(shop)
    page = render_template(
        template,
        form=form,
        kinds=[(k.value, preferences.KIND_LABELS[k]) for k in preferences.kinds_for(shop)],
        contact_email=shop.contact_email,
    )
    if saved is None:
        return page, 422 if form.errors else 200
    return with_toast(page, "Notifications saved" if saved else "Nothing changed")


@bp.route("/partner/notifications", methods=["GET", "POST"])
@embedded("partner")
def partner_settings() -> ResponseReturnValue:
    return preferences_page("notifications/partner_settings.html")


@bp.route("/admin/settings/notifications", methods=["GET", "POST"])
@embedded("admin")
def admin_settings() -> ResponseReturnValue:
    return preferences_page("notifications/admin_settings.html")


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks (a link scanner that follows links must not unsubscribe anyone); POST, from
    the page's button or a mail client's one-click (RFC 8058), turns the kind off."""
    try:
        found = read_token(token)
    except InvalidUnsubscribe as exc:
        return render_template("notifications/unsubscribe.html", error=str(exc)), 400
    shop = find_shop(found.shop_domain)
    context: dict[str, Any] = {
        "error": None,
        "kind_label": preferences.KIND_LABELS[found.kind],
        "shop_name": display_name(shop.name if shop else None, found.shop_domain),
        "token": token,
        "done": False,
    }
    if request.method == "POST":
        preferences.mute(found.shop_domain, found.kind)
        db.session.commit()
        context["done"] = True
    return render_template("notifications/unsubscribe.html", **context)


def mail_viewer_enabled() -> bool:
    """``/dev/mail`` exists in the demo (the sandbox stands in for Shopify) or in debug
    mode, never in production."""
    settings: Settings = current_app.config["POWERPACT"]
    if settings.is_production:
        return False
    return current_app.debug or is_sandbox(settings.shopify_admin_origin)


def maildir() -> mailbox.Maildir:
    return mailbox.Maildir(maildir_path(current_app.config["POWERPACT"]), create=True)


def read_message(box: mailbox.Maildir, key: str) -> EmailMessage:
    if not MAIL_KEY.match(key):
        abort(404)
    try:
        with box.get_file(key) as handle:
            raw = handle.read()
    except (KeyError, FileNotFoundError):
        abort(404)
    parsed = message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content())


def sent_timestamp(date: Any) -> float:
    """A ``Date`` header as a number to sort by (0 when there is none, or it cannot be read)."""
    moment = getattr(date, "datetime", None)
    if moment is None:
        return 0.0
    return float(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


@bp.get("/dev/mail")
def dev_mail() -> ResponseReturnValue:
    if not mail_viewer_enabled():
        abort(404)
    box = maildir()
    messages = []
    for key in box.keys():  # noqa: SIM118 (a Maildir, not a dict)
        message = read_message(box, key)
        date = message.get("Date")
        messages.append(
            {
                "key": key,
                "subject": message.get("Subject", ""),
                "to": message.get("To", ""),
                "date": str(date or ""),
                "sort": sent_timestamp(date),
            }
        )
    messages.sort(key=lambda m: (m["sort"], m["key"]), reverse=True)
    return render_template("notifications/dev_mail.html", messages=messages[:MAIL_LISTED])


@bp.get("/dev/mail/<key>")
def dev_mail_message(key: str) -> ResponseReturnValue:
    if not mail_viewer_enabled():
        abort(404)
    message = read_message(maildir(), key)
    headers = [(name, str(value)) for name, value in message.items()]
    return render_template(
        "notifications/dev_mail_message.html",
        key=key,
        headers=headers,
        text=body_of(message, "plain"),
        has_html=bool(body_of(message, "html")),
    )


@bp.get("/dev/mail/<key>/html")
def dev_mail_html(key: str) -> ResponseReturnValue:
    """The HTML part as a page of its own, as the recipient's mail client shows it. It is
    PowerPact's own template, every value escaped when it was rendered."""
    if not mail_viewer_enabled():
        abort(404)
    html = body_of(read_message(maildir(), key), "html")
    if not html:
        abort(404)
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
