"""PowerPact's data model (docs/design.md, "Domain model"); the requirement's names stay.

Every time is ``UTCDateTime`` (aware UTC), every amount ``Money`` (``Decimal``),
every Shopify id the GID string Shopify gives (``gid://shopify/Order/123``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from powerpact.db_types import EncryptedText, JSONDocument, Money, UTCDateTime, utcnow
from powerpact.extensions import Model

SHOP = String(255)
GID = String(255)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A VARCHAR column holding the enum's values (no native type to migrate later)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class StoreStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Cadence(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class ShipTo(enum.StrEnum):
    CUSTOMER = "customer"
    FULFILMENT_CENTRE = "fulfilment_centre"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    READY_FOR_SYNC = "ready_for_sync"
    SYNCED = "synced"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RetailPriceSource(enum.StrEnum):
    """Where an order line's retail price and discount came from (``OrderSyncLine``)."""

    ORDER = "order"  # captured from the retail order itself
    WEBHOOK = "webhook"  # backfilled from the order's stored webhook (migration 0022): exact
    MARKUP = "markup"  # estimated: the variant's markup rule applied to the partner price
    UNKNOWN = "unknown"  # not known: left out of margins, shown as "not known"


class FailureReason(enum.StrEnum):
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    PARTNER_UNINSTALLED = "partner_uninstalled"
    VARIANT_NOT_MAPPED = "variant_not_mapped"
    INSUFFICIENT_INVENTORY = "insufficient_inventory"
    THROTTLED = "throttled"
    SHOPIFY_ERROR = "shopify_error"
    INVALID_ORDER = "invalid_order"
    CURRENCY_MISMATCH = "currency_mismatch"

    @property
    def transient(self) -> bool:
        return self in (FailureReason.THROTTLED, FailureReason.SHOPIFY_ERROR)


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    FAILED = "failed"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


class BatchStatus(enum.StrEnum):
    OPEN = "open"
    SENT = "sent"
    CLOSED = "closed"
    FAILED = "failed"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InstalledShopMixin(TimestampMixin):
    """What any shop that installed PowerPact holds: its domain and its (encrypted) tokens.

    Shopify's expiring offline tokens come with a refresh token; both are kept
    encrypted and replaced together on every refresh.
    """

    shop_domain: Mapped[str] = mapped_column(SHOP, unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str | None] = mapped_column(EncryptedText())
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText())
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[StoreStatus] = mapped_column(str_enum(StoreStatus), default=StoreStatus.ACTIVE)
    reauthorization_required: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uninstall_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency_code: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The shop's contact email as Shopify gives it (``Shop.contactEmail``, read at install):
    # where notifications go unless the shop chose another address (``NotificationSetting``).
    contact_email: Mapped[str | None] = mapped_column(String(320))

    @property
    def is_active(self) -> bool:
        return self.status == StoreStatus.ACTIVE and self.access_token is not None


DEFAULT_RISK_HOLD_SECONDS = 120  # Shopify Collective's fraud hold
DEFAULT_LOW_STOCK_THRESHOLD = 5


class RetailStore(InstalledShopMixin, Model):
    """The retail store's own installation (the one shop named by ``RETAIL_SHOP``)."""

    __tablename__ = "retail_stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[str | None] = mapped_column(GID)
    fulfilment_centre_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    notify_customer_on_fulfilment: Mapped[bool] = mapped_column(Boolean, default=True)
    accept_authorized_payments: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_hold_seconds: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_RISK_HOLD_SECONDS, server_default=str(DEFAULT_RISK_HOLD_SECONDS)
    )


