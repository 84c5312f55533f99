"""The GraphQL client against `responses`: pacing, retries, error types, stats, paging."""

import logging

import pytest
import requests
import responses

from powerpact.shopify.client import ShopConnection, ShopifyClient
from powerpact.shopify.errors import (
    GraphQLErrors,
    ReauthorizationRequired,
    ShopGone,
    Throttled,
    TransportError,
    UserErrors,
)

SHOP = "roaster.myshopify.com"
URL = f"https://{SHOP}/admin/api/2026-07/graphql.json"
TOKEN = "shpat_0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock):
    connection = ShopConnection(SHOP, TOKEN, clock=clock)
    return ShopifyClient(connection, sleep=clock.sleep, max_retries=3)


def answer(
    data=None, *, requested=10, actual=10, available=990.0, maximum=1000.0, rate=50.0, errors=None
):
    body = {
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": maximum,
                    "currentlyAvailable": available,
                    "restoreRate": rate,
                },
            }
        }
    }
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return body


THROTTLED = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]


@responses.activate
def test_a_query_returns_data_and_counts_its_cost(client):
    responses.post(URL, json=answer({"shop": {"name": "Roaster"}}, requested=3, actual=2))
    assert client.execute("ShopInfo") == {"shop": {"name": "Roaster"}}
    assert client.stats.as_dict() | {} == {
        "calls": 1,
        "requested_cost": 3,
        "actual_cost": 2,
        "throttled": 0,
        "retries": 0,
        "waited_seconds": 0.0,
    }
    sent = responses.calls[0].request
    assert sent.headers["X-Shopify-Access-Token"] == TOKEN
    assert b'"operationName": "ShopInfo"' in sent.body


@responses.activate
def test_pacing_waits_for_the_bucket_instead_of_being_throttled(client, clock):
    responses.post(URL, json=answer({"a": 1}, requested=100, available=40, rate=50))
    client.execute("query Cheap { shop { name } }")
    client.execute("query Cheap { shop { name } }")
    # 100 points wanted, 40 available, 50/s restore: wait 1.2 s before the second call
    assert clock.slept == [1.2]


@responses.activate
def test_throttled_is_retried_after_the_refill_time(client, clock):
    responses.post(URL, json=answer(errors=THROTTLED, requested=50, available=10, rate=20))
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("query Q { shop { name } }") == {"ok": True}
    assert client.stats.throttled == 1
    assert client.stats.retries == 1
    assert clock.slept[0] == pytest.approx(2.0)


@responses.activate
def test_throttled_until_retries_run_out_raises_throttled(client):
    for _ in range(4):
        responses.post(URL, json=answer(errors=THROTTLED))
    with pytest.raises(Throttled) as excinfo:
        client.execute("query Q { shop { name } }")
    assert excinfo.value.transient and excinfo.value.reason == "throttled"


@responses.activate
def test_429_honours_retry_after(client, clock):
    responses.post(URL, status=429, headers={"Retry-After": "2.5"})
    responses.post(URL, json=answer({"ok": True}))
    client.execute("mutation M { orderCreate(order: {}) { order { id } } }")
    assert clock.slept == [2.5]


@responses.activate
def test_5xx_is_retried_for_queries(client):
    responses.post(URL, status=502)
    responses.post(URL, status=503)
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("query Q { shop { name } }") == {"ok": True}
    assert client.stats.retries == 2


@responses.activate
def test_5xx_after_a_mutation_is_not_retried_unless_idempotent(client):
    responses.post(URL, status=500)
    with pytest.raises(TransportError):
        client.execute("OrderCreate", {"order": {}})
    assert len(responses.calls) == 1
    responses.post(URL, status=500)
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("InventorySetQuantities", {}, idempotent=True) == {"ok": True}


@responses.activate
def test_a_timeout_after_a_mutation_is_not_retried(client):
    responses.post(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="got no answer"):
        client.execute("OrderCreate", {"order": {}})
    assert len(responses.calls) == 1


