"""Storing webhook deliveries durably before they are acknowledged, at intake speed.

The intake is the hottest path PowerPact has (docs/design.md, "Performance budgets": at
least half the rate of a bare Flask endpoint on the same gunicorn setup). Profiled
under ``bench intake``, storing a delivery through the ORM session cost about 1 ms
of CPU in the web process (statement building, session and transaction state, a
``pool_pre_ping`` round trip, ``BEGIN`` and ``COMMIT`` round trips), and each
delivery's own transaction about 0.4 ms more in PostgreSQL. So on PostgreSQL the
intake writes without the ORM, and the deliveries of concurrent requests share one
statement and one commit (``GroupCommitStore``).

Stores:

- ``GroupCommitStore``: production (PostgreSQL). One connection per process, written
  on by one request at a time (the leader) for every request waiting.
- ``ConnectionStore``: the same statement, for one delivery, on a connection it is
  handed (the tests run it inside their rolled-back transaction).
- ``SessionDeliveryStore``: the ORM path, for SQLite (the embedded demo).

Every store answers the same way: the new row's id once the row is committed, or
None if its webhook id was already stored (a repeat stores nothing new and must
enqueue nothing new); an exception means nothing was acknowledged.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import NamedTuple, Protocol

import psycopg
from psycopg import pq
from sqlalchemy.engine import make_url

from powerpact.extensions import db, insert_or_ignore
from powerpact.models import DeliveryStatus, WebhookDelivery
from powerpact.shopify.prepared import execute

log = logging.getLogger(__name__)
STORE_KEY = "powerpact.delivery_store"
WRITER_APPLICATION_NAME = "powerpact-intake-writer"  # as pg_stat_activity shows it
# A leader's request waits for its statement: never longer than Shopify waits for the answer.
STATEMENT_TIMEOUT_MS = 5000
_FORK_LOCK = threading.Lock()


class DeliveryRow(NamedTuple):
    """One ``webhook_deliveries`` row as the intake writes it, in ``COLUMNS`` order."""

    webhook_id: str
    event_id: str | None
    topic: str
    shop_domain: str
    api_version: str | None
    triggered_at: datetime | None
    payload: str
    status: str
    error: str | None
    received_at: datetime


COLUMNS = ", ".join(DeliveryRow._fields)
WIDTH = len(DeliveryRow._fields)


class DeliveryNotStored(RuntimeError):
    """The delivery could not be stored: nothing may be acknowledged."""


class DeliveryStore(Protocol):
    def insert(self, row: DeliveryRow) -> int | None:
        """Store ``row`` durably; the new row's id, or None if its webhook id was stored before."""
        ...


def row_placeholders(first: int) -> str:
    """One row's ``VALUES`` tuple: libpq's numbered parameters from ``$first``, no attempts."""
    return "(" + ", ".join(f"${n}" for n in range(first, first + WIDTH)) + ", 0)"


@functools.cache
def insert_statement(count: int) -> str:
    """``INSERT`` of ``count`` rows, skipping webhook ids already stored, returning the new.

    Only constants are joined here (column names, ``$n`` placeholders); the values
    travel as parameters.
    """
    values = ", ".join(row_placeholders(1 + i * WIDTH) for i in range(count))
    return (
        f"INSERT INTO webhook_deliveries ({COLUMNS}, attempts) VALUES {values}"  # noqa: S608
        " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id, id"
    )


def insert_rows(
    conn: psycopg.Connection, rows: Sequence[DeliveryRow], *, prepare: bool = False
) -> list[int | None]:
    """Insert ``rows`` in one statement; per row, its new id or None (already stored).

    A webhook id that comes twice in ``rows`` is inserted once: the first of them
    gets the id, the others None, as if they had come one after the other. With
    ``prepare`` (only on a connection of the store's own, see ``prepared.execute``)
    the statement is prepared once per connection and batch size.
    """
    first_of: dict[str, DeliveryRow] = {}
    for row in rows:
        first_of.setdefault(row.webhook_id, row)
    unique = list(first_of.values())
    count = len(unique)
    result = execute(
        conn,
        insert_statement(count),
        (value for row in unique for value in row),
        prepared_as=b"powerpact_intake_%d" % count if prepare else None,
    )
    encoding = conn.info.encoding
    new_ids: dict[str, int] = {
        _column_text(result, n, 0, encoding): int(_column_text(result, n, 1, encoding))
        for n in range(result.ntuples)
    }
    return [
        new_ids.pop(row.webhook_id, None) if first_of[row.webhook_id] is row else None
        for row in rows
    ]


