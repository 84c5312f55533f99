"""The control API: shops and fixtures, tokens, fault switches, the call log, reset."""

import time

import pytest

from powerpact.sandbox.fixtures import RETAIL
from tests.sandbox.helpers import SHOP


@pytest.mark.parametrize(
    ("fault", "status"),
    [("server_errors", 502), ("unauthorized", 401), ("unavailable", 402), ("not_found", 404)],
)
def test_fault_switches_answer_the_next_calls_so(sandbox_app, gql, token, fault, status):
    client = sandbox_app.test_client()
    assert client.post(f"/_sandbox/shops/{SHOP}/faults", json={fault: 2}).get_json()[fault] == 2
    assert [gql(token, "{ shop { name } }")[0] for _ in range(3)] == [status, status, 200]
    assert client.get(f"/_sandbox/shops/{SHOP}/faults").get_json()[fault] == 0


def test_a_timeout_fault_holds_the_answer(sandbox_app, gql, token):
    sandbox_app.test_client().post(
        f"/_sandbox/shops/{SHOP}/faults", json={"timeouts": 1, "timeout_seconds": 0.05}
    )
    started = time.monotonic()
    assert gql(token, "{ shop { name } }")[0] == 504
    assert time.monotonic() - started >= 0.05
    assert gql(token, "{ shop { name } }")[0] == 200


def test_the_call_log_counts_operations_cost_and_throttling(sandbox_app, gql, token, sandbox):
    gql(token, "query ShopName { shop { name } }")
    sandbox.buckets[SHOP].configure(available=0)
    gql(token, "query Again { shop { name } }")
    client = sandbox_app.test_client()
    log = client.get(f"/_sandbox/shops/{SHOP}/calls").get_json()
    assert log["calls"] == 2 and log["throttled"] == 1
    assert log["operations"] == ["ShopName", "Again"]
    assert log["requested_cost"] == 2 and log["actual_cost"] == 1
    assert [c["throttled"] for c in log["log"]] == [False, True]
    assert client.delete(f"/_sandbox/shops/{SHOP}/calls").get_json()["calls"] == 0


def test_shops_fixtures_tokens_and_reset(sandbox_app, sandbox, gql):
    client = sandbox_app.test_client()
    listed = client.get("/_sandbox/shops").get_json()["shops"]
    assert {s["domain"] for s in listed} == {
        RETAIL,
        SHOP,
        "harbor-bean-co.myshopify.com",
        "alpine-coffee-works.myshopify.com",
    }
    detail = client.get(f"/_sandbox/shops/{SHOP}").get_json()
    assert detail["location_id"] == sandbox.shop(SHOP).location_id
    assert len(detail["products"]) == 24
    assert client.get("/_sandbox/shops/nobody.myshopify.com").status_code == 404
    made = client.post(
        "/_sandbox/shops", json={"domain": "tiny.myshopify.com", "name": "Tiny", "plan": "plus"}
    )
    assert made.status_code == 201 and made.get_json()["plan"] == "plus"
    assert client.post("/_sandbox/shops", json={}).status_code == 400
    assert (
        client.post(
            "/_sandbox/shops", json={"domain": "x.myshopify.com", "plan": "gold"}
        ).status_code
        == 400
    )
    grant = client.post(
        "/_sandbox/shops/tiny.myshopify.com/tokens", json={"expiring": True}
    ).get_json()
    assert grant["expires_in"] == 3600
    _, body = gql(
        grant["access_token"], "{ shop { plan { shopifyPlus } } }", shop="tiny.myshopify.com"
    )
    assert body["data"]["shop"]["plan"]["shopifyPlus"] is True
    assert client.post("/_sandbox/reset").get_json() == {"ok": True}
    assert client.get("/_sandbox/shops").get_json()["shops"] == []
    assert gql(grant["access_token"], "{ shop { name } }", shop="tiny.myshopify.com")[0] == 404
    loaded = client.post(
        "/_sandbox/fixture",
        json={
            "shops": [
                {
                    "domain": "one.myshopify.com",
                    "locations": ["Main", "Overflow"],
                    "products": [{"title": "Mug", "price": "5", "stock": 4}],
                }
            ]
        },
    )
    one = sandbox.shop("one.myshopify.com")
    assert [loc["name"] for loc in one.locations] == ["Main", "Overflow"]
    mug = next(iter(one.variants().values()))
    assert one.available(mug.inventory_item_id) == 4
    assert loaded.get_json() == {"shops": ["one.myshopify.com"]}
    assert client.post("/_sandbox/fixture", json={"name": "empty"}).status_code == 200
    assert client.post("/_sandbox/fixture", json={"name": "nope"}).status_code == 400


def test_the_product_images_are_small_svgs(sandbox_app):
    response = sandbox_app.test_client().get("/images/nsr/kenya-nyeri-filter.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg") and b"kenya nyeri filter" in response.data
    hostile = sandbox_app.test_client().get("/images/%3Cscript%3E.svg")
    assert b"<script>" not in hostile.data
