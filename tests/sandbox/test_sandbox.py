"""The sandbox behaves as Shopify does where PowerPact depends on it."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import shopify

from powerpact.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from powerpact.sandbox.fixtures import load_named
from powerpact.sandbox.webhooks import sign, topic_of

SHOP = "north-star-roasters.myshopify.com"
SECRET = "sandbox-test-secret-0123456789abcdef"
SUBSCRIBE = """mutation { webhookSubscriptionCreate(topic: %s,
  webhookSubscription: {uri: "http://127.0.0.1:5000/webhooks"}) { userErrors { message } } }"""
DELETE_SUBSCRIPTION = """mutation {
  webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") {
    deletedWebhookSubscriptionId
  }
}"""


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sent():
    return []


@pytest.fixture
def sandbox_app(clock, sent):
    def transport(url, headers, body):
        sent.append((url, headers, body))
        return 200

    config = SandboxConfig(
        api_key="key",
        api_secret=SECRET,
        transport=transport,
        clock=clock,
        webhook_retry_delays=(0.01, 0.01),
    )
    app = create_sandbox_app(config)
    load_named(app.extensions["sandbox"], "demo")
    return app


@pytest.fixture
def sandbox(sandbox_app) -> Sandbox:
    return sandbox_app.extensions["sandbox"]


@pytest.fixture
def token(sandbox):
    return sandbox.store.issue_token(
        SHOP, ["write_products"], expiring=False, now=time.time()
    ).value


def gql(app, token, query, variables=None, shop=SHOP):
    response = app.test_client().post(
        f"/shops/{shop}/admin/api/2026-07/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
    )
    return response.status_code, response.get_json()


def test_a_misspelled_field_is_rejected_as_shopify_does(sandbox_app, token):
    status, body = gql(sandbox_app, token, "{ shop { nmae } }")
    assert status == 200
    assert body["errors"][0]["message"] == "Field 'nmae' doesn't exist on type 'Shop'"
    assert body["errors"][0]["extensions"] == {
        "code": "undefinedField",
        "typeName": "Shop",
        "fieldName": "nmae",
    }
    assert "data" not in body


def test_no_token_or_another_shops_token_is_401(sandbox_app, sandbox, token):
    assert gql(sandbox_app, "nope", "{ shop { name } }")[0] == 401
    assert (
        gql(sandbox_app, token, "{ shop { name } }", shop="harbor-bean-co.myshopify.com")[0] == 401
    )


@pytest.mark.parametrize(
    ("query", "requested"),
    [
        ("{ shop { name currencyCode } }", 1),
        ("{ products(first: 10) { nodes { id title } } }", 12),
        (
            "{ products(first: 10) { nodes { id variants(first: 5) { nodes { id sku } } } } }",
            2 + 10 * (1 + 2 + 5),
        ),
        ("{ products(first: 3) { edges { node { id featuredImage { url } } } } }", 2 + 3 * 2),
        (
            DELETE_SUBSCRIPTION,
            10,
        ),
    ],
)
def test_requested_cost_follows_shopifys_rules(sandbox_app, token, query, requested):
    _, body = gql(sandbox_app, token, query)
    assert body["extensions"]["cost"]["requestedQueryCost"] == requested
    assert body["extensions"]["cost"]["actualQueryCost"] <= requested


def test_actual_cost_counts_what_came_back_and_the_difference_is_refunded(sandbox_app, token):
    _, body = gql(
        sandbox_app, token, '{ products(first: 100, query: "no-such-product") { nodes { id } } }'
    )
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 2
    assert cost["throttleStatus"]["currentlyAvailable"] == 1998


def test_a_query_over_1000_points_is_refused(sandbox_app, token):
    _, body = gql(
        sandbox_app,
        token,
        "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }",
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_a_burst_is_throttled_and_recovers_at_the_restore_rate(sandbox_app, sandbox, token, clock):
    sandbox.buckets[SHOP].configure(maximum=100, restore_rate=10)
    query = "{ products(first: 48) { nodes { id } } }"  # asks 50 points, costs 26 (24 products)
    assert "data" in gql(sandbox_app, token, query)[1]
    assert "data" in gql(sandbox_app, token, query)[1]
    _, throttled = gql(sandbox_app, token, query)
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 10
    clock.now += 0.1  # 48 + 1 points: still short of 50
    assert gql(sandbox_app, token, query)[1]["errors"][0]["extensions"]["code"] == "THROTTLED"
    clock.now += 0.15
    assert "data" in gql(sandbox_app, token, query)[1]
    assert sandbox.call_summary(SHOP)["throttled"] == 2


def test_oauth_redirect_hmac_passes_shopifyapis_own_validation(sandbox_app, sandbox):
    client = sandbox_app.test_client()
    response = client.get(
        f"/shops/{SHOP}/admin/oauth/authorize?client_id=key&scope=read_products&redirect_uri=http://127.0.0.1:5000/auth/callback&state=s1"
    )
    location = urlsplit(response.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["state"] == "s1" and params["shop"] == SHOP
    shopify.Session.setup(api_key="key", secret=SECRET)
    try:
        assert shopify.Session.validate_params(params)
    finally:
        shopify.Session.setup(api_key=None, secret=None)
    grant = client.post(
        f"/shops/{SHOP}/admin/oauth/access_token",
        data={"client_id": "key", "client_secret": SECRET, "code": params["code"], "expiring": "1"},
    ).get_json()
    assert grant["access_token"].startswith("shpat_") and grant["expires_in"] == 3600
    assert grant["scope"] == "read_products"
    again = client.post(
        f"/shops/{SHOP}/admin/oauth/access_token",
        data={"client_id": "key", "client_secret": SECRET, "code": params["code"]},
    )
    assert again.status_code == 400
    refreshed = client.post(
        f"/shops/{SHOP}/admin/oauth/access_token",
        data={
            "client_id": "key",
            "client_secret": SECRET,
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
        },
    ).get_json()
    assert refreshed["refresh_token"] != grant["refresh_token"]
    assert gql(sandbox_app, grant["access_token"], "{ shop { name } }")[0] == 401
    assert gql(sandbox_app, refreshed["access_token"], "{ shop { name } }")[0] == 200


def test_token_exchange_accepts_only_a_valid_id_token_for_the_shop(sandbox_app):
    client = sandbox_app.test_client()
    now = int(time.time())
    good = jwt.encode(
        {
            "iss": f"https://{SHOP}/admin",
            "dest": f"https://{SHOP}",
            "aud": "key",
            "exp": now + 60,
            "nbf": now,
        },
        SECRET,
        algorithm="HS256",
    )
    form = {
        "client_id": "key",
        "client_secret": SECRET,
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": good,
    }
    assert client.post(f"/shops/{SHOP}/admin/oauth/access_token", data=form).status_code == 200
    wrong_shop = client.post(
        "/shops/harbor-bean-co.myshopify.com/admin/oauth/access_token", data=form
    )
    assert wrong_shop.status_code == 400


def test_uninstall_revokes_the_token_and_fires_the_webhook(sandbox_app, sandbox, token, sent):
    gql(
        sandbox_app,
        token,
        SUBSCRIBE % "APP_UNINSTALLED",
    )
    sandbox_app.test_client().post(f"/_sandbox/shops/{SHOP}/uninstall")
    sandbox.webhooks.drain()
    assert gql(sandbox_app, token, "{ shop { name } }")[0] == 401
    _, headers, body = sent[-1]
    assert headers["X-Shopify-Topic"] == "app/uninstalled"
    assert headers["X-Shopify-Hmac-Sha256"] == sign(SECRET, body)
    assert headers["X-Shopify-Shop-Domain"] == SHOP


def test_inventory_set_quantities_is_compare_and_set_and_idempotent(sandbox_app, sandbox, token):
    shop = sandbox.shop(SHOP)
    variant = next(iter(shop.variants().values()))
    current = shop.available(variant.inventory_item_id)
    mutation = """mutation S($input: InventorySetQuantitiesInput!, $key: String!) {
      inventorySetQuantities(input: $input) @idempotent(key: $key) {
        userErrors { code message }
      }
    }"""

    def set_to(quantity, compare, key):
        change = {
            "inventoryItemId": variant.inventory_item_id,
            "locationId": shop.location_id,
            "quantity": quantity,
            "changeFromQuantity": compare,
        }
        return gql(
            sandbox_app,
            token,
            mutation,
            {
                "input": {"name": "available", "reason": "correction", "quantities": [change]},
                "key": key,
            },
        )[1]

    stale = set_to(5, current + 1, "k1")
    assert (
        stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"]
        == "CHANGE_FROM_QUANTITY_STALE"
    )
    assert shop.available(variant.inventory_item_id) == current
    assert set_to(5, current, "k2")["data"]["inventorySetQuantities"]["userErrors"] == []
    shop.levels[(variant.inventory_item_id, shop.location_id)] = 9
    assert set_to(5, current, "k2")["data"]["inventorySetQuantities"]["userErrors"] == []
    assert shop.available(variant.inventory_item_id) == 9, "a repeated key has no second effect"


@pytest.mark.parametrize(("fault", "status"), [("server_errors", 502), ("unauthorized", 401)])
def test_fault_switches_answer_the_next_calls_so(sandbox_app, token, fault, status):
    sandbox_app.test_client().post(f"/_sandbox/shops/{SHOP}/faults", json={fault: 2})
    assert [gql(sandbox_app, token, "{ shop { name } }")[0] for _ in range(3)] == [
        status,
        status,
        200,
    ]


def test_a_timeout_fault_holds_the_answer(sandbox_app, token):
    sandbox_app.test_client().post(
        f"/_sandbox/shops/{SHOP}/faults", json={"timeouts": 1, "timeout_seconds": 0.05}
    )
    started = time.monotonic()
    assert gql(sandbox_app, token, "{ shop { name } }")[0] == 504
    assert time.monotonic() - started >= 0.05


def test_webhooks_are_retried_keeping_their_id_and_can_be_duplicated(clock):
    outcomes = iter([500, 200, 200, 200])
    seen = []

    def flaky(url, headers, body):
        seen.append(headers["X-Shopify-Webhook-Id"])
        return next(outcomes)

    sandbox = Sandbox(
        SandboxConfig(api_secret=SECRET, transport=flaky, webhook_retry_delays=(0.01,))
    )
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 1}, ["http://app/webhooks"])
    assert sandbox.webhooks.drain()
    assert seen[0] == seen[1]
    sandbox.webhooks.duplicates = True
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 2}, ["http://app/webhooks"])
    assert sandbox.webhooks.drain()
    first, second = sandbox.webhooks.log[-2:]
    assert first.webhook_id != second.webhook_id and first.event_id == second.event_id


def test_topic_names_match_shopifys():
    assert topic_of("ORDERS_CREATE") == "orders/create"
    assert topic_of("INVENTORY_LEVELS_UPDATE") == "inventory_levels/update"
    assert topic_of("APP_SCOPES_UPDATE") == "app/scopes_update"
    assert topic_of("ORDERS_RISK_ASSESSMENT_CHANGED") == "orders/risk_assessment_changed"


def test_placing_an_order_fires_create_and_paid(sandbox_app, sandbox, token, sent):
    retail = "bubbly-retail.myshopify.com"
    retail_token = sandbox.store.issue_token(
        retail, ["write_orders"], expiring=False, now=time.time()
    ).value
    for topic in ("ORDERS_CREATE", "ORDERS_PAID"):
        gql(
            sandbox_app,
            retail_token,
            SUBSCRIBE % topic,
            shop=retail,
        )
    order = (
        sandbox_app.test_client()
        .post(
            f"/_sandbox/shops/{retail}/orders",
            json={
                "lines": [{"sku": "BUB-MUG", "quantity": 2}],
                "shipping": "5.00",
                "tax_rate": "0.1",
            },
        )
        .get_json()
    )
    sandbox.webhooks.drain()
    assert [h["X-Shopify-Topic"] for _, h, _ in sent[-2:]] == ["orders/create", "orders/paid"]
    assert order["tax"] == "3.30"
    _, body = gql(
        sandbox_app,
        retail_token,
        """{ orders(first: 5, query: "name:#1001") {
            nodes { name currentTotalTaxSet { shopMoney { amount } } } } }""",
        shop=retail,
    )
    assert body["data"]["orders"]["nodes"][0]["currentTotalTaxSet"]["shopMoney"]["amount"] == "3.30"


def test_unmodelled_fields_are_null_and_logged(sandbox_app, sandbox, token):
    _, body = gql(sandbox_app, token, "{ shop { name description } }")
    assert body["data"]["shop"]["description"] is None
    assert "Shop.description" in sandbox.call_summary(SHOP)["unmodelled_fields"]


def test_order_update_and_product_delete(sandbox_app, sandbox, token):
    shop = sandbox.shop(SHOP)
    product_id = next(iter(shop.products))
    _, body = gql(
        sandbox_app,
        token,
        "mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId } }",
        {"id": product_id},
    )
    assert body["data"]["productDelete"]["deletedProductId"] == product_id
    assert product_id not in shop.products
    variant = next(iter(shop.variants().values()))
    order = sandbox.new_order(shop, [sandbox.line(shop, variant, 1)])
    _, body = gql(
        sandbox_app,
        token,
        """mutation($id: ID!) {
          orderUpdate(input: {id: $id, tags: ["vip"], note: "gift"}) { order { tags note } }
        }""",
        {"id": order.id},
    )
    assert body["data"]["orderUpdate"]["order"] == {"tags": ["vip"], "note": "gift"}


def test_a_list_of_ids_is_charged_per_id(sandbox_app, sandbox, token):
    ids = list(sandbox.shop(SHOP).variants())[:40]
    query = "query V($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant { id } } }"
    _, body = gql(sandbox_app, token, query, {"ids": ids})
    assert body["extensions"]["cost"]["requestedQueryCost"] == 40
