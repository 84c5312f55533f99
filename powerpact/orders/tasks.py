"""Huey tasks of the orders capability: thin wrappers over the domain functions."""

from __future__ import annotations

from huey import crontab

from powerpact.orders import dispatch
from powerpact.queue import periodic_task, task


@task(retries=3, retry_delay=20, retry_backoff=2)
def push_partner_task(partner_domain: str) -> dict[str, int]:
    return dispatch.push_partner(partner_domain)


@task(retries=3, retry_delay=20, retry_backoff=2)
def send_batches_task(partner_domain: str) -> int:
    return dispatch.send_batches(partner_domain)


@task(retries=5, retry_delay=30, retry_backoff=2)
def cancel_partner_order_task(order_sync_id: int) -> str:
    from powerpact.orders.aftercare import cancel_partner_order

    return cancel_partner_order(order_sync_id)


@periodic_task(crontab(minute="*"))
def dispatch_due_orders() -> dict[str, int]:
    """Every minute: enqueue one send per partner with something due (parallel across partners)."""
    due = dispatch.partners_with_due_orders()
    for domain in due["immediate"]:
        push_partner_task(domain)
    for domain in due["batched"]:
        send_batches_task(domain)
    return {kind: len(domains) for kind, domains in due.items()}


@periodic_task(crontab(minute="*/10"))
def retry_waiting_tracking() -> dict[str, int]:
    """Every ten minutes: tracking held back by a retail fulfillment order is tried again,
    in case the webhook that should have released it never came."""
    from powerpact.orders.aftercare import retry_due_waiting_tracking

    return retry_due_waiting_tracking()
