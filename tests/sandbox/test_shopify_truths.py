"""Smaller truths of Shopify the sandbox keeps: attribution handles, the development
stores' order limit, HTTPS webhook addresses, the 60-day order window."""

from datetime import UTC, datetime, timedelta

import pytest

from powerpact.sandbox.fixtures import RETAIL
from tests.sandbox.helpers import SHOP, mint
from tests.sandbox.test_orders import ORDER_CREATE, order_input


@pytest.fixture
def partner(sandbox):
    shop = sandbox.shop(SHOP)
    variants = [v for v in shop.variants().values() if shop.available(v.inventory_item_id) >= 5]
    return shop, variants[0], variants[1]


def test_a_source_name_that_is_no_attribution_handle_is_refused(sandbox, data, token, partner):
    shop, first, second = partner
    answer = data(token, ORDER_CREATE, {"order": order_input(first, second, sourceName="pp")})
    refused = answer["orderCreate"]
    assert refused["order"] is None
    assert refused["userErrors"][0]["field"] == ["order", "sourceName"]
    assert refused["userErrors"][0]["code"] == "INVALID"
    assert shop.orders == {}


def test_a_source_name_is_ignored_under_the_other_reading(sandbox, data, token, partner):
    shop, first, second = partner
    sandbox.config.unregistered_source_name = "ignore"
    made = data(token, ORDER_CREATE, {"order": order_input(first, second, sourceName="pp")})
    assert made["orderCreate"]["userErrors"] == []
    assert [o.source_name for o in shop.orders.values()] == ["api"]


def test_a_registered_attribution_handle_is_kept(sandbox, data, token, partner):
    shop, first, second = partner
    sandbox.config.attribution_handles = ("channel:amazon-us",)
    order = order_input(first, second, sourceName="channel:amazon-us")
    assert data(token, ORDER_CREATE, {"order": order})["orderCreate"]["userErrors"] == []
    assert [o.source_name for o in shop.orders.values()] == ["channel:amazon-us"]


def test_a_development_store_refuses_the_sixth_order_of_a_minute(
    sandbox, data, token, partner, clock
):
    shop, first, second = partner
    shop.plan = "development"
    answers = [
        data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]
        for _ in range(6)
    ]
    assert [bool(a["order"]) for a in answers] == [True] * 5 + [False]
    assert answers[-1]["userErrors"][0]["message"].startswith("Exceeded order API rate limit")
    clock.advance(61)
    assert data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]


def test_the_order_limit_can_answer_throttled_instead(sandbox, gql, data, token, partner):
    shop, first, second = partner
    shop.plan = "development"
    sandbox.config.order_create_limit_answer = "throttled"
    for _ in range(5):
        data(token, ORDER_CREATE, {"order": order_input(first, second)})
    status, body = gql(token, ORDER_CREATE, {"order": order_input(first, second)})
    assert status == 200 and body["data"]["orderCreate"] is None
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert len(shop.orders) == 5


def test_a_paid_plan_has_no_order_limit(data, token, partner):
    _, first, second = partner
    answers = [
        data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]
        for _ in range(7)
    ]
    assert all(a["order"] for a in answers)


SUBSCRIBE = """mutation($uri: String!) {
  webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $uri}) {
    webhookSubscription { id } userErrors { field message }
  }
}"""


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://powerpact.example.com/webhooks", True),
        ("http://127.0.0.1:5000/webhooks", True),
        ("http://localhost:5000/webhooks", True),
        ("http://[::1]:5000/webhooks", True),
        ("http://powerpact.example.com/webhooks", False),
        ("http://10.0.0.5/webhooks", False),
    ],
)
def test_webhook_addresses_must_be_https_but_for_loopback(data, token, uri, accepted):
    created = data(token, SUBSCRIBE, {"uri": uri})["webhookSubscriptionCreate"]
    if accepted:
        assert created["userErrors"] == [] and created["webhookSubscription"]
    else:
        assert created["webhookSubscription"] is None
        assert created["userErrors"] == [
            {
                "field": ["webhookSubscription", "callbackUrl"],
                "message": "Address protocol http:// is not supported",
            }
        ]


OLD_ORDERS = """query O($id: ID!, $q: String) { order(id: $id) { id }
  orders(first: 10, query: $q) { nodes { id } } ordersCount(query: $q) { count } }"""


def test_orders_older_than_60_days_need_read_all_orders(sandbox, sandbox_app, data):
    placed = datetime.now(UTC) - timedelta(days=61)
    old = sandbox_app.test_client().post(
        f"/_sandbox/shops/{RETAIL}/orders",
        json={"lines": [{"sku": "BUB-MUG", "quantity": 1}], "created_at": placed.isoformat()},
    )
    assert old.status_code == 201, old.get_json()
    old_id = old.get_json()["id"]
    recent = sandbox_app.test_client().post(
        f"/_sandbox/shops/{RETAIL}/orders", json={"lines": [{"sku": "BUB-MUG", "quantity": 1}]}
    )
    recent_id = recent.get_json()["id"]
    narrow = [s for s in sandbox.config.scopes if s != "read_all_orders"]
    without = mint(sandbox, RETAIL, narrow)
    everything = mint(sandbox, RETAIL, [*narrow, "read_all_orders"])

    hidden = data(without, OLD_ORDERS, {"id": old_id}, RETAIL)
    assert hidden["order"] is None
    assert [o["id"] for o in hidden["orders"]["nodes"]] == [recent_id]
    assert hidden["ordersCount"] == {"count": 1}
    seen = data(everything, OLD_ORDERS, {"id": old_id}, RETAIL)
    assert seen["order"] == {"id": old_id}
    assert {o["id"] for o in seen["orders"]["nodes"]} == {old_id, recent_id}
