"""Sending orders to partners: exactly once, with each failure reason recorded."""

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import responses
import time_machine

from powerpact.db_types import utcnow
from powerpact.models import FailureReason, OrderStatus
from powerpact.orders import push, send_attempts
from powerpact.shopify.clients import client_for
from tests.factories import OrderSyncFactory, OrderSyncLineFactory, PartnerStoreFactory
from tests.shopify_double import Answer


@pytest.fixture
def ready_order(db_session):
    partner = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com")
    order = OrderSyncFactory(
        partner=partner,
        ready=True,
        shipping_address={
            "firstName": "Ada",
            "address1": "1 Main",
            "city": "Portland",
            "countryCodeV2": "US",
        },
    )
    OrderSyncLineFactory(order_sync=order, partner_variant_id="gid://shopify/ProductVariant/11")
    db_session.commit()
    return order


class PartnerStoreDouble:
    """The partner's orders: ``orderCreate`` stores them, the search finds them.

    The search index holds an order ``search_lag`` after its creation (at once by
    default); the newest-orders listing, which does not go through it, sees all.
    """

    def __init__(self, shopify, shop):
        self.orders = []
        self.search_lag = timedelta(0)
        shopify.on(shop, "OrdersBySourceIdentifier", self.search)
        shopify.on(shop, "PartnerOrderLookup", self.lookup)
        shopify.on(shop, "OrderCreate", self.create)

    def indexed(self, order):
        created = datetime.fromisoformat(order["createdAt"])
        return created <= utcnow() - self.search_lag

    def search(self, variables):
        wanted = variables["query"].split("'")[1]
        found = [o for o in self.orders if o["sourceIdentifier"] == wanted and self.indexed(o)]
        return {"orders": {"nodes": found}}

    def lookup(self, variables):
        newest = sorted(self.orders, key=lambda o: o["createdAt"], reverse=True)
        return {
            "bySource": self.search(variables)["orders"],
            "newest": {"nodes": newest[: push.NEWEST_PAGE]},
        }

    def place(self, source_identifier, created_at=None, variables=None):
        order = {
            "id": f"gid://shopify/Order/{500 + len(self.orders)}",
            "name": f"#P{500 + len(self.orders)}",
            "sourceIdentifier": source_identifier,
            "createdAt": (created_at or utcnow()).isoformat().replace("+00:00", "Z"),
            "input": variables,
        }
        self.orders.append(order)
        return order

    def create(self, variables):
        order = self.place(variables["order"]["sourceIdentifier"], variables=variables)
        return {"orderCreate": {"order": order, "userErrors": []}}


def test_a_ready_order_is_created_on_the_partner_store_once(shopify, ready_order):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    assert push.push_order_sync(ready_order.id) == "sent"
    assert push.push_order_sync(ready_order.id) == "skipped"
    assert len(store.orders) == 1
    assert ready_order.status == OrderStatus.SYNCED
    assert ready_order.partner_order_name == "#P500"
    assert ready_order.retry_count == 1
    sent = store.orders[0]["input"]
    assert sent["options"] == {
        "inventoryBehaviour": "DECREMENT_OBEYING_POLICY",
        "sendReceipt": False,
        "sendFulfillmentReceipt": False,
    }
    order_input = sent["order"]
    assert order_input["financialStatus"] == "PENDING"
    assert order_input["lineItems"][0]["variantId"] == "gid://shopify/ProductVariant/11"
    assert order_input["lineItems"][0]["priceSet"]["shopMoney"]["amount"] == "12.00"
    assert order_input["shippingLines"][0]["priceSet"]["shopMoney"]["amount"] == "5.00"
    assert order_input["shippingAddress"]["city"] == "Portland"
    assert order_input["sourceIdentifier"] in order_input["tags"]
    assert "sourceName" not in order_input  # PowerPact is no sales channel
    assert ready_order.events[-1].kind == "sent"


