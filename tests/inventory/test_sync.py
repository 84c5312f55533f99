"""Inventory sync: reads 250 at a time, writes only what changed, compare-and-set, idempotent."""

import pytest
from sqlalchemy import select

from powerpact.inventory import service
from powerpact.inventory.sync import SyncAlreadyRunning, start_run, sync_partner_inventory
from powerpact.models import InventoryChange, ProductMap, RunStatus
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.shopify_double import Answer
from tests.webhook_bodies import inventory_level_body

PARTNER = "alice-roasters.myshopify.com"
RETAIL = "bubbly-retail.myshopify.com"


class Levels:
    """Quantities per variant on one shop at one location, answering the sync's operations.

    ``VariantQuantities`` answers totals by variant id, ``InventoryAvailableAt`` the level
    by inventory item id (``by_item``); variants in ``unstocked`` have no level there.
    """

    def __init__(self, shopify, shop, quantities):
        self.quantities = dict(quantities)
        self.by_item = {}
        self.unstocked = set()
        self.location_active = True
        self.writes = []
        self.activated = []
        self.keys = set()
        shopify.on(shop, "VariantQuantities", self.read)
        shopify.on(shop, "InventoryAvailableAt", self.read_levels)
        shopify.on(shop, "InventorySetQuantities", self.write)
        shopify.on(shop, "InventoryActivate", self.activate)

    def read(self, variables):
        return {
            "nodes": [
                None
                if vid not in self.quantities
                else {"id": vid, "inventoryQuantity": self.quantities[vid]}
                for vid in variables["ids"]
            ]
        }

    def level(self, variant):
        if variant in self.unstocked:
            return None
        return {"quantities": [{"name": "available", "quantity": self.quantities[variant]}]}

    def read_levels(self, variables):
        location = {"id": variables["locationId"], "isActive": self.location_active}
        nodes = []
        for item in variables["ids"]:
            variant = self.by_item.get(item)
            if variant not in self.quantities:
                nodes.append(None)
            else:
                nodes.append({"id": item, "inventoryLevel": self.level(variant)})
        return {"location": location, "nodes": nodes}

    def activate(self, variables):
        variant = self.by_item[variables["inventoryItemId"]]
        self.activated.append(variant)
        if variant in self.unstocked:
            self.unstocked.discard(variant)
            self.quantities[variant] = 0
        return {"inventoryActivate": {"inventoryLevel": self.level(variant), "userErrors": []}}

    def refuse(self, index, code):
        error = {"field": ["input", "quantities", str(index)], "message": code, "code": code}
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [error]}}

    def write(self, variables):
        if variables["idempotencyKey"] in self.keys:
            return {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": {"id": "g"},
                    "userErrors": [],
                }
            }
        changes = variables["input"]["quantities"]
        for index, change in enumerate(changes):
            variant = self.by_item[change["inventoryItemId"]]
            if variant in self.unstocked:
                return self.refuse(index, "ITEM_NOT_STOCKED_AT_LOCATION")
            if self.quantities[variant] != change["changeFromQuantity"]:
                return self.refuse(index, "CHANGE_FROM_QUANTITY_STALE")
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
    partner.by_item = {m.partner_inventory_item_id: m.partner_variant_id for m in maps}
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
    assert shopify.count("VariantQuantities", PARTNER) == 2  # 2 pages on each side
    assert shopify.count("InventoryAvailableAt", RETAIL) == 2
    assert shopify.count("InventorySetQuantities") == 1
    assert run.api_calls == 5
    written = {c["inventoryItemId"]: c["quantity"] for c in retail.writes[0]}
    assert written[maps[7].bubbly_inventory_item_id] == 0  # negative stock becomes 0
    assert all(c["changeFromQuantity"] == 10 for c in retail.writes[0])


def test_a_stale_compare_rereads_and_retries_once(shopify, stores):
    _, maps = stores
    _, retail = doubles(shopify, maps, [5] * 300, [9] * 300)
    reads = []

    def read_then_sell(variables):
        reads.append(1)
        answer = retail.read_levels(variables)
        if len(reads) == 2:  # a sale lands between our read and our write
            retail.quantities[maps[1].bubbly_variant_id] = 8
        return answer

    shopify.on(RETAIL, "InventoryAvailableAt", read_then_sell)
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
    assert failed.throttled >= 1, "the sync history shows the calls Shopify throttled"
    assert done.status == RunStatus.SUCCEEDED and done.throttled == 0
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
            inventory_level_body(int(item)),
            shop=PARTNER,
        )
    assert db_session.scalars(select(InventoryChange)).all() != []
    assert service.apply_reported_changes(PARTNER) == 1
    assert retail.quantities[maps[0].bubbly_variant_id] == 1
    assert shopify.count("InventorySetQuantities") == 1
    assert db_session.scalars(select(InventoryChange)).all() == []
    assert service.apply_reported_changes(PARTNER) == 0


