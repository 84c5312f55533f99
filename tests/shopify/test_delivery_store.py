"""The intake's group commit on real PostgreSQL: every delivery stored once, none acknowledged
unstored, the rows of concurrent requests in one statement.

These run against the committed test database (``committed_app`` empties it afterwards). To
make a batch deterministically, ``writer_held`` keeps the writer's statement waiting on a row
lock while more rows queue behind it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import func, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import WebhookDelivery
from powerpact.shopify.delivery_store import (
    DeliveryNotStored,
    DeliveryRow,
    GroupCommitStore,
    insert_rows,
    libpq_url,
)


def make_row(webhook_id: str | None = None, **changes: object) -> DeliveryRow:
    webhook_id = webhook_id or f"w-{uuid.uuid4()}"
    row = DeliveryRow(
        webhook_id=webhook_id,
        event_id=f"event-{webhook_id}",
        topic="orders/create",
        shop_domain="bubbly-retail.myshopify.com",
        api_version="2026-07",
        triggered_at=None,
        payload='{"id": 1}',
        status="received",
        error=None,
        received_at=utcnow(),
    )
    return row._replace(**changes)


def stored_ids(webhook_ids: list[str]) -> list[int]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.webhook_id.in_(webhook_ids))
        )
    )


def stored_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


@pytest.fixture
def store(committed_app, database_url) -> Iterator[GroupCommitStore]:
    store = GroupCommitStore(database_url)
    yield store
    store.close()


@pytest.fixture
def admin(database_url) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        yield conn


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@contextlib.contextmanager
def writer_held(store: GroupCommitStore, admin: psycopg.Connection, pool: ThreadPoolExecutor):
    """A leader stuck in its statement until the block ends, so that rows queue behind it.

    Another transaction holds an uncommitted row with the webhook id "blocker"; the
    request inserting "blocker" leads and waits on it. Rolling back lets it through
    (and it stores "blocker" itself). Yields the future of the blocked insert.
    """
    admin.execute(
        "INSERT INTO webhook_deliveries (webhook_id, topic, shop_domain, payload, status,"
        " attempts, received_at) VALUES ('blocker', 't', 's', '', 'received', 0, now())"
    )
    blocked = pool.submit(store.insert, make_row("blocker"))
    wait_until(lambda: store.queued() == 0 and store._leading)
    time.sleep(0.05)  # the leader has taken "blocker" and sent it
    try:
        yield blocked
    finally:
        admin.rollback()


def test_concurrent_deliveries_are_all_stored_each_with_its_own_id(store):
    rows = [make_row() for _ in range(200)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        new_ids = list(pool.map(store.insert, rows))
    assert None not in new_ids
    assert len(set(new_ids)) == 200
    assert sorted(stored_ids([r.webhook_id for r in rows])) == sorted(new_ids)
    assert store.rows == 200


def test_rows_queued_while_a_commit_is_in_flight_share_one_statement(store, admin):
    rows = [make_row() for _ in range(10)]
    with ThreadPoolExecutor(max_workers=12) as pool, writer_held(store, admin, pool) as blocked:
        queued = [pool.submit(store.insert, row) for row in rows]
        wait_until(lambda: store.queued() == 10)
    assert blocked.result() is not None
    assert all(f.result() is not None for f in queued)
    assert (store.statements, store.rows) == (2, 11)


def test_the_store_runs_its_insert_prepared_once_per_batch_size_on_its_own_connection(store):
    for _ in range(3):
        store.insert(make_row())
    own = store._connection.conn
    names = {name for (name,) in own.execute("SELECT name FROM pg_prepared_statements")}
    assert names == {"powerpact_intake_1"}


def test_a_repeat_is_acknowledged_without_a_new_row_or_id(store):
    row = make_row("again")
    first = store.insert(row)
    assert first is not None
    assert store.insert(row._replace(received_at=utcnow())) is None
    assert stored_ids(["again"]) == [first]


def test_one_webhook_id_twice_in_a_batch_is_stored_once_and_given_one_id(store, admin):
    with ThreadPoolExecutor(max_workers=4) as pool, writer_held(store, admin, pool):
        twins = [pool.submit(store.insert, make_row("twin")) for _ in range(2)]
        wait_until(lambda: store.queued() == 2)
    answers = sorted((f.result() for f in twins), key=lambda x: x is None)
    assert answers[0] is not None and answers[1] is None
    assert stored_ids(["twin"]) == [answers[0]]


def test_within_one_statement_the_first_of_two_equal_ids_gets_it(committed_app, database_url):
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        new_ids = insert_rows(conn, [make_row("a"), make_row("b"), make_row("a")])
    assert new_ids[0] is not None and new_ids[1] is not None and new_ids[2] is None
    assert stored_count() == 2


def test_a_row_postgresql_refuses_fails_alone_not_its_batch(store, admin):
    good = [make_row() for _ in range(5)]
    with ThreadPoolExecutor(max_workers=8) as pool, writer_held(store, admin, pool):
        refused = pool.submit(store.insert, make_row("nul-\x00-byte"))
        stored = [pool.submit(store.insert, row) for row in good]
        wait_until(lambda: store.queued() == 6)
    with pytest.raises(DeliveryNotStored, match="NUL"):
        refused.result()
    assert all(f.result() is not None for f in stored)
    assert len(stored_ids([r.webhook_id for r in good])) == 5


def test_an_unreachable_database_acknowledges_nothing():
    store = GroupCommitStore("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(DeliveryNotStored):
            store.insert(make_row())
        with pytest.raises(DeliveryNotStored):  # and the writer lives on for the next one
            store.insert(make_row())
    finally:
        store.close()


def test_a_connection_the_server_dropped_is_replaced_and_the_batch_resent(
    committed_app, database_url, admin
):
    name = f"intake-test-{uuid.uuid4().hex[:8]}"
    store = GroupCommitStore(database_url, application_name=name)
    try:
        assert store.insert(make_row()) is not None
        terminated = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [name],
        ).fetchall()
        admin.commit()
        assert terminated == [(True,)]
        row = make_row()
        new_id = store.insert(row)
        assert new_id is not None
        assert stored_ids([row.webhook_id]) == [new_id]
    finally:
        store.close()


def test_a_request_gives_up_when_the_commit_does_not_come(committed_app, database_url, admin):
    store = GroupCommitStore(database_url, wait_seconds=0.3)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool, writer_held(store, admin, pool):
            started = time.monotonic()
            with pytest.raises(DeliveryNotStored, match="no commit within"):
                store.insert(make_row("late"))
            assert time.monotonic() - started < 2
            assert store.queued() == 0, "the request took its row back"
        assert stored_ids(["late"]) == []
        assert store.insert(make_row("late")) is not None, "Shopify's retry is stored"
    finally:
        store.close()


def test_close_closes_the_connection_and_the_next_insert_opens_another(store):
    assert store.insert(make_row()) is not None
    first = store._connection.conn
    store.close()
    assert first is not None and first.closed
    assert store.insert(make_row()) is not None
    assert store._connection.conn is not first


def test_each_forked_process_gets_its_own_connection_and_queue(store):
    """gunicorn --preload forks workers from a master that may have used the store."""
    assert store.insert(make_row()) is not None
    parent_connection, parent_queue = store._connection, store._queued
    store._pid = -1  # as a forked child sees it: the parent's pid, not its own
    try:
        assert store.insert(make_row()) is not None
        assert store._connection is not parent_connection and store._queued is not parent_queue
    finally:
        parent_connection.close()


def test_a_request_promoted_to_lead_writes_the_rows_queued_behind_the_last_batch(store, admin):
    """The rows that queued during a leader's statement go out in the next one, led by the
    first of their requests, while the first leader's request is already answered."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        with writer_held(store, admin, pool) as blocked:
            queued = [pool.submit(store.insert, make_row()) for _ in range(5)]
            wait_until(lambda: store.queued() == 5)
        assert blocked.result() is not None
        assert all(f.result() is not None for f in queued)
    assert (store.statements, store.rows) == (2, 6)
    assert not store._leading and store.queued() == 0


def test_a_statement_that_hangs_is_cancelled_and_its_requests_refused(
    committed_app, database_url, admin, monkeypatch
):
    """The leader's own request waits for its statement: PostgreSQL cancels it in time."""
    monkeypatch.setattr("powerpact.shopify.delivery_store.STATEMENT_TIMEOUT_MS", 200)
    store = GroupCommitStore(database_url)
    try:
        with (
            ThreadPoolExecutor(max_workers=2) as pool,
            writer_held(store, admin, pool) as held,
            pytest.raises(DeliveryNotStored, match="statement timeout"),
        ):
            held.result(timeout=5)
        assert store.insert(make_row()) is not None, "the next request leads on the same store"
    finally:
        store.close()