def crash_after_create(push_it, db_session):
    """Run ``push_it`` up to Shopify's answer to ``orderCreate``, then die before the commit."""

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(push, "mark_sent", crash)
        with pytest.raises(SystemExit):
            push_it()
    db_session.rollback()


@pytest.fixture
def clock(waits):
    """Time moves only when a send waits (by as much as it waits)."""
    with time_machine.travel(utcnow(), tick=False) as traveller:

        def sleep(seconds):
            waits.append(seconds)
            traveller.shift(timedelta(seconds=seconds))

        push.sleep = sleep
        yield traveller


LAG = timedelta(seconds=10)  # the settings' PARTNER_SEARCH_LAG_SECONDS


def test_a_crash_between_shopifys_answer_and_the_commit_makes_no_second_order(
    shopify, ready_order, db_session
):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    crash_after_create(lambda: push.push_order_sync(ready_order.id), db_session)

    assert push.push_order_sync(ready_order.id) == "sent"
    assert len(store.orders) == 1
    assert shopify.count("OrderCreate") == 1
    db_session.refresh(ready_order)
    assert ready_order.partner_order_id == store.orders[0]["id"]
    assert "Found the already created" in ready_order.events[-1].message


def test_a_first_send_asks_the_search_only(shopify, ready_order, waits):
    PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    assert push.push_order_sync(ready_order.id) == "sent"
    assert [op for _, op, _ in shopify.calls] == ["OrdersBySourceIdentifier", "OrderCreate"]
    assert waits == []


def test_after_a_crash_the_newest_orders_find_what_the_lagging_search_misses(
    shopify, ready_order, db_session, clock, waits
):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    store.search_lag = LAG
    crash_after_create(lambda: push.push_order_sync(ready_order.id), db_session)
    clock.shift(timedelta(seconds=1))

    assert push.push_order_sync(ready_order.id) == "sent"
    assert waits == []
    assert len(store.orders) == 1
    assert shopify.count("PartnerOrderLookup") == 1
    assert shopify.count("OrderCreate") == 1
    db_session.refresh(ready_order)
    assert ready_order.partner_order_id == store.orders[0]["id"]
    assert "Found the already created" in ready_order.events[-1].message


def test_a_killed_orderCreate_still_on_its_way_is_waited_for(
    shopify, ready_order, db_session, clock, waits
):
    """The worker died with its request in flight; Shopify creates the order later."""
    assert push.search_lag() == LAG
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    crash_after_create(lambda: push.push_order_sync(ready_order.id), db_session)
    in_flight = store.orders.pop()
    clock.shift(timedelta(seconds=3))
    waiting = push.sleep

    def sleep(seconds):
        waiting(seconds)
        store.orders.append(in_flight)

    push.sleep = sleep

    assert push.push_order_sync(ready_order.id) == "sent"
    assert waits == [7.0]  # until the lag has passed since the killed send began
    assert shopify.count("PartnerOrderLookup") == 2
    assert shopify.count("OrderCreate") == 1
    db_session.refresh(ready_order)
    assert ready_order.partner_order_id == in_flight["id"]


def test_a_retry_after_the_lag_does_not_wait(shopify, ready_order, db_session, clock, waits):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    crash_after_create(lambda: push.push_order_sync(ready_order.id), db_session)
    clock.shift(LAG)

    assert push.push_order_sync(ready_order.id) == "sent"
    assert waits == [] and len(store.orders) == 1


