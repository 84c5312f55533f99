"""What the inventory tasks, webhooks and pages call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from powerpact.extensions import db, insert_or_ignore
from powerpact.inventory.sync import (
    STOCK_SYNC_KINDS,
    WEBHOOK_SYNC,
    SyncAlreadyRunning,
    sync_maps,
    sync_partner_inventory,
)
from powerpact.models import InventoryChange, PartnerStore, ProductMap, StoreStatus, SyncRun

COALESCE_DELAY = timedelta(seconds=2)
QUEUED = "queued"


def sync_partner(partner_domain: str) -> str:
    try:
        run = sync_partner_inventory(partner_domain)
    except SyncAlreadyRunning:
        return "already running"
    return run.status.value


def partners_to_sync() -> list[str]:
    return list(
        db.session.scalars(
            select(PartnerStore.shop_domain)
            .where(
                PartnerStore.status == StoreStatus.ACTIVE,
                PartnerStore.access_token.is_not(None),
                select(ProductMap.id)
                .where(ProductMap.partner_shop_domain == PartnerStore.shop_domain)
                .exists(),
            )
            .order_by(PartnerStore.shop_domain)
        )
    )


def latest_stock_sync() -> SyncRun | None:
    """The newest stock sync of any partner, running or done: hourly, Sync now or webhook."""
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.kind.in_(STOCK_SYNC_KINDS))
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )


def last_stock_syncs() -> dict[str, SyncRun]:
    """Each partner's newest finished stock sync (hourly, Sync now or webhook), by domain."""
    run = aliased(SyncRun)
    newest = (
        select(run.id)
        .where(
            run.partner_shop_domain == PartnerStore.shop_domain,
            run.kind.in_(STOCK_SYNC_KINDS),
            run.finished_at.is_not(None),
        )
        .order_by(run.started_at.desc())
        .limit(1)
        .correlate(PartnerStore)
        .scalar_subquery()
    )
    runs = db.session.scalars(select(SyncRun).join(PartnerStore, SyncRun.id == newest))
    return {each.partner_shop_domain or "": each for each in runs}


def counts_location(partner_domain: str, location_id: Any) -> bool:
    """Whether a level change at ``location_id`` (the payload's number) can move the
    partner's counted stock: any location, unless the admin chose one."""
    chosen = db.session.scalar(
        select(PartnerStore.location_id).where(PartnerStore.shop_domain == partner_domain)
    )
    if chosen is None or location_id is None:
        return True
    return chosen.rsplit("/", 1)[-1] == str(location_id)


def note_level_change(partner_domain: str, payload: dict[str, Any]) -> str:
    """Note the changed item of an ``inventory_levels/update``; ``QUEUED`` for the first
    note of a burst, after which one coalesced write is due (``apply_reported_changes``)."""
    item_id = payload.get("inventory_item_id")
    if not str(item_id or "").isdigit():
        raise ValueError("inventory_levels/update payload has no inventory_item_id")
    item_gid = f"gid://shopify/InventoryItem/{item_id}"
    if not counts_location(partner_domain, payload.get("location_id")):
        return "a location not counted"
    mapped = db.session.scalar(
        select(ProductMap.id).where(
            ProductMap.partner_shop_domain == partner_domain,
            ProductMap.partner_inventory_item_id == item_gid,
        )
    )
    if mapped is None:
        return "not an imported item"
    first = insert_or_ignore(
        InventoryChange,
        {"partner_shop_domain": partner_domain, "partner_inventory_item_id": item_gid},
        ["partner_shop_domain", "partner_inventory_item_id"],
    )
    return QUEUED if first is not None else "coalesced"


def take_reported_items(partner_domain: str) -> list[str]:
    items = list(
        db.session.scalars(
            select(InventoryChange.partner_inventory_item_id).where(
                InventoryChange.partner_shop_domain == partner_domain
            )
        )
    )
    db.session.execute(
        delete(InventoryChange).where(
            InventoryChange.partner_shop_domain == partner_domain,
            InventoryChange.partner_inventory_item_id.in_(items),
        )
    )
    return items


def apply_reported_changes(partner_domain: str) -> int:
    """Write the retail levels of every item reported since the last write (one run)."""
    items = take_reported_items(partner_domain)
    if not items:
        db.session.commit()
        return 0
    run = sync_maps(
        partner_domain,
        lambda: db.session.scalars(
            select(ProductMap).where(
                ProductMap.partner_shop_domain == partner_domain,
                ProductMap.partner_inventory_item_id.in_(items),
            )
        ),
        kind=WEBHOOK_SYNC,
    )
    return run.changed
