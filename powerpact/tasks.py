"""What a Huey consumer imports: every task module, webhook handler and install hook.

Run workers with ``huey_consumer powerpact.tasks.huey``. The task modules are listed
here; the webhook handlers are the topic registry's (``shopify.topics.TOPICS``), imported
now so that a wrong path stops the worker as it starts. ``catalog.tasks`` registers the
catalog's step after an install (``shopify.install.AFTER_INSTALL``).
"""

import sys
import threading

import powerpact.catalog.tasks
import powerpact.inventory.tasks
import powerpact.notifications.tasks
import powerpact.orders.tasks
import powerpact.shopify.tasks
from powerpact.config import ConfigError
from powerpact.queue import huey, worker_app
from powerpact.shopify.topics import import_handlers

__all__ = ["huey"]
_started = threading.Lock()
import_handlers()


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
