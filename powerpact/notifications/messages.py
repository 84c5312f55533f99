"""A row of the outbox as an email: text and HTML parts, the shops' names, times in the
recipient shop's zone, a link to the page that needs attention, and an unsubscribe link.

The message is rendered from the row's ``payload`` (the event's facts when it happened) when
it is sent. Its ``Message-ID`` is the row's, so a copy sent again after a crash (sent, then
the worker died before it recorded so) is one message to a mail client.

Unsubscribing follows RFC 8058: ``List-Unsubscribe`` holds the HTTPS link and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` says a POST to it unsubscribes at
once (https://www.rfc-editor.org/rfc/rfc8058).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from powerpact.config import Settings
from powerpact.extensions import db
from powerpact.models import NotificationKind, NotificationOutbox, PartnerStore, RetailStore
from powerpact.notifications.unsubscribe import make_token
from powerpact.shopify.admin_urls import admin_url, is_sandbox
from powerpact.shops import display_name, is_retail_shop, retail_store_name
from powerpact.timezones import shop_zone


def page_link(shop_domain: str, path: str) -> str:
    """A PowerPact page as a merchant opens it from an email: inside the shop's admin, where
    Shopify loads the embedded app at ``/admin/apps/<api key><path>``
    (https://shopify.dev/docs/apps/build/admin/embedded-app); in the demo, the app itself,
    whose sign-in page hands out the sandbox's session tokens."""
    settings: Settings = current_app.config["POWERPACT"]
    if is_sandbox(settings.shopify_admin_origin):
        joiner = "&" if "?" in path else "?"
        return f"{settings.app_url}{path}{joiner}shop={shop_domain}"
    return admin_url(shop_domain, f"apps/{settings.shopify_api_key}{path}")


def unsubscribe_link(shop_domain: str, kind: NotificationKind) -> str:
    settings: Settings = current_app.config["POWERPACT"]
    return f"{settings.app_url}/notifications/unsubscribe/{make_token(shop_domain, kind)}"


def shown_time(moment: str | None, tz_name: str | None) -> str:
    """An ISO time from a payload in the shop's zone, as a merchant reads it."""
    if not moment:
        return ""
    return (
        datetime.fromisoformat(moment).astimezone(shop_zone(tz_name)).strftime("%b %d, %Y %H:%M %Z")
    )


def render_parts(row: NotificationOutbox, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject, text and HTML of ``row`` (each kind its own two templates)."""
    if row.kind == NotificationKind.ORDER_FAILED:
        subject = (
            f"Order {context['payload'].get('order_name') or ''} could not be sent to "
            f"{context['shop_name']}"
        )
        return (
            subject,
            render_template("notifications/mail_order_failed.txt", **context),
            render_template("notifications/mail_order_failed.html", **context),
        )
    if row.kind == NotificationKind.STATEMENT:
        subject = f"Your statement from {context['retail_name']} for {context['payload']['label']}"
        return (
            subject,
            render_template("notifications/mail_statement.txt", **context),
            render_template("notifications/mail_statement.html", **context),
        )
    count = sum(len(s["items"]) for s in context["payload"]["sections"])
    new = len(context["payload"].get("new") or [])
    subject = f"PowerPact: {new} new, {count} in all need attention at {context['shop_name']}"
    return (
        subject,
        render_template("notifications/mail_admin_digest.txt", **context),
        render_template("notifications/mail_admin_digest.html", **context),
    )


def name_and_zone(shop_domain: str) -> tuple[str | None, str | None]:
    """The shop's name and time zone: two columns, not the shop's row (whose tokens would be
    decrypted for nothing)."""
    model: type[RetailStore] | type[PartnerStore] = (
        RetailStore if is_retail_shop(shop_domain) else PartnerStore
    )
    found = db.session.execute(
        select(model.name, model.timezone).where(model.shop_domain == shop_domain)
    ).first()
    return (found.name, found.timezone) if found is not None else (None, None)


def build_message(row: NotificationOutbox) -> EmailMessage:
    settings: Settings = current_app.config["POWERPACT"]
    name, tz_name = name_and_zone(row.shop_domain)
    shop_name = display_name(name, row.shop_domain)
    retail_name = retail_store_name()
    unsubscribe = unsubscribe_link(row.shop_domain, row.kind)
    payload = row.payload
    context = {
        "row": row,
        "payload": payload,
        "shop_name": shop_name,
        "retail_name": retail_name,
        "tz_name": tz_name,
        "shown_time": shown_time,
        "link": page_link(row.shop_domain, payload.get("path") or "/"),
        "links": {
            s.get("path"): page_link(row.shop_domain, s["path"])
            for s in payload.get("sections") or []
            if s.get("path")
        },
        "unsubscribe": unsubscribe,
        "settings_link": page_link(
            row.shop_domain,
            "/admin/settings/notifications"
            if row.kind == NotificationKind.ADMIN_DIGEST
            else "/partner/notifications",
        ),
    }
    subject, text, html = render_parts(row, context)
    _, from_address = parseaddr(settings.mail_from)
    domain = from_address.rpartition("@")[2] or "powerpact.invalid"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((f"{retail_name} via PowerPact", from_address))
    message["To"] = row.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<notification-{row.id}.{row.kind.value}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-PowerPact-Event"] = row.event_key
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