class PartnerStore(InstalledShopMixin, Model):
    """A partner shop (a roaster, a maker) and its settings."""

    __tablename__ = "partner_stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[str | None] = mapped_column(GID)
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence), default=Cadence.IMMEDIATE)
    cutoff_weekday: Mapped[int] = mapped_column(Integer, default=0)
    cutoff_time: Mapped[time] = mapped_column(Time, default=time(17, 0))
    cutoff_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    ship_to: Mapped[ShipTo] = mapped_column(str_enum(ShipTo), default=ShipTo.CUSTOMER)
    default_markup_rule: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    auto_import_on_install: Mapped[bool] = mapped_column(Boolean, default=False)
    inventory_behaviour: Mapped[str] = mapped_column(String(32), default="DECREMENT_OBEYING_POLICY")
    products_available: Mapped[int | None] = mapped_column(Integer)
    # Units of each imported variant held back: the retail store shows
    # max(partner available - buffer, 0) (``inventory.buffer``); a product may override it.
    safety_buffer: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An imported variant whose retail stock is at or under this is low (``low_stock``).
    low_stock_threshold: Mapped[int] = mapped_column(
        Integer,
        default=DEFAULT_LOW_STOCK_THRESHOLD,
        server_default=str(DEFAULT_LOW_STOCK_THRESHOLD),
    )

    product_maps: Mapped[list[ProductMap]] = relationship(
        back_populates="partner", passive_deletes=True
    )


