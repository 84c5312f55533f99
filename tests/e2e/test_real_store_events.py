"""Against the sandbox: what real stores do beyond Shopify's protocol (issue: real stores)."""

from decimal import Decimal

from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.models import DeliveryStatus, PartnerStore, ProductMap, WebhookDelivery

RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"


def import_first_product(harness) -> ProductMap:
    harness.install(RETAIL)
    harness.install(NORTH)
    partner = db.session.scalars(select(PartnerStore)).one()
    product = harness.shop(NORTH)["products"][0]
    run_import_job(create_import_job(partner, [product["id"]], MarkupRule()).id)
    harness.settle()
    return db.session.scalars(select(ProductMap).order_by(ProductMap.id)).first()


def retail_variant(harness, variant_id: str) -> dict:
    return next(
        v for p in harness.shop(RETAIL)["products"] for v in p["variants"] if v["id"] == variant_id
    )


def test_one_merchant_action_fires_topics_that_share_an_event_id_and_each_takes_effect(harness):
    """A bulk edit of price and stock: ``inventory_levels/update`` and ``products/update``
    arrive under one ``X-Shopify-Event-Id``; neither may be taken for the other's repeat."""
    product_map = import_first_product(harness)
    harness.control(
        "POST",
        f"/shops/{NORTH}/products/{product_map.partner_product_id}",
        {"price": "20.00", "available": 7},
    )
    harness.settle()
    inventory.apply_reported_changes(NORTH)
    db.session.expire_all()

    deliveries = db.session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.shop_domain == NORTH,
            WebhookDelivery.topic.in_(("products/update", "inventory_levels/update")),
        )
    ).all()
    topics = {d.topic for d in deliveries}
    assert topics == {"products/update", "inventory_levels/update"}
    assert len({d.event_id for d in deliveries}) == 1, "one action, one event id"
    assert {d.status for d in deliveries} == {DeliveryStatus.PROCESSED}

    variant = retail_variant(harness, product_map.bubbly_variant_id)
    assert variant["available"] == 7
    assert Decimal(variant["price"]) == Decimal("26.00")  # the 30% default markup
