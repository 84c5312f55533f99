"""Partner stock -> retail stock, with the fewest API calls the rate limits allow.

A full sync of one partner:
1. open a SyncRun (a partial unique index allows one running inventory run per
   partner, so runs never overlap; a run abandoned by a killed worker expires);
2. read the partner's sellable stock of every mapped variant, 250 per call: the
   variant's ``inventoryQuantity`` (all its locations) or, when the admin chose one
   location, that location's ``available``;
3. read the ``available`` of the same items at the retail store's chosen location,
   250 per call (``changeFromQuantity`` is "the quantity currently expected at this
   location", never the variant's total);
4. activate (``inventoryActivate``) the items not stocked at that location, then write
   only the levels that differ, 250 per ``inventorySetQuantities``, each with
   ``changeFromQuantity`` (compare-and-set) and an ``@idempotent`` key, so a retried
   batch cannot apply twice; on a stale compare or an item not stocked there, re-read
   those items, activate what needs it and try once more;
5. record what it did and what it cost, and each level it wrote (``stock_changes``, with
   the run's source: hourly, webhook, Sync now or a buffer change).
The level written is the partner's stock less the safety buffer, never below 0
(``buffer.retail_target``); a variant gone from the partner becomes 0 and its map is
flagged. Each map keeps the retail level last read or written (``retail_available``),
which the low-stock list reads.
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
from powerpact.inventory.buffer import buffer_of, retail_target
from powerpact.models import (
    PartnerStore,
    ProductMap,
    RetailStore,
    RunStatus,
    StockChange,
    StockSource,
    SyncRun,
)
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors

log = logging.getLogger(__name__)
PAGE = 250
ABANDONED_AFTER = timedelta(hours=1)
STALE_CODES = {"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"}
RETRY_CODES = STALE_CODES | {"ITEM_NOT_STOCKED_AT_LOCATION"}
# The runs that bring retail stock to the partners': every mapped variant (the hourly sync and
# Sync now), and the coalesced write of what ``inventory_levels/update`` webhooks reported.
FULL_SYNC = "inventory"
WEBHOOK_SYNC = "inventory_webhook"
STOCK_SYNC_KINDS = (FULL_SYNC, WEBHOOK_SYNC)


class SyncAlreadyRunning(Exception):
    """Another inventory run for this partner has not finished."""


@dataclass(frozen=True)
class Level:
    """What an item has ``available`` at one location; not ``stocked``: no level there."""

    available: int
    stocked: bool = True


@dataclass
class LevelChange:
    product_map: ProductMap
    target: int
    current: Level


@dataclass
class SyncReport:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # each level written: (map, before, after)
    written: list[tuple[ProductMap, int, int]] = field(default_factory=list)

    def wrote(self, changes: Sequence[LevelChange]) -> None:
        for change in changes:
            change.product_map.retail_available = change.target
            self.written.append((change.product_map, change.current.available, change.target))


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
    run.throttled = sum(c.stats.throttled for c in clients)
    run.requested_cost = sum(c.stats.requested_cost for c in clients)
    run.actual_cost = sum(c.stats.actual_cost for c in clients)
    if failed:
        run.status = RunStatus.FAILED
    else:
        run.status = RunStatus.PARTIAL if report.errors else RunStatus.SUCCEEDED
    run.finished_at = utcnow()
    db.session.commit()
    return run


def read_quantities(client: ShopifyClient, variant_ids: Sequence[str]) -> dict[str, int | None]:
    """Sellable quantity per variant id, over all locations (None: the variant is gone).

    ``ProductVariant.inventoryQuantity`` is "the total sellable quantity of the variant"
    (schema): the sum of what its locations have available.
    """
    quantities: dict[str, int | None] = {}
    for page in chunks(variant_ids):
        data = client.execute("VariantQuantities", {"ids": list(page)})
        for variant_id, node in zip(page, data["nodes"], strict=True):
            quantities[variant_id] = None if node is None else int(node["inventoryQuantity"] or 0)
    return quantities


def available_of(level: dict[str, Any]) -> int:
    return sum(int(q["quantity"] or 0) for q in level["quantities"] if q["name"] == "available")


def read_levels(
    client: ShopifyClient, item_ids: Sequence[str], location_id: str
) -> dict[str, Level | None]:
    """Each inventory item's ``available`` at one location (None: the item is gone).

    ``InventoryItem.inventoryLevel(locationId:)`` is "the inventory item's quantities at the
    specified location" (schema); it is null where no ``InventoryLevel`` connects the item to
    the location, that is where the item is not stocked. A location gone or deactivated
    fails the run rather than reading as no stock anywhere.
    """
    levels: dict[str, Level | None] = {}
    for page in chunks(item_ids):
        data = client.execute(
            "InventoryAvailableAt", {"ids": list(page), "locationId": location_id}
        )
        if not (data.get("location") or {}).get("isActive"):
            raise ShopifyError(
                f"the location {location_id} is gone or inactive: choose another",
                reason="location_missing",
            )
        for item_id, node in zip(page, data["nodes"], strict=True):
            if node is None:
                levels[item_id] = None
            elif node.get("inventoryLevel") is None:
                levels[item_id] = Level(0, stocked=False)
            else:
                levels[item_id] = Level(available_of(node["inventoryLevel"]))
    return levels


def read_partner_stock(
    client: ShopifyClient, partner: PartnerStore, maps: Sequence[ProductMap]
) -> dict[str, int | None]:
    """The partner's sellable stock per partner variant id (None: the variant is gone).

    Every location's (``location_id`` None), or only the location the admin chose.
    """
    if partner.location_id is None:
        return read_quantities(client, [m.partner_variant_id for m in maps])
    items = [m.partner_inventory_item_id for m in maps if m.partner_inventory_item_id]
    levels = read_levels(client, items, partner.location_id)
    stock: dict[str, int | None] = {}
    for product_map in maps:
        level = levels.get(product_map.partner_inventory_item_id or "")
        stock[product_map.partner_variant_id] = None if level is None else level.available
    return stock


def plan_changes(
    maps: Sequence[ProductMap],
    partner_qty: dict[str, int | None],
    retail_levels: dict[str, Level | None],
    report: SyncReport,
    partner: PartnerStore,
) -> list[LevelChange]:
    """What to write at the retail location: the partner's stock less the buffer, never
    below 0; an item not stocked there counts as 0."""
    changes = []
    for product_map in maps:
        report.checked += 1
        available = partner_qty.get(product_map.partner_variant_id)
        product_map.partner_variant_missing = available is None
        level = retail_levels.get(product_map.bubbly_inventory_item_id or "")
        if level is None:
            report.errors.append(
                {"variant": product_map.bubbly_variant_id, "reason": "retail variant missing"}
            )
            continue
        product_map.retail_available = level.available
        target = retail_target(available, buffer_of(product_map, partner))
        if target == level.available:
            report.unchanged += 1
        else:
            changes.append(LevelChange(product_map, target, level))
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
                "changeFromQuantity": c.current.available,
            }
            for c in changes
        ],
    }


def activate(client: ShopifyClient, item_id: str, location_id: str, key: str) -> Level:
    """Stock an item at the location (``inventoryActivate``); its level as activated.

    The schema: ``inventoryActivate`` "Activates an inventory item at a Location by creating an
    InventoryLevel"; without quantities, ``available`` "default[s] to zero".
    """
    data = client.execute(
        "InventoryActivate",
        {"inventoryItemId": item_id, "locationId": location_id, "idempotencyKey": key},
        idempotent=True,
    )
    payload = data["inventoryActivate"]
    UserErrors.raise_for(payload)
    return Level(available_of(payload["inventoryLevel"]))


def activate_unstocked(
    client: ShopifyClient,
    changes: Sequence[LevelChange],
    *,
    location_id: str,
    key_prefix: str,
    report: SyncReport,
) -> list[LevelChange]:
    """Activate every item not stocked at the location; the changes that can now be written."""
    ready = []
    for change in changes:
        if change.current.stocked:
            ready.append(change)
            continue
        item_id = change.product_map.bubbly_inventory_item_id or ""
        try:
            level = activate(client, item_id, location_id, f"{key_prefix}-{numeric_id(item_id)}")
        except UserErrors as exc:
            report.errors.append(
                {"variant": change.product_map.bubbly_variant_id, "reason": str(exc)}
            )
            continue
        change.product_map.retail_available = level.available
        if level.available == change.target:
            report.unchanged += 1
        else:
            ready.append(LevelChange(change.product_map, change.target, level))
    return ready


def numeric_id(gid: str) -> str:
    return gid.split("?", 1)[0].rsplit("/", 1)[-1]


def write_changes(
    client: ShopifyClient,
    changes: Sequence[LevelChange],
    *,
    location_id: str,
    reference: str,
    key_prefix: str,
    report: SyncReport,
) -> None:
    """Write levels in batches of 250, activating unstocked items first.

    A batch refused because a level moved (a stale compare) or because an item is not
    stocked at the location (``ITEM_NOT_STOCKED_AT_LOCATION``) is re-read, its unstocked
    items activated, and retried once.
    """
    ready = activate_unstocked(
        client,
        changes,
        location_id=location_id,
        key_prefix=f"{key_prefix}-activate",
        report=report,
    )
    for index, batch in enumerate(chunks(ready)):
        key = f"{key_prefix}-{index}"
        try:
            _set(client, batch, location_id, reference, key)
        except UserErrors as exc:
            if not {e.get("code") for e in exc.user_errors} <= RETRY_CODES:
                report.errors.extend({"reason": e.get("message")} for e in exc.user_errors)
                continue
            retry = reread(client, batch, location_id, report)
            retry = activate_unstocked(
                client,
                retry,
                location_id=location_id,
                key_prefix=f"{key}-activate",
                report=report,
            )
            if retry:
                _set(client, retry, location_id, reference, f"{key}-retry")
            report.changed += len(retry)
            report.wrote(retry)
            continue
        report.changed += len(batch)
        report.wrote(batch)


def reread(
    client: ShopifyClient, batch: Sequence[LevelChange], location_id: str, report: SyncReport
) -> list[LevelChange]:
    """The batch's changes at their current levels; those already at target are unchanged."""
    items = [c.product_map.bubbly_inventory_item_id or "" for c in batch]
    fresh = read_levels(client, items, location_id)
    retry = []
    for change in batch:
        level = fresh.get(change.product_map.bubbly_inventory_item_id or "")
        if level is None:
            report.errors.append(
                {
                    "variant": change.product_map.bubbly_variant_id,
                    "reason": "retail variant missing",
                }
            )
        elif level.available == change.target:
            change.product_map.retail_available = level.available
            report.unchanged += 1
        else:
            retry.append(LevelChange(change.product_map, change.target, level))
    return retry


