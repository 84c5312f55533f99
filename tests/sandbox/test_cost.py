"""Cost by Shopify's published rules, and a leaky bucket per shop that throttles as Shopify does."""

import pytest

from powerpact.sandbox.cost import product_set_cost
from tests.sandbox.helpers import SHOP, mint

DELETE_SUBSCRIPTION = """mutation {
  webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") {
    deletedWebhookSubscriptionId
  }
}"""


@pytest.mark.parametrize(
    ("query", "requested"),
    [
        ("{ shop { name currencyCode } }", 1),
        ("{ shop { name plan { displayName } } }", 2),
        ("{ products(first: 10) { nodes { id title } } }", 12),
        (
            "{ products(first: 10) { nodes { id variants(first: 5) { nodes { id sku } } } } }",
            2 + 10 * (1 + 2 + 5),
        ),
        ("{ products(first: 3) { edges { node { id featuredImage { url } } } } }", 2 + 3 * 2),
        ("{ products(last: 3) { nodes { id } } productsCount { count } }", 5 + 1),
        (DELETE_SUBSCRIPTION, 10),
        (
            """mutation { a: webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") {
                 userErrors { message } }
               b: webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/2") {
                 userErrors { message } } }""",
            20,
        ),
        (
            """query { node(id: "gid://shopify/Product/1") {
                 ... on Product { variants(first: 10) { nodes { id } } }
                 ... on Order { id } } }""",
            1 + 12,
        ),
        (
            """fragment V on ProductVariant { id inventoryItem { id } }
               query { productVariants(first: 4) { nodes { ...V } } }""",
            2 + 4 * 2,
        ),
    ],
)
def test_requested_cost_follows_shopifys_rules(gql, token, query, requested):
    _, body = gql(token, query)
    assert body["extensions"]["cost"]["requestedQueryCost"] == requested
    assert body["extensions"]["cost"]["actualQueryCost"] <= requested


def test_a_list_of_ids_is_charged_per_id(gql, sandbox, token):
    ids = list(sandbox.shop(SHOP).variants())[:40]
    query = "query V($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant { id } } }"
    _, body = gql(token, query, {"ids": ids})
    assert body["extensions"]["cost"]["requestedQueryCost"] == 40


def test_actual_cost_counts_what_came_back_and_the_difference_is_refunded(gql, token):
    _, body = gql(token, '{ products(first: 100, query: "no-such-product") { nodes { id } } }')
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 2
    assert cost["throttleStatus"] == {  # the Enterprise plan, every sandbox shop's default
        "maximumAvailable": 40000.0,
        "currentlyAvailable": 39998,
        "restoreRate": 2000.0,
    }


def test_a_query_over_1000_points_is_refused_and_not_charged(gql, token, sandbox):
    _, body = gql(
        token, "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }"
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["message"].startswith(
        "Query cost is 63252, which exceeds the single query max cost"
    )
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 40000


def test_a_burst_is_throttled_and_recovers_at_the_restore_rate(gql, sandbox, token, clock):
    sandbox.buckets[SHOP].configure(maximum=100, restore_rate=10)
    query = "{ products(first: 48) { nodes { id } } }"  # asks 50 points, costs 26 (24 products)
    assert "data" in gql(token, query)[1]
    assert "data" in gql(token, query)[1]
    _, throttled = gql(token, query)
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": 100.0,
        "currentlyAvailable": 48.0,
        "restoreRate": 10.0,
    }
    clock.advance(0.1)  # 48 + 1 points: still short of 50
    assert gql(token, query)[1]["errors"][0]["extensions"]["code"] == "THROTTLED"
    clock.advance(0.15)
    assert "data" in gql(token, query)[1]
    summary = sandbox.call_summary(SHOP)
    assert summary["throttled"] == 2
    assert summary["calls"] == 5


def test_the_bucket_never_overfills_and_plans_set_its_size(gql, sandbox, token, clock, sandbox_app):
    clock.advance(3600)
    assert (
        gql(token, "{ shop { name } }")[1]["extensions"]["cost"]["throttleStatus"][
            "currentlyAvailable"
        ]
        == 39999
    )
    client = sandbox_app.test_client()
    status = client.post(f"/_sandbox/shops/{SHOP}/throttle", json={"plan": "plus"}).get_json()
    assert status["maximumAvailable"] == 20000 and status["restoreRate"] == 1000
    status = client.post(f"/_sandbox/shops/{SHOP}/throttle", json={"plan": "standard"}).get_json()
    assert status["maximumAvailable"] == 2000 and status["restoreRate"] == 100
    assert client.post(f"/_sandbox/shops/{SHOP}/throttle", json={"plan": "gold"}).status_code == 400
    drained = client.post(f"/_sandbox/shops/{SHOP}/throttle", json={"available": 0}).get_json()
    assert drained["currentlyAvailable"] == 0
    assert gql(token, "{ shop { name } }")[1]["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_buckets_are_per_shop(gql, sandbox, token):
    sandbox.buckets[SHOP].configure(available=0)
    other = "harbor-bean-co.myshopify.com"
    assert "data" in gql(mint(sandbox, other), "{ shop { name } }", shop=other)[1]


def product_input(variants=1, product_metafields=0, product_files=0, **per_variant):
    metafield = {"namespace": "custom", "key": "k", "type": "single_line_text_field", "value": "v"}
    file = {"originalSource": "https://cdn.example.com/a.png", "contentType": "IMAGE"}
    sizes = [{"name": f"S{n}"} for n in range(variants)]
    return {
        "title": "Costed",
        "productOptions": [{"name": "Size", "values": sizes}],
        "variants": [
            {
                "optionValues": [{"optionName": "Size", "name": f"S{n}"}],
                "price": "1.00",
                **({"file": file} if per_variant.get("files") else {}),
                "metafields": [metafield] * per_variant.get("metafields", 0),
            }
            for n in range(variants)
        ],
        "metafields": [metafield] * product_metafields,
        "files": [file] * product_files,
    }


@pytest.mark.parametrize(
    ("product", "points"),
    [
        (product_input(1), 10),  # the changelog's examples: 10.2
        (product_input(20, product_metafields=5), 16),
        (product_input(200, product_metafields=20, product_files=10), 77),
        (product_input(3), 11),  # 10.6, to the nearest point
        (product_input(2), 10),  # 10.4
        (product_input(3, files=True), 12),  # 10.6 + 3 * 0.6 = 12.4
        (product_input(1, product_files=1, metafields=1), 13),  # 12.5, half up
        (product_input(0), 10),
    ],
)
def test_product_set_costs_by_its_input(product, points):
    assert product_set_cost(product) == points


def test_a_product_set_request_is_charged_by_its_input(gql, token):
    mutation = """mutation P($input: ProductSetInput!) {
      productSet(input: $input) { product { id } userErrors { message } } }"""
    _, body = gql(token, mutation, {"input": product_input(20, product_metafields=5)})
    assert body["extensions"]["cost"]["requestedQueryCost"] == 16
    assert body["extensions"]["cost"]["actualQueryCost"] == 16