def test_when_the_newest_orders_do_not_reach_back_the_send_waits_for_the_search(
    shopify, ready_order, db_session, clock, waits
):
    """Our order was created, then the partner's own shop took a page of orders within
    the lag; after the first wait neither the search nor the page shows ours."""
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    store.search_lag = LAG + timedelta(seconds=1)  # as if created a second after the send began
    crash_after_create(lambda: push.push_order_sync(ready_order.id), db_session)
    clock.shift(timedelta(seconds=1))
    for _ in range(push.NEWEST_PAGE):
        store.place(f"shop-{len(store.orders)}")

    assert push.push_order_sync(ready_order.id) == "sent"
    assert waits == [9.0, 3.0]  # to the lag after the crashed send, then past the page
    assert len(store.orders) == push.NEWEST_PAGE + 1
    assert shopify.count("OrderCreate") == 1
    db_session.refresh(ready_order)
    assert ready_order.partner_order_id == store.orders[0]["id"]


def test_a_full_page_older_than_the_lag_is_conclusive_not_knowing_when_the_send_began(
    shopify, ready_order, clock, waits
):
    """As on SQLite, where no send's start is recorded: the search covers what is unlisted."""
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    store.search_lag = LAG
    old = utcnow() - LAG - push.CREATED_AT_MARGIN
    for _ in range(push.NEWEST_PAGE):
        store.place(f"shop-{len(store.orders)}", created_at=old)
    client = client_for(ready_order.partner)
    unknown = send_attempts.UNKNOWN
    assert (
        push.find_after_uncertain_send(client, "powerpact-order-sync-0", unknown).existing is None
    )
    store.place("powerpact-order-sync-0", created_at=old - timedelta(seconds=1))
    store.orders.reverse()  # now the oldest: not in the newest page, found by the search
    found = push.find_after_uncertain_send(client, "powerpact-order-sync-0", unknown).existing
    assert found is not None and found.name == store.orders[0]["name"]
    assert waits == []


def test_a_listing_that_reaches_back_before_the_earlier_send_is_conclusive(
    shopify, ready_order, db_session, clock, waits
):
    """The earlier send failed before ``orderCreate``: nothing of ours is on the store."""
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    store.search_lag = LAG * 10
    for _ in range(push.NEWEST_PAGE):
        store.place(f"shop-{len(store.orders)}", created_at=utcnow() - timedelta(seconds=5))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(push, "create_partner_order", lambda *a: (_ for _ in ()).throw(KeyError))
        with pytest.raises(KeyError):
            push.push_order_sync(ready_order.id)
    db_session.rollback()

    assert push.push_order_sync(ready_order.id) == "sent"
    assert waits == [LAG.total_seconds()]  # only for the earlier send's request
    assert shopify.count("PartnerOrderLookup") == 2
    assert shopify.count("OrderCreate") == 1


def test_a_transient_failure_is_retried_later_with_backoff(shopify, ready_order):
    PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")

    def unavailable(variables):
        raise Answer(503)

    shopify.on("alice-roasters.myshopify.com", "OrderCreate", unavailable)
    assert push.push_order_sync(ready_order.id) == "ready_for_sync"
    assert ready_order.last_order_failure_reason == FailureReason.SHOPIFY_ERROR
    assert ready_order.next_attempt_at is not None
    assert ready_order.last_attempted_at is not None
    assert push.due_immediate_ids(ready_order.partner_shop_domain) == []


def test_transient_failures_give_up_after_the_limit(shopify, ready_order, db_session):
    PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    shopify.on(
        "alice-roasters.myshopify.com", "OrderCreate", lambda v: (_ for _ in ()).throw(Answer(500))
    )
    ready_order.retry_count = push.MAX_AUTOMATIC_ATTEMPTS
    db_session.commit()
    push.push_order_sync(ready_order.id)
    assert ready_order.status == OrderStatus.FAILED
    assert ready_order.retry_count == push.MAX_AUTOMATIC_ATTEMPTS + 1


def test_insufficient_inventory_fails_at_once(shopify, ready_order):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")

    def refuse(variables):
        error = {"field": ["order"], "message": "Insufficient inventory", "code": "INVENTORY"}
        return {"orderCreate": {"order": None, "userErrors": [error]}}

    shopify.on("alice-roasters.myshopify.com", "OrderCreate", refuse)
    push.push_order_sync(ready_order.id)
    assert ready_order.status == OrderStatus.FAILED
    assert ready_order.last_order_failure_reason == FailureReason.INSUFFICIENT_INVENTORY
    assert "Insufficient inventory" in ready_order.error_message
    assert store.orders == []


