"""The queue: tasks run in an app context, log, re-raise; and really go through Redis."""

import logging
import uuid

import pytest
from flask import current_app
from huey import RedisHuey, SqliteHuey

from powerpact import queue as queue_module
from powerpact.queue import enqueue_many, make_huey, queue_is_reachable, task
from tests.conftest import REDIS_TEST_URL, TEST_INSTANCE


def test_make_huey_picks_redis_when_a_url_is_given_and_sqlite_otherwise(tmp_path):
    assert isinstance(make_huey(REDIS_TEST_URL, sqlite_path=tmp_path / "q.db"), RedisHuey)
    assert isinstance(make_huey(None, sqlite_path=tmp_path / "q.db"), SqliteHuey)


@pytest.fixture
def redis_queue(migrated_app, monkeypatch):
    """A RedisHuey on the test Redis whose worker app is the test app."""
    queue = make_huey(
        REDIS_TEST_URL, name=f"powerpact-test-{uuid.uuid4().hex[:8]}", sqlite_path=TEST_INSTANCE
    )
    monkeypatch.setattr(queue_module, "_worker_app", migrated_app)
    yield queue
    queue.storage.flush_all()


def test_a_real_consumer_runs_a_task_enqueued_through_redis(redis_queue):
    @task(queue=redis_queue)
    def add_in_app_context(a, b):
        return {"sum": a + b, "app": current_app.name, "testing": current_app.testing}

    result = add_in_app_context(2, 3)
    assert redis_queue.pending_count() == 1, "the message should be waiting in Redis"

    consumer = redis_queue.create_consumer(
        workers=1, periodic=False, check_worker_health=False, initial_delay=0.05
    )
    consumer.start()
    try:
        value = result.get(blocking=True, timeout=15)
    finally:
        consumer.stop(graceful=True)
    assert value == {"sum": 5, "app": "powerpact", "testing": True}
    assert redis_queue.pending_count() == 0


def test_task_logs_start_and_end_and_reraises(app, caplog):
    calls = []

    @task()
    def flaky(order_id):
        calls.append(order_id)
        raise RuntimeError("partner store answered 502")

    caplog.set_level(logging.INFO, logger="powerpact.tasks")
    with pytest.raises(RuntimeError, match="502"):
        flaky.call_local(42)
    messages = [r.getMessage() for r in caplog.records]
    assert any("started args=(42,)" in m for m in messages)
    assert any("failed after" in m for m in messages)
    assert calls == [42]


def test_task_pushes_an_app_context_when_there_is_none(migrated_app, monkeypatch):
    monkeypatch.setattr(queue_module, "_worker_app", migrated_app)

    @task()
    def read_config():
        return current_app.config["TESTING"]

    assert read_config.call_local() is True


def test_queue_reachability_reports_the_backend():
    ok, detail = queue_is_reachable()
    assert ok
    assert detail in {"SqliteHuey", "MemoryHuey", "RedisHuey"} or detail.endswith("Huey")


def test_queue_reachability_reports_a_dead_redis(monkeypatch):
    dead = make_huey("redis://127.0.0.1:1/0", sqlite_path=TEST_INSTANCE)
    monkeypatch.setattr(queue_module, "huey", dead)
    ok, detail = queue_is_reachable()
    assert not ok
    assert "ConnectionError" in detail


def test_enqueue_many_sends_a_batch_in_one_lpush_that_a_consumer_runs_in_order(
    redis_queue, monkeypatch
):
    @task(queue=redis_queue)
    def double(n):
        return {"double": n * 2}

    storage = redis_queue.storage
    lpushes = []
    lpush = storage.conn.lpush

    def counted_lpush(key, *values):
        lpushes.append(len(values))
        return lpush(key, *values)

    monkeypatch.setattr(storage.conn, "lpush", counted_lpush)
    enqueue_many(double, [(1,), (2,), (3,)])
    assert lpushes == [3]
    assert redis_queue.pending_count() == 3
    tasks = [redis_queue.dequeue() for _ in range(3)]
    assert [t.args for t in tasks] == [(1,), (2,), (3,)]
    assert [redis_queue.execute(t) for t in tasks] == [{"double": 2}, {"double": 4}, {"double": 6}]


def test_enqueue_many_calls_one_at_a_time_what_is_not_a_redis_task():
    calls = []
    enqueue_many(calls.append, [(1,), (2,)])
    assert calls == [1, 2]
