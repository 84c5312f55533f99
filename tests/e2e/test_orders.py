"""Against the sandbox: a mixed order reaches each partner once, and tracking comes back."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.inventory.sync import sync_partner_inventory
from powerpact.models import OrderStatus, OrderSync, PartnerStore, ProductMap

RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"


def set_up(harness):
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    for domain in (NORTH, HARBOR):
        partner = db.session.scalars(
            select(PartnerStore).where(PartnerStore.shop_domain == domain)
        ).one()
        product = harness.shop(domain)["products"][0]
        run_import_job(create_import_job(partner, [product["id"]], MarkupRule()).id)
    chosen = {}
    for m in db.session.scalars(select(ProductMap).order_by(ProductMap.id)):
        chosen.setdefault(m.partner_shop_domain, m)
    give_stock(harness, chosen.values())
    return chosen


def give_stock(harness, maps, available: int = 50) -> None:
    """Set each mapped partner variant's stock, and let the webhooks it fires settle."""
    for m in maps:
        harness.control(
            "POST",
            f"/shops/{m.partner_shop_domain}/stock",
            {"variant_id": m.partner_variant_id, "available": available},
        )
    harness.settle()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_harness(request):
    """The production database and the demo's: the order flow must work on both."""
    return request.getfixturevalue("harness" if request.param == "postgresql" else "sqlite_harness")


def test_a_mixed_order_becomes_one_order_per_partner_and_tracking_returns(any_harness):
    harness = any_harness
    maps = set_up(harness)
    order = harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {
            "lines": [
                {"sku": maps[NORTH].bubbly_sku, "quantity": 2},
                {"sku": maps[HARBOR].bubbly_sku, "quantity": 1},
                {"sku": "BUB-MUG", "quantity": 1},
            ],
            "shipping": "9.00",
            "tax_rate": "0.08",
            "discount": "3.00",
        },
    )
    harness.settle()
    syncs = {o.partner_shop_domain: o for o in db.session.scalars(select(OrderSync))}
    assert set(syncs) == {NORTH, HARBOR}
    assert all(o.status == OrderStatus.SYNCED for o in syncs.values()), [
        (o.status, o.hold_reason, o.error_message) for o in syncs.values()
    ]

    north_orders = harness.shop(NORTH)["orders"]
    harbor_orders = harness.shop(HARBOR)["orders"]
    assert len(north_orders) == 1 and len(harbor_orders) == 1
    north = north_orders[0]
    [north_line] = syncs[NORTH].lines
    assert north_line.partner_unit_price == maps[NORTH].partner_price
    assert north_line.discount > 0  # the retail discount travels with the line (split.py)
    # the partner's line is priced at what the retail line owes it: its price less its
    # discount, in whole cents (two lines when the cents do not divide evenly)
    assert sum(li["quantity"] for li in north["line_items"]) == 2
    assert (
        sum(Decimal(li["price"]) * li["quantity"] for li in north["line_items"])
        == north_line.partner_unit_price * 2 - north_line.discount
    )
    for partner in (NORTH, HARBOR):
        (partner_order,) = harness.shop(partner)["orders"]
        assert Decimal(partner_order["total"]) == syncs[partner].total
    assert north["source_identifier"] == f"powerpact-order-sync-{syncs[NORTH].id}"
    assert north["shipping_address"]["city"] == "Portland"

    retail_shipping, retail_tax = Decimal(order["shipping"]), Decimal(order["tax"])
    partner_shipping = sum(o.shipping_share for o in syncs.values())
    partner_tax = sum(o.tax_share for o in syncs.values())
    assert partner_shipping < retail_shipping and partner_tax < retail_tax  # the mug's share stays
    assert Decimal(north["shipping"]) + Decimal(harbor_orders[0]["shipping"]) == partner_shipping

    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{north['id'].rsplit('/', 1)[1]}/fulfil",
        {"tracking_number": "1Z999", "company": "UPS", "url": "https://ups.example/1Z999"},
    )
    harness.settle()
    retail_order = next(o for o in harness.shop(RETAIL)["orders"] if o["id"] == order["id"])
    assert retail_order["fulfillments"][0]["tracking"]["number"] == "1Z999"
    assert retail_order["fulfillment_status"] == "PARTIALLY_FULFILLED"
    db.session.expire_all()
    assert db.session.get(OrderSync, syncs[NORTH].id).status == OrderStatus.FULFILLED
    assert db.session.get(OrderSync, syncs[HARBOR].id).status == OrderStatus.SYNCED


def test_duplicated_and_shuffled_webhooks_still_make_each_partner_order_once(harness):
    maps = set_up(harness)
    harness.control("POST", "/webhooks", {"duplicates": True, "shuffle": True})
    for _ in range(3):
        order = harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {
                "lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": 1}],
                "shipping": "4.00",
                "financial_status": "PENDING",
            },
        )
        harness.control("POST", f"/shops/{RETAIL}/orders/{order['id'].rsplit('/', 1)[1]}/pay")
    harness.control("POST", "/webhooks/flush")
    harness.settle()
    assert len(harness.shop(NORTH)["orders"]) == 3
    assert (
        db.session.scalars(select(OrderSync).where(OrderSync.status == OrderStatus.SYNCED))
        .all()
        .__len__()
        == 3
    )


def test_stock_changed_at_a_partner_reaches_the_retail_product(harness):
    maps = set_up(harness)
    north = maps[NORTH]
    harness.control(
        "POST", f"/shops/{NORTH}/stock", {"variant_id": north.partner_variant_id, "available": 2}
    )
    harness.settle()
    inventory.apply_reported_changes(NORTH)
    retail_variant = next(
        v
        for p in harness.shop(RETAIL)["products"]
        for v in p["variants"]
        if v["id"] == north.bubbly_variant_id
    )
    assert retail_variant["available"] == 2


def test_a_full_sync_writes_only_what_differs(harness):
    maps = set_up(harness)
    north = maps[NORTH]
    sync_partner_inventory(NORTH)
    shop = harness.sandbox.shop(NORTH)
    variant = harness.sandbox.find_variant(shop, variant_id=north.partner_variant_id)
    harness.sandbox.set_stock(shop, variant, 13, notify=False)  # a change no webhook reported
    run = sync_partner_inventory(NORTH)
    assert run.changed == 1
    assert run.api_calls == 3  # partner read, retail read, one write
    again = sync_partner_inventory(NORTH)
    assert again.changed == 0 and again.api_calls == 2
