"""Huey tasks of inventory sync (hourly for every partner, on demand, by webhook, and after a
safety buffer changed), the stock history's pruning, and the ``inventory_levels/update``
handler."""

from __future__ import annotations

from typing import Any

from huey import crontab

from powerpact.extensions import after_commit
from powerpact.inventory import history, service
from powerpact.models import WebhookDelivery
from powerpact.queue import periodic_task, task


@task(retries=2, retry_delay=60)
def sync_partner_task(partner_domain: str, source: str = "hourly") -> str:
    return service.sync_partner(partner_domain, source)


@task(retries=20, retry_delay=5)
def buffer_resync_task(partner_domain: str, partner_product_id: str | None = None) -> int:
    """After a safety buffer changed: retried while another sync of the partner runs."""
    return service.resync_after_buffer_change(partner_domain, partner_product_id)


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


@periodic_task(crontab(minute="41", hour="3"))
def prune_stock_history() -> int:
    """Every night: delete the stock changes older than the history keeps (90 days)."""
    return history.prune()
