"""productSet upserts by id, handle or customId; inventorySetQuantities is compare-and-set,
idempotent and all-or-nothing; catalog changes fire the webhooks Shopify fires."""

import json

import pytest

from tests.sandbox.helpers import SHOP, subscribe, topics

PRODUCT_SET = """mutation S($identifier: ProductSetIdentifiers, $input: ProductSetInput!,
                          $synchronous: Boolean) {
  productSet(identifier: $identifier, input: $input, synchronous: $synchronous) {
    product { id handle title status vendor tags metafield(namespace: "powerpact", key: "source") {
        value }
      options { name values }
      variants(first: 10) { nodes { id sku price compareAtPrice inventoryQuantity
        selectedOptions { name value } inventoryItem { id } } } }
    productSetOperation { status product { id } }
    userErrors { field message code }
  }
}"""
SIZED = {"optionValues": [{"optionName": "Size", "name": "250g"}], "price": "1.00"}
SET_QUANTITIES = """mutation S($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field code message }
  }
}"""


def product_input(title="Kenya Nyeri Filter", sku="R-1", price="12.50", quantity=7, location=None):
    variant = {
        "optionValues": [{"optionName": "Size", "name": "250g"}],
        "price": price,
        "compareAtPrice": "15.00",
        "inventoryItem": {"sku": sku, "tracked": True},
    }
    if location:
        variant["inventoryQuantities"] = [
            {"locationId": location, "name": "available", "quantity": quantity}
        ]
    return {
        "title": title,
        "status": "ACTIVE",
        "vendor": "North Star Roasters",
        "tags": ["imported"],
        "productOptions": [{"name": "Size", "values": [{"name": "250g"}]}],
        "variants": [variant],
    }


def test_product_set_creates_then_updates_by_custom_id(data, sandbox, retail_token, sent):
    from powerpact.sandbox.fixtures import RETAIL

    retail = sandbox.shop(RETAIL)
    subscribe(data, retail_token, "PRODUCTS_UPDATE", RETAIL)
    identifier = {"customId": {"namespace": "powerpact", "key": "source", "value": "nsr-1"}}
    made = data(
        retail_token,
        PRODUCT_SET,
        {
            "identifier": identifier,
            "input": product_input(location=retail.location_id),
            "synchronous": True,
        },
        RETAIL,
    )["productSet"]
    assert made["userErrors"] == []
    product = made["product"]
    assert product["metafield"] == {"value": "nsr-1"}
    assert product["handle"] == "kenya-nyeri-filter"
    assert product["options"] == [{"name": "Size", "values": ["250g"]}]
    variant = product["variants"]["nodes"][0]
    assert variant == {
        "id": variant["id"],
        "sku": "R-1",
        "price": "12.50",
        "compareAtPrice": "15.00",
        "inventoryQuantity": 7,
        "selectedOptions": [{"name": "Size", "value": "250g"}],
        "inventoryItem": {"id": variant["inventoryItem"]["id"]},
    }
    again = data(
        retail_token,
        PRODUCT_SET,
        {"identifier": identifier, "input": product_input(title="Kenya Nyeri", price="13.00")},
        RETAIL,
    )["productSet"]["product"]
    assert again["id"] == product["id"], "the same product, found by its custom id"
    replaced = again["variants"]["nodes"][0]
    assert replaced["id"] != variant["id"], "a variant input without id is a new variant"
    assert replaced["inventoryQuantity"] == 0, "the old variant went, with its stock"
    assert replaced["price"] == "13.00"
    assert topics(sandbox, sent) == ["products/update"], "created fires products/create"


def set_twice(data, token, sandbox, reading, second):
    sandbox.config.product_set_variant_match = reading
    location = sandbox.shop(SHOP).location_id
    identifier = {"handle": "twice"}
    first = data(
        token,
        PRODUCT_SET,
        {"identifier": identifier, "input": product_input(title="Twice", location=location)},
    )["productSet"]["product"]["variants"]["nodes"][0]
    variant = product_input(price="14.00")["variants"][0] | second(first)
    answer = data(
        token,
        PRODUCT_SET,
        {"identifier": identifier, "input": {"title": "Twice", "variants": [variant]}},
    )["productSet"]
    return first, answer


