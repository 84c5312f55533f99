"""factory-boy factories for every model, with traits for the common states."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from powerpact import models as m
from powerpact.db_types import utcnow
from powerpact.extensions import db


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


def gid(kind: str) -> factory.Sequence:
    return factory.Sequence(lambda n: f"gid://shopify/{kind}/{1000000 + n}")


class RetailStoreFactory(BaseFactory):
    class Meta:
        model = m.RetailStore

    shop_domain = "bubbly-retail.myshopify.com"
    name = "Bubbly"
    access_token = factory.Sequence(lambda n: f"shpat_retail{n:020d}")
    scopes = "read_products,write_products,read_orders,write_orders"
    installed_at = factory.LazyFunction(utcnow)
    location_id = "gid://shopify/Location/1"


class PartnerStoreFactory(BaseFactory):
    class Meta:
        model = m.PartnerStore

    shop_domain = factory.Sequence(lambda n: f"roaster-{n}.myshopify.com")
    name = factory.Sequence(lambda n: f"Roaster {n}")
    access_token = factory.Sequence(lambda n: f"shpat_partner{n:020d}")
    scopes = "read_products,read_inventory,write_orders"
    installed_at = factory.LazyFunction(utcnow)
    location_id = None  # stock counted at every location until the admin chooses one
    default_markup_rule = factory.LazyFunction(lambda: {"kind": "percentage", "value": "30"})

    class Params:
        uninstalled = factory.Trait(
            status=m.StoreStatus.DISABLED,
            access_token=None,
            uninstall_date=factory.LazyFunction(utcnow),
        )
        daily = factory.Trait(cadence=m.Cadence.DAILY)
        weekly = factory.Trait(cadence=m.Cadence.WEEKLY)
        needs_reauthorization = factory.Trait(reauthorization_required=True)


class ProductMapFactory(BaseFactory):
    class Meta:
        model = m.ProductMap

    partner = factory.SubFactory(PartnerStoreFactory)
    partner_shop_domain = factory.SelfAttribute("partner.shop_domain")
    partner_product_id = gid("Product")
    partner_variant_id = gid("ProductVariant")
    partner_inventory_item_id = gid("InventoryItem")
    partner_sku = factory.Sequence(lambda n: f"BEAN-{n}")
    partner_price = Decimal("12.00")
    bubbly_product_id = gid("Product")
    bubbly_variant_id = gid("ProductVariant")
    bubbly_inventory_item_id = gid("InventoryItem")
    bubbly_sku = factory.LazyAttribute(lambda o: f"PARTNER-{o.partner.id}-{o.partner_sku}")
    retail_price = Decimal("15.60")
    markup_rule = factory.LazyFunction(lambda: {"kind": "percentage", "value": "30"})


class PartnerBatchFactory(BaseFactory):
    class Meta:
        model = m.PartnerBatch

    partner = factory.SubFactory(PartnerStoreFactory, daily=True)
    partner_shop_domain = factory.SelfAttribute("partner.shop_domain")
    cadence = m.Cadence.DAILY
    window_start = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    window_end = factory.LazyFunction(utcnow)


class OrderSyncFactory(BaseFactory):
    class Meta:
        model = m.OrderSync

    class Params:
        ready = factory.Trait(
            status=m.OrderStatus.READY_FOR_SYNC, ready_at=factory.LazyFunction(utcnow)
        )
        synced = factory.Trait(
            status=m.OrderStatus.SYNCED,
            partner_order_id=gid("Order"),
            partner_order_name=factory.Sequence(lambda n: f"#P{1000 + n}"),
            sent_at=factory.LazyFunction(utcnow),
        )
        failed = factory.Trait(
            status=m.OrderStatus.FAILED,
            last_order_failure_reason=m.FailureReason.SHOPIFY_ERROR,
            error_message="Shopify answered 502 Bad Gateway",
            retry_count=3,
            last_attempted_at=factory.LazyFunction(utcnow),
        )

    partner = factory.SubFactory(PartnerStoreFactory)
    bubbly_order_id = gid("Order")
    bubbly_order_name = factory.Sequence(lambda n: f"#B{1000 + n}")
    partner_shop_domain = factory.SelfAttribute("partner.shop_domain")
    currency = "USD"
    subtotal = Decimal("24.00")
    shipping_share = Decimal("5.00")
    tax_share = Decimal("2.40")
    total = Decimal("31.40")
    ship_to_city = "Portland"
    ship_to_country = "US"


class OrderSyncLineFactory(BaseFactory):
    class Meta:
        model = m.OrderSyncLine

    order_sync = factory.SubFactory(OrderSyncFactory)
    bubbly_line_item_id = gid("LineItem")
    bubbly_variant_id = gid("ProductVariant")
    partner_variant_id = gid("ProductVariant")
    sku = factory.Sequence(lambda n: f"PARTNER-1-BEAN-{n}")
    title = "House Blend 250g / Whole bean"
    quantity = 2
    partner_unit_price = Decimal("12.00")


class OrderSyncEventFactory(BaseFactory):
    class Meta:
        model = m.OrderSyncEvent

    order_sync = factory.SubFactory(OrderSyncFactory)
    kind = "captured"
    message = "Captured from the retail order"


class PartnerCreditFactory(BaseFactory):
    """A credit for a sent order; its partner is the order's, its amounts its shares'."""

    class Meta:
        model = m.PartnerCredit

    order_sync = factory.SubFactory(OrderSyncFactory, synced=True)
    partner_shop_domain = factory.SelfAttribute("order_sync.partner_shop_domain")
    kind = m.CreditKind.REFUND
    source_key = factory.Sequence(lambda n: f"refund:{n}")
    occurred_at = factory.LazyFunction(utcnow)
    currency = "USD"
    lines = Decimal("12.00")
    shipping = Decimal("0")
    tax = Decimal("0")
    total = factory.LazyAttribute(lambda o: o.lines + o.shipping + o.tax)


class StatementPaymentFactory(BaseFactory):
    class Meta:
        model = m.StatementPayment

    partner = factory.SubFactory(PartnerStoreFactory)
    partner_shop_domain = factory.SelfAttribute("partner.shop_domain")
    period_start = factory.LazyFunction(lambda: utcnow().date().replace(day=1))
    period_end = factory.LazyAttribute(
        lambda o: (o.period_start + timedelta(days=32)).replace(day=1)
    )
    paid_on = factory.LazyFunction(lambda: utcnow().date())
    amount = Decimal("10.00")
    currency = "USD"
    reference = factory.Sequence(lambda n: f"TRANSFER-{n}")
    recorded_by = "an admin of bubbly-retail.myshopify.com"
    confirmation_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


class WebhookDeliveryFactory(BaseFactory):
    class Meta:
        model = m.WebhookDelivery

    webhook_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    topic = "orders/create"
    shop_domain = "bubbly-retail.myshopify.com"
    api_version = "2026-07"
    payload = '{"id": 1}'


class SyncRunFactory(BaseFactory):
    class Meta:
        model = m.SyncRun

    kind = "inventory"
    partner_shop_domain = "roaster-1.myshopify.com"


class ImportJobFactory(BaseFactory):
    class Meta:
        model = m.ImportJob

    partner = factory.SubFactory(PartnerStoreFactory)
    partner_shop_domain = factory.SelfAttribute("partner.shop_domain")
    markup_rule = factory.LazyFunction(lambda: {"kind": "percentage", "value": "30"})


class ImportJobItemFactory(BaseFactory):
    class Meta:
        model = m.ImportJobItem

    job = factory.SubFactory(ImportJobFactory)
    partner_product_id = gid("Product")
    title = "House Blend"
