"""Every task module, imported so the consumer registers them all.

Run workers with ``huey_consumer powerpact.tasks.huey``.
"""

from powerpact.queue import huey

__all__ = ["huey"]
