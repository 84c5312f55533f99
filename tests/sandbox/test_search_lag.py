"""The orders search index lags behind the orders; a listing without ``query`` does not."""

import pytest

from powerpact.sandbox import SandboxConfig
from tests.sandbox.helpers import SHOP
from tests.sandbox.test_orders import ORDER_CREATE, order_input

LAG = SandboxConfig.search_lag_seconds
SEARCH = """query S($q: String) {
  found: orders(first: 10, query: $q) { nodes { name tags } }
  ordersCount(query: $q) { count } }"""
NEWEST = """{ orders(first: 3, sortKey: CREATED_AT, reverse: true) {
  nodes { name sourceIdentifier createdAt } } }"""
TAGS_UPDATE = """mutation U($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { message } } }"""


@pytest.fixture
def partner(sandbox):
    shop = sandbox.shop(SHOP)
    variants = [v for v in shop.variants().values() if shop.available(v.inventory_item_id) >= 5]
    return shop, variants[0], variants[1]


def create(data, token, first, second, identifier, tags):
    order = {"order": order_input(first, second, sourceIdentifier=identifier, tags=tags)}
    return data(token, ORDER_CREATE, order)["orderCreate"]["order"]


def found(data, token, query):
    answer = data(token, SEARCH, {"q": query})
    names = [o["name"] for o in answer["found"]["nodes"]]
    assert answer["ordersCount"]["count"] == len(names)
    return names


def test_a_new_order_reaches_the_search_after_the_lag_and_the_listing_at_once(
    data, token, partner, clock
):
    _, first, second = partner
    made = create(data, token, first, second, "lag-1", ["fresh"])
    assert LAG > 0
    assert found(data, token, "source_identifier:lag-1") == []
    assert found(data, token, "tag:fresh") == []
    newest = data(token, NEWEST)["orders"]["nodes"][0]
    assert (newest["name"], newest["sourceIdentifier"]) == (made["name"], "lag-1")
    assert newest["createdAt"]
    assert data(token, "query O($id: ID!) { order(id: $id) { name } }", {"id": made["id"]})
    clock.advance(LAG - 0.5)
    assert found(data, token, "source_identifier:lag-1") == []
    clock.advance(0.5)
    assert found(data, token, "source_identifier:lag-1") == [made["name"]]
    assert found(data, token, "tag:fresh") == [made["name"]]


def test_a_change_reaches_the_search_after_the_lag_while_the_nodes_are_current(
    data, token, partner, clock
):
    _, first, second = partner
    made = create(data, token, first, second, "lag-2", ["old"])
    clock.advance(LAG)
    update = {"input": {"id": made["id"], "tags": ["new"]}}
    assert data(token, TAGS_UPDATE, update)["orderUpdate"]["userErrors"] == []
    stale = data(token, SEARCH, {"q": "tag:old"})["found"]["nodes"]
    assert stale == [{"name": made["name"], "tags": ["new"]}]
    assert found(data, token, "tag:new") == []
    clock.advance(LAG)
    assert found(data, token, "tag:old") == []
    assert found(data, token, "tag:new") == [made["name"]]


def test_the_lag_is_a_switch(sandbox_app, data, token, partner):
    _, first, second = partner
    answer = sandbox_app.test_client().post("/_sandbox/search-lag", json={"seconds": 0})
    assert answer.get_json() == {"seconds": 0.0}
    made = create(data, token, first, second, "lag-3", ["now"])
    assert found(data, token, "source_identifier:lag-3") == [made["name"]]
