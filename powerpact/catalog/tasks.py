"""Huey tasks of the catalog: thin wrappers over ``imports`` and ``keeping``; and what the
catalog does after an install (registered in ``shopify.install.AFTER_INSTALL``)."""

from __future__ import annotations

from typing import Any

from powerpact.catalog import imports
from powerpact.models import PartnerStore, RetailStore
from powerpact.queue import task
from powerpact.shopify import install
from powerpact.shopify.client import ShopifyClient


@task(retries=2, retry_delay=30)
def run_import_job_task(job_id: int) -> str:
    return imports.run_import_job(job_id).status.value


@task(retries=3, retry_delay=60, retry_backoff=2)
def import_whole_catalog_task(partner_domain: str) -> int:
    job = imports.import_whole_catalog(partner_domain)
    if job is None:
        return 0
    run_import_job_task(job.id)
    return len(job.items)


def prepare_catalog(client: ShopifyClient, shop: RetailStore | PartnerStore) -> dict[str, Any]:
    """After an install: the retail store gets the metafield imports are keyed by; a partner
    that asked for it has its whole catalog imported."""
    if isinstance(shop, RetailStore):
        imports.ensure_import_key(client)
    elif shop.auto_import_on_install:
        import_whole_catalog_task(shop.shop_domain)
        return {"auto_import": "started"}
    return {}


install.AFTER_INSTALL.append(prepare_catalog)
