"""The enqueuer hands committed deliveries to Huey off the request path: each id once, in
batches, and never an error for the request (the sweeper is the backstop)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from powerpact.shopify.enqueuer import DeliveryEnqueuer


class Recorder:
    """Stands in for Huey (``enqueue_many`` is tested against Redis in tests/test_queue.py)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, ids: list[int]) -> None:
        with self.lock:
            self.batches.append(list(ids))

    @property
    def ids(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def test_every_submitted_id_is_enqueued_once_in_batches():
    recorder = Recorder()
    enqueuer = DeliveryEnqueuer(recorder, linger_seconds=0.05)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(enqueuer.submit, range(1, 201)))
    enqueuer.close()
    assert sorted(recorder.ids) == list(range(1, 201))
    assert len(recorder.batches) < 200, "the linger should gather ids into batches"


def test_close_enqueues_what_was_submitted_just_before_even_mid_linger():
    recorder = Recorder()
    enqueuer = DeliveryEnqueuer(recorder, linger_seconds=0.5)
    for delivery_id in (1, 2, 3):
        enqueuer.submit(delivery_id)
    enqueuer.close()
    assert recorder.ids == [1, 2, 3]


def test_a_queue_outage_is_logged_and_never_reaches_the_request(caplog):
    def queue_down(ids: list[int]) -> None:
        raise ConnectionError("Redis is down")

    enqueuer = DeliveryEnqueuer(queue_down, linger_seconds=0)
    with caplog.at_level(logging.ERROR, logger="powerpact.shopify.enqueuer"):
        enqueuer.submit(7)  # no exception here
        enqueuer.close()
    assert "the sweeper will pick them up" in caplog.text


def test_in_immediate_mode_the_task_runs_inline_in_the_request():
    recorder = Recorder()
    enqueuer = DeliveryEnqueuer(recorder, run_inline=lambda: True)
    enqueuer.submit(5)
    assert recorder.batches == [[5]]
    assert enqueuer._thread is None
