"""Every task module and webhook handler, imported so a consumer registers them all.

Run workers with ``huey_consumer powerpact.tasks.huey``.
"""

import sys
import threading

import powerpact.catalog.keeping
import powerpact.catalog.tasks
import powerpact.inventory.service
import powerpact.inventory.tasks
import powerpact.orders.aftercare
import powerpact.orders.dispatch
import powerpact.orders.tasks
import powerpact.shopify.lifecycle
import powerpact.shopify.tasks
from powerpact.config import ConfigError
from powerpact.queue import huey, worker_app

__all__ = ["huey"]
_started = threading.Lock()


def stop_a_consumer_that_cannot_start() -> None:
    """``huey_consumer`` imports this module to find the queue: a worker whose settings
    cannot start stops here, one line per problem and no traceback, as ``wsgi.py`` does,
    instead of failing every task it takes."""
    if "huey.bin.huey_consumer" not in sys.modules:
        return
    try:
        worker_app()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None


stop_a_consumer_that_cannot_start()


@huey.on_startup()
def catch_up_after_downtime() -> None:
    """When a worker starts (a deploy, a restart after an outage), repair the webhook
    subscriptions and reconcile the orders at once instead of at the next hour or ten
    minutes. Huey calls this in every worker thread: the first one enqueues, once."""
    if huey.immediate or not _started.acquire(blocking=False):
        return
    powerpact.shopify.tasks.check_subscriptions_task()
    powerpact.orders.tasks.reconcile_task()
