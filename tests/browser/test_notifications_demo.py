"""The demo of email as issue #22 tells it, in Chromium: a roaster's sold-out failure sends
that roaster one email, read at ``/dev/mail``; the admins' digest lists it with the low-stock
variants; the email's unsubscribe link stops the next one.

The Huey consumer's periodic tasks (the minute's failure check, the digest every five
minutes) are called as the consumer would; the sends they queue run inline in tests.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.models import ProductMap
from powerpact.notifications.tasks import admin_digest_task, notify_order_failures_task
from powerpact.notifications.transport import maildir_path
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_walkthrough import (  # noqa: F401  (the fixture, reused)
    HARBOR,
    NORTH,
    RETAIL,
    import_two_directly,
    pages,
    press,
    syncs,
)

pytestmark = pytest.mark.browser


def mail_rows(page, base: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/dev/mail")
    return page.locator("table tbody tr").all_inner_texts()


def test_a_sold_out_failure_mails_the_roaster_once_and_the_digest_lists_it_with_low_stock(
    live,
    pages,  # noqa: F811
):
    harness, base = live
    mail, console = pages
    shutil.rmtree(maildir_path(current_app.config["POWERPACT"]), ignore_errors=True)
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    import_two_directly(NORTH)
    import_two_directly(HARBOR)

    # A roaster sells out of one variant: the retail store follows, to the low-stock list.
    low = db.session.scalars(
        select(ProductMap)
        .where(ProductMap.partner_shop_domain == NORTH, ProductMap.retail_available > 5)
        .order_by(ProductMap.id)
    ).first()
    harness.control(
        "POST", f"/shops/{NORTH}/stock", {"variant_id": low.partner_variant_id, "available": 2}
    )
    harness.settle()
    inventory.apply_reported_changes(NORTH)  # the task the webhook scheduled 2 s later

    console.goto(f"{harness.base}/_sandbox/")
    failing = press(console, harness, "Place an order that will fail at a partner")
    failing = failing.split()[1].rstrip(";")
    (partner,) = syncs(failing)
    roaster = harness.sandbox.shop(partner).name
    assert notify_order_failures_task.call_local() == 1
    assert notify_order_failures_task.call_local() == 0, "the same failure is mailed once"

    (row,) = mail_rows(mail, base)
    assert f"owner@{partner}" in row and failing in row, row
    mail.get_by_role("link", name=f"Order {failing}").click()
    text = mail.locator("pre").inner_text()
    assert roaster in text and "stock" in text, text
    screenshot(mail, "notifications-roaster-email")
    assert_accessible(mail, "a message in /dev/mail")

    assert admin_digest_task.call_local() == 1
    digest = next(r for r in mail_rows(mail, base) if f"owner@{RETAIL}" in r)
    mail.locator("tr", has_text=f"owner@{RETAIL}").get_by_role("link").click()
    text = mail.locator("pre").inner_text()
    assert failing in text, text
    assert "Low stock" in text and f"{low.variant_title} (North Star Roasters): 2 left" in text
    screenshot(mail, "notifications-admin-digest")
    assert "need attention" in digest, digest

    # The roaster follows the email's "Stop these emails" link (no sign-in).
    mail.goto(f"{base}/dev/mail")
    mail.locator("tr", has_text=f"owner@{partner}").get_by_role("link").click()
    mail.get_by_role("link", name="Open the HTML part as the recipient sees it").click()
    link = mail.get_by_role("link", name="Stop these emails").get_attribute("href")
    mail.goto(base + urlsplit(link).path)  # the link names APP_URL; this server is elsewhere
    mail.get_by_role("button", name="Unsubscribe").click()
    mail.get_by_role("status").get_by_text("will no longer get emails").wait_for()
    screenshot(mail, "notifications-unsubscribed")

    again = press(console, harness, "Place an order that will fail at a partner")
    again = again.split()[1].rstrip(";")
    assert set(syncs(again)) == {partner}
    assert notify_order_failures_task.call_local() == 0, "unsubscribed: nothing more"
    assert len([r for r in mail_rows(mail, base) if f"owner@{partner}" in r]) == 1
