"""The order tables' query: filters, sort, a page of 25 with their lines, counts by status.

Whatever the page size it takes two queries for the page (its lines come in a
second, ``selectinload``) and one for the counts by status, which also give the
total of an unsearched page. The counts are read from the count tables
(``orders/rollup.py``), not counted, so no query of a page grows with the orders: the
page is a range of an index ending at its 25th row, pages go no deeper than
``MAX_PAGE`` (the newest ``COUNT_CAP`` rows a filter selects), and a search counts its
matches up to ``COUNT_CAP``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import selectinload

from powerpact.config import SHOP_DOMAIN_RE
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.inputs import whole_number
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    PartnerSettingsChange,
    PartnerStore,
    ShipTo,
)
from powerpact.orders import rollup
from powerpact.shops import display_name
from powerpact.spreadsheets import csv_writer
from powerpact.timezones import shop_zone

PAGE_SIZE = 25
COUNT_CAP = 10_000
MAX_PAGE = COUNT_CAP // PAGE_SIZE
WINDOW = timedelta(days=30)
# Each order is one of an index's (``ix_order_syncs_created_at``, ``..._status_created``
# and the partner's own), newest first; the id breaks ties.
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "date": (OrderSync.created_at.desc(), OrderSync.id.desc()),
    "status": (OrderSync.status.asc(), OrderSync.created_at.desc(), OrderSync.id.desc()),
}

REASON_TEXT = {
    FailureReason.REAUTHORIZATION_REQUIRED: (
        "PowerPact lost access to your store. Re-approve the app, then retry."
    ),
    FailureReason.PARTNER_UNINSTALLED: (
        "PowerPact was uninstalled from your store. Reinstall it, then retry."
    ),
    FailureReason.VARIANT_NOT_MAPPED: (
        "A product in this order is no longer linked to one of yours."
    ),
    FailureReason.INSUFFICIENT_INVENTORY: "Your store refused the order for lack of stock.",
    FailureReason.THROTTLED: "Shopify asked us to slow down; it is retried automatically.",
    FailureReason.SHOPIFY_ERROR: "Shopify did not answer; it is retried automatically.",
    FailureReason.INVALID_ORDER: "Shopify refused the order's details.",
    FailureReason.CURRENCY_MISMATCH: (
        "Your store sells in another currency than the retail store; it was not sent."
    ),
}


# The same reasons as the retail store's admins read them: the store is the partner's.
ADMIN_REASON_TEXT = {
    FailureReason.REAUTHORIZATION_REQUIRED: (
        "PowerPact lost access to the partner's store. Re-authorize it on Partners, then retry."
    ),
    FailureReason.PARTNER_UNINSTALLED: (
        "The partner uninstalled PowerPact. Retry once they reinstall it."
    ),
    FailureReason.VARIANT_NOT_MAPPED: (
        "A product in this order is no longer imported from this partner. Import it, then retry."
    ),
    FailureReason.INSUFFICIENT_INVENTORY: (
        "The partner's store refused the order for lack of stock. Retry once they restock."
    ),
    FailureReason.THROTTLED: REASON_TEXT[FailureReason.THROTTLED],
    FailureReason.SHOPIFY_ERROR: REASON_TEXT[FailureReason.SHOPIFY_ERROR],
    FailureReason.INVALID_ORDER: "Shopify refused the order's details; see its timeline.",
    FailureReason.CURRENCY_MISMATCH: (
        "The partner's store sells in another currency; PowerPact does not convert prices."
        " Send it by hand, or retry once both stores use the same currency."
    ),
}


# The same reasons in a few words, where a chart or a table heading names them.
REASON_LABEL = {
    FailureReason.REAUTHORIZATION_REQUIRED: "Access lost",
    FailureReason.PARTNER_UNINSTALLED: "Partner uninstalled",
    FailureReason.VARIANT_NOT_MAPPED: "Product not imported",
    FailureReason.INSUFFICIENT_INVENTORY: "Out of stock",
    FailureReason.THROTTLED: "Throttled",
    FailureReason.SHOPIFY_ERROR: "Shopify error",
    FailureReason.INVALID_ORDER: "Order refused",
    FailureReason.CURRENCY_MISMATCH: "Other currency",
}


def reason_label(reason: FailureReason | None) -> str:
    """A failure reason in a few words; a failure recorded without one is "Unknown"."""
    return REASON_LABEL.get(reason, "Unknown") if reason else "Unknown"


def reason_text(reason: FailureReason | None, *, for_admin: bool = False) -> str:
    """A failure reason in plain words, for the partner (the default) or the retail admins."""
    if not reason:
        return ""
    return (ADMIN_REASON_TEXT if for_admin else REASON_TEXT).get(reason, "")


@dataclass(frozen=True)
class Filters:
    """A table's filters as its query string gives them; anything else is dropped.

    They travel with an order's page as its back link to the desk, so each is read by its
    own rule: a known status and sort, a page number, a ``*.myshopify.com`` partner, a
    search of at most 64 characters. The back link is built from these alone.
    """

    status: str | None = None
    q: str = ""
    sort: str = "date"
    page: int = 1
    partner: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        status = args.get("status") or None
        if status not in {s.value for s in OrderStatus}:
            status = None
        sort = args.get("sort") if args.get("sort") in SORTS else "date"
        page = min(whole_number(args.get("page")) or 1, MAX_PAGE)
        partner = args.get("partner") or None
        if partner is not None and not SHOP_DOMAIN_RE.match(partner):
            partner = None
        return cls(status, (args.get("q") or "").strip()[:64], sort, page, partner)

    @property
    def narrowed(self) -> bool:
        """Do the filters leave out any order (a search, a status or a partner)?"""
        return bool(self.q or self.status or self.partner)

    def query_args(self, **changes: Any) -> dict[str, Any]:
        values = {
            "status": self.status,
            "q": self.q,
            "sort": self.sort,
            "page": self.page,
            "partner": self.partner,
        }
        values.update(changes)
        return {
            k: v for k, v in values.items() if v not in (None, "", 1) or (k == "page" and v != 1)
        }


def window_start() -> datetime:
    """Where the tables' last 30 days begin: the start of the UTC hour 30 days ago, so
    that the counts by status, kept per hour, cover exactly the rows listed."""
    return rollup.floor_hour(utcnow() - WINDOW)


def filtered(filters: Filters, partner_domain: str | None) -> Select[Any]:
    statement = select(OrderSync).where(OrderSync.created_at >= window_start())
    domain = partner_domain or filters.partner
    if domain:
        statement = statement.where(OrderSync.partner_shop_domain == domain)
    if filters.status:
        statement = statement.where(OrderSync.status == filters.status)
    if filters.q:
        statement = statement.where(OrderSync.bubbly_order_name.ilike(f"%{filters.q.lstrip('#')}%"))
    return statement


@dataclass
class Page:
    rows: list[OrderSync]
    total: int
    filters: Filters

    @property
    def pages(self) -> int:
        """The pages one can turn to: the newest ``COUNT_CAP`` rows at most."""
        return max(1, min(-(-self.total // PAGE_SIZE), MAX_PAGE))

    @property
    def reach(self) -> int:
        """How many rows the pages can show."""
        return MAX_PAGE * PAGE_SIZE

    @property
    def truncated(self) -> bool:
        """More rows match than the pages reach (narrow the filters to see the older)."""
        return self.total > self.reach


def order_page(
    filters: Filters, *, partner_domain: str | None = None, counts: dict[str, int] | None = None
) -> Page:
    """One page of rows with their lines.

    The total comes from the status ``counts`` when the page is not searched (they
    cover the same rows); a search counts its matches, stopping at ``COUNT_CAP``.
    """
    base = filtered(filters, partner_domain)
    rows = db.session.scalars(
        base.options(selectinload(OrderSync.lines))
        .order_by(*SORTS[filters.sort])
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    ).all()
    if counts is not None and not filters.q:
        total = counts[filters.status] if filters.status else sum(counts.values())
    else:
        capped = base.with_only_columns(OrderSync.id).limit(COUNT_CAP).subquery()
        total = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return Page(list(rows), total, filters)


EXPORT_CAP = COUNT_CAP


def export_rows(filters: Filters, *, partner_domain: str) -> list[OrderSync]:
    """Every row the table's filters select (all its pages, not one), in the table's order,
    up to ``EXPORT_CAP``: 30 days of one partner's orders stay far below it."""
    statement = (
        filtered(filters, partner_domain)
        .options(selectinload(OrderSync.lines))
        .order_by(*SORTS[filters.sort])
        .limit(EXPORT_CAP)
    )
    return list(db.session.scalars(statement))


