"""Every task module and webhook handler, imported so a consumer registers them all.

Run workers with ``huey_consumer powerpact.tasks.huey``.
"""

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
from powerpact.queue import huey

__all__ = ["huey"]
_started = threading.Lock()


@huey.on_startup()
def catch_up_after_downtime() -> None:
    """When a worker starts (a deploy, a restart after an outage), repair the webhook
    subscriptions and reconcile the orders at once instead of at the next hour or ten
    minutes. Huey calls this in every worker thread: the first one enqueues, once."""
    if huey.immediate or not _started.acquire(blocking=False):
        return
    powerpact.shopify.tasks.check_subscriptions_task()
    powerpact.orders.tasks.reconcile_task()
