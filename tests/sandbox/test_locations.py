"""Several locations: stock per location, ITEM_NOT_STOCKED_AT_LOCATION, inventoryActivate."""

import json

import pytest

from powerpact.sandbox.fixtures import RETAIL
from tests.sandbox.helpers import mint, subscribe, topics

HARBOR = "harbor-bean-co.myshopify.com"
SET = """mutation S($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field code message }
  }
}"""
ACTIVATE = """mutation A($item: ID!, $location: ID!, $available: Int, $key: String!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location, available: $available)
      @idempotent(key: $key) {
    inventoryLevel { id location { id } quantities(names: ["available"]) { quantity } }
    userErrors { field message }
  }
}"""
LEVELS = """query L($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on ProductVariant { inventoryQuantity inventoryItem {
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { quantity } }
      inventoryLevels(first: 5) { nodes { location { id }
        quantities(names: ["available"]) { quantity } } } } }
  }
}"""


@pytest.fixture
def harbor(sandbox):
    return sandbox.shop(HARBOR)


def not_stocked_at_second(shop):
    second = shop.locations[1]["id"]
    return next(
        v for v in shop.variants().values() if not shop.stocked(v.inventory_item_id, second)
    )


def set_quantity(data, token, shop, item, location, quantity, current, key):
    change = {
        "inventoryItemId": item,
        "locationId": location,
        "quantity": quantity,
        "changeFromQuantity": current,
    }
    variables = {
        "input": {"name": "available", "reason": "correction", "quantities": [change]},
        "key": key,
    }
    return data(token, SET, variables, shop.domain)["inventorySetQuantities"]


def test_the_demo_retail_store_and_a_partner_stock_at_two_locations(sandbox, harbor):
    retail = sandbox.shop(RETAIL)
    assert len(retail.locations) == 2 and len(harbor.locations) == 2
    mug = sandbox.find_variant(retail, sku="BUB-MUG")
    assert [retail.levels[(mug.inventory_item_id, loc["id"])] for loc in retail.locations] == [
        120,
        24,
    ]
    both = [
        v
        for v in harbor.variants().values()
        if len(harbor.stocked_locations(v.inventory_item_id)) == 2
    ]
    assert both, "some partner variants have stock at both locations"
    assert not_stocked_at_second(harbor), "and some only at the first"


def test_levels_are_per_location_and_the_variant_total_sums_them(data, sandbox, harbor):
    token = mint(sandbox, HARBOR)
    first, second = (loc["id"] for loc in harbor.locations)
    variant = next(iter(harbor.variants().values()))
    harbor.levels[(variant.inventory_item_id, first)] = 4
    harbor.levels[(variant.inventory_item_id, second)] = 9
    node = data(token, LEVELS, {"ids": [variant.id], "location": second}, HARBOR)["nodes"][0]
    assert node["inventoryQuantity"] == 13, "the total sellable quantity of the variant"
    item = node["inventoryItem"]
    assert item["inventoryLevel"]["quantities"] == [{"quantity": 9}]
    assert [
        (n["location"]["id"], n["quantities"][0]["quantity"])
        for n in item["inventoryLevels"]["nodes"]
    ] == [(first, 4), (second, 9)]


def test_an_item_not_stocked_at_a_location_has_no_level_and_cannot_be_set(data, sandbox, harbor):
    token = mint(sandbox, HARBOR)
    second = harbor.locations[1]["id"]
    variant = not_stocked_at_second(harbor)
    node = data(token, LEVELS, {"ids": [variant.id], "location": second}, HARBOR)["nodes"][0]
    assert node["inventoryItem"]["inventoryLevel"] is None
    assert len(node["inventoryItem"]["inventoryLevels"]["nodes"]) == 1
    answer = set_quantity(data, token, harbor, variant.inventory_item_id, second, 5, 0, "n1")
    assert answer["inventoryAdjustmentGroup"] is None
    assert answer["userErrors"] == [
        {
            "field": ["input", "quantities", "0", "locationId"],
            "code": "ITEM_NOT_STOCKED_AT_LOCATION",
            "message": "The specified inventory item is not stocked at the location.",
        }
    ]
    assert not harbor.stocked(variant.inventory_item_id, second)