def status_counts(partner_domain: str | None = None) -> dict[str, int]:
    """The tables' counts by status over their window, of one partner or of all."""
    return rollup.status_counts(window_start(), partner_domain)


def as_csv(rows: Iterable[OrderSync], tz_name: str = "UTC") -> str:
    zone = shop_zone(tz_name)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "retail_order",
            "created_at",
            "items",
            "ship_to_city",
            "ship_to_country",
            "partner_order",
            "status",
            "failure_reason",
            "message",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.bubbly_order_name,
                row.created_at.astimezone(zone).isoformat(timespec="minutes"),
                "; ".join(f"{line.quantity} x {line.title}" for line in row.lines),
                row.ship_to_city or "",
                row.ship_to_country or "",
                row.partner_order_name or "",
                row.status.value,
                row.last_order_failure_reason.value if row.last_order_failure_reason else "",
                row.error_message or "",
            ]
        )
    return out.getvalue()


class ShipToHistory:
    """Where a partner's orders ship: the retail store's fulfilment centre or the customer.

    A batch ships to the centre (it holds several customers' orders), an order not sent yet
    goes where the partner's setting says now, and one sent on its own went where it said
    when the order was sent (``push.ship_to_address``): the settings history tells, read
    once, when such an order first asks.
    """

    def __init__(self, partner: PartnerStore) -> None:
        self.partner = partner
        self._changes: list[tuple[datetime, str]] | None = None

    def to_fulfilment_centre(self, order: OrderSync) -> bool:
        if order.batch_id is not None:
            return True
        sent_at = order.last_attempted_at if order.partner_order_id else None
        return self.setting_at(sent_at) == ShipTo.FULFILMENT_CENTRE

    def setting_at(self, moment: datetime | None) -> str:
        """The partner's ship-to at ``moment`` (None: now)."""
        if moment is not None:
            for changed_at, before in self.changes():
                if moment < changed_at:
                    return before
        return self.partner.ship_to.value

    def changes(self) -> list[tuple[datetime, str]]:
        """Each change of the ship-to, oldest first: when, and what it was before."""
        if self._changes is None:
            rows = db.session.scalars(
                select(PartnerSettingsChange)
                .where(PartnerSettingsChange.partner_shop_domain == self.partner.shop_domain)
                .order_by(PartnerSettingsChange.changed_at, PartnerSettingsChange.id)
            )
            self._changes = [
                (row.changed_at, row.changes["ship_to"]["from"])
                for row in rows
                if "ship_to" in row.changes
            ]
        return self._changes


