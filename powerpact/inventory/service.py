"""What the inventory tasks, webhooks and pages call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from powerpact.extensions import db, insert_or_ignore
from powerpact.inventory.sync import (
    FULL_SYNC,
    STOCK_SYNC_KINDS,
    WEBHOOK_SYNC,
    SyncAlreadyRunning,
    sync_maps,
    sync_partner_inventory,
)
from powerpact.models import (
    InventoryChange,
    PartnerSettingsChange,
    PartnerStore,
    ProductMap,
    StockSource,
    StoreStatus,
    SyncRun,
)

COALESCE_DELAY = timedelta(seconds=2)
QUEUED = "queued"


def sync_partner(partner_domain: str, source: str = StockSource.HOURLY) -> str:
    """A full stock sync of one partner: ``source`` is ``hourly`` or ``sync_now``."""
    try:
        run = sync_partner_inventory(partner_domain, StockSource(source))
    except SyncAlreadyRunning:
        return "already running"
    return run.status.value


def resync_after_buffer_change(partner_domain: str, partner_product_id: str | None = None) -> int:
    """Write the levels a changed safety buffer moves: every variant of the partner, or of one
    product (its own buffer changed). One run, the sync's reads and compare-and-set writes.

    A sync of the partner already running may have read the buffer before it changed, so
    ``SyncAlreadyRunning`` is raised for the task to try again once it is over.
    """

    def maps() -> Any:
        statement = select(ProductMap).where(ProductMap.partner_shop_domain == partner_domain)
        if partner_product_id is not None:
            statement = statement.where(ProductMap.partner_product_id == partner_product_id)
        return db.session.scalars(statement.order_by(ProductMap.id))

    run = sync_maps(partner_domain, maps, kind=FULL_SYNC, source=StockSource.BUFFER_CHANGE)
    return run.changed


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
        source=StockSource.WEBHOOK,
    )
    return run.changed


def set_product_buffer(product_map: ProductMap, buffer: int | None) -> bool:
    """Give the imported product of ``product_map`` its own safety buffer (None: its
    partner's), on every variant of the product; whether anything changed."""
    maps = list(
        db.session.scalars(
            select(ProductMap).where(
                ProductMap.partner_shop_domain == product_map.partner_shop_domain,
                ProductMap.partner_product_id == product_map.partner_product_id,
            )
        )
    )
    changed = any(each.safety_buffer != buffer for each in maps)
    for each in maps:
        each.safety_buffer = buffer
    db.session.commit()
    return changed


def set_partner_buffer(partner_domain: str, buffer: int, changed_by: str) -> bool:
    """Set a partner's safety buffer (the demo's and the ``inventory buffer`` command's way),
    recorded in its settings' changes; whether it changed. The caller queues the resync."""
    partner = db.session.scalar(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    )
    if partner is None:
        raise LookupError(f"no partner {partner_domain}")
    if partner.safety_buffer == buffer:
        return False
    db.session.add(
        PartnerSettingsChange(
            partner_shop_domain=partner_domain,
            changed_by=changed_by,
            changes={"safety_buffer": {"from": partner.safety_buffer, "to": buffer}},
        )
    )
    partner.safety_buffer = buffer
    db.session.commit()
    return True