def _set(
    client: ShopifyClient, batch: Sequence[LevelChange], location_id: str, reference: str, key: str
) -> None:
    data = client.execute(
        "InventorySetQuantities",
        {"input": set_quantities_input(batch, location_id, reference), "idempotencyKey": key},
        idempotent=True,
    )
    UserErrors.raise_for(data["inventorySetQuantities"])


def record_history(report: SyncReport, source: StockSource, run: SyncRun) -> None:
    """One ``stock_changes`` row per level the run wrote."""
    at = utcnow()
    db.session.add_all(
        StockChange(
            product_map_id=product_map.id,
            before=before,
            after=after,
            source=source,
            sync_run_id=run.id,
            at=at,
        )
        for product_map, before, after in report.written
    )


def sync_maps(partner_domain: str, select_maps: Any, *, kind: str, source: StockSource) -> SyncRun:
    """Run one sync of the maps ``select_maps()`` returns, recorded as a SyncRun of ``kind``
    and, for each level it wrote, a stock change of ``source``."""
    run = start_run(kind, partner_domain)
    report = SyncReport()
    clients: list[Any] = []
    failed = False
    try:
        partner = db.session.scalar(
            select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
        )
        retail: RetailStore | None = db.session.scalar(select(RetailStore))
        if partner is None or not partner.is_active:
            raise ShopifyError("the partner is not installed", reason="partner_uninstalled")
        if retail is None or not retail.is_active or not retail.location_id:
            raise ShopifyError(
                "the retail store is not installed", reason="reauthorization_required"
            )
        maps = list(select_maps())
        partner_client, retail_client = client_for(partner), client_for(retail)
        clients = [partner_client, retail_client]
        partner_qty = read_partner_stock(partner_client, partner, maps)
        retail_levels = read_levels(
            retail_client,
            [m.bubbly_inventory_item_id for m in maps if m.bubbly_inventory_item_id],
            retail.location_id,
        )
        changes = plan_changes(maps, partner_qty, retail_levels, report, partner)
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
    record_history(report, source, run)
    return finish_run(run, report, clients, failed=failed)


def sync_partner_inventory(
    partner_domain: str, source: StockSource = StockSource.HOURLY
) -> SyncRun:
    """Bring every mapped variant of one partner to the partner's stock, less the buffer, on
    the retail store."""
    return sync_maps(
        partner_domain,
        lambda: db.session.scalars(
            select(ProductMap)
            .where(ProductMap.partner_shop_domain == partner_domain)
            .order_by(ProductMap.id)
        ),
        kind=FULL_SYNC,
        source=source,
    )
