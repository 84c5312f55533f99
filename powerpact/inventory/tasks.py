"""Huey tasks of inventory sync (hourly for every partner, on demand, and by webhook) and
the ``inventory_levels/update`` handler."""

from __future__ import annotations

from typing import Any

from huey import crontab

from powerpact.extensions import after_commit
from powerpact.inventory import service
from powerpact.models import WebhookDelivery
from powerpact.queue import periodic_task, task


@task(retries=2, retry_delay=60)
def sync_partner_task(partner_domain: str) -> str:
    return service.sync_partner(partner_domain)


@task(retries=5, retry_delay=2, retry_backoff=2)
def apply_inventory_changes_task(partner_domain: str) -> int:
    return service.apply_reported_changes(partner_domain)


def on_inventory_level_update(delivery: WebhookDelivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Note the changed item; the first note of a burst schedules one coalesced write."""
    domain = delivery.shop_domain
    outcome = service.note_level_change(domain, payload)
    if outcome == service.QUEUED:
        after_commit(
            lambda: apply_inventory_changes_task.schedule(
                args=(domain,), delay=service.COALESCE_DELAY.total_seconds()
            )
        )
    return {"outcome": outcome}


@periodic_task(crontab(minute="7"))
def hourly_inventory_sync() -> int:
    """Every hour: one task per active partner; workers run partners in parallel."""
    domains = service.partners_to_sync()
    for domain in domains:
        sync_partner_task(domain)
    return len(domains)
