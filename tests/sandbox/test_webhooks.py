"""Webhooks leave with Shopify's headers and HMAC, are retried keeping their id, and can be
duplicated or shuffled; subscriptions are made, listed and deleted over GraphQL."""

import base64
import hashlib
import hmac
import itertools
import json

from powerpact.sandbox import Sandbox, SandboxConfig
from powerpact.sandbox.webhooks import http_transport, sign, topic_of, wait_for
from tests.sandbox.helpers import SECRET, SHOP, subscribe, topics


def test_a_delivery_carries_shopifys_headers_and_a_valid_hmac(
    sandbox, sandbox_app, data, token, sent
):
    subscribe(data, token, "INVENTORY_LEVELS_UPDATE", SHOP)
    shop = sandbox.shop(SHOP)
    variant = next(iter(shop.variants().values()))
    sandbox_app.test_client().post(
        f"/_sandbox/shops/{SHOP}/stock", json={"variant_id": variant.id, "available": 77}
    )
    assert topics(sandbox, sent) == ["inventory_levels/update"]
    url, headers, body = sent[0]
    assert url == "http://127.0.0.1:5000/webhooks"
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected == sign(SECRET, body)
    assert headers["X-Shopify-Shop-Domain"] == SHOP
    assert headers["X-Shopify-API-Version"] == "2026-07"
    assert headers["Content-Type"] == "application/json"
    assert {"X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"} <= set(headers)
    payload = json.loads(body)
    assert payload["available"] == 77
    assert payload["inventory_item_id"] == int(variant.inventory_item_id.rsplit("/", 1)[1])
    assert payload["admin_graphql_api_id"].startswith("gid://shopify/InventoryLevel/")


def test_non_2xx_is_retried_keeping_the_webhook_id_and_duplicates_share_the_event_id():
    outcomes = iter([500, 0, 200, 200, 200])
    seen = []

    def flaky(url, headers, body):
        seen.append((headers["X-Shopify-Webhook-Id"], headers["X-Shopify-Triggered-At"]))
        return next(outcomes)

    sandbox = Sandbox(
        SandboxConfig(api_secret=SECRET, transport=flaky, webhook_retry_delays=(0.01, 0.01))
    )
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 1}, ["http://app/webhooks"])
    assert sandbox.webhooks.drain()
    assert len(seen) == 3 and len(set(seen)) == 1, "same id and trigger time on every retry"
    assert sandbox.webhooks.log[0].outcomes == [500, 0, 200]
    sandbox.webhooks.duplicates = True
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 2}, ["http://app/webhooks"])
    assert sandbox.webhooks.drain()
    first, second = sandbox.webhooks.log[-2:]
    assert first.webhook_id != second.webhook_id and first.event_id == second.event_id


def test_a_delivery_that_keeps_failing_is_given_up():
    attempts = []
    sandbox = Sandbox(
        SandboxConfig(transport=lambda *a: attempts.append(1) or 503, webhook_retry_delays=(0.01,))
    )
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 1}, ["http://app/webhooks"])
    assert wait_for(lambda: len(attempts) == 2)
    assert sandbox.webhooks.drain()
    assert sandbox.webhooks.log[0].outcomes == [503, 503]


def test_a_transport_that_raises_does_not_stop_later_deliveries():
    calls = []

    def broken(url, headers, body):
        calls.append(url)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return 200

    sandbox = Sandbox(SandboxConfig(transport=broken))
    sandbox.webhooks.emit(SHOP, "orders/create", {"id": 1}, ["http://a/1", "http://a/2"])
    assert sandbox.webhooks.drain() and calls == ["http://a/1", "http://a/2"]


def test_shuffle_holds_deliveries_until_flushed(sandbox, sandbox_app, sent):
    client = sandbox_app.test_client()
    assert client.post("/_sandbox/webhooks", json={"shuffle": True}).get_json() == {
        "duplicates": False,
        "shuffle": True,
        "time_scale": 1.0,
        "retry_delays": [0.01, 0.01],
    }
    for n in range(6):
        sandbox.webhooks.emit(SHOP, "orders/updated", {"id": n}, ["http://app/webhooks"])
    assert sandbox.webhooks.drain() and sent == []
    assert client.post("/_sandbox/webhooks/flush").get_json() == {"sent": 6}
    assert sandbox.webhooks.drain()
    assert sorted(json.loads(body)["id"] for _, _, body in sent) == list(range(6))
    log = client.get("/_sandbox/webhooks").get_json()["deliveries"]
    assert len(log) == 6 and log[0]["topic"] == "orders/updated" and log[0]["attempts"] == 1


