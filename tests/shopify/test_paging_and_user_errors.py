"""Paging over connections and the userErrors helper."""

import pytest
import responses

from powerpact.shopify.client import ShopConnection, ShopifyClient
from powerpact.shopify.errors import UserErrors, raise_for_user_errors
from powerpact.shopify.paging import paginate
from tests.shopify.test_client import SHOP, TOKEN, URL, Clock, answer


@pytest.fixture
def client():
    clock = Clock()
    return ShopifyClient(ShopConnection(SHOP, TOKEN, clock=clock), sleep=clock.sleep)


def fulfillment_page(ids, cursor):
    return answer(
        {
            "order": {
                "id": "gid://shopify/Order/1",
                "fulfillmentOrders": {
                    "nodes": [{"id": i} for i in ids],
                    "pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor},
                },
            }
        }
    )


@responses.activate
@pytest.mark.parametrize("path", ["order.fulfillmentOrders", ("order", "fulfillmentOrders")])
def test_paginate_follows_a_nested_connection(client, path):
    responses.post(URL, json=fulfillment_page(["a", "b"], "c1"))
    responses.post(URL, json=fulfillment_page(["c"], None))
    variables = {"id": "gid://shopify/Order/1"}
    nodes = list(paginate(client, "FulfillmentOrdersForOrder", variables, path))
    assert [n["id"] for n in nodes] == ["a", "b", "c"]
    assert variables == {"id": "gid://shopify/Order/1"}  # the caller's dict is not changed
    assert client.stats.calls == 2


@responses.activate
def test_paginate_stops_when_the_parent_is_missing(client):
    responses.post(URL, json=answer({"order": None}))
    assert list(client.paginate("FulfillmentOrdersForOrder", {"id": "x"}, "order.x")) == []


@responses.activate
def test_paginate_is_lazy(client):
    responses.post(URL, json=fulfillment_page(["a"], "c1"))
    nodes = paginate(client, "FulfillmentOrdersForOrder", None, "order.fulfillmentOrders")
    assert next(nodes) == {"id": "a"}
    assert len(responses.calls) == 1


def test_raise_for_user_errors_finds_the_payload_and_keeps_shopifys_list():
    data = {
        "productSet": {
            "product": None,
            "userErrors": [
                {"field": ["input", "variants", "0"], "message": "SKU taken", "code": "TAKEN"}
            ],
        }
    }
    with pytest.raises(UserErrors) as excinfo:
        raise_for_user_errors(data, "productSet")
    error = excinfo.value
    assert error.user_errors == data["productSet"]["userErrors"]
    assert str(error) == "input.variants.0: SKU taken"
    assert not error.transient


def test_raise_for_user_errors_knows_prefixed_lists():
    data = {"orderCancel": {"orderCancelUserErrors": [{"field": None, "message": "done"}]}}
    with pytest.raises(UserErrors, match="input: done"):
        raise_for_user_errors(data, ("orderCancel",))


def test_raise_for_user_errors_returns_the_payload_when_all_is_well():
    data = {"a": {"b": {"id": 1, "userErrors": []}}}
    assert raise_for_user_errors(data, "a.b") == {"id": 1, "userErrors": []}
    assert raise_for_user_errors({"x": None}, "x") == {}
    assert raise_for_user_errors(None) == {}
