"""More of the client: sandbox addresses, idempotent documents, stats runs, threads, logs."""

import logging
import threading

import pytest
import requests
import responses

from powerpact.shopify.client import CallStats, RateLimiter, ShopConnection, ShopifyClient
from powerpact.shopify.errors import (
    ShopGone,
    ShopifyError,
    Throttled,
    TransportError,
)
from tests.shopify.test_client import SHOP, THROTTLED, TOKEN, URL, Clock, answer

SANDBOX_URL = f"http://127.0.0.1:8765/shops/{SHOP}/admin/api/2026-07/graphql.json"
INTERNAL = [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock):
    return ShopifyClient(ShopConnection(SHOP, TOKEN, clock=clock), sleep=clock.sleep)


@responses.activate
def test_for_shop_builds_the_address_from_the_origin_template(clock):
    client = ShopifyClient.for_shop(
        SHOP,
        TOKEN,
        admin_origin="http://127.0.0.1:8765/shops/{shop}/",
        clock=clock,
        sleep=clock.sleep,
        max_retries=1,
    )
    responses.post(SANDBOX_URL, json=answer({"shop": {"name": "Roaster"}}))
    assert client.execute("ShopInfo")["shop"]["name"] == "Roaster"
    assert client.max_retries == 1
    assert repr(client.connection) == f"<ShopConnection {SHOP}>"
    assert TOKEN not in repr(client.connection)


@responses.activate
def test_a_mutation_with_the_idempotent_directive_is_retried_after_a_5xx(client):
    responses.post(URL, status=503)
    responses.post(URL, json=answer({"inventorySetQuantities": {"userErrors": []}}))
    variables = {"input": {}, "idempotencyKey": "k-1"}
    assert client.execute("InventorySetQuantities", variables)["inventorySetQuantities"]
    assert len(responses.calls) == 2


@responses.activate
def test_a_dropped_connection_after_a_mutation_is_not_retried(client):
    responses.post(URL, body=requests.ConnectionError("reset by peer"))
    with pytest.raises(TransportError, match="got no answer"):
        client.execute("OrderCreate", {"order": {}})
    assert len(responses.calls) == 1


@responses.activate
def test_a_dropped_connection_of_a_query_is_retried(client):
    responses.post(URL, body=requests.ConnectionError("reset by peer"))
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("ShopInfo") == {"ok": True}
    assert client.stats.retries == 1


@responses.activate
def test_a_guarded_mutation_is_retried_after_a_timeout(client):
    responses.post(URL, body=requests.ReadTimeout("slow"))
    responses.post(URL, json=answer({"orderCreate": {"order": {"id": "gid://1"}}}))
    data = client.execute("OrderCreate", {"order": {}}, idempotent=True)
    assert data["orderCreate"]["order"]["id"] == "gid://1"


@responses.activate
def test_throttled_mutations_are_retried_since_nothing_ran(client):
    responses.post(URL, json=answer(errors=THROTTLED, available=0, rate=50))
    responses.post(URL, json=answer({"orderCreate": {"order": None}}))
    client.execute("OrderCreate", {"order": {}})
    assert client.stats.throttled == 1
    assert len(responses.calls) == 2


@responses.activate
def test_graphql_internal_errors_are_retried_for_queries_only(client):
    responses.post(URL, json={"errors": INTERNAL})
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("ShopInfo") == {"ok": True}
    responses.post(URL, json={"errors": INTERNAL})
    with pytest.raises(TransportError, match="failed inside OrderCreate") as excinfo:
        client.execute("OrderCreate", {"order": {}})
    assert excinfo.value.transient
    assert excinfo.value.reason == "shopify_error"


@responses.activate
def test_throttled_without_a_bucket_falls_back_to_backoff(clock):
    client = ShopifyClient(
        ShopConnection(SHOP, TOKEN, clock=clock),
        sleep=clock.sleep,
        max_retries=2,
        backoff_base=1.0,
    )
    for _ in range(3):
        responses.post(URL, json={"errors": THROTTLED})
    with pytest.raises(Throttled):
        client.execute("ShopInfo")
    # jittered exponential backoff: [base/2, base] then [base, 2 * base]
    assert 0.5 <= clock.slept[0] <= 1.0
    assert 1.0 <= clock.slept[1] <= 2.0
    assert client.stats.throttled == 3
    assert client.stats.retries == 2


@responses.activate
def test_backoff_is_capped(clock):
    client = ShopifyClient(
        ShopConnection(SHOP, TOKEN, clock=clock),
        sleep=clock.sleep,
        max_retries=4,
        backoff_base=10.0,
        backoff_cap=12.0,
    )
    for _ in range(5):
        responses.post(URL, status=500)
    with pytest.raises(TransportError):
        client.execute("ShopInfo")
    assert max(clock.slept) <= 12.0


@responses.activate
def test_a_429_without_a_usable_retry_after_backs_off(client, clock):
    responses.post(URL, status=429, headers={"Retry-After": "soon"})
    responses.post(URL, json=answer({"ok": True}))
    assert client.execute("ShopInfo") == {"ok": True}
    assert 0.25 <= clock.slept[0] <= 0.5
    assert client.stats.throttled == 1