def test_the_http_transport_posts_and_counts_failures_as_zero(monkeypatch):
    import requests

    class Answer:
        status_code = 202

    posted = {}

    def fake_post(url, data, headers, timeout):
        posted.update(url=url, data=data, timeout=timeout)
        return Answer()

    monkeypatch.setattr(requests, "post", fake_post)
    assert http_transport("http://app/webhooks", {}, b"{}") == 202
    assert posted["timeout"] == 5

    def failing(*args, **kwargs):
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(requests, "post", failing)
    assert http_transport("http://app/webhooks", {}, b"{}") == 0


def test_topic_names_match_shopifys():
    assert topic_of("ORDERS_CREATE") == "orders/create"
    assert topic_of("INVENTORY_LEVELS_UPDATE") == "inventory_levels/update"
    assert topic_of("APP_SCOPES_UPDATE") == "app/scopes_update"
    assert topic_of("ORDERS_RISK_ASSESSMENT_CHANGED") == "orders/risk_assessment_changed"
    assert topic_of("FULFILLMENT_ORDERS_CANCELLED") == "fulfillment_orders/cancelled"


def test_subscriptions_are_created_listed_and_deleted(data, token, sandbox):
    create = """mutation($uri: String!) {
      webhookSubscriptionCreate(topic: PRODUCTS_UPDATE, webhookSubscription: {uri: $uri}) {
        webhookSubscription { id topic uri format } userErrors { field message }
      }
    }"""
    made = data(token, create, {"uri": "https://app.example/webhooks"})["webhookSubscriptionCreate"]
    sub = made["webhookSubscription"]
    assert sub["topic"] == "PRODUCTS_UPDATE" and sub["format"] == "JSON"
    again = data(token, create, {"uri": "https://app.example/webhooks"})[
        "webhookSubscriptionCreate"
    ]
    assert again["userErrors"][0]["message"] == "Address for this topic has already been taken"
    for bad in ("", "ftp://app.example/hooks"):
        refused = data(token, create, {"uri": bad})["webhookSubscriptionCreate"]
        assert refused["webhookSubscription"] is None and refused["userErrors"]
    listed = data(
        token,
        """{ webhookSubscriptions(first: 10, topics: [PRODUCTS_UPDATE]) {
             nodes { id uri } pageInfo { hasNextPage } } }""",
    )["webhookSubscriptions"]
    assert listed["nodes"] == [{"id": sub["id"], "uri": "https://app.example/webhooks"}]
    one = data(
        token, "query($id: ID!) { webhookSubscription(id: $id) { topic } }", {"id": sub["id"]}
    )
    assert one["webhookSubscription"]["topic"] == "PRODUCTS_UPDATE"
    delete = """mutation($id: ID!) { webhookSubscriptionDelete(id: $id) {
      deletedWebhookSubscriptionId userErrors { message } } }"""
    assert (
        data(token, delete, {"id": sub["id"]})["webhookSubscriptionDelete"][
            "deletedWebhookSubscriptionId"
        ]
        == sub["id"]
    )
    assert data(token, delete, {"id": sub["id"]})["webhookSubscriptionDelete"]["userErrors"]


def test_compliance_topics_go_to_the_apps_webhook_address(sandbox_app, sandbox, sent):
    client = sandbox_app.test_client()
    answer = client.post(f"/_sandbox/shops/{SHOP}/compliance/shop/redact", json={"extra": 1})
    assert answer.status_code == 200
    assert topics(sandbox, sent) == ["shop/redact"]
    payload = json.loads(sent[0][2])
    assert payload["shop_domain"] == SHOP and payload["extra"] == 1
    assert client.post(f"/_sandbox/shops/{SHOP}/compliance/orders/create").status_code == 404


