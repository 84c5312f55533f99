"""The retail admins' digest: what needs them, in sections, each from one small function.

A section is a title, the page that shows it, and its items; each item has a stable key
(``reauth:<shop>``, ``failed:<order>:<reason>``...). The digest is sent only when one of its
keys was not in the last digest sent (something is new), and at most once an hour
(``events.admin_digest_events``).

Low stock is the home's list (``inventory.low_stock.low_stock_variants``): a variant is
new to the digest when it falls to its partner's threshold, not each time it sells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inventory.low_stock import low_stock_variants
from powerpact.models import (
    OrderStatus,
    OrderSync,
    PartnerStore,
    RetailStore,
    RunStatus,
    StoreStatus,
    SyncRun,
)
from powerpact.orders.listing import reason_text
from powerpact.shops import display_name, partner_names

log = logging.getLogger(__name__)
FAILED_WITHIN = timedelta(days=7)
SYNC_ERRORS_WITHIN = timedelta(days=1)
ITEMS_PER_SECTION = 50
INVENTORY_KINDS = ("inventory", "inventory_webhook")

Section = dict[str, Any]  # {"title", "path", "items": [{"key", "text"}]} (stored as JSON)


def section(title: str, path: str, items: list[dict[str, str]]) -> Section:
    return {"title": title, "path": path, "items": items[:ITEMS_PER_SECTION]}


def reauthorization_section(retail: RetailStore) -> Section:
    partners = db.session.scalars(
        select(PartnerStore)
        .where(
            PartnerStore.status == StoreStatus.ACTIVE,
            PartnerStore.reauthorization_required.is_(True),
        )
        .order_by(PartnerStore.shop_domain)
    ).all()
    items = [
        {
            "key": f"reauth:{p.shop_domain}",
            "text": f"{display_name(p.name, p.shop_domain)} needs to re-authorize PowerPact.",
        }
        for p in partners
    ]
    return section("Partners to re-authorize", "/admin/partners", items)


def failed_orders_section(retail: RetailStore) -> Section:
    names = partner_names()
    orders = db.session.execute(
        select(
            OrderSync.id,
            OrderSync.bubbly_order_name,
            OrderSync.partner_shop_domain,
            OrderSync.last_order_failure_reason,
        )
        .where(
            OrderSync.status == OrderStatus.FAILED,
            OrderSync.updated_at >= utcnow() - FAILED_WITHIN,
        )
        .order_by(OrderSync.id.desc())
        .limit(ITEMS_PER_SECTION)
    ).all()
    items = [
        {
            "key": f"failed:{o.id}:{o.last_order_failure_reason or ''}",
            "text": f"{o.bubbly_order_name or 'An order'} to "
            f"{names.get(o.partner_shop_domain, o.partner_shop_domain)}: "
            f"{reason_text(o.last_order_failure_reason, for_admin=True) or 'failed.'}",
        }
        for o in orders
    ]
    return section("Orders failed after their retries", "/admin/orders?status=failed", items)


def inventory_errors_section(retail: RetailStore) -> Section:
    names = partner_names()
    runs = db.session.scalars(
        select(SyncRun)
        .where(
            SyncRun.kind.in_(INVENTORY_KINDS),
            SyncRun.started_at >= utcnow() - SYNC_ERRORS_WITHIN,
            or_(SyncRun.error_count > 0, SyncRun.status == RunStatus.FAILED),
        )
        .order_by(SyncRun.id.desc())
        .limit(ITEMS_PER_SECTION)
    ).all()
    items = []
    for run in runs:
        partner = names.get(run.partner_shop_domain or "", run.partner_shop_domain or "all")
        first = (run.errors or [{}])[0]
        detail = first.get("message") or first.get("error") or ""
        items.append(
            {
                "key": f"sync_run:{run.id}",
                "text": f"Stock sync of {partner}: {run.error_count or 1} error(s)."
                + (f" {str(detail)[:200]}" if detail else ""),
            }
        )
    return section("Inventory sync errors", "/admin/sync-runs", items)


def low_stock_section(retail: RetailStore) -> Section:
    """The imported variants at or under their partner's low-stock threshold, lowest first."""
    items = []
    for variant in low_stock_variants(retail.id):
        title = variant.product_title + (
            f" · {variant.variant_title}" if variant.variant_title else ""
        )
        items.append(
            {
                "key": f"low_stock:{variant.product_map_id}",
                "text": f"{title} ({variant.partner_name}): {variant.retail_available} left"
                f" at the retail store, threshold {variant.threshold}.",
            }
        )
    return section("Low stock", "/admin/", items)


SECTIONS: tuple[Callable[[RetailStore], Section | None], ...] = (
    reauthorization_section,
    failed_orders_section,
    inventory_errors_section,
    low_stock_section,
)


def digest_sections(retail: RetailStore) -> list[Section]:
    """Every section with items, in the order of ``SECTIONS``."""
    found = []
    for make in SECTIONS:
        made = make(retail)
        if made is not None and made["items"]:
            found.append(made)
    return found