@pytest.mark.parametrize("reading", ["id", "options"])
def test_a_variant_input_with_its_id_updates_it_in_place_under_either_reading(
    data, token, sandbox, reading
):
    first, answer = set_twice(data, token, sandbox, reading, lambda v: {"id": v["id"]})
    kept = answer["product"]["variants"]["nodes"]
    assert [(v["id"], v["price"], v["inventoryQuantity"]) for v in kept] == [
        (first["id"], "14.00", 7)
    ]


def test_under_the_options_reading_matching_option_values_update_in_place(data, token, sandbox):
    first, answer = set_twice(data, token, sandbox, "options", lambda v: {})
    kept = answer["product"]["variants"]["nodes"]
    assert [(v["id"], v["price"], v["inventoryQuantity"]) for v in kept] == [
        (first["id"], "14.00", 7)
    ]


@pytest.mark.parametrize("reading", ["id", "options"])
def test_a_variant_id_of_no_variant_of_the_product_is_refused(data, token, sandbox, reading):
    other = "gid://shopify/ProductVariant/1"
    _, answer = set_twice(data, token, sandbox, reading, lambda v: {"id": other})
    assert answer["product"] is None
    assert answer["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"


@pytest.mark.parametrize("reading", ["id", "options"])
def test_two_variants_with_the_same_option_values_are_refused(data, token, sandbox, reading):
    sandbox.config.product_set_variant_match = reading
    twins = [SIZED | {"sku": "A"}, SIZED | {"sku": "B"}]
    answer = data(token, PRODUCT_SET, {"input": {"title": "Twins", "variants": twins}})
    assert answer["productSet"]["userErrors"][0]["code"] == "INVALID_VARIANT"


def test_product_set_by_handle_and_asynchronously(data, token):
    answer = data(
        token,
        PRODUCT_SET,
        {
            "identifier": {"handle": "new-blend"},
            "input": product_input(title="New Blend"),
            "synchronous": False,
        },
    )["productSet"]
    assert answer["product"] is None
    assert answer["productSetOperation"]["status"] == "COMPLETE"
    made_id = answer["productSetOperation"]["product"]["id"]
    same = data(
        token, PRODUCT_SET, {"identifier": {"handle": "new-blend"}, "input": {"vendor": "X"}}
    )
    assert same["productSet"]["product"]["id"] == made_id
    assert same["productSet"]["product"]["vendor"] == "X"


@pytest.mark.parametrize(
    ("identifier", "product", "code"),
    [
        ({"id": "gid://shopify/Product/1"}, {"title": "x"}, "PRODUCT_DOES_NOT_EXIST"),
        ({"handle": "nothing-yet"}, {"status": "ACTIVE"}, "MISSING_FIELD_REQUIRED"),
        (None, {"title": "Two", "variants": [SIZED | {"sku": "A"}] * 2}, "DUPLICATED_VALUE"),
        (None, {"title": "Many", "variants": [SIZED] * 2049}, "VARIANTS_OVER_LIMIT"),
    ],
)
def test_product_set_refusals(data, token, identifier, product, code):
    answer = data(token, PRODUCT_SET, {"identifier": identifier, "input": product})["productSet"]
    assert answer["product"] is None and answer["userErrors"][0]["code"] == code


def test_product_update_archive_and_delete(data, token, sandbox, sent):
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    subscribe(data, token, "PRODUCTS_DELETE", SHOP)
    product_id = next(iter(sandbox.shop(SHOP).products))
    archived = data(
        token,
        """mutation($id: ID!) { productUpdate(product: {id: $id, status: ARCHIVED}) {
             product { id status } userErrors { message } } }""",
        {"id": product_id},
    )["productUpdate"]
    assert archived["product"] == {"id": product_id, "status": "ARCHIVED"}
    delete = """mutation($id: ID!) { productDelete(input: {id: $id}) {
      deletedProductId userErrors { message } } }"""
    assert (
        data(token, delete, {"id": product_id})["productDelete"]["deletedProductId"] == product_id
    )
    assert data(token, delete, {"id": product_id})["productDelete"]["userErrors"]
    missing = data(
        token,
        """mutation { productUpdate(product: {id: "gid://shopify/Product/1"}) {
             userErrors { message } } }""",
    )
    assert missing["productUpdate"]["userErrors"][0]["message"] == "Product does not exist"
    assert topics(sandbox, sent) == ["products/update", "products/delete"]
    assert json.loads(sent[1][2]) == {"id": int(product_id.rsplit("/", 1)[1])}
    assert product_id not in sandbox.shop(SHOP).products


def test_metafield_definitions_are_unique_per_namespace_and_key(data, token):
    create = """mutation { metafieldDefinitionCreate(definition: {name: "Source",
      namespace: "powerpact", key: "source", type: "single_line_text_field", ownerType: PRODUCT}) {
        createdDefinition { id name } userErrors { code } } }"""
    assert data(token, create)["metafieldDefinitionCreate"]["createdDefinition"]["name"] == "Source"
    assert data(token, create)["metafieldDefinitionCreate"]["userErrors"][0]["code"] == "TAKEN"


@pytest.fixture
def level(sandbox):
    shop = sandbox.shop(SHOP)
    variant = next(iter(shop.variants().values()))
    return shop, variant, shop.available(variant.inventory_item_id)


def set_to(data, token, shop, variant, quantity, key, **change):
    quantities = [
        {
            "inventoryItemId": variant.inventory_item_id,
            "locationId": shop.location_id,
            "quantity": quantity,
            **change,
        }
    ]
    variables = {
        "input": {"name": "available", "reason": "correction", "quantities": quantities},
        "key": key,
    }
    return data(token, SET_QUANTITIES, variables)["inventorySetQuantities"]


def test_inventory_set_quantities_compares_and_sets(data, token, level, sandbox, sent):
    shop, variant, current = level
    subscribe(data, token, "INVENTORY_LEVELS_UPDATE", SHOP)
    stale = set_to(data, token, shop, variant, 5, "k1", changeFromQuantity=current + 1)
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert stale["userErrors"][0]["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert shop.available(variant.inventory_item_id) == current
    done = set_to(data, token, shop, variant, 5, "k2", changeFromQuantity=current)
    assert done["userErrors"] == []
    assert done["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": 5 - current, "quantityAfterChange": 5}
    ]
    unchecked = set_to(data, token, shop, variant, 6, "k3", changeFromQuantity=None)
    assert unchecked["userErrors"] == [] and shop.available(variant.inventory_item_id) == 6
    missing = set_to(data, token, shop, variant, 8, "k4")
    assert missing["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    assert topics(sandbox, sent) == ["inventory_levels/update"] * 2


def test_a_repeated_idempotency_key_has_no_second_effect(data, token, level):
    shop, variant, current = level
    first = set_to(data, token, shop, variant, 5, "same", changeFromQuantity=current)
    shop.levels[(variant.inventory_item_id, shop.location_id)] = 9
    replay = set_to(data, token, shop, variant, 5, "same", changeFromQuantity=current)
    assert replay == first
    assert shop.available(variant.inventory_item_id) == 9, "a repeated key has no second effect"
    other = set_to(data, token, shop, variant, 4, "same", changeFromQuantity=current)
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"inventoryItemId": "gid://shopify/InventoryItem/1"}, "INVALID_INVENTORY_ITEM"),
        ({"locationId": "gid://shopify/Location/1"}, "INVALID_LOCATION"),
    ],
)
def test_unknown_items_and_locations_change_nothing(data, token, level, change, code):
    shop, variant, current = level
    quantities = [
        {
            "inventoryItemId": variant.inventory_item_id,
            "locationId": shop.location_id,
            "quantity": 1,
            "changeFromQuantity": None,
        },
        {
            "inventoryItemId": variant.inventory_item_id,
            "locationId": shop.location_id,
            "quantity": 2,
            "changeFromQuantity": None,
            **change,
        },
    ]
    answer = data(
        token,
        SET_QUANTITIES,
        {
            "input": {"name": "available", "reason": "correction", "quantities": quantities},
            "key": code,
        },
    )["inventorySetQuantities"]
    assert [e["code"] for e in answer["userErrors"]] == [code]
    assert shop.available(variant.inventory_item_id) == current, "all or nothing"


