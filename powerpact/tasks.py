"""Every task module and webhook handler, imported so a consumer registers them all.

Run workers with ``huey_consumer powerpact.tasks.huey``.
"""

import powerpact.catalog.keeping
import powerpact.catalog.tasks
import powerpact.inventory.service
import powerpact.inventory.tasks
import powerpact.orders.aftercare
import powerpact.orders.dispatch
import powerpact.orders.tasks
import powerpact.shopify.lifecycle
import powerpact.shopify.tasks  # noqa: F401
from powerpact.queue import huey

__all__ = ["huey"]
