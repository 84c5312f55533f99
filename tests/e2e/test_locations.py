"""Against the sandbox: stock at several locations on the retail store and on a partner."""

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.inventory.sync import sync_partner_inventory
from powerpact.models import PartnerStore, ProductMap, RetailStore, RunStatus
from powerpact.shopify.session_tokens import mint_session_token
from tests.e2e.test_orders import HARBOR, NORTH, RETAIL, set_up


def level(harness, shop, item, location):
    """The available quantity at one location, or None where the item is not stocked."""
    return harness.sandbox.shop(shop).levels.get((item, location))


def locations(harness, shop):
    return [loc["id"] for loc in harness.sandbox.shop(shop).locations]


def stock(harness, shop, variant_id, available, location):
    harness.control(
        "POST",
        f"/shops/{shop}/stock",
        {"variant_id": variant_id, "available": available, "location_id": location},
    )


def retail_store():
    return db.session.scalars(select(RetailStore)).one()


def test_retail_stock_at_two_locations_is_compared_at_the_chosen_one(harness):
    north = set_up(harness)[NORTH]
    first, second = locations(harness, RETAIL)
    assert retail_store().location_id == first, "the location read at install"
    stock(harness, RETAIL, north.bubbly_variant_id, 7, second)  # the shop sells some too
    stock(harness, NORTH, north.partner_variant_id, 12, locations(harness, NORTH)[0])
    harness.settle()
    run = sync_partner_inventory(NORTH)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert level(harness, RETAIL, north.bubbly_inventory_item_id, first) == 12
    assert level(harness, RETAIL, north.bubbly_inventory_item_id, second) == 7, "untouched"
    assert run.api_calls == 3  # partner read, retail read, one write: no stale retry


def test_a_partner_with_stock_at_two_locations_counts_the_sum_or_the_chosen_one(harness):
    harbor = set_up(harness)[HARBOR]
    first, second = locations(harness, HARBOR)
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == HARBOR)
    ).one()
    assert partner.location_id is None, "all locations unless the admin chooses one"
    stock(harness, HARBOR, harbor.partner_variant_id, 5, first)
    stock(harness, HARBOR, harbor.partner_variant_id, 8, second)
    harness.settle()
    sync_partner_inventory(HARBOR)
    retail_at = retail_store().location_id
    assert level(harness, RETAIL, harbor.bubbly_inventory_item_id, retail_at) == 13
    partner.location_id = second
    db.session.commit()
    run = sync_partner_inventory(HARBOR)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert level(harness, RETAIL, harbor.bubbly_inventory_item_id, retail_at) == 8


def test_an_item_not_stocked_at_the_chosen_retail_location_is_activated_and_written(harness):
    maps = set_up(harness)
    north = maps[NORTH]
    second = locations(harness, RETAIL)[1]
    assert level(harness, RETAIL, north.bubbly_inventory_item_id, second) is None
    token = mint_session_token(
        RETAIL,
        api_key=harness.app.config["POWERPACT"].shopify_api_key,
        secret=harness.app.config["POWERPACT"].shopify_api_secret,
    )
    chosen = harness.client.post(
        "/admin/inventory/location",
        data={"location_id": second},
        headers={"Authorization": f"Bearer {token}", "HX-Request": "true"},
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    db.session.expire_all()
    assert retail_store().location_id == second
    imported = db.session.scalars(
        select(ProductMap).where(ProductMap.partner_shop_domain == NORTH)
    ).all()
    run = sync_partner_inventory(NORTH)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    partner = harness.sandbox.shop(NORTH)
    for product_map in imported:
        wanted = partner.available(product_map.partner_inventory_item_id)
        at_second = level(harness, RETAIL, product_map.bubbly_inventory_item_id, second)
        assert at_second == (wanted if wanted > 0 else None), product_map.bubbly_sku
    assert run.changed == sum(
        1 for m in imported if partner.available(m.partner_inventory_item_id) > 0
    )
