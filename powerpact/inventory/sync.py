"""Partner stock -> retail stock, with the fewest API calls the rate limits allow.

A full sync of one partner:
1. open a SyncRun (a partial unique index allows one running inventory run per
   partner, so runs never overlap; a run abandoned by a killed worker expires);
2. read the partner's sellable quantity of every mapped variant, 250 per call;
3. read the retail store's quantity of the same variants, 250 per call;
4. write only the levels that differ, 250 per ``inventorySetQuantities``, each with
   ``changeFromQuantity`` (compare-and-set) and an ``@idempotent`` key, so a retried
   batch cannot apply twice; on a stale compare, re-read those items and try once more;
5. record what it did and what it cost.
Negative partner stock becomes 0; a variant gone from the partner becomes 0 and
its map is flagged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore, RunStatus, SyncRun
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors

log = logging.getLogger(__name__)
PAGE = 250
ABANDONED_AFTER = timedelta(hours=1)
STALE_CODES = {"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"}


class SyncAlreadyRunning(Exception):
    """Another inventory run for this partner has not finished."""


@dataclass
class LevelChange:
    product_map: ProductMap
    target: int
    current: int


@dataclass
class SyncReport:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def chunks(items: Sequence[Any], size: int = PAGE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def start_run(kind: str, partner_domain: str | None) -> SyncRun:
    """Open a run, refusing to overlap a live one; expire runs a dead worker left behind."""
    db.session.execute(
        update(SyncRun)
        .where(
            SyncRun.kind == kind,
            SyncRun.partner_shop_domain == partner_domain,
            SyncRun.status == RunStatus.RUNNING,
            SyncRun.started_at < utcnow() - ABANDONED_AFTER,
        )
        .values(status=RunStatus.FAILED, finished_at=utcnow(), errors=[{"reason": "abandoned"}])
    )
    run = SyncRun(kind=kind, partner_shop_domain=partner_domain, status=RunStatus.RUNNING)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SyncAlreadyRunning(f"an inventory sync of {partner_domain} is running") from None
    return run


def finish_run(
    run: SyncRun, report: SyncReport, clients: Sequence[Any], *, failed: bool = False
) -> SyncRun:
    run.checked, run.changed, run.unchanged = report.checked, report.changed, report.unchanged
    run.error_count = len(report.errors)
    run.errors = report.errors or None
    run.api_calls = sum(c.stats.calls for c in clients)
    run.requested_cost = sum(c.stats.requested_cost for c in clients)
    run.actual_cost = sum(c.stats.actual_cost for c in clients)
    if failed:
        run.status = RunStatus.FAILED
    else:
        run.status = RunStatus.PARTIAL if report.errors else RunStatus.SUCCEEDED
    run.finished_at = utcnow()
    db.session.commit()
    return run


def read_quantities(client: Any, variant_ids: Sequence[str]) -> dict[str, int | None]:
    """Sellable quantity per variant id (None for a variant that no longer exists)."""
    quantities: dict[str, int | None] = {}
    for page in chunks(variant_ids):
        data = client.execute("VariantQuantities", {"ids": list(page)})
        for variant_id, node in zip(page, data["nodes"], strict=True):
            quantities[variant_id] = None if node is None else int(node["inventoryQuantity"] or 0)
    return quantities


def plan_changes(
    maps: Sequence[ProductMap],
    partner_qty: dict[str, int | None],
    retail_qty: dict[str, int | None],
    report: SyncReport,
) -> list[LevelChange]:
    changes = []
    for product_map in maps:
        report.checked += 1
        partner = partner_qty.get(product_map.partner_variant_id)
        product_map.partner_variant_missing = partner is None
        current = retail_qty.get(product_map.bubbly_variant_id)
        if current is None:
            report.errors.append(
                {"variant": product_map.bubbly_variant_id, "reason": "retail variant missing"}
            )
            continue
        target = max(partner or 0, 0)
        if target == current:
            report.unchanged += 1
        else:
            changes.append(LevelChange(product_map, target, current))
    return changes


def set_quantities_input(
    changes: Sequence[LevelChange], location_id: str, reference: str
) -> dict[str, Any]:
    return {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": reference,
        "quantities": [
            {
                "inventoryItemId": c.product_map.bubbly_inventory_item_id,
                "locationId": location_id,
                "quantity": c.target,
                "changeFromQuantity": c.current,
            }
            for c in changes
        ],
    }


def write_changes(
    client: Any,
    changes: Sequence[LevelChange],
    *,
    location_id: str,
    reference: str,
    key_prefix: str,
    report: SyncReport,
) -> None:
    """Write levels in batches of 250; on a stale compare, re-read and retry that batch once."""
    for index, batch in enumerate(chunks(changes)):
        key = f"{key_prefix}-{index}"
        try:
            _set(client, batch, location_id, reference, key)
        except UserErrors as exc:
            if not STALE_CODES & {e.get("code") for e in exc.user_errors}:
                report.errors.extend({"reason": e.get("message")} for e in exc.user_errors)
                continue
            fresh = read_quantities(client, [c.product_map.bubbly_variant_id for c in batch])
            retry = []
            for change in batch:
                current = fresh.get(change.product_map.bubbly_variant_id)
                if current is not None and current != change.target:
                    retry.append(LevelChange(change.product_map, change.target, current))
            report.unchanged += len(batch) - len(retry)
            if retry:
                _set(client, retry, location_id, reference, f"{key}-retry")
            report.changed += len(retry)
            continue
        report.changed += len(batch)


def _set(
    client: Any, batch: Sequence[LevelChange], location_id: str, reference: str, key: str
) -> None:
    data = client.execute(
        "InventorySetQuantities",
        {"input": set_quantities_input(batch, location_id, reference), "idempotencyKey": key},
        idempotent=True,
    )
    UserErrors.raise_for(data["inventorySetQuantities"])


def sync_maps(partner_domain: str, select_maps: Any, *, kind: str) -> SyncRun:
    """Run one sync of the maps ``select_maps()`` returns, recorded as a SyncRun of ``kind``."""
    run = start_run(kind, partner_domain)
    report = SyncReport()
    clients: list[Any] = []
    failed = False
    try:
        partner = db.session.scalar(
            select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
        )
        retail = db.session.scalar(select(RetailStore))
        if partner is None or not partner.is_active:
            raise ShopifyError("the partner is not installed", reason="partner_uninstalled")
        if retail is None or not retail.is_active or not retail.location_id:
            raise ShopifyError(
                "the retail store is not installed", reason="reauthorization_required"
            )
        maps = list(select_maps())
        partner_client, retail_client = client_for(partner), client_for(retail)
        clients = [partner_client, retail_client]
        partner_qty = read_quantities(partner_client, [m.partner_variant_id for m in maps])
        retail_qty = read_quantities(retail_client, [m.bubbly_variant_id for m in maps])
        changes = plan_changes(maps, partner_qty, retail_qty, report)
        write_changes(
            retail_client,
            changes,
            location_id=retail.location_id,
            reference=f"powerpact://sync-runs/{run.id}",
            key_prefix=f"powerpact-sync-{run.id}",
            report=report,
        )
    except ShopifyError as exc:
        failed = True
        report.errors.append({"reason": exc.reason, "message": str(exc)})
    return finish_run(run, report, clients, failed=failed)


def sync_partner_inventory(partner_domain: str) -> SyncRun:
    """Bring every mapped variant of one partner to the partner's stock on the retail store."""
    return sync_maps(
        partner_domain,
        lambda: db.session.scalars(
            select(ProductMap)
            .where(ProductMap.partner_shop_domain == partner_domain)
            .order_by(ProductMap.id)
        ),
        kind="inventory",
    )