def test_scope_changes_fire_app_scopes_update(sandbox_app, sandbox, data, token, sent, gql):
    subscribe(data, token, "APP_SCOPES_UPDATE", SHOP)
    answer = sandbox_app.test_client().post(
        f"/_sandbox/shops/{SHOP}/scopes", json={"scopes": ["read_products"]}
    )
    assert answer.get_json()["current"] == ["read_products"]
    assert topics(sandbox, sent) == ["app/scopes_update"]
    assert json.loads(sent[0][2])["current"] == ["read_products"]
    installed = data(token, "{ currentAppInstallation { accessScopes { handle } } }")
    assert installed["currentAppInstallation"]["accessScopes"] == [{"handle": "read_products"}]


def test_a_subscription_whose_deliveries_keep_failing_is_removed(data, token, sandbox, sandbox_app):
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    sandbox.webhooks.transport = lambda url, headers, body: 500
    product = next(iter(sandbox.shop(SHOP).products.values()))
    sandbox.update_product(sandbox.shop(SHOP), product, {"title": "Renamed"})
    assert wait_for(lambda: not sandbox.shop(SHOP).subscriptions)
    assert sandbox.webhooks.log[-1].outcomes == [500, 500, 500]


def test_the_topics_of_one_merchant_action_share_an_event_id(
    sandbox, sandbox_app, data, token, sent
):
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    subscribe(data, token, "INVENTORY_LEVELS_UPDATE", SHOP)
    product = next(iter(sandbox.shop(SHOP).products.values()))
    client = sandbox_app.test_client()
    client.post(f"/_sandbox/shops/{SHOP}/products/{product.id}", json={"available": 3})
    client.post(f"/_sandbox/shops/{SHOP}/products/{product.id}", json={"title": "Renamed"})
    assert sandbox.webhooks.drain()
    first_action = [d for d in sandbox.webhooks.log if d.topic == "inventory_levels/update"]
    product_updates = [d for d in sandbox.webhooks.log if d.topic == "products/update"]
    assert first_action and len(product_updates) == 2
    shared = {d.event_id for d in first_action} | {product_updates[0].event_id}
    assert len(shared) == 1, "one edit, one event id across its topics"
    assert product_updates[1].event_id not in shared, "the next edit is another event"


def test_an_action_nested_in_another_keeps_the_outer_event_id(sandbox):
    with sandbox.action() as outer, sandbox.action() as inner:
        assert inner == outer
    with sandbox.action() as later:
        assert later != outer


def test_shopify_retries_eight_times_over_four_hours_and_the_schedule_compresses(sandbox_app):
    from powerpact.sandbox.webhooks import SHOPIFY_RETRY_DELAYS

    assert len(SHOPIFY_RETRY_DELAYS) == 8
    assert 4 * 3600 - 60 < sum(SHOPIFY_RETRY_DELAYS) < 4 * 3600 + 60
    assert all(b > a for a, b in itertools.pairwise(SHOPIFY_RETRY_DELAYS))
    assert SandboxConfig().webhook_retry_delays == SHOPIFY_RETRY_DELAYS
    client = sandbox_app.test_client()
    answer = client.post("/_sandbox/webhooks", json={"time_scale": 0.5}).get_json()
    assert answer["time_scale"] == 0.5 and answer["retry_delays"] == [0.005, 0.005]
    assert client.post("/_sandbox/webhooks", json={"time_scale": 0}).status_code == 400


def test_failing_subscriptions_can_be_kept_when_the_switch_says_shopify_keeps_them(
    data, token, sandbox, sandbox_app
):
    sandbox.config.remove_failing_subscriptions = False
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    sandbox.webhooks.transport = lambda url, headers, body: 500
    product = next(iter(sandbox.shop(SHOP).products.values()))
    sandbox.update_product(sandbox.shop(SHOP), product, {"title": "Renamed"})
    assert sandbox.webhooks.drain()
    assert sandbox.webhooks.log[-1].outcomes == [500, 500, 500]
    assert sandbox.shop(SHOP).subscriptions, "dropped the delivery, kept the subscription"
