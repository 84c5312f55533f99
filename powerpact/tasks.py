"""Every task module and webhook handler, imported so a consumer registers them all.

Run workers with ``huey_consumer powerpact.tasks.huey``.
"""

import powerpact.shopify.lifecycle
import powerpact.shopify.tasks  # noqa: F401
from powerpact.queue import huey

__all__ = ["huey"]