def test_other_user_errors_are_an_invalid_order(shopify, ready_order):
    PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    shopify.on(
        "alice-roasters.myshopify.com",
        "OrderCreate",
        lambda v: {
            "orderCreate": {"order": None, "userErrors": [{"field": None, "message": "bad"}]}
        },
    )
    push.push_order_sync(ready_order.id)
    assert ready_order.last_order_failure_reason == FailureReason.INVALID_ORDER


def test_a_revoked_token_needs_reauthorization(shopify, ready_order):
    shopify.on(
        "alice-roasters.myshopify.com",
        "OrdersBySourceIdentifier",
        lambda v: (_ for _ in ()).throw(Answer(401)),
    )
    push.push_order_sync(ready_order.id)
    assert ready_order.status == OrderStatus.FAILED
    assert ready_order.last_order_failure_reason == FailureReason.REAUTHORIZATION_REQUIRED


def test_an_unmapped_variant_fails_without_calling_orderCreate(shopify, ready_order, db_session):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    ready_order.lines[0].partner_variant_id = None
    db_session.commit()
    push.push_order_sync(ready_order.id)
    assert ready_order.last_order_failure_reason == FailureReason.VARIANT_NOT_MAPPED
    assert store.orders == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "disabled", "access_token": None}, FailureReason.PARTNER_UNINSTALLED),
        ({"reauthorization_required": True}, FailureReason.REAUTHORIZATION_REQUIRED),
    ],
)
def test_a_partner_that_cannot_receive_orders_fails_them_with_its_reason(
    shopify, ready_order, db_session, change, reason
):
    for name, value in change.items():
        setattr(ready_order.partner, name, value)
    db_session.commit()
    push.push_order_sync(ready_order.id)
    assert ready_order.status == OrderStatus.FAILED
    assert ready_order.last_order_failure_reason == reason
    assert shopify.calls == []


def test_push_partner_sends_every_due_order_in_ready_order(shopify, ready_order, db_session):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    second = OrderSyncFactory(partner=ready_order.partner, ready=True, total=Decimal("1"))
    OrderSyncLineFactory(order_sync=second)
    db_session.commit()
    assert push.push_partner("alice-roasters.myshopify.com") == {"sent": 2}
    assert len(store.orders) == 2


def test_a_token_due_for_refresh_is_refreshed_before_the_send_not_in_the_middle(
    shopify, ready_order, db_session
):
    """A refresh commits; in the middle of a send it would commit half of it and end
    the partner's lock, so another worker could send the same order."""
    partner = ready_order.partner
    partner.access_token, partner.refresh_token = "shpat_old", "shprt_old"
    partner.access_token_expires_at = utcnow() + timedelta(minutes=2)
    db_session.commit()
    store = PartnerStoreDouble(shopify, partner.shop_domain)
    pending_at_refresh = []

    def refresh(request):
        pending_at_refresh.extend(db_session.dirty | db_session.new)
        grant = {"access_token": "shpat_new", "expires_in": 3600, "refresh_token": "shprt_new"}
        return 200, {}, json.dumps(grant)

    shopify.mock.add_callback(
        responses.POST,
        f"http://127.0.0.1:8765/shops/{partner.shop_domain}/admin/oauth/access_token",
        callback=refresh,
    )
    assert push.push_order_sync(ready_order.id) == "sent"
    assert pending_at_refresh == []
    assert len(store.orders) == 1 and ready_order.retry_count == 1
    graphql_calls = [c.request for c in shopify.mock.calls if "graphql" in c.request.url]
    assert {r.headers["X-Shopify-Access-Token"] for r in graphql_calls} == {"shpat_new"}
    assert partner.refresh_token == "shprt_new"