class ProductMap(TimestampMixin, Model):
    """One imported variant: where it lives on the partner and on the retail store."""

    __tablename__ = "product_maps"
    __table_args__ = (
        UniqueConstraint("partner_shop_domain", "partner_variant_id"),
        # the low-stock list: per partner, the variants at or under its threshold
        Index(
            "ix_product_maps_partner_retail_available", "partner_shop_domain", "retail_available"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    partner_product_id: Mapped[str] = mapped_column(GID, index=True)
    partner_variant_id: Mapped[str] = mapped_column(GID)
    partner_inventory_item_id: Mapped[str | None] = mapped_column(GID)
    partner_sku: Mapped[str | None] = mapped_column(String(255))
    partner_price: Mapped[Decimal] = mapped_column(Money())
    bubbly_product_id: Mapped[str] = mapped_column(GID, index=True)
    bubbly_variant_id: Mapped[str] = mapped_column(GID, unique=True)
    bubbly_inventory_item_id: Mapped[str | None] = mapped_column(GID)
    bubbly_sku: Mapped[str | None] = mapped_column(String(255), index=True)
    retail_price: Mapped[Decimal | None] = mapped_column(Money())
    markup_rule: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    partner_variant_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    # sha256 of the partner product as last imported (catalog.digest); one value per product
    import_digest: Mapped[str | None] = mapped_column(String(64))
    # The product's own safety buffer (set on every variant of the product), else None: the
    # partner's (``PartnerStore.safety_buffer``).
    safety_buffer: Mapped[int | None] = mapped_column(Integer)
    # The retail level PowerPact last read or wrote at the retail location (None: not yet).
    retail_available: Mapped[int | None] = mapped_column(Integer)
    product_title: Mapped[str | None] = mapped_column(String(512))
    variant_title: Mapped[str | None] = mapped_column(String(512))

    partner: Mapped[PartnerStore] = relationship(back_populates="product_maps")


class StockSource(enum.StrEnum):
    """What wrote a retail level: the hourly sync, a stock webhook's coalesced write, an
    admin's Sync now, or the resync after a safety buffer changed."""

    HOURLY = "hourly"
    WEBHOOK = "webhook"
    SYNC_NOW = "sync_now"
    BUFFER_CHANGE = "buffer_change"


class StockChange(Model):
    """One retail level PowerPact wrote: the variant's ``available`` before and after.

    Kept for ``inventory.history.RETENTION`` (90 days); a daily task deletes older rows.
    """

    __tablename__ = "stock_changes"
    __table_args__ = (Index("ix_stock_changes_map_at", "product_map_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_map_id: Mapped[int] = mapped_column(ForeignKey("product_maps.id", ondelete="CASCADE"))
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)
    source: Mapped[StockSource] = mapped_column(str_enum(StockSource))
    sync_run_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PartnerBatch(TimestampMixin, Model):
    """A daily or weekly window of one partner's orders and the partner order it fills."""

    __tablename__ = "partner_batches"
    __table_args__ = (UniqueConstraint("partner_shop_domain", "cadence", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus), default=BatchStatus.OPEN)
    partner_order_id: Mapped[str | None] = mapped_column(GID)
    partner_order_name: Mapped[str | None] = mapped_column(String(64))

    partner: Mapped[PartnerStore] = relationship()


class OrderSync(TimestampMixin, Model):
    """One retail order's share for one partner, and how far it got."""

    __tablename__ = "order_syncs"
    __table_args__ = (
        UniqueConstraint("bubbly_order_id", "partner_shop_domain"),
        Index("ix_order_syncs_partner_created", "partner_shop_domain", "created_at"),
        Index("ix_order_syncs_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_order_syncs_created_at", "created_at"),
        Index("ix_order_syncs_status_created", "status", text("created_at DESC")),
        Index(
            "ix_order_syncs_partner_status_created",
            "partner_shop_domain",
            "status",
            text("created_at DESC"),
        ),
        # The few cancelled after sending, which the home page counts.
        Index(
            "ix_order_syncs_needs_attention",
            "id",
            postgresql_where=text("needs_attention IS true"),
            sqlite_where=text("needs_attention IS true"),
        ),
        # The order tables' search, a part of the order's name (ILIKE '%...%'): trigrams
        # (PostgreSQL's pg_trgm) find the matches without reading every row's name.
        Index(
            "ix_order_syncs_name_trigrams",
            "bubbly_order_name",
            postgresql_using="gin",
            postgresql_ops={"bubbly_order_name": "gin_trgm_ops"},
        ),
        Index("ix_order_syncs_partner_sent", "partner_shop_domain", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bubbly_order_id: Mapped[str] = mapped_column(GID)
    bubbly_order_name: Mapped[str | None] = mapped_column(String(64))
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    partner_order_id: Mapped[str | None] = mapped_column(GID)
    partner_order_name: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.PENDING)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    last_order_failure_reason: Mapped[FailureReason | None] = mapped_column(str_enum(FailureReason))
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    last_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When its partner order was created, or its units appended to a weekly master order
    # (``orders/push.py``, ``mark_sent``): the moment a partner statement counts it sent.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_released_by: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    shipping_share: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    tax_share: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # The whole retail order's shipping and tax when it was last split: the partners' shares
    # plus the retail store's own share add up to these.
    order_shipping: Mapped[Decimal | None] = mapped_column(Money())
    order_tax: Mapped[Decimal | None] = mapped_column(Money())
    # The retail order's shipping when its refunds and edits were last applied to this sent
    # OrderSync (``orders/refunds.py``); a capture that finds it charging less has a
    # shipping refund to apply that no line count shows.
    retail_shipping_applied: Mapped[Decimal | None] = mapped_column(Money())
    ship_to_city: Mapped[str | None] = mapped_column(String(255))
    ship_to_country: Mapped[str | None] = mapped_column(String(2))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_batches.id", ondelete="SET NULL"), index=True
    )

    lines: Mapped[list[OrderSyncLine]] = relationship(
        back_populates="order_sync", cascade="all, delete-orphan", order_by="OrderSyncLine.id"
    )
    events: Mapped[list[OrderSyncEvent]] = relationship(
        back_populates="order_sync", cascade="all, delete-orphan", order_by="OrderSyncEvent.id"
    )
    batch: Mapped[PartnerBatch | None] = relationship()
    partner: Mapped[PartnerStore] = relationship()


class OrderSyncHourCount(Model):
    """How many of a partner's OrderSyncs created in one UTC hour have each status (and,
    failed, each failure reason) now.

    Kept by the database in the transaction of every change (``orders/rollup.py``): an
    insert, a delete, or an update of the status, the failure reason, the partner or
    ``created_at`` of an OrderSync moves its count from one row to another. ``hour`` is the
    start of the hour; ``reason`` is the ``last_order_failure_reason`` of failed OrderSyncs
    ('' when none is recorded), '' for every other status.
    """

    __tablename__ = "order_sync_hour_counts"
    __table_args__ = (
        Index(
            "ix_order_sync_hour_counts_hour",
            "hour",
            postgresql_include=["status", "reason", "partner_shop_domain", "orders"],
        ),
    )

    partner_shop_domain: Mapped[str] = mapped_column(SHOP, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    orders: Mapped[int] = mapped_column(Integer)


class OrderSyncDayCount(Model):
    """The same counts per UTC day (``day``), which windows of whole days read."""

    __tablename__ = "order_sync_day_counts"
    __table_args__ = (
        Index(
            "ix_order_sync_day_counts_day",
            "day",
            postgresql_include=["status", "reason", "partner_shop_domain", "orders"],
        ),
    )

    partner_shop_domain: Mapped[str] = mapped_column(SHOP, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    orders: Mapped[int] = mapped_column(Integer)


class RetailOrderFirst(Model):
    """When a retail order was first seen: the least ``created_at`` of its OrderSyncs.

    Kept by the same triggers as the counts (``orders/rollup.py``), for every retail order
    with an OrderSync; the triggers move ``RetailOrderHourCount`` from it when it changes.
    """

    __tablename__ = "retail_order_firsts"

    bubbly_order_id: Mapped[str] = mapped_column(GID, primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RetailOrderHourCount(Model):
    """How many retail orders were first seen (``RetailOrderFirst``) in one UTC hour."""

    __tablename__ = "retail_order_hour_counts"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)


class OrderSyncLine(Model):
    """A retail order line that belongs to the partner, at the partner's price.

    The retail side of the line is kept beside it, as the retail order had it when it was
    last captured: ``retail_unit_price`` (before discounts) and ``retail_discount`` (the
    retail discounts allocated to the line's remaining units), and ``product_title``
    (Shopify's ``LineItem.title``; ``title`` is its ``name``, product and variant). They
    make the margins (``margins/figures.py``). Lines captured before they were kept were
    backfilled by migration 0022; ``retail_price_source`` says how, and a line whose
    retail price could not be found has ``None`` and ``UNKNOWN``.
    """

    __tablename__ = "order_sync_lines"
    __table_args__ = (UniqueConstraint("order_sync_id", "bubbly_line_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_sync_id: Mapped[int] = mapped_column(ForeignKey("order_syncs.id", ondelete="CASCADE"))
    bubbly_line_item_id: Mapped[str] = mapped_column(GID)
    bubbly_variant_id: Mapped[str | None] = mapped_column(GID)
    partner_variant_id: Mapped[str | None] = mapped_column(GID)
    sku: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512))
    quantity: Mapped[int] = mapped_column(Integer)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    partner_unit_price: Mapped[Decimal] = mapped_column(Money())
    discount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # After sending, ``quantity`` stays what was sent. Units refunded or edited away since
    # (``orders/refunds.py``) are counted here: ``removed_quantity`` were taken off the
    # partner order before the partner shipped them, ``returned_quantity`` had shipped.
    removed_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    product_title: Mapped[str | None] = mapped_column(String(512))
    retail_unit_price: Mapped[Decimal | None] = mapped_column(Money())
    retail_discount: Mapped[Decimal | None] = mapped_column(Money())
    retail_price_source: Mapped[RetailPriceSource] = mapped_column(
        str_enum(RetailPriceSource),
        default=RetailPriceSource.UNKNOWN,
        server_default=RetailPriceSource.UNKNOWN.value,
    )

    order_sync: Mapped[OrderSync] = relationship(back_populates="lines")

    @property
    def accounted_after_send(self) -> int:
        """Units of the sent quantity that refunds or edits after sending account for."""
        return (self.removed_quantity or 0) + (self.returned_quantity or 0)  # unflushed: None


class PartnerLineShare(Model):
    """Units one retail line put into one line of a partner order (``orders/partner_lines.py``).

    A partner order holds one line per (partner variant, unit price), filled by the
    retail lines of every OrderSync it carries: a shipment of that line is spread back
    over these rows, oldest retail order first, up to ``quantity`` each
    (``fulfilled_quantity`` counts what was shipped so far). A partner line is known by
    its variant and unit price, which a shipment of it names too.
    """

    __tablename__ = "partner_line_shares"
    __table_args__ = (
        UniqueConstraint("partner_order_id", "order_sync_id", "bubbly_line_item_id", "unit_price"),
        Index("ix_partner_line_shares_partner_order", "partner_shop_domain", "partner_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    partner_order_id: Mapped[str] = mapped_column(GID)
    partner_variant_id: Mapped[str] = mapped_column(GID)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    order_sync_id: Mapped[int] = mapped_column(
        ForeignKey("order_syncs.id", ondelete="CASCADE"), index=True
    )
    bubbly_line_item_id: Mapped[str] = mapped_column(GID)
    quantity: Mapped[int] = mapped_column(Integer)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)


AFTERCARE_DUE = "kind IN ('cancel_requested', 'partner_redaction_due')"


class OrderSyncEvent(Model):
    """The timeline of an OrderSync: captured, ready, each attempt, sent, fulfilled..."""

    __tablename__ = "order_sync_events"
    __table_args__ = (
        # The few events the aftercare sweep looks for: a cancellation or a partner
        # redaction that fell due (``orders.tasks.resume_lost_aftercare``).
        Index(
            "ix_order_sync_events_aftercare_due",
            "created_at",
            postgresql_where=text(AFTERCARE_DUE),
            sqlite_where=text(AFTERCARE_DUE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_sync_id: Mapped[int] = mapped_column(
        ForeignKey("order_syncs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order_sync: Mapped[OrderSync] = relationship(back_populates="events")


class AfterSendDue(Model):
    """A retail order whose refunds and edits are due to reach its sent partner orders.

    Written in the transaction of the capture that found them due, with the task that
    applies them (``orders.refunds.apply_after_send``), and deleted when it has: one still
    here an hour on is a task that never reached the queue, which the aftercare sweep
    enqueues again. ``due_at`` is the latest capture's, so a run that began before a
    newer refund does not clear it.
    """

    __tablename__ = "after_send_due"

    order_gid: Mapped[str] = mapped_column(GID, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class WaitingTracking(Model):
    """A partner's shipment whose copy to the retail order waits for a fulfillment order.

    The retail fulfillment order holding its lines cannot be fulfilled yet (ON_HOLD,
    SCHEDULED or INCOMPLETE); ``quantities`` (retail line item id -> quantity) and
    ``tracking`` are kept until they reach the retail order: retried when Shopify says one
    of ``fulfillment_order_ids`` was released, became due or moved, and by a periodic check.
    """

    __tablename__ = "waiting_tracking"
    __table_args__ = (UniqueConstraint("order_sync_id", "partner_fulfillment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_sync_id: Mapped[int] = mapped_column(
        ForeignKey("order_syncs.id", ondelete="CASCADE"), index=True
    )
    partner_fulfillment_id: Mapped[str] = mapped_column(GID)
    quantities: Mapped[dict[str, int]] = mapped_column(JSONDocument)
    tracking: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    fulfillment_order_ids: Mapped[list[str]] = mapped_column(JSONDocument)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    order_sync: Mapped[OrderSync] = relationship()


class WebhookDelivery(Model):
    """A webhook as Shopify sent it, stored before it is acknowledged.

    ``webhook_id`` (``X-Shopify-Webhook-Id``) is unique: a repeated delivery is
    acknowledged and not stored twice. ``event_id`` is not unique, because
    Shopify can resend one event under a new delivery id; effects check it.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_received", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    topic: Mapped[str] = mapped_column(String(128))
    shop_domain: Mapped[str] = mapped_column(SHOP, index=True)
    api_version: Mapped[str | None] = mapped_column(String(16))
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.RECEIVED
    )
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncRun(Model):
    """One run of a sync (inventory, import, order push) with what it did and cost.

    At most one run of a kind is ``running`` per partner (a partial unique index),
    so two workers never sync the same partner's stock at once.
    """

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_partner_started", "partner_shop_domain", "started_at"),
        Index(
            "uq_sync_runs_one_running",
            "kind",
            "partner_shop_domain",
            unique=True,
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    partner_shop_domain: Mapped[str | None] = mapped_column(SHOP)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    requested_cost: Mapped[int] = mapped_column(Integer, default=0)
    actual_cost: Mapped[int] = mapped_column(Integer, default=0)
    # calls Shopify refused as throttled (HTTP 429 or THROTTLED), each waited out and tried again
    throttled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ImportJob(TimestampMixin, Model):
    """An admin's import of picked partner products; its items carry the progress."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE"),
        index=True,
    )
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED)
    markup_rule: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    product_status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    vendor_override: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    # Products already on the retail store keep the prices it charges now (the admin chose
    # "Import without repricing"); new products and new variants are priced as usual.
    keep_live_prices: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partner: Mapped[PartnerStore] = relationship()
    items: Mapped[list[ImportJobItem]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="ImportJobItem.id"
    )


class ImportJobItem(Model):
    __tablename__ = "import_job_items"
    __table_args__ = (UniqueConstraint("job_id", "partner_product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    partner_product_id: Mapped[str] = mapped_column(GID)
    title: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED)
    error_message: Mapped[str | None] = mapped_column(Text)
    bubbly_product_id: Mapped[str | None] = mapped_column(GID)
    # Variants whose live retail price this import changed (0 for a product new to the store).
    repriced_variants: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    job: Mapped[ImportJob] = relationship(back_populates="items")


class OAuthState(Model):
    """A single-use OAuth ``state``: only its hash is stored, bound to one shop.

    ``requested_by`` is a keyed hash of the address that started the install (never the
    address), counted by the install rate limit (``oauth.install_wait``).
    """

    __tablename__ = "oauth_states"
    __table_args__ = (
        Index("ix_oauth_states_requested_by_created_at", "requested_by", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shop_domain: Mapped[str] = mapped_column(SHOP)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_by: Mapped[str | None] = mapped_column(String(64))


class InventoryChange(Model):
    """A partner inventory item reported changed by webhook, waiting for the coalesced write."""

    __tablename__ = "inventory_changes"
    __table_args__ = (UniqueConstraint("partner_shop_domain", "partner_inventory_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(SHOP)
    partner_inventory_item_id: Mapped[str] = mapped_column(GID)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartnerSettingsChange(Model):
    """Who changed a partner's settings, when, and from what to what."""

    __tablename__ = "partner_settings_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE"),
        index=True,
    )
    changed_by: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class RetailOrderSeen(Model):
    """The newest state of a retail order PowerPact has captured: Shopify's ``updatedAt``.

    The reconciliation compares the orders Shopify lists as updated with this, and
    captures those whose webhooks never came (or not yet).
    """

    __tablename__ = "retail_orders_seen"

    order_gid: Mapped[str] = mapped_column(GID, primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reconciliation(Model):
    """A reconciliation's watermark (how far it has looked) and what its last run did."""

    __tablename__ = "reconciliations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class SendAttempt(Model):
    """A partner order's send began: ``orderCreate`` may have reached Shopify since.

    Committed on a connection of its own before the send goes on (``orders/push.py``),
    so it outlives a crash that loses the send's own transaction. No foreign keys:
    the sender holds the partner's and the OrderSync's rows locked, and a key check
    on them from the other connection would wait for that very sender.
    """

    __tablename__ = "send_attempts"

    identifier: Mapped[str] = mapped_column(String(255), primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(SHOP)
    first_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    previous_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class CreditKind(enum.StrEnum):
    """Why a partner owes back part of what a sent partner order charged."""

    CANCELLATION = "cancellation"  # the partner order was cancelled after it was sent
    REFUND = "refund"  # the retail order refunded (part of) the partner's lines, shipping or tax
    EDIT = "edit"  # the retail order was edited after sending: quantities lowered or lines removed


class PartnerCredit(Model):
    """One fact that lowers what the retail store owes a partner for a sent partner order.

    Recorded once per fact (``source_key`` is unique: a refund line, an edit, a
    cancellation), dated when it happened at the retail store (``occurred_at``), so a
    partner statement of a closed period never changes: a credit lands in the period it
    occurred. Amounts are at the partner's prices, as the split shared them
    (``orders/split.py``): ``lines`` (discount included), ``shipping``, ``tax``, and their
    sum ``total``. ``applied_at_partner`` says whether the partner's own order was changed
    to match (edited before it was fulfilled); when False the partner had already shipped
    and the credit is a return to settle between the two stores.
    """

    __tablename__ = "partner_credits"
    __table_args__ = (
        UniqueConstraint("source_key"),
        Index("ix_partner_credits_partner_occurred", "partner_shop_domain", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_sync_id: Mapped[int] = mapped_column(ForeignKey("order_syncs.id", ondelete="CASCADE"))
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    kind: Mapped[CreditKind] = mapped_column(str_enum(CreditKind))
    source_key: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    shipping: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    applied_at_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(500))

    order_sync: Mapped[OrderSync] = relationship()


class StatementPayment(Model):
    """A payment the retail store made to a partner against one statement.

    A statement is a partner's and a period's (``statements/periods.py``: ``period_start``
    up to the day before ``period_end``, calendar days in the retail store's time zone);
    its payments are those of exactly that partner and period. Several payments may settle
    one statement (a partial payment leaves the rest open). ``confirmation_key`` is the
    one-time key of the form that asked for it, so a repeated submit records it once.
    """

    __tablename__ = "statement_payments"
    __table_args__ = (
        UniqueConstraint("confirmation_key"),
        Index(
            "ix_statement_payments_partner_period",
            "partner_shop_domain",
            "period_start",
            "period_end",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_shop_domain: Mapped[str] = mapped_column(
        ForeignKey("partner_stores.shop_domain", ondelete="CASCADE", onupdate="CASCADE")
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # the day after the period's last
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(255), default="")
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmation_key: Mapped[str] = mapped_column(String(64))

    partner: Mapped[PartnerStore] = relationship()


class NotificationKind(enum.StrEnum):
    """What a notification is about; each audience chooses which kinds it gets."""

    ORDER_FAILED = "order_failed"  # to a partner: an order failed for a reason it can fix
    STATEMENT = "statement"  # to a partner: its statement of a closed month
    ADMIN_DIGEST = "admin_digest"  # to the retail admins: what needs them, at most hourly


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after its attempts; ``last_error`` says why
    WITHDRAWN = "withdrawn"  # its recipient unsubscribed (or was removed) before it went


class NotificationOutbox(Model):
    """One email to one address about one event, made exactly once.

    ``(event_key, recipient)`` is unique: an event emitted again (a retry, a repeat, two
    workers at once) inserts nothing (``INSERT ... ON CONFLICT DO NOTHING``), so each
    message exists once and is sent by the task that sends its row. ``payload`` holds the
    event's facts; the message is rendered from them when it is sent.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("event_key", "recipient", name="uq_notification_outbox_event_recipient"),
        Index("ix_notification_outbox_status_created", "status", "created_at"),
        Index("ix_notification_outbox_shop_kind_created", "shop_domain", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    shop_domain: Mapped[str] = mapped_column(SHOP)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationSetting(TimestampMixin, Model):
    """A shop's choice of notifications: the address(es) and the kinds it does not want.

    No row means the defaults: every kind of its audience, to the shop's contact email.
    """

    __tablename__ = "notification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_domain: Mapped[str] = mapped_column(SHOP, unique=True)
    # comma-separated addresses; empty: the shop's contact email from Shopify
    email: Mapped[str | None] = mapped_column(String(1000))
    muted: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