def test_webhooks_for_items_not_imported_are_ignored(send_webhook, stores):
    response = send_webhook("inventory_levels/update", inventory_level_body(42), shop=PARTNER)
    assert response.status_code == 200


def test_an_item_not_stocked_at_the_retail_location_is_activated_then_written(shopify, stores):
    _, maps = stores
    _, retail = doubles(shopify, maps, [4] * 300, [4] * 300)
    retail.unstocked = {maps[2].bubbly_variant_id, maps[9].bubbly_variant_id}
    run = sync_partner_inventory(PARTNER)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert retail.activated == [maps[2].bubbly_variant_id, maps[9].bubbly_variant_id]
    assert retail.quantities[maps[2].bubbly_variant_id] == 4
    assert [c["changeFromQuantity"] for c in retail.writes[0]] == [0, 0]
    assert shopify.count("InventorySetQuantities") == 1
    assert (run.changed, run.unchanged) == (2, 298)


def test_an_unstocked_item_with_nothing_to_sell_is_left_unstocked(shopify, stores):
    _, maps = stores
    partner, retail = doubles(shopify, maps, [4] * 300, [4] * 300)
    partner.quantities[maps[5].partner_variant_id] = 0
    retail.unstocked = {maps[5].bubbly_variant_id}
    run = sync_partner_inventory(PARTNER)
    assert run.changed == 0 and run.unchanged == 300
    assert shopify.count("InventoryActivate") == 0
    assert shopify.count("InventorySetQuantities") == 0


def test_an_item_unstocked_between_read_and_write_is_activated_and_retried_once(shopify, stores):
    _, maps = stores
    _, retail = doubles(shopify, maps, [6] + [2] * 299, [2] * 300)
    original = retail.read_levels

    def read_then_unstock(variables):
        answer = original(variables)
        if shopify.count("InventoryAvailableAt") == 1:
            retail.unstocked.add(maps[0].bubbly_variant_id)
        return answer

    shopify.on(RETAIL, "InventoryAvailableAt", read_then_unstock)
    run = sync_partner_inventory(PARTNER)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert retail.quantities[maps[0].bubbly_variant_id] == 6
    assert retail.activated == [maps[0].bubbly_variant_id]
    assert shopify.count("InventorySetQuantities") == 2  # refused, then the retry
    keys = [v["idempotencyKey"] for v in shopify.variables("InventorySetQuantities")]
    assert keys[1] == f"{keys[0]}-retry"


def test_a_partner_counted_at_one_location_is_read_there(shopify, stores, db_session):
    partner_row, maps = stores
    partner_row.location_id = "gid://shopify/Location/77"
    db_session.commit()
    partner, retail = doubles(shopify, maps, [3] * 300, [5] * 300)
    partner.unstocked = {maps[0].partner_variant_id}
    run = sync_partner_inventory(PARTNER)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert shopify.count("VariantQuantities") == 0
    assert shopify.variables("InventoryAvailableAt")[0]["locationId"] == partner_row.location_id
    assert retail.quantities[maps[0].bubbly_variant_id] == 0, "not stocked there: none to sell"
    assert retail.quantities[maps[1].bubbly_variant_id] == 3


def test_a_location_gone_fails_the_run_instead_of_zeroing_stock(shopify, stores, db_session):
    partner_row, maps = stores
    partner_row.location_id = "gid://shopify/Location/77"
    db_session.commit()
    partner, retail = doubles(shopify, maps, [3] * 300, [5] * 300)
    partner.location_active = False
    run = sync_partner_inventory(PARTNER)
    assert run.status == RunStatus.FAILED
    assert run.errors[0]["reason"] == "location_missing"
    assert retail.writes == []


def test_a_webhook_for_a_location_not_counted_is_ignored(shopify, stores, send_webhook, db_session):
    partner_row, maps = stores
    partner_row.location_id = "gid://shopify/Location/77"
    db_session.commit()
    item = int(maps[0].partner_inventory_item_id.rsplit("/", 1)[1])
    elsewhere = send_webhook(
        "inventory_levels/update",
        {"inventory_item_id": item, "location_id": 78, "available": 1},
        shop=PARTNER,
    )
    assert elsewhere.status_code == 200
    assert db_session.scalars(select(InventoryChange)).all() == []
    send_webhook(
        "inventory_levels/update",
        {"inventory_item_id": item, "location_id": 77, "available": 1},
        shop=PARTNER,
    )
    assert len(db_session.scalars(select(InventoryChange)).all()) == 1