def test_inventory_activate_stocks_the_item_at_zero_then_it_can_be_set(data, sandbox, harbor, sent):
    token = mint(sandbox, HARBOR)
    subscribe(data, token, "INVENTORY_LEVELS_CONNECT", HARBOR)
    second = harbor.locations[1]["id"]
    variant = not_stocked_at_second(harbor)
    item = variant.inventory_item_id
    variables = {"item": item, "location": second, "key": "a1"}
    activated = data(token, ACTIVATE, variables, HARBOR)["inventoryActivate"]
    assert activated["userErrors"] == []
    assert activated["inventoryLevel"]["location"]["id"] == second
    assert activated["inventoryLevel"]["quantities"] == [{"quantity": 0}]
    assert harbor.stocked(item, second)
    assert data(token, ACTIVATE, variables, HARBOR)["inventoryActivate"] == activated, "replayed"
    done = set_quantity(data, token, harbor, item, second, 5, 0, "s1")
    assert done["userErrors"] == [] and harbor.levels[(item, second)] == 5
    assert topics(sandbox, sent) == ["inventory_levels/connect"]
    body = json.loads(sent[0][2])
    assert body["available"] == 0 and body["inventory_item_id"] == int(item.rsplit("/", 1)[1])


def test_activating_an_active_level_answers_it_and_refuses_initial_quantities(
    data, sandbox, harbor
):
    token = mint(sandbox, HARBOR)
    first = harbor.locations[0]["id"]
    variant = next(iter(harbor.variants().values()))
    before = harbor.levels[(variant.inventory_item_id, first)]
    plain = data(
        token,
        ACTIVATE,
        {"item": variant.inventory_item_id, "location": first, "key": "b1"},
        HARBOR,
    )["inventoryActivate"]
    assert plain["userErrors"] == []
    assert plain["inventoryLevel"]["quantities"] == [{"quantity": before}]
    counted = data(
        token,
        ACTIVATE,
        {"item": variant.inventory_item_id, "location": first, "available": 99, "key": "b2"},
        HARBOR,
    )["inventoryActivate"]
    assert counted["inventoryLevel"] is None and counted["userErrors"][0]["field"] == ["available"]
    assert harbor.levels[(variant.inventory_item_id, first)] == before


@pytest.mark.parametrize(
    ("item", "location", "field"),
    [
        ("gid://shopify/InventoryItem/1", None, ["inventoryItemId"]),
        (None, "gid://shopify/Location/1", ["locationId"]),
    ],
)
def test_activating_unknown_items_or_locations_is_refused(
    data, sandbox, harbor, item, location, field
):
    token = mint(sandbox, HARBOR)
    variant = not_stocked_at_second(harbor)
    variables = {
        "item": item or variant.inventory_item_id,
        "location": location or harbor.locations[1]["id"],
        "key": f"u-{field[0]}",
    }
    answer = data(token, ACTIVATE, variables, HARBOR)["inventoryActivate"]
    assert answer["inventoryLevel"] is None and answer["userErrors"][0]["field"] == field
    assert not harbor.stocked(variant.inventory_item_id, harbor.locations[1]["id"])


def test_a_repeated_activation_key_with_other_arguments_is_refused(data, sandbox, harbor):
    token = mint(sandbox, HARBOR)
    second = harbor.locations[1]["id"]
    variant = not_stocked_at_second(harbor)
    data(
        token, ACTIVATE, {"item": variant.inventory_item_id, "location": second, "key": "k"}, HARBOR
    )
    other = harbor.locations[0]["id"]
    answer = data(
        token, ACTIVATE, {"item": variant.inventory_item_id, "location": other, "key": "k"}, HARBOR
    )["inventoryActivate"]
    assert answer["inventoryLevel"] is None
    assert "idempotency key" in answer["userErrors"][0]["message"]


def test_a_sale_is_taken_from_one_location_that_has_enough(sandbox, harbor):
    first, second = (loc["id"] for loc in harbor.locations)
    variant = next(iter(harbor.variants().values()))
    item = variant.inventory_item_id
    harbor.levels[(item, first)], harbor.levels[(item, second)] = 1, 6
    sandbox.adjust_stock(harbor, variant, -4)
    assert (harbor.levels[(item, first)], harbor.levels[(item, second)]) == (1, 2)
    sandbox.adjust_stock(harbor, variant, 3)
    assert harbor.levels[(item, first)] == 4, "a return goes to the first location"
    assert harbor.available(item) == 6
