"""The notifications' tasks: send one outbox row (with retries), find the events, sweep.

Each finder emits, commits, then enqueues a send per row it made (``enqueue_sends``): a row
is never sent before it is committed. If the queue is down at that moment the rows stay
``pending`` and ``sweep_notifications`` (every five minutes) enqueues them again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from huey import crontab

from powerpact.extensions import db
from powerpact.notifications import delivery, events
from powerpact.notifications.outbox import Event, emit
from powerpact.queue import enqueue_many, periodic_task, task

log = logging.getLogger(__name__)


@task(retries=5, retry_delay=60)
def send_notification_task(outbox_id: int) -> str:
    return delivery.send_one(outbox_id)


def enqueue_sends(outbox_ids: Sequence[int]) -> int:
    """Enqueue a send for each id, after the commit that made them. A queue that cannot be
    reached loses nothing: the rows wait, pending, for the sweep."""
    if not outbox_ids:
        return 0
    try:
        enqueue_many(send_notification_task, [(i,) for i in outbox_ids])
    except Exception as exc:  # Redis down: the sweep sends them
        log.warning("could not enqueue %d notification(s): %s", len(outbox_ids), exc)
        return 0
    return len(outbox_ids)


def emit_and_enqueue(found: Sequence[Event]) -> int:
    made = emit(found)
    db.session.commit()
    return enqueue_sends(made)


@periodic_task(crontab(minute="*"))
def notify_order_failures_task() -> int:
    return emit_and_enqueue(events.order_failure_events())


@periodic_task(crontab(minute="*/5"))  # at most one digest an hour (events.DIGEST_EVERY)
def admin_digest_task() -> int:
    return emit_and_enqueue(events.admin_digest_events())


@periodic_task(crontab(minute="7", hour="*/6"))
def statements_task() -> int:
    return emit_and_enqueue(events.statement_events())


@periodic_task(crontab(minute="*/5"))
def sweep_notifications_task() -> int:
    return enqueue_sends(delivery.pending_to_sweep())