def _column_text(result: pq.abc.PGresult, row: int, column: int, encoding: str) -> str:
    value = result.get_value(row, column)
    assert value is not None  # webhook_id and id are NOT NULL
    return value.decode(encoding)


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://...``) as libpq reads it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class ConnectionStore:
    """One delivery, one statement, on a connection from ``connections`` (committed by it)."""

    def __init__(self, connections: Callable[[], AbstractContextManager[psycopg.Connection]]):
        self.connections = connections

    def insert(self, row: DeliveryRow) -> int | None:
        with self.connections() as conn:
            return insert_rows(conn, [row])[0]


class _Waiter:
    """A request's row, waiting to be written: a lock held until its outcome is known.

    (A bare lock rather than ``threading.Event``: the same wait and wake, with none
    of the condition variable's bookkeeping on the hottest path.) The lock is
    released either with the outcome (``answer``) or to make the request the next
    leader (``promote``), its row still unwritten.
    """

    __slots__ = ("done", "error", "latch", "leads", "new_id", "row")

    def __init__(self, row: DeliveryRow) -> None:
        self.row = row
        self.latch = threading.Lock()
        self.latch.acquire()
        self.new_id: int | None = None
        self.error: BaseException | None = None
        self.done = False
        self.leads = False

    def wait(self, seconds: float) -> bool:
        return self.latch.acquire(timeout=max(seconds, 0))

    def answer(self, new_id: int | None = None, error: BaseException | None = None) -> None:
        self.new_id, self.error, self.done = new_id, error, True
        self.latch.release()

    def promote(self) -> None:
        self.leads = True
        self.latch.release()


