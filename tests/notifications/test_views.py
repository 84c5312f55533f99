"""The pages: each audience's choices, the unsubscribe link, and /dev/mail (demo only)."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from powerpact import create_app
from powerpact.extensions import db
from powerpact.models import NotificationKind, NotificationSetting
from powerpact.notifications import unsubscribe as tokens
from powerpact.notifications.transport import maildir_path
from tests.conftest import settings_for


def post_as(client, session_token, url, shop, data):
    headers = {"Authorization": f"Bearer {session_token(shop)}"}
    return client.post(url, data=data, headers=headers)


@pytest.mark.parametrize(
    ("url", "owner", "other"),
    [
        ("/partner/notifications", "alice", "retail"),
        ("/admin/settings/notifications", "retail", "alice"),
    ],
)
def test_each_audience_sees_only_its_own_page(personas, as_shop, client, url, owner, other):
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 401  # anonymous
    assert as_shop(url, getattr(personas, other)).status_code == 403
    page = as_shop(url, getattr(personas, owner))
    assert page.status_code == 200
    assert "data-save-bar" in page.text


def test_a_partner_chooses_its_address_and_kinds(personas, as_shop, client, session_token):
    alice = personas.alice
    alice.contact_email = "owner@alice.example"
    page = as_shop("/partner/notifications", alice)
    assert "owner@alice.example" in page.text
    assert 'value="order_failed" checked' in page.text
    saved = post_as(
        client,
        session_token,
        "/partner/notifications",
        alice,
        {"email": "ops@alice.example, Orders@alice.example", "kind": ["statement"]},
    )
    assert saved.status_code == 200
    assert "Notifications saved" in saved.headers.get("HX-Trigger", "") + saved.text
    row = db.session.scalar(
        select(NotificationSetting).where(NotificationSetting.shop_domain == alice.shop_domain)
    )
    assert row.email == "ops@alice.example, Orders@alice.example"
    assert row.muted == ["order_failed"]


def test_a_wrong_address_is_refused_under_its_field_and_kept(personas, client, session_token):
    refused = post_as(
        client,
        session_token,
        "/admin/settings/notifications",
        personas.retail,
        {"email": "not an address", "kind": ["admin_digest"]},
    )
    assert refused.status_code == 422
    assert "Not an email address: not an address" in refused.text
    assert 'value="not an address"' in refused.text


def test_unsubscribe_asks_on_get_and_mutes_on_post(personas, client, db_session):
    token = tokens.make_token(personas.alice.shop_domain, NotificationKind.ORDER_FAILED)
    asked = client.get(f"/notifications/unsubscribe/{token}")
    assert asked.status_code == 200
    assert "<button" in asked.text
    assert db_session.scalar(select(NotificationSetting)) is None  # GET changes nothing
    done = client.post(f"/notifications/unsubscribe/{token}")
    assert done.status_code == 200
    assert "will no longer get emails" in done.text
    setting = db_session.scalar(select(NotificationSetting))
    assert (setting.shop_domain, setting.muted) == (personas.alice.shop_domain, ["order_failed"])


def test_one_click_unsubscribe_rfc_8058(personas, client, db_session):
    token = tokens.make_token(personas.retail.shop_domain, NotificationKind.ADMIN_DIGEST)
    done = client.post(
        f"/notifications/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert done.status_code == 200
    assert db_session.scalar(select(NotificationSetting)).muted == ["admin_digest"]


def test_a_tampered_or_expired_token_changes_nothing(personas, client, db_session, time_machine):
    token = tokens.make_token(personas.alice.shop_domain, NotificationKind.ORDER_FAILED)
    other = tokens.make_token(personas.bob.shop_domain, NotificationKind.ORDER_FAILED)
    tampered = token.split(".")[0] + "." + ".".join(other.split(".")[1:])
    answer = client.post(f"/notifications/unsubscribe/{tampered}")
    assert answer.status_code == 400
    assert "not valid" in answer.text
    time_machine.move_to("2030-01-01", tick=False)
    expired = client.post(f"/notifications/unsubscribe/{token}")
    assert expired.status_code == 400
    assert "expired" in expired.text
    assert db_session.scalar(select(NotificationSetting)) is None


def test_dev_mail_lists_and_shows_the_maildir_in_the_demo(app, client):
    box = mailbox.Maildir(maildir_path(app.config["POWERPACT"]), create=True)
    message = EmailMessage()
    message["Subject"] = "Order #1042 could not be sent"
    message["To"] = "owner@alice.example"
    message["Date"] = "Sun, 06 Dec 2026 10:00:00 +0000"
    message.set_content("plain words")
    message.add_alternative("<p>html <b>words</b></p>", subtype="html")
    key = box.add(message)
    try:
        listing = client.get("/dev/mail")
        assert listing.status_code == 200
        assert "Order #1042 could not be sent" in listing.text
        shown = client.get(f"/dev/mail/{key}")
        assert shown.status_code == 200
        assert "plain words" in shown.text
        assert f"/dev/mail/{key}/html" in shown.text
        html = client.get(f"/dev/mail/{key}/html")
        assert html.status_code == 200
        assert "<p>html <b>words</b></p>" in html.text
        assert client.get("/dev/mail/no-such-key").status_code == 404
        assert client.get("/dev/mail/..%2f..%2fetc").status_code == 404
    finally:
        box.remove(key)


def test_dev_mail_is_404_outside_the_demo(database_url):
    app = create_app(
        {"TESTING": True},
        settings=settings_for(
            database_url, SHOPIFY_ADMIN_ORIGIN="https://{shop}", POWERPACT_ENV="development"
        ),
    )
    client = app.test_client()
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail/anything").status_code == 404
    assert client.get("/dev/mail/anything/html").status_code == 404
