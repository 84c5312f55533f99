"""The Admin API refuses what the 2026-07 schema refuses, in Shopify's words, and answers
in the schema's shapes; what the sandbox does not model is null and logged."""

import pytest

from tests.sandbox.helpers import SHOP


def test_a_misspelled_field_is_rejected_as_shopify_does(gql, token):
    status, body = gql(token, "{ shop { nmae } }")
    assert status == 200
    assert "data" not in body
    error = body["errors"][0]
    assert error["message"] == "Field 'nmae' doesn't exist on type 'Shop'"
    assert error["extensions"] == {
        "code": "undefinedField",
        "typeName": "Shop",
        "fieldName": "nmae",
    }
    assert error["locations"] == [{"line": 1, "column": 10}]


@pytest.mark.parametrize(
    ("document", "message", "code"),
    [
        (
            "{ products(frist: 3) { nodes { id } } }",
            "Field 'products' doesn't accept argument 'frist'",
            "argumentNotAccepted",
        ),
        (
            "{ product { id } }",
            "Field 'product' is missing required arguments: id",
            "missingRequiredArguments",
        ),
        (
            "query Q($id: ID!) { shop { name } }",
            "Variable $id is declared by Q but not used",
            "variableNotUsed",
        ),
        (
            "query Q { product(id: $id) { id } }",
            "Variable $id is used by Q but not declared",
            "variableNotDefined",
        ),
        ("{ products(first: 1) }", None, "selectionMismatch"),
        ("{ shop { ... on Shoop { name } } }", None, "undefinedType"),
    ],
)
def test_invalid_documents_get_shopifys_error_codes(gql, token, document, message, code):
    _, body = gql(token, document)
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    if message:
        assert error["message"] == message


def test_a_syntax_error_and_a_bad_variable(gql, token):
    _, body = gql(token, "{ shop { name }")
    assert body["errors"][0]["message"].startswith("Parse error:")
    _, body = gql(token, "query P($id: ID!) { product(id: $id) { id } }", {})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert body["errors"][0]["message"] == "Variable $id of type ID! was provided invalid value"


def test_operation_name_picks_one_of_several(sandbox_app, token):
    document = "query A { shop { name } } query B { shop { currencyCode } }"

    def post(**payload):
        return (
            sandbox_app.test_client()
            .post(
                f"/shops/{SHOP}/admin/api/2026-07/graphql.json",
                json={"query": document, **payload},
                headers={"X-Shopify-Access-Token": token},
            )
            .get_json()
        )

    assert post(operationName="B")["data"] == {"shop": {"currencyCode": "USD"}}
    assert "operation name is required" in post()["errors"][0]["message"]
    assert post(operationName="C")["errors"][0]["message"] == 'No operation named "C"'


def test_a_request_without_a_query_or_with_an_unknown_shop(sandbox_app, token):
    client = sandbox_app.test_client()
    headers = {"X-Shopify-Access-Token": token}
    url = f"/shops/{SHOP}/admin/api/2026-07/graphql.json"
    assert client.post(url, data="nope", headers=headers).status_code == 400
    unknown = "/shops/nobody.myshopify.com/admin/api/2026-07/graphql.json"
    assert client.post(unknown, json={"query": "{ shop { name } }"}).status_code == 404


def test_no_token_or_another_shops_token_is_401(gql, token):
    status, body = gql("nope", "{ shop { name } }")
    assert status == 401
    assert body["errors"].startswith("[API] Invalid API key or access token")
    assert gql(token, "{ shop { name } }", shop="harbor-bean-co.myshopify.com")[0] == 401


def test_shop_locations_and_installation(data, token, sandbox):
    shop = sandbox.shop(SHOP)
    result = data(
        token,
        """{ shop { id name currencyCode ianaTimezone myshopifyDomain plan { publicDisplayName } }
             locations(first: 5) { nodes { id name isActive isPrimary } }
             location { id }
             currentAppInstallation { id accessScopes { handle } } }""",
    )
    assert result["shop"] == {
        "id": shop.id,
        "name": "North Star Roasters",
        "currencyCode": "USD",
        "ianaTimezone": "America/Los_Angeles",
        "myshopifyDomain": SHOP,
        "plan": {"publicDisplayName": "Plus"},
    }
    assert result["locations"]["nodes"][0]["id"] == shop.location_id
    assert result["location"]["id"] == shop.location_id
    assert "write_products" in [
        s["handle"] for s in result["currentAppInstallation"]["accessScopes"]
    ]


def test_unmodelled_fields_are_null_or_empty_and_logged(gql, token, sandbox):
    _, body = gql(token, "{ shop { name description } shopLocales { locale } }")
    assert body["data"]["shop"]["description"] is None
    assert body["data"]["shopLocales"] == [], "a non-null list stays a list"
    logged = sandbox.call_summary(SHOP)["unmodelled_fields"]
    assert {"Shop.description", "QueryRoot.shopLocales"} <= set(logged)


