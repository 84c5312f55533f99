"""POST /webhooks: verified, stored once, acknowledged, processed once."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import DeliveryStatus, WebhookDelivery
from powerpact.shopify import deliveries, tasks
from powerpact.shopify.delivery_store import STORE_KEY, GroupCommitStore
from powerpact.shopify.signatures import webhook_hmac
from powerpact.shopify.topics import _HANDLERS
from powerpact.shopify.webhooks import delivery_by_webhook_id, parse_triggered_at


def handles(topic):
    """Handle a throwaway topic (one no registry entry names) until the test pops it."""

    def register(fn):
        _HANDLERS[topic] = fn
        return fn

    return register


@pytest.fixture
def recorded_topic():
    """A throwaway topic whose handler records each call."""
    calls = []

    @handles("test/recorded")
    def handler(delivery, payload):
        calls.append(payload)
        return {"seen": payload.get("id")}

    yield calls
    _HANDLERS.pop("test/recorded")


def count_deliveries(db_session):
    return db_session.scalar(select(func.count()).select_from(WebhookDelivery))


def test_a_genuine_webhook_is_stored_acknowledged_and_processed(send_webhook, recorded_topic):
    response = send_webhook("test/recorded", {"id": 7}, webhook_id="w-1")
    assert response.status_code == 200
    delivery = delivery_by_webhook_id("w-1")
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.result == {"seen": 7}
    assert json.loads(delivery.payload) == {"id": 7}
    assert recorded_topic == [{"id": 7}]


@pytest.mark.parametrize(
    "forgery",
    [
        {"secret": "not-the-app-secret"},
        {"hmac_header": ""},
        {"hmac_header": "c2lnbmF0dXJl"},
    ],
    ids=["other-secret", "missing", "garbage"],
)
def test_a_forged_hmac_gets_401_and_nothing_is_stored(send_webhook, db_session, forgery):
    response = send_webhook("test/recorded", {"id": 1}, **forgery)
    assert response.status_code == 401
    assert count_deliveries(db_session) == 0


def test_a_body_changed_after_signing_is_refused(send_webhook, app, db_session):
    from powerpact.shopify.signatures import webhook_hmac

    signed = webhook_hmac(app.config["POWERPACT"].shopify_api_secret, b'{"id": 1}')
    response = send_webhook("test/recorded", None, raw=b'{"id": 2}', hmac_header=signed)
    assert response.status_code == 401


def test_a_repeated_delivery_is_acknowledged_and_processed_once(
    send_webhook, recorded_topic, db_session
):
    for _ in range(3):
        assert send_webhook("test/recorded", {"id": 9}, webhook_id="same").status_code == 200
    assert recorded_topic == [{"id": 9}]
    assert count_deliveries(db_session) == 1


def test_the_same_event_under_a_new_delivery_id_is_a_duplicate(send_webhook, recorded_topic):
    send_webhook("test/recorded", {"id": 3}, webhook_id="a", event_id="event-1")
    send_webhook("test/recorded", {"id": 3}, webhook_id="b", event_id="event-1")
    assert recorded_topic == [{"id": 3}]
    assert delivery_by_webhook_id("b").status == DeliveryStatus.DUPLICATE


def test_unknown_topics_are_stored_and_ignored(send_webhook):
    assert send_webhook("carts/create", {"id": 1}, webhook_id="cart").status_code == 200
    delivery = delivery_by_webhook_id("cart")
    assert delivery.status == DeliveryStatus.IGNORED
    assert "no handler" in delivery.error


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b"\xff\xfe", b'{"id": "\xff"}', b'{"id": "x\x00"}'],
    ids=["not-json", "not-an-object", "not-utf8", "not-utf8-in-a-string", "nul-in-a-string"],
)
def test_malformed_bodies_with_a_valid_hmac_are_stored_with_a_reason(send_webhook, raw):
    response = send_webhook("test/recorded", None, raw=raw, webhook_id="bad")
    assert response.status_code == 200
    delivery = delivery_by_webhook_id("bad")
    assert delivery.status == DeliveryStatus.FAILED
    assert "malformed" in delivery.error


def test_a_delivery_without_webhook_id_is_a_bad_request(client, app):
    from powerpact.shopify.signatures import webhook_hmac

    body = b"{}"
    secret = app.config["POWERPACT"].shopify_api_secret
    response = client.post(
        "/webhooks", data=body, headers={"X-Shopify-Hmac-Sha256": webhook_hmac(secret, body)}
    )
    assert response.status_code == 400


def test_a_handler_error_is_stored_as_failed_not_raised(send_webhook):
    @handles("test/broken")
    def broken(delivery, payload):
        raise KeyError("line_items")

    try:
        assert send_webhook("test/broken", {"id": 1}, webhook_id="broken").status_code == 200
    finally:
        _HANDLERS.pop("test/broken")
    delivery = delivery_by_webhook_id("broken")
    assert delivery.status == DeliveryStatus.FAILED
    assert "KeyError" in delivery.error


class Transient(Exception):
    transient = True


def test_a_transient_error_leaves_the_delivery_for_a_retry(send_webhook, db_session):
    attempts = []

    @handles("test/flaky")
    def flaky(delivery, payload):
        attempts.append(1)
        if len(attempts) == 1:
            raise Transient("throttled")
        return {"ok": True}

    try:
        send_webhook("test/flaky", {"id": 1}, webhook_id="flaky")
        delivery = delivery_by_webhook_id("flaky")
        assert delivery.status == DeliveryStatus.RECEIVED
        assert delivery.attempts == 1
        assert "throttled" in delivery.error
        assert deliveries.process_delivery(delivery.id) == "processed"
    finally:
        _HANDLERS.pop("test/flaky")
    assert delivery_by_webhook_id("flaky").attempts == 2


def test_sweeper_processes_what_a_queue_outage_left_behind(
    send_webhook, recorded_topic, monkeypatch, db_session
):
    def queue_down(delivery_id):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(tasks, "process_delivery_task", queue_down)
    assert send_webhook("test/recorded", {"id": 5}, webhook_id="outage").status_code == 200
    delivery = delivery_by_webhook_id("outage")
    assert delivery.status == DeliveryStatus.RECEIVED
    assert recorded_topic == []

    monkeypatch.undo()
    assert tasks.sweep_unprocessed_deliveries.call_local() == 0, "too recent to sweep"
    delivery.received_at = utcnow() - timedelta(minutes=10)
    db_session.commit()
    assert tasks.sweep_unprocessed_deliveries.call_local() == 1
    assert delivery_by_webhook_id("outage").status == DeliveryStatus.PROCESSED
    assert recorded_topic == [{"id": 5}]


def test_processing_twice_is_a_no_op(send_webhook, recorded_topic):
    send_webhook("test/recorded", {"id": 2}, webhook_id="twice")
    delivery = delivery_by_webhook_id("twice")
    assert deliveries.process_delivery(delivery.id) == "skipped"
    assert deliveries.process_delivery(999999) == "skipped"
    assert recorded_topic == [{"id": 2}]


def test_triggered_at_is_parsed_as_aware_or_dropped():
    assert parse_triggered_at("2026-11-22T10:00:00.000Z").utcoffset() == timedelta(0)
    assert parse_triggered_at("2026-11-22T10:00:00") is None
    assert parse_triggered_at("yesterday") is None
    assert parse_triggered_at(None) is None


def test_a_huge_body_is_refused(client):
    response = client.post(
        "/webhooks", data=b"x" * (2 * 1024 * 1024 + 1), headers={"X-Shopify-Topic": "x"}
    )
    assert response.status_code == 413


def test_two_deliveries_of_one_event_processed_at_once_take_effect_once(committed_app):
    """Two workers pick up two deliveries of one event at the same moment."""
    started = threading.Barrier(2, timeout=10)
    calls = []

    @handles("test/slow")
    def slow(delivery, payload):
        calls.append(delivery.webhook_id)
        time.sleep(0.3)
        return None

    ids = []
    for webhook_id in ("first", "second"):
        delivery = WebhookDelivery(
            webhook_id=webhook_id, event_id="one-event", topic="test/slow",
            shop_domain="bubbly.myshopify.com", payload="{}",
        )  # fmt: skip
        db.session.add(delivery)
        db.session.commit()
        ids.append(delivery.id)

    def work(delivery_id):
        with committed_app.app_context():
            started.wait()
            return deliveries.process_delivery(delivery_id)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(work, ids))
    finally:
        _HANDLERS.pop("test/slow")
    assert outcomes == ["duplicate", "processed"]
    assert len(calls) == 1


def test_a_database_failure_answers_503_and_acknowledges_nothing(
    app, send_webhook, recorded_topic, db_session
):
    test_store = app.extensions[STORE_KEY]
    unreachable = GroupCommitStore("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    app.extensions[STORE_KEY] = unreachable  # the app fixture puts the real one back
    try:
        response = send_webhook("test/recorded", {"id": 4}, webhook_id="unstored")
    finally:
        unreachable.close()
        app.extensions[STORE_KEY] = test_store
    assert response.status_code == 503
    assert count_deliveries(db_session) == 0
    assert recorded_topic == []
    # Shopify retries a non-2xx answer: the retry is stored and processed, once.
    assert send_webhook("test/recorded", {"id": 4}, webhook_id="unstored").status_code == 200
    assert recorded_topic == [{"id": 4}]


def test_concurrent_webhooks_through_group_commit_are_each_stored_and_processed_once(
    committed_app, recorded_topic
):
    """The production store behind the route (no test transaction), requests at once."""
    secret = committed_app.config["POWERPACT"].shopify_api_secret
    assert isinstance(committed_app.extensions[STORE_KEY], GroupCommitStore)

    def post(webhook_id: str, number: int) -> int:
        body = json.dumps({"id": number}).encode()
        headers = {
            "X-Shopify-Topic": "test/recorded",
            "X-Shopify-Shop-Domain": "bubbly-retail.myshopify.com",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": f"event-{webhook_id}",
            "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body),
        }
        with committed_app.app_context():
            response = committed_app.test_client().post("/webhooks", data=body, headers=headers)
        return response.status_code

    webhook_ids = [f"at-once-{n}" for n in range(30)] + ["repeated"] * 6
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, webhook_ids, range(len(webhook_ids))))
    assert statuses == [200] * 36
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 31
    assert len(recorded_topic) == 31
    processed = db.session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PROCESSED)
    )
    assert processed == 31


def test_one_event_id_under_two_topics_is_two_events(send_webhook, recorded_topic):
    """Shopify shares the event id across the topics of one merchant action."""

    @handles("test/other")
    def other(delivery, payload):
        recorded_topic.append({"other": payload.get("id")})

    try:
        send_webhook("test/recorded", {"id": 4}, webhook_id="c", event_id="event-2")
        send_webhook("test/other", {"id": 4}, webhook_id="d", event_id="event-2")
        send_webhook("test/other", {"id": 4}, webhook_id="e", event_id="event-2")
    finally:
        _HANDLERS.pop("test/other")
    assert recorded_topic == [{"id": 4}, {"other": 4}]
    assert delivery_by_webhook_id("d").status == DeliveryStatus.PROCESSED
    assert delivery_by_webhook_id("e").status == DeliveryStatus.DUPLICATE
