"""Inventory sync: reads 250 at a time, writes only what changed, compare-and-set, idempotent."""

import pytest
from sqlalchemy import select

from powerpact.inventory import service
from powerpact.inventory.sync import SyncAlreadyRunning, start_run, sync_partner_inventory
from powerpact.models import InventoryChange, ProductMap, RunStatus
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.shopify_double import Answer

PARTNER = "alice-roasters.myshopify.com"
RETAIL = "bubbly-retail.myshopify.com"


class Levels:
    """Quantities per variant on one shop, answering VariantQuantities and the set mutation."""

    def __init__(self, shopify, shop, quantities):
        self.quantities = dict(quantities)
        self.by_item = {}
        self.writes = []
        self.keys = set()
        shopify.on(shop, "VariantQuantities", self.read)
        shopify.on(shop, "InventorySetQuantities", self.write)

    def read(self, variables):
        return {
            "nodes": [
                None
                if vid not in self.quantities
                else {"id": vid, "inventoryQuantity": self.quantities[vid]}
                for vid in variables["ids"]
            ]
        }

    def write(self, variables):
        if variables["idempotencyKey"] in self.keys:
            return {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": {"id": "g"},
                    "userErrors": [],
                }
            }
        changes = variables["input"]["quantities"]
        for change in changes:
            variant = self.by_item[change["inventoryItemId"]]
            if self.quantities[variant] != change["changeFromQuantity"]:
                error = {
                    "field": ["input"],
                    "message": "stale",
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                }
                return {
                    "inventorySetQuantities": {
                        "inventoryAdjustmentGroup": None,
                        "userErrors": [error],
                    }
                }
        for change in changes:
            self.quantities[self.by_item[change["inventoryItemId"]]] = change["quantity"]
        self.keys.add(variables["idempotencyKey"])
        self.writes.append(changes)
        return {
            "inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}
        }


@pytest.fixture
def stores(db_session):
    RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain=PARTNER)
    maps = [ProductMapFactory(partner=partner) for _ in range(300)]
    db_session.commit()
    return partner, maps


def doubles(shopify, maps, partner_qty, retail_qty):
    partner = Levels(
        shopify, PARTNER, {m.partner_variant_id: q for m, q in zip(maps, partner_qty, strict=True)}
    )
    retail = Levels(
        shopify, RETAIL, {m.bubbly_variant_id: q for m, q in zip(maps, retail_qty, strict=True)}
    )
    retail.by_item = {m.bubbly_inventory_item_id: m.bubbly_variant_id for m in maps}
    return partner, retail


def test_only_changed_levels_are_written_with_the_fewest_calls(shopify, stores):
    _, maps = stores
    partner_qty = [10] * 300
    retail_qty = [10] * 300
    for i in (0, 5, 299):
        partner_qty[i] = 3
    partner_qty[7] = -4
    _, retail = doubles(shopify, maps, partner_qty, retail_qty)

    run = sync_partner_inventory(PARTNER)

    assert run.status == RunStatus.SUCCEEDED
    assert (run.checked, run.changed, run.unchanged) == (300, 4, 296)
    assert shopify.count("VariantQuantities") == 4  # 2 pages on each side
    assert shopify.count("InventorySetQuantities") == 1
    assert run.api_calls == 5
    written = {c["inventoryItemId"]: c["quantity"] for c in retail.writes[0]}
    assert written[maps[7].bubbly_inventory_item_id] == 0  # negative stock becomes 0
    assert all(c["changeFromQuantity"] == 10 for c in retail.writes[0])


def test_a_stale_compare_rereads_and_retries_once(shopify, stores):
    _, maps = stores
    _, retail = doubles(shopify, maps, [5] * 300, [9] * 300)
    original_read = retail.read
    reads = []

    def read_then_sell(variables):
        reads.append(1)
        answer = original_read(variables)
        if len(reads) == 2:  # a sale lands between our read and our write
            retail.quantities[maps[1].bubbly_variant_id] = 8
        return answer

    shopify.on(RETAIL, "VariantQuantities", read_then_sell)
    run = sync_partner_inventory(PARTNER)
    assert run.changed == 300
    assert set(retail.quantities.values()) == {5}
    assert shopify.count("InventorySetQuantities") == 3  # stale batch, its retry, second batch


def test_a_variant_gone_from_the_partner_goes_to_zero_and_is_flagged(shopify, stores, db_session):
    _, maps = stores
    partner, retail = doubles(shopify, maps, [2] * 300, [2] * 300)
    del partner.quantities[maps[3].partner_variant_id]
    sync_partner_inventory(PARTNER)
    assert retail.quantities[maps[3].bubbly_variant_id] == 0
    db_session.expire_all()
    assert db_session.get(ProductMap, maps[3].id).partner_variant_missing


def test_runs_never_overlap_for_one_partner(stores):
    start_run("inventory", PARTNER)
    with pytest.raises(SyncAlreadyRunning):
        start_run("inventory", PARTNER)
    assert service.sync_partner(PARTNER) == "already running"


def test_a_throttled_partner_fails_its_run_without_touching_others(shopify, stores, db_session):
    del stores
    other = PartnerStoreFactory(shop_domain="bob-beans.myshopify.com")
    other_map = ProductMapFactory(partner=other)
    db_session.commit()
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}

    def always_throttled(variables):
        raise Answer(200, throttled)

    shopify.on(PARTNER, "VariantQuantities", always_throttled)
    bob = Levels(shopify, "bob-beans.myshopify.com", {other_map.partner_variant_id: 4})
    retail = Levels(shopify, RETAIL, {other_map.bubbly_variant_id: 1})
    retail.by_item = {other_map.bubbly_inventory_item_id: other_map.bubbly_variant_id}

    failed = sync_partner_inventory(PARTNER)
    done = sync_partner_inventory("bob-beans.myshopify.com")
    assert failed.status == RunStatus.FAILED
    assert failed.errors[0]["reason"] == "throttled"
    assert done.status == RunStatus.SUCCEEDED
    assert retail.quantities[other_map.bubbly_variant_id] == 4
    assert bob.quantities


def test_webhook_changes_are_coalesced_into_one_write(shopify, stores, send_webhook, db_session):
    _, maps = stores
    partner, retail = doubles(shopify, maps, [10] * 300, [10] * 300)
    item = maps[0].partner_inventory_item_id.rsplit("/", 1)[1]
    partner.quantities[maps[0].partner_variant_id] = 1
    for _ in range(3):
        send_webhook(
            "inventory_levels/update",
            {"inventory_item_id": int(item), "available": 1},
            shop=PARTNER,
        )
    assert db_session.scalars(select(InventoryChange)).all() != []
    assert service.apply_reported_changes(PARTNER) == 1
    assert retail.quantities[maps[0].bubbly_variant_id] == 1
    assert shopify.count("InventorySetQuantities") == 1
    assert db_session.scalars(select(InventoryChange)).all() == []
    assert service.apply_reported_changes(PARTNER) == 0


def test_webhooks_for_items_not_imported_are_ignored(send_webhook, stores):
    response = send_webhook("inventory_levels/update", {"inventory_item_id": 42}, shop=PARTNER)
    assert response.status_code == 200