def test_product_search_sort_and_paging(data, token, sandbox):
    query = """query P($first: Int, $after: String, $last: Int, $before: String, $q: String,
                       $sort: ProductSortKeys, $reverse: Boolean) {
      products(first: $first, after: $after, last: $last, before: $before, query: $q,
               sortKey: $sort, reverse: $reverse) {
        edges { cursor node { title vendor } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
      productsCount(query: $q) { count precision }
    }"""
    page = data(token, query, {"first": 5, "sort": "TITLE"})["products"]
    titles = [e["node"]["title"] for e in page["edges"]]
    assert titles == sorted(titles, key=str.lower)
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    following = data(
        token, query, {"first": 5, "after": page["pageInfo"]["endCursor"], "sort": "TITLE"}
    )
    assert following["products"]["pageInfo"]["hasPreviousPage"]
    assert following["products"]["edges"][0]["node"]["title"] > titles[-1]
    back = data(token, query, {"last": 2, "before": page["pageInfo"]["endCursor"], "sort": "TITLE"})
    assert [e["node"]["title"] for e in back["products"]["edges"]] == titles[2:4]
    kenya = data(token, query, {"first": 50, "q": "title:Kenya*"})
    assert kenya["productsCount"] == {"count": 4, "precision": "EXACT"}
    drafts = data(token, query, {"first": 50, "q": "status:draft"})
    assert drafts["productsCount"]["count"] == 1
    by_sku = data(token, query, {"first": 5, "q": "sku:NSR-001-250G-WH"})
    assert by_sku["productsCount"]["count"] == 1
    either = data(token, query, {"first": 50, "q": "title:Kenya* OR title:Peru*"})
    assert either["productsCount"]["count"] == 8
    newest = data(
        token,
        query,
        {"first": 1, "sort": "UPDATED_AT", "reverse": True, "q": "updated_at:>2020-01-01"},
    )
    assert newest["products"]["edges"]
    assert data(token, query, {"first": 50, "q": "-tag:coffee"})["productsCount"]["count"] == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('first: 2, after: "bm9wZQ=="', "Invalid cursor"),
        ('query: "coffee"', "you must provide one of first or last"),
        ("first: 251", "The page size must be between 0 and 250"),
    ],
)
def test_bad_paging_is_an_error_not_a_crash(gql, token, arguments, message):
    _, body = gql(token, f"{{ shop {{ name }} products({arguments}) {{ nodes {{ id }} }} }}")
    assert body["data"] is None, "products is non-null, so the error nulls the data"
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["products"]


def test_product_variants_nodes_and_inventory_levels(data, token, sandbox):
    shop = sandbox.shop(SHOP)
    variant = next(iter(shop.variants().values()))
    found = data(
        token,
        """query V($q: String!, $ids: [ID!]!, $loc: ID!, $item: ID!) {
          productVariants(first: 3, query: $q, sortKey: SKU) {
            nodes { id sku price product { title } } }
          nodes(ids: $ids) {
            __typename
            ... on ProductVariant { id inventoryQuantity
              inventoryItem { id tracked inventoryLevel(locationId: $loc) {
                quantities(names: ["available", "on_hand"]) { name quantity } location { id } } } }
            ... on Product { title }
          }
          inventoryItem(id: $item) {
            id sku variant { id } inventoryLevels(first: 2) { nodes { id } } }
          inventoryItems(first: 2, query: $q) { nodes { id } }
        }""",
        {
            "q": f"sku:{variant.sku}",
            "ids": [
                variant.id,
                variant.product_id,
                "gid://shopify/ProductVariant/1",
                shop.location_id,
            ],
            "loc": shop.location_id,
            "item": variant.inventory_item_id,
        },
    )
    assert [n["sku"] for n in found["productVariants"]["nodes"]] == [variant.sku]
    node, product, missing, location = found["nodes"]
    available = shop.available(variant.inventory_item_id)
    assert node["inventoryQuantity"] == available
    level = node["inventoryItem"]["inventoryLevel"]
    assert level["quantities"] == [
        {"name": "available", "quantity": available},
        {"name": "on_hand", "quantity": available},
    ]
    assert product["__typename"] == "Product" and missing is None
    assert location["__typename"] == "Location"
    assert found["inventoryItem"]["variant"]["id"] == variant.id
    assert found["inventoryItems"]["nodes"] == [{"id": variant.inventory_item_id}]


def test_more_than_250_ids_is_refused(gql, token):
    ids = [f"gid://shopify/ProductVariant/{i}" for i in range(251)]
    _, body = gql(token, "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert "maximum allowed of 250" in body["errors"][0]["message"]


def test_scopes_are_enforced_when_switched_on(gql, sandbox):
    from tests.sandbox.helpers import mint

    sandbox.config.enforce_scopes = True
    narrow = mint(sandbox, SHOP, ["read_orders"])
    _, body = gql(narrow, "{ products(first: 1) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    writer = mint(sandbox, SHOP, ["write_products"])
    assert "errors" not in gql(writer, "{ products(first: 1) { nodes { id } } }")[1]
