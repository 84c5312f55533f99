"""Huey tasks of the Shopify edge: thin wrappers over ``deliveries``, ``oauth``, ``install``."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from huey import crontab

from powerpact.queue import periodic_task, task
from powerpact.shopify import deliveries, install, oauth


@task(retries=8, retry_delay=15, retry_backoff=2)
def process_delivery_task(delivery_id: int) -> str:
    return deliveries.process_delivery(delivery_id)


def sweep_after() -> timedelta:
    """How long a stored delivery may wait for its task before the sweeper enqueues it again.

    ``DELIVERY_SWEEP_AFTER_SECONDS`` (3 minutes by default): long enough not to re-enqueue
    what is merely queued behind a burst (harmless, but wasted work), short enough that a
    Redis outage or a killed worker delays a webhook by minutes, not hours.
    """
    return timedelta(seconds=current_app.config["POWERPACT"].delivery_sweep_after_seconds)


@periodic_task(crontab(minute="*"))
def sweep_unprocessed_deliveries() -> int:
    """Every minute, re-enqueue what a Redis outage or a killed worker left unprocessed."""
    ids = deliveries.unprocessed_delivery_ids(sweep_after())
    for delivery_id in ids:
        process_delivery_task(delivery_id)
    return len(ids)


@periodic_task(crontab(minute="*"))
def refresh_expiring_tokens() -> dict[str, int]:
    """Every minute, refresh the tokens that expire soon, before any work needs them."""
    return oauth.refresh_expiring_tokens()


@periodic_task(crontab(minute="*/10"))
def purge_oauth_states() -> int:
    """Every ten minutes, delete the OAuth states no callback can use any more."""
    return oauth.purge_states()


@task(retries=5, retry_delay=30, retry_backoff=2)
def after_install_task(shop_domain: str) -> dict[str, object]:
    return install.after_install(shop_domain)


@task(retries=3, retry_delay=60, retry_backoff=2)
def check_subscriptions_task() -> dict[str, dict[str, list[str]]]:
    return install.check_subscriptions()


@periodic_task(crontab(minute="17"))
def check_subscriptions_hourly() -> dict[str, dict[str, list[str]]]:
    """Every hour: recreate the webhook subscriptions Shopify removed or an old URL left."""
    return install.check_subscriptions()
