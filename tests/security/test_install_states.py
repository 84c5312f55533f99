"""Issue #18, finding 6: OAuth states no longer grow for ever. A state expires after 10
minutes and says so at the callback, a periodic task deletes the expired and the used
ones, and one address can start only so many installs a minute."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from huey.api import PeriodicTask
from sqlalchemy import func, select, update

from powerpact.db_types import utcnow
from powerpact.models import OAuthState
from powerpact.shopify import tasks
from powerpact.shopify.oauth import INSTALLS_PER_MINUTE, STATE_LIFETIME, create_state
from powerpact.shopify.signatures import oauth_hmac

ALICE = "alice-roasters.myshopify.com"


def start_install(client, shop: str = ALICE, address: str = "203.0.113.7"):
    return client.get(
        "/auth/install", query_string={"shop": shop}, environ_base={"REMOTE_ADDR": address}
    )


def state_of(response) -> str:
    return response.headers["Location"].split("state=")[1].split("&")[0]


def states(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(OAuthState))


def test_an_expired_state_is_refused_with_a_message_that_says_so(client, app, db_session):
    state = state_of(start_install(client))
    db_session.execute(update(OAuthState).values(created_at=utcnow() - timedelta(minutes=11)))
    params = {"code": "c", "shop": ALICE, "state": state, "timestamp": str(int(time.time()))}
    params["hmac"] = oauth_hmac(app.config["POWERPACT"].shopify_api_secret, params)
    response = client.get("/auth/callback", query_string=params)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "expired" in page and "10 minutes" in page


def test_expired_and_used_states_are_purged_by_a_periodic_task(db_session):
    fresh = create_state(ALICE, "a")
    create_state(ALICE, "b")
    create_state(ALICE, "c")
    db_session.execute(
        update(OAuthState)
        .where(OAuthState.requested_by == "b")
        .values(created_at=utcnow() - STATE_LIFETIME - timedelta(seconds=1))
    )
    db_session.execute(
        update(OAuthState).where(OAuthState.requested_by == "c").values(used_at=utcnow())
    )
    assert tasks.purge_oauth_states.call_local() == 2
    assert [s.requested_by for s in db_session.scalars(select(OAuthState))] == ["a"]
    assert fresh


def test_the_purge_runs_every_ten_minutes():
    task = tasks.purge_oauth_states.task_class()
    assert isinstance(task, PeriodicTask)
    runs = [
        minute
        for minute in range(60)
        if task.validate_datetime(datetime(2026, 1, 1, 12, minute, tzinfo=UTC))
    ]
    assert runs == [0, 10, 20, 30, 40, 50]


def test_one_address_may_start_a_few_installs_a_minute_then_gets_429(client, db_session):
    for _ in range(INSTALLS_PER_MINUTE):
        assert start_install(client).status_code == 302
    refused = start_install(client)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many installs" in refused.get_data(as_text=True)
    assert states(db_session) == INSTALLS_PER_MINUTE, "a refused install stores no state"
    assert start_install(client, address="198.51.100.9").status_code == 302, "another address"


def test_the_limit_counts_the_last_minute_only(client, db_session):
    for _ in range(INSTALLS_PER_MINUTE):
        start_install(client)
    db_session.execute(update(OAuthState).values(created_at=utcnow() - timedelta(seconds=61)))
    assert start_install(client).status_code == 302


def test_a_refused_shop_name_counts_for_nothing(client, db_session):
    for _ in range(INSTALLS_PER_MINUTE + 2):
        assert start_install(client, shop="evil.com").status_code == 400
    assert start_install(client).status_code == 302


def app_seeing_addresses(app, hops: int):
    from dataclasses import replace

    from flask import request

    from powerpact import create_app

    seeing = create_app(settings=replace(app.config["POWERPACT"], proxy_hops=hops))
    seeing.add_url_rule("/_address", "address", lambda: request.remote_addr or "")
    return seeing.test_client()


def test_behind_one_proxy_the_client_is_the_entry_that_proxy_appended(app):
    """The install limit counts per address: behind Render's proxy that is the last
    ``X-Forwarded-For`` entry; an entry the client wrote itself is not believed."""
    client = app_seeing_addresses(app, hops=1)
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    answer = client.get("/_address", headers=forged, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert answer.get_data(as_text=True) == "203.0.113.7"


def test_with_no_proxy_declared_forwarded_headers_are_ignored(app):
    client = app_seeing_addresses(app, hops=0)
    answer = client.get(
        "/_address",
        headers={"X-Forwarded-For": "198.51.100.1"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert answer.get_data(as_text=True) == "203.0.113.7"