@dataclass(frozen=True)
class SplitPart:
    party: str
    shipping: Decimal
    tax: Decimal
    partner_order_name: str | None = None


@dataclass(frozen=True)
class OrderSplit:
    """How one retail order's shipping and tax were shared: each partner, then the retail store."""

    partners: list[SplitPart]
    retail: SplitPart
    shipping: Decimal
    tax: Decimal


def order_split(order: OrderSync, retail_name: str) -> OrderSplit | None:
    """The split of ``order``'s retail order across its partners and the retail store's own lines.

    The retail store keeps what the partners' shares leave of the order's shipping and tax
    (its own lines' share, by the same largest-remainder split). None for rows recorded
    before the order's totals were kept.
    """
    if order.order_shipping is None or order.order_tax is None:
        return None
    rows = db.session.execute(
        select(OrderSync, PartnerStore.name)
        .join(PartnerStore, PartnerStore.shop_domain == OrderSync.partner_shop_domain)
        .where(OrderSync.bubbly_order_id == order.bubbly_order_id)
        .order_by(PartnerStore.name, OrderSync.partner_shop_domain)
    ).all()
    partners = [
        SplitPart(
            party=display_name(name, row.partner_shop_domain),
            shipping=row.shipping_share,
            tax=row.tax_share,
            partner_order_name=row.partner_order_name,
        )
        for row, name in rows
    ]
    retail = SplitPart(
        retail_name,
        order.order_shipping - sum((p.shipping for p in partners), Decimal("0")),
        order.order_tax - sum((p.tax for p in partners), Decimal("0")),
    )
    return OrderSplit(partners, retail, order.order_shipping, order.order_tax)
