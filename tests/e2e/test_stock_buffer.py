"""Against the sandbox: with a buffer of 2 on a roaster, the retail store shows 2 fewer than
the roaster for each imported variant (never below 0), whichever path writes the level."""

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.inventory import service as inventory
from powerpact.inventory.low_stock import low_stock_variants
from powerpact.inventory.sync import sync_partner_inventory
from powerpact.models import PartnerStore, ProductMap, RetailStore, StockChange, StockSource
from tests.e2e.conftest import sqlite_harness  # noqa: F401  (the fixture, reused)
from tests.e2e.test_orders import HARBOR, NORTH, RETAIL, any_harness, set_up  # noqa: F401


def retail_available(harness, variant_id):
    return next(
        v["available"]
        for p in harness.shop(RETAIL)["products"]
        for v in p["variants"]
        if v["id"] == variant_id
    )


def partner_available(harness, product_map):
    return harness.sandbox.shop(product_map.partner_shop_domain).available(
        product_map.partner_inventory_item_id
    )


def retail_id():
    return db.session.scalars(select(RetailStore.id)).one()


def harbor_maps():
    return db.session.scalars(
        select(ProductMap).where(ProductMap.partner_shop_domain == HARBOR).order_by(ProductMap.id)
    ).all()


def test_a_buffer_of_2_holds_2_back_on_every_path(any_harness):  # noqa: F811
    """On PostgreSQL and on the demo's SQLite."""
    harness = any_harness
    chosen = set_up(harness)
    sync_partner_inventory(HARBOR)
    maps = harbor_maps()
    assert all(
        retail_available(harness, m.bubbly_variant_id) == max(partner_available(harness, m), 0)
        for m in maps
    )

    # the admin's command (the demo's), then its resync task: at once, one run
    result = harness.app.test_cli_runner().invoke(args=["stock-buffer", HARBOR, "2"])
    assert result.exit_code == 0, result.output
    for product_map in maps:
        wanted = max(partner_available(harness, product_map) - 2, 0)
        assert retail_available(harness, product_map.bubbly_variant_id) == wanted
    low = {
        v.product_map_id
        for v in low_stock_variants(retail_id())
        if v.partner_name == "Harbor Bean Co."
    }
    assert low == {m.id for m in maps if partner_available(harness, m) - 2 <= 5}
    written = db.session.scalars(
        select(StockChange).where(StockChange.source == StockSource.BUFFER_CHANGE)
    ).all()
    assert len(written) == sum(1 for m in maps if partner_available(harness, m) > 0)
    assert all(c.after == max(c.before - 2, 0) for c in written)

    # a stock webhook from the roaster
    harbor = chosen[HARBOR]
    harness.control(
        "POST", f"/shops/{HARBOR}/stock", {"variant_id": harbor.partner_variant_id, "available": 9}
    )
    harness.settle()
    inventory.apply_reported_changes(HARBOR)
    assert retail_available(harness, harbor.bubbly_variant_id) == 7

    # never negative, and a full sync keeps it so
    harness.control(
        "POST", f"/shops/{HARBOR}/stock", {"variant_id": harbor.partner_variant_id, "available": 1}
    )
    harness.settle()
    inventory.apply_reported_changes(HARBOR)
    assert retail_available(harness, harbor.bubbly_variant_id) == 0
    again = sync_partner_inventory(HARBOR)
    assert again.changed == 0, "the hourly sync agrees with the webhook's write"
    [sold_out] = [v for v in low_stock_variants(retail_id()) if v.partner_name == "Harbor Bean Co."]
    assert (sold_out.product_map_id, sold_out.retail_available) == (harbor.id, 0)
    assert sold_out.trend < 0

    # the other roaster has no buffer
    north = chosen[NORTH]
    sync_partner_inventory(NORTH)
    assert retail_available(harness, north.bubbly_variant_id) == partner_available(harness, north)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == HARBOR)
    ).one()
    assert partner.safety_buffer == 2
