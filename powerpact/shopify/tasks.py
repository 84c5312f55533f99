"""Huey tasks of the Shopify edge: thin wrappers over ``deliveries``."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

from powerpact.queue import periodic_task, task
from powerpact.shopify import deliveries

SWEEP_AFTER = timedelta(minutes=3)


@task(retries=8, retry_delay=15, retry_backoff=2)
def process_delivery_task(delivery_id: int) -> str:
    return deliveries.process_delivery(delivery_id)


@periodic_task(crontab(minute="*/2"))
def sweep_unprocessed_deliveries() -> int:
    """Re-enqueue what a Redis outage or a killed worker left unprocessed."""
    ids = deliveries.unprocessed_delivery_ids(SWEEP_AFTER)
    for delivery_id in ids:
        process_delivery_task(delivery_id)
    return len(ids)


@task(retries=5, retry_delay=30, retry_backoff=2)
def after_install_task(shop_domain: str) -> dict[str, object]:
    from powerpact.shopify import install

    return install.after_install(shop_domain)