@pytest.mark.parametrize(
    ("name", "reason", "count", "code"),
    [
        ("incoming", "correction", 1, "INVALID_NAME"),
        ("available", "because", 1, "INVALID_REASON"),
    ],
)
def test_inventory_input_refusals(data, token, level, name, reason, count, code):
    shop, variant, _ = level
    quantity = {
        "inventoryItemId": variant.inventory_item_id,
        "locationId": shop.location_id,
        "quantity": 1,
        "changeFromQuantity": None,
    }
    answer = data(
        token,
        SET_QUANTITIES,
        {"input": {"name": name, "reason": reason, "quantities": [quantity] * count}, "key": code},
    )["inventorySetQuantities"]
    assert answer["userErrors"][0]["code"] == code


def test_control_api_changes_stock_and_products(sandbox_app, sandbox, data, token, sent):
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    client = sandbox_app.test_client()
    shop = sandbox.shop(SHOP)
    variant = next(iter(shop.variants().values()))
    quiet = client.post(
        f"/_sandbox/shops/{SHOP}/stock", json={"sku": variant.sku, "available": 3, "notify": False}
    )
    assert quiet.get_json() == {"variant_id": variant.id, "available": 3}
    assert (
        client.post(
            f"/_sandbox/shops/{SHOP}/stock", json={"sku": "nope", "available": 1}
        ).status_code
        == 400
    )
    assert (
        client.post(f"/_sandbox/shops/{SHOP}/stock", json={"sku": variant.sku}).status_code == 400
    )
    elsewhere = {"sku": variant.sku, "available": 1, "location_id": "gid://shopify/Location/1"}
    assert client.post(f"/_sandbox/shops/{SHOP}/stock", json=elsewhere).status_code == 400
    number = variant.product_id.rsplit("/", 1)[1]
    updated = client.post(
        f"/_sandbox/shops/{SHOP}/products/{number}",
        json={"title": "Renamed", "price": "19.00", "status": "draft", "tags": ["x"]},
    ).get_json()
    assert updated["title"] == "Renamed" and updated["status"] == "draft"
    assert {v["price"] for v in updated["variants"]} == {"19.00"}
    added = client.post(
        f"/_sandbox/shops/{SHOP}/products",
        json={
            "title": "Gift Card",
            "variants": [{"title": "Default Title", "sku": "GC", "price": "25", "stock": 5}],
        },
    )
    assert added.status_code == 201 and added.get_json()["variants"][0]["inventory_quantity"] == 5
    assert client.post(f"/_sandbox/shops/{SHOP}/products", json={}).status_code == 400
    assert client.delete(f"/_sandbox/shops/{SHOP}/products/{number}").get_json() == {
        "deleted": variant.product_id
    }
    assert client.delete(f"/_sandbox/shops/{SHOP}/products/{number}").status_code == 404
    assert topics(sandbox, sent) == ["products/update"]


def test_more_than_250_quantities_is_a_top_level_error(gql, token, level):
    shop, variant, _ = level
    quantity = {
        "inventoryItemId": variant.inventory_item_id,
        "locationId": shop.location_id,
        "quantity": 1,
        "changeFromQuantity": None,
    }
    variables = {
        "input": {"name": "available", "reason": "correction", "quantities": [quantity] * 251},
        "key": "big",
    }
    _, body = gql(token, SET_QUANTITIES, variables)
    assert body["data"]["inventorySetQuantities"] is None
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
