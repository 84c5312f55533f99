"""Huey tasks of inventory sync: hourly for every partner, on demand, and by webhook."""

from __future__ import annotations

from huey import crontab

from powerpact.inventory import service
from powerpact.queue import periodic_task, task


@task(retries=2, retry_delay=60)
def sync_partner_task(partner_domain: str) -> str:
    return service.sync_partner(partner_domain)


@task(retries=5, retry_delay=2, retry_backoff=2)
def apply_inventory_changes_task(partner_domain: str) -> int:
    return service.apply_reported_changes(partner_domain)


@periodic_task(crontab(minute="7"))
def hourly_inventory_sync() -> int:
    """Every hour: one task per active partner; workers run partners in parallel."""
    domains = service.partners_to_sync()
    for domain in domains:
        sync_partner_task(domain)
    return len(domains)
