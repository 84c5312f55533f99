"""Huey tasks of the catalog: thin wrappers over ``imports`` and ``keeping``."""

from __future__ import annotations

from powerpact.catalog import imports
from powerpact.queue import task


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