class GroupCommitStore:
    """Group commit: the deliveries of concurrent requests in one statement, one commit.

    Leader and followers, on the request threads themselves (no writer thread to
    hand each row to and wake each request from):

    1. ``insert(row)`` queues the row. If no request of the process is writing, this
       one becomes the leader; otherwise it follows, waiting for its row's outcome.
    2. The leader takes every row queued (its own among them), up to ``batch_size``
       rows or ``batch_bytes`` of payload, and inserts them with one
       ``INSERT ... ON CONFLICT (webhook_id) DO NOTHING RETURNING`` on the process's
       autocommit connection: a single statement is a single transaction, so one
       round trip and one WAL flush store the whole batch, and PostgreSQL answers
       only once that commit is durable (``synchronous_commit``).
    3. It wakes every request of the batch with its row's new id, or None for a
       webhook id already stored (or repeated within the batch: the first one gets
       the id). Rows queued meanwhile go to the next leader: the leader, once its
       own row is written, promotes the first of them and returns to its request.
    4. If the statement fails nothing of the batch is committed and every request of
       it is told so (it answers 503 and Shopify retries). A connection found broken
       (PostgreSQL restarted) is replaced and the batch sent once more, which is
       safe because the insert skips webhook ids already stored. A row that
       PostgreSQL refuses (``DataError``) has the batch's rows sent one by one, so
       only its own request is refused.
    5. A follower that hears nothing within ``wait_seconds`` takes its row back if
       no leader has taken it yet and gives up (503). If its batch was already being
       written and commits after all, Shopify's retry is acknowledged as a repeat and
       the sweeper enqueues the delivery.

    Under load, rows gather while the leader's statement is in flight, so the batch
    grows with the load; alone, a request writes its own row, with no thread
    handoff (profiled under ``bench intake``, the writer thread this replaced cost
    each request two wake-ups and a GIL handover).
    """

    def __init__(
        self,
        database_url: str,
        *,
        batch_size: int = 200,
        batch_bytes: int = 4 * 1024 * 1024,
        wait_seconds: float = 4.0,
        application_name: str = WRITER_APPLICATION_NAME,
    ) -> None:
        self.conninfo = libpq_url(database_url)
        self.application_name = application_name
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.wait_seconds = wait_seconds
        self.statements = 0  # sent and committed, with ``rows`` rows in all: batches at work
        self.rows = 0
        self._start_afresh()
        atexit.register(self.close)  # a worker stopping says goodbye to PostgreSQL

    def _start_afresh(self) -> None:
        """State of this process alone (a forked child must not share its parent's)."""
        self._pid = os.getpid()
        self._mutex = threading.Lock()
        self._queued: collections.deque[_Waiter] = collections.deque()
        self._leading = False
        self._connection = _WriterConnection(self.conninfo, self.application_name)

    def queued(self) -> int:
        """Rows waiting for a leader to take them."""
        return len(self._queued)

    def insert(self, row: DeliveryRow) -> int | None:
        if self._pid != os.getpid():
            with _FORK_LOCK:  # the first requests of a new worker may come at once
                if self._pid != os.getpid():
                    self._start_afresh()
        waiter = _Waiter(row)
        with self._mutex:
            self._queued.append(waiter)
            leads = not self._leading
            self._leading = True
        deadline = time.monotonic() + self.wait_seconds
        while not waiter.done:
            if leads or waiter.leads:
                waiter.leads = leads = False
                self._lead(waiter)
            elif not waiter.wait(deadline - time.monotonic()):
                self._give_up(waiter)
        if waiter.error is not None:
            raise DeliveryNotStored(f"the batch was not stored: {waiter.error}")
        return waiter.new_id

    def _give_up(self, waiter: _Waiter) -> None:
        """After ``wait_seconds``: take the row back if still queued, and refuse it (unless
        it was written or its request promoted meanwhile)."""
        with self._mutex:
            if waiter.done or waiter.leads:
                return
            with contextlib.suppress(ValueError):
                self._queued.remove(waiter)
        raise DeliveryNotStored(f"no commit within {self.wait_seconds} s")

    def _lead(self, own: _Waiter) -> None:
        """Write batches until ``own`` row is written, then pass the lead on (or drop it)."""
        try:
            while not own.done:
                self._write(self._take())
        finally:
            with self._mutex:
                if self._queued:
                    self._queued[0].promote()
                else:
                    self._leading = False

    def _take(self) -> list[_Waiter]:
        """The rows queued, oldest first, within ``batch_size`` and ``batch_bytes``."""
        batch: list[_Waiter] = []
        size = 0
        with self._mutex:
            while self._queued and len(batch) < self.batch_size and size < self.batch_bytes:
                waiter = self._queued.popleft()
                batch.append(waiter)
                size += len(waiter.row.payload)
        return batch

    def close(self) -> None:
        """Close this process's connection (the next insert opens a new one)."""
        if self._pid == os.getpid():
            with self._mutex:
                if not self._leading:
                    self._connection.close()

    def _write(self, batch: list[_Waiter]) -> None:
        try:
            new_ids = self._connection.insert([w.row for w in batch])
        except psycopg.DataError:
            if len(batch) == 1:
                self._fail(batch)
                return
            for waiter in batch:  # one row PostgreSQL refuses must not fail its neighbours
                self._write([waiter])
            return
        except Exception:  # every waiter must hear, whatever went wrong
            self._fail(batch)
            return
        self.statements += 1
        self.rows += len(batch)
        for waiter, new_id in zip(batch, new_ids, strict=True):
            waiter.answer(new_id)

    def _fail(self, batch: list[_Waiter]) -> None:
        log.exception("could not store %d webhook deliveries", len(batch))
        error = sys.exc_info()[1]
        for waiter in batch:
            waiter.answer(error=error)


class _WriterConnection:
    """The process's intake connection (autocommit), made when first needed, used by one
    leader at a time."""

    def __init__(self, conninfo: str, application_name: str) -> None:
        self.conninfo = conninfo
        self.application_name = application_name
        self.conn: psycopg.Connection | None = None

    def insert(self, rows: list[DeliveryRow]) -> list[int | None]:
        """``insert_rows``, sent once more on a fresh connection if this one was broken."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return insert_rows(conn, rows, prepare=True)
            except psycopg.OperationalError:
                if not conn.broken or attempt == 2:
                    raise
                self.close()
        raise AssertionError("unreachable")

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(
                self.conninfo,
                autocommit=True,
                application_name=self.application_name,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class SessionDeliveryStore:
    """The ORM path, for SQLite: insert-or-ignore through the session, then commit."""

    def insert(self, row: DeliveryRow) -> int | None:
        values = {**row._asdict(), "status": DeliveryStatus(row.status), "attempts": 0}
        new_id = insert_or_ignore(WebhookDelivery, values, ["webhook_id"])
        db.session.commit()
        return new_id


def store_for(database_url: str) -> DeliveryStore:
    """The intake's store for the app's database: group commit on PostgreSQL, else the ORM."""
    if database_url.startswith("postgresql"):
        return GroupCommitStore(database_url)
    return SessionDeliveryStore()
