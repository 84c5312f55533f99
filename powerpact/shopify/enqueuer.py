"""Handing stored deliveries to Huey after the commit, off the request path.

A webhook is acknowledged once its row is committed; the Huey task that processes
it only has to follow soon. Enqueuing it inside the request cost a Redis round
trip per webhook on the request thread; here the request drops the delivery's id
on an in-process queue and answers, and one thread per process enqueues what has
gathered.

1. ``submit(id)`` runs after the row is committed. In Huey's immediate mode (the
   tests) the task runs inline, as it always did; otherwise the id is put on the
   in-process queue and ``submit`` returns at once.
2. One daemon thread per process (started on the first ``submit``, and again in a
   forked child) blocks on that queue; after the first id it lingers
   ``linger_seconds`` (25 ms) so that a burst's ids gather, takes every id waiting,
   at most ``batch_size``, and hands them to ``enqueue_batch`` together: one
   ``process_delivery`` task per id, all in one Redis call (``enqueue_many``).
3. If the queue cannot be reached the batch is logged and dropped: its rows are
   committed as ``received``, and the sweeper enqueues them after
   ``DELIVERY_SWEEP_AFTER_SECONDS``.
4. At interpreter exit (a gunicorn worker stopping gracefully) ``close`` stops the
   thread once it has enqueued everything submitted before, so only a killed
   process leaves ids to the sweeper.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from powerpact.queue import enqueue_many, huey
from powerpact.shopify import tasks

log = logging.getLogger(__name__)
EnqueueBatch = Callable[[list[int]], None]


class DeliveryEnqueuer:
    """Enqueues ``process_delivery`` for committed deliveries from a background thread."""

    def __init__(
        self,
        enqueue_batch: EnqueueBatch,
        *,
        run_inline: Callable[[], bool] = lambda: False,
        batch_size: int = 500,
        linger_seconds: float = 0.025,
    ) -> None:
        self.enqueue_batch = enqueue_batch
        self.run_inline = run_inline
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self._waiting: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # None: stop
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        atexit.register(self.close)

    def submit(self, delivery_id: int) -> None:
        """Have ``delivery_id`` processed; never raises (the sweeper is the backstop)."""
        if self.run_inline():
            self._enqueue([delivery_id])
            return
        self._ensure_thread()
        self._waiting.put(delivery_id)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread once it has enqueued everything submitted so far (run at exit)."""
        thread = self._thread
        if thread is not None and self._pid == os.getpid() and thread.is_alive():
            self._waiting.put(None)
            thread.join(timeout)
        self.flush()

    def flush(self) -> int:
        """Enqueue everything waiting now, on the calling thread; how many ids that was."""
        total = 0
        while True:
            batch, _ = self._take(block=False)
            if not batch:
                return total
            self._enqueue(batch)
            total += len(batch)

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="powerpact-delivery-enqueuer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopped = False
        while not stopped:
            batch, stopped = self._take(block=True)
            if batch:
                self._enqueue(batch)

    def _take(self, *, block: bool) -> tuple[list[int], bool]:
        """The ids waiting (at most ``batch_size``), and whether a stop came among them.

        With ``block``, wait for the first one, then linger so that more gather.
        """
        batch: list[int] = []
        try:
            first = self._waiting.get(block=block)
            if first is None:
                return batch, True
            batch.append(first)
            if block and self.linger_seconds:
                time.sleep(self.linger_seconds)
            while len(batch) < self.batch_size:
                more = self._waiting.get_nowait()
                if more is None:
                    return batch, True
                batch.append(more)
        except queue.Empty:
            pass
        return batch, False

    def _enqueue(self, batch: list[int]) -> None:
        try:
            self.enqueue_batch(batch)
        except Exception:  # the queue being down must not lose an acknowledged webhook
            log.exception(
                "could not enqueue %d deliveries (first %s); the sweeper will pick them up",
                len(batch),
                batch[0],
            )


def enqueue_processing(delivery_ids: list[int]) -> None:
    """One ``process_delivery`` task per id (looked up at call time, so tests can swap it)."""
    enqueue_many(tasks.process_delivery_task, [(delivery_id,) for delivery_id in delivery_ids])


def huey_runs_inline() -> bool:
    return bool(huey.immediate)


enqueuer = DeliveryEnqueuer(enqueue_processing, run_inline=huey_runs_inline)