def answer_refresh_with(shopify, partner, status):
    PartnerStoreDouble(shopify, partner.shop_domain)
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{partner.shop_domain}/admin/oauth/access_token",
        status=status,
        json={"error": "invalid_grant"},
    )


def test_a_refused_refresh_sends_nothing_and_asks_the_partner_to_approve_again(
    shopify, ready_order, db_session
):
    partner = ready_order.partner
    partner.refresh_token = "shprt_spent"
    partner.access_token_expires_at = utcnow() + timedelta(minutes=2)
    db_session.commit()
    answer_refresh_with(shopify, partner, 401)
    assert push.push_order_sync(ready_order.id) == OrderStatus.FAILED.value
    assert shopify.count("OrderCreate") == 0
    assert partner.reauthorization_required
    assert ready_order.last_order_failure_reason == FailureReason.REAUTHORIZATION_REQUIRED
    assert "must re-authorize" in ready_order.error_message


@pytest.mark.parametrize(
    ("lifetime", "outcome", "sent"),
    [(timedelta(minutes=2), "sent", 1), (timedelta(seconds=20), None, 0)],
)
def test_shopify_failing_to_refresh_holds_an_order_only_if_the_token_is_lapsing(
    shopify, ready_order, db_session, lifetime, outcome, sent
):
    """A token that still works sends the order; one about to lapse waits for a refresh."""
    partner = ready_order.partner
    partner.refresh_token = "shprt_old"
    partner.access_token_expires_at = utcnow() + lifetime
    db_session.commit()
    answer_refresh_with(shopify, partner, 503)
    status = push.push_order_sync(ready_order.id)
    assert shopify.count("OrderCreate") == sent
    if outcome is not None:
        assert status == outcome
    else:
        assert status == OrderStatus.READY_FOR_SYNC.value
        assert ready_order.last_order_failure_reason == FailureReason.SHOPIFY_ERROR
        assert "refresh it before asking for a client" in ready_order.error_message
        assert ready_order.retry_count == 1


def test_one_failed_attempt_retries_some_members_and_fails_those_out_of_attempts(db_session):
    """A batch's members may have used different numbers of attempts: each gets its due."""
    partner = PartnerStoreFactory()
    fresh = OrderSyncFactory(partner=partner, ready=True, retry_count=0)
    spent = OrderSyncFactory(partner=partner, ready=True, retry_count=push.MAX_AUTOMATIC_ATTEMPTS)
    db_session.commit()

    push.record_failure([fresh, spent], FailureReason.THROTTLED, "Throttled.", utcnow())
    db_session.commit()
    db_session.expire_all()

    assert (fresh.status, fresh.retry_count, fresh.next_attempt_at is not None) == (
        OrderStatus.READY_FOR_SYNC,
        1,
        True,
    )
    assert (spent.status, spent.next_attempt_at) == (OrderStatus.FAILED, None)
    assert [e.kind for e in fresh.events][-1] == "attempt_failed"
    assert [e.kind for e in spent.events][-1] == "failed"


def test_a_development_stores_order_limit_is_throttling_retried_later(shopify, ready_order):
    store = PartnerStoreDouble(shopify, "alice-roasters.myshopify.com")
    message = (
        "Exceeded order API rate limit, please try again in a minute."
        " Upgrade to a paid account to remove this limit."
    )
    shopify.on(
        "alice-roasters.myshopify.com",
        "OrderCreate",
        lambda v: {
            "orderCreate": {"order": None, "userErrors": [{"field": ["order"], "message": message}]}
        },
    )
    assert push.push_order_sync(ready_order.id) == "ready_for_sync"
    assert ready_order.last_order_failure_reason == FailureReason.THROTTLED
    assert ready_order.next_attempt_at is not None
    assert store.orders == []