@responses.activate
def test_a_locked_shop_is_gone(client):
    responses.post(URL, status=423)
    with pytest.raises(ShopGone) as excinfo:
        client.execute("ShopInfo")
    assert excinfo.value.reason == "partner_uninstalled"


@responses.activate
def test_an_inactive_shop_is_gone(client):
    inactive = [{"message": "Shop is not active", "extensions": {"code": "SHOP_INACTIVE"}}]
    responses.post(URL, json={"errors": inactive})
    with pytest.raises(ShopGone):
        client.execute("ShopInfo")
    assert len(responses.calls) == 1


def test_the_first_call_does_not_wait_since_the_bucket_is_unknown(clock):
    limiter = RateLimiter(clock)
    assert limiter.reserve(5000) == 0.0


def test_pacing_reads_the_bucket_size_from_shopify_and_never_asks_for_more(clock):
    limiter = RateLimiter(clock)
    limiter.observe({"maximumAvailable": 2000, "currentlyAvailable": 0, "restoreRate": 100})
    # a query dearer than the whole bucket waits for a full bucket, not forever
    assert limiter.reserve(5000) == pytest.approx(20.0)


def test_threads_sharing_a_shop_queue_behind_each_other(clock):
    limiter = RateLimiter(clock)
    limiter.observe({"maximumAvailable": 100, "currentlyAvailable": 0, "restoreRate": 10})
    waits = []
    lock = threading.Lock()

    def reserve():
        wait = limiter.reserve(10)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=reserve) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0])


def test_a_restored_bucket_needs_no_wait(clock):
    limiter = RateLimiter(clock)
    limiter.observe({"maximumAvailable": 1000, "currentlyAvailable": 0, "restoreRate": 50})
    clock.now += 10  # 500 points back
    assert limiter.reserve(400) == 0.0
    assert limiter.reserve(200) == pytest.approx(2.0)


@responses.activate
def test_stats_are_read_and_reset_per_run(client):
    responses.post(URL, json=answer({"ok": True}, requested=12, actual=7))
    client.execute("ShopInfo")
    client.execute("ShopInfo")
    totals = client.stats.reset()
    assert totals["calls"] == 2
    assert totals["requested_cost"] == 24
    assert totals["actual_cost"] == 14
    assert client.stats.as_dict() == CallStats().as_dict()


@responses.activate
def test_stats_count_waiting_for_the_bucket(client, clock):
    responses.post(URL, json=answer({"ok": True}, requested=60, available=10, rate=50))
    client.execute("ShopInfo")
    client.execute("ShopInfo")
    assert client.stats.waited_seconds == pytest.approx(1.0)
    assert clock.slept == [1.0]


@responses.activate
def test_stats_are_safe_to_share_between_threads(client):
    responses.post(URL, json=answer({"ok": True}, requested=1, actual=1, available=1000))
    threads = [
        threading.Thread(target=lambda: [client.execute("ShopInfo") for _ in range(5)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.stats.calls == 20
    assert client.stats.actual_cost == 20


@responses.activate
def test_each_call_is_one_info_line_with_shop_operation_status_cost_and_duration(client, caplog):
    caplog.set_level(logging.INFO, logger="powerpact.shopify.client")
    responses.post(URL, json=answer({"ok": True}, requested=12, actual=7))
    responses.post(URL, body=requests.ReadTimeout("slow"))
    responses.post(URL, status=401)
    client.execute("ShopInfo")
    with pytest.raises(ShopifyError):
        client.execute("OrderCreate", {"order": {"email": "x@example.com"}})
    with pytest.raises(ShopifyError):
        client.execute("ShopInfo")
    calls = [r for r in caplog.records if r.getMessage().startswith("shopify call ")]
    assert [r.levelno for r in calls] == [logging.INFO] * 3
    answered, unanswered, refused = (r.getMessage() for r in calls)
    assert answered.startswith(
        f"shopify call shop={SHOP} operation=ShopInfo status=200 cost=7 requested=12 duration_ms="
    ), answered
    assert float(answered.rsplit("duration_ms=", 1)[1]) >= 0
    assert f"shop={SHOP} operation=OrderCreate status=no-answer cost=- " in unanswered
    assert f"shop={SHOP} operation=ShopInfo status=401 cost=- requested=- " in refused
    assert TOKEN not in caplog.text
    assert "x@example.com" not in caplog.text


def test_errors_carry_reason_and_transience():
    assert ShopifyError("x").reason == "shopify_error"
    assert ShopifyError("x").transient
    overridden = ShopifyError("x", reason="invalid_order")
    assert (overridden.reason, overridden.transient) == ("invalid_order", False)
    assert ShopifyError("x", reason="throttled").transient


def test_a_connection_reads_proxy_and_ca_settings_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corporate.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    connection = ShopConnection("a-shop.myshopify.com", "shpat_x")
    assert connection.session.proxies["https"] == "http://proxy.internal:3128"
    assert connection.session.verify == "/etc/ssl/certs/corporate.pem"
    assert connection.session.trust_env is False

    monkeypatch.setenv("NO_PROXY", ".myshopify.com")
    assert "https" not in ShopConnection("a-shop.myshopify.com", "shpat_x").session.proxies