@responses.activate
def test_timeouts_of_queries_are_retried_then_raised(client):
    for _ in range(4):
        responses.post(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError) as excinfo:
        client.execute("ShopInfo")
    assert excinfo.value.transient
    assert len(responses.calls) == 4


@responses.activate
def test_connect_timeouts_are_safe_to_retry_even_for_mutations(client):
    responses.post(URL, body=requests.ConnectTimeout("no route"))
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("OrderCreate", {"order": {}}) == {"ok": True}


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        (401, ReauthorizationRequired, "reauthorization_required"),
        (403, ReauthorizationRequired, "reauthorization_required"),
        (402, ShopGone, "partner_uninstalled"),
        (404, ShopGone, "partner_uninstalled"),
    ],
)
@responses.activate
def test_http_errors_map_to_typed_errors(client, status, error, reason):
    responses.post(URL, status=status)
    with pytest.raises(error) as excinfo:
        client.execute("ShopInfo")
    assert excinfo.value.reason == reason
    assert not excinfo.value.transient


@responses.activate
def test_access_denied_means_reauthorization(client):
    denied = [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]
    responses.post(URL, json=answer(errors=denied))
    with pytest.raises(ReauthorizationRequired):
        client.execute("ShopInfo")


@responses.activate
def test_other_graphql_errors_are_kept(client):
    responses.post(URL, json=answer(errors=[{"message": "Field 'x' doesn't exist"}]))
    with pytest.raises(GraphQLErrors) as excinfo:
        client.execute("ShopInfo")
    assert excinfo.value.errors == [{"message": "Field 'x' doesn't exist"}]


@responses.activate
def test_an_answer_that_is_not_json_is_a_transport_error(client):
    responses.post(URL, body="<html>oops</html>")
    with pytest.raises(TransportError, match="not JSON"):
        client.execute("ShopInfo")


def test_user_errors_keep_shopifys_list():
    with pytest.raises(UserErrors) as excinfo:
        UserErrors.raise_for(
            {
                "userErrors": [
                    {"field": ["order", "lineItems"], "message": "is invalid", "code": "X"}
                ]
            }
        )
    assert str(excinfo.value) == "order.lineItems: is invalid"
    assert excinfo.value.user_errors[0]["code"] == "X"
    UserErrors.raise_for({"userErrors": []})


@responses.activate
def test_paginate_walks_every_page(client):
    def page(ids, next_cursor):
        return answer(
            {
                "products": {
                    "nodes": [{"id": i} for i in ids],
                    "pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor},
                }
            }
        )

    responses.post(URL, json=page([1, 2], "c1"))
    responses.post(URL, json=page([3], None))
    nodes = list(client.paginate("CatalogProductIds", {"query": "x"}, ("products",)))
    assert [n["id"] for n in nodes] == [1, 2, 3]
    assert b'"after": "c1"' in responses.calls[1].request.body


@responses.activate
def test_the_token_never_reaches_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(URL, status=502)
    responses.post(URL, json=answer({"ok": True}))
    client.execute("ShopInfo")
    assert caplog.records
    assert TOKEN not in caplog.text
    assert "0123456789abcdef" not in caplog.text


def test_reservations_in_flight_are_not_handed_out_twice():
    from powerpact.shopify.client import RateLimiter

    clock = Clock()
    limiter = RateLimiter(clock)
    limiter.observe({"maximumAvailable": 1000, "currentlyAvailable": 300, "restoreRate": 100})
    assert limiter.reserve(250) == 0  # thread A sends; its answer has not come back
    # thread B's answer reports 300 available, which cannot include A's request yet
    limiter.observe(
        {"maximumAvailable": 1000, "currentlyAvailable": 300, "restoreRate": 100}, answered=0
    )
    assert limiter.reserve(250) == pytest.approx(2.0)  # 300 - 250 in flight = 50; 200 more at 100/s
    limiter.observe(
        {"maximumAvailable": 1000, "currentlyAvailable": 50, "restoreRate": 100}, answered=250
    )
    limiter.release(0)
    assert limiter.available == pytest.approx(50 - 250)
