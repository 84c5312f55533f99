"""The Huey queue and the decorator every PowerPact task is declared with.

``huey`` is created at import time from the environment so that
``huey_consumer powerpact.tasks.huey`` finds it: RedisHuey when ``REDIS_URL``
is set, SqliteHuey under ``instance/`` otherwise (the embedded default).
``POWERPACT_QUEUE_NAME`` (default ``powerpact``) names the queue, so two
deployments, or a benchmark, can share one Redis without sharing tasks.

Tasks stay thin: they take ids, call a domain function and hold no rules.
``task`` pushes an app context (a worker has none), logs start and end, and
re-raises so Huey's retries work.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey
from huey.storage import RedisStorage

from powerpact.config import PROJECT_ROOT
from powerpact.logs import adopt_huey_logger, current_job_id
from powerpact.worker import create_worker_app

log = logging.getLogger("powerpact.tasks")
P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class QueuedTask(Protocol[P, R_co]):
    """What ``task`` and ``periodic_task`` make of a function: Huey's ``TaskWrapper``
    (Huey ships no types), which keeps the function's parameters.

    Calling it enqueues a run and returns Huey's ``Result``; ``call_local`` runs the
    function here and returns what it returns.
    """

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...

    def call_local(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def s(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...

    def schedule(
        self,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        eta: datetime | None = None,
        delay: float | timedelta | None = None,
    ) -> Any: ...


class OneLogHandler:
    """A queue whose consumer logs each line once (``logs.adopt_huey_logger``):
    ``huey_consumer`` adds its handler just before ``create_consumer``."""

    def create_consumer(self, **options: Any) -> Any:
        adopt_huey_logger()
        return super().create_consumer(**options)  # type: ignore[misc]  # Huey's, untyped


class PowerPactRedisHuey(OneLogHandler, RedisHuey):
    pass


class PowerPactSqliteHuey(OneLogHandler, SqliteHuey):
    pass


def make_huey(redis_url: str | None, *, name: str = "powerpact", sqlite_path: Path) -> Huey:
    if redis_url:
        return PowerPactRedisHuey(name, url=redis_url, utc=True)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return PowerPactSqliteHuey(name, filename=str(sqlite_path), utc=True)


huey: Huey = make_huey(
    os.environ.get("REDIS_URL"),
    name=os.environ.get("POWERPACT_QUEUE_NAME") or "powerpact",
    sqlite_path=Path(os.environ.get("POWERPACT_INSTANCE_DIR") or PROJECT_ROOT / "instance")
    / "huey.db",
)

_worker_app: Flask | None = None


def worker_app() -> Flask:
    """The app a consumer process runs tasks in (the lean one), created on first use."""
    global _worker_app
    if _worker_app is None:
        _worker_app = create_worker_app()
    return _worker_app


def run_in_app_context(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    if has_app_context():
        return fn(*args, **kwargs)
    with worker_app().app_context():
        return fn(*args, **kwargs)


def logged(fn: Callable[P, R]) -> Callable[P, R]:
    """Log a task's start and end (with its id-only arguments) and re-raise its errors."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = fn.__qualname__
        token = current_job_id.set(f"task:{name}")
        started = time.perf_counter()
        log.info("task %s started args=%r kwargs=%r", name, args, kwargs)
        try:
            result = run_in_app_context(fn, *args, **kwargs)
        except Exception:
            log.exception("task %s failed after %.3fs", name, time.perf_counter() - started)
            raise
        else:
            log.info("task %s finished in %.3fs", name, time.perf_counter() - started)
            return result
        finally:
            current_job_id.reset(token)

    return wrapper


def task(queue: Huey | None = None, **options: Any) -> Callable[[Callable[P, R]], QueuedTask[P, R]]:
    """Declare a Huey task on PowerPact's queue (or ``queue``) that runs in an app context."""

    def decorate(fn: Callable[P, R]) -> QueuedTask[P, R]:
        wrapped: QueuedTask[P, R] = (queue or huey).task(**options)(logged(fn))
        return wrapped

    return decorate


def enqueue_many(task: Any, calls: list[tuple[Any, ...]]) -> None:
    """Enqueue ``task`` once per argument tuple in ``calls``: on Redis, in one round trip.

    Huey's ``RedisStorage.enqueue`` is one ``LPUSH`` of the serialized message per
    task; ``LPUSH`` takes many values, so a batch costs one round trip instead of
    one per task, and the consumer pops them in the order given. Anything else
    (immediate mode, SQLite, a task with a priority or an expiry, or a plain
    function standing in for a task) is enqueued one call at a time, as
    ``task(*args)`` would. Huey's ``enqueued`` signal is not sent for a batch
    (PowerPact connects no signal handlers).
    """
    queue: Huey | None = getattr(task, "huey", None)
    if queue is None or queue.immediate or type(queue.storage) is not RedisStorage:
        for args in calls:
            task(*args)
        return
    tasks = [task.s(*args) for args in calls]
    if any(t.priority or t.expires for t in tasks):
        for one in tasks:
            queue.enqueue(one)
        return
    storage = queue.storage
    storage.conn.lpush(storage.queue_key, *[queue.serialize_task(t) for t in tasks])


def periodic_task(
    validate_datetime: Callable[..., bool], **options: Any
) -> Callable[[Callable[P, R]], QueuedTask[P, R]]:
    def decorate(fn: Callable[P, R]) -> QueuedTask[P, R]:
        wrapped: QueuedTask[P, R] = huey.periodic_task(validate_datetime, **options)(logged(fn))
        return wrapped

    return decorate


def queue_is_reachable() -> tuple[bool, str]:
    """Ask the queue's storage something cheap; used by /readyz."""
    try:
        huey.storage.queue_size()
    except Exception as exc:  # any backend failure means "not ready"
        return False, f"{type(exc).__name__}: {exc}"
    return True, type(huey).__name__
