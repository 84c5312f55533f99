"""Daily batches and weekly master orders across cutoffs and time zones (time-machine)."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from powerpact.models import BatchStatus, Cadence, OrderStatus, PartnerBatch
from powerpact.orders import batches, dispatch
from tests.factories import OrderSyncFactory, OrderSyncLineFactory, PartnerStoreFactory
from tests.orders.test_push import PartnerStoreDouble

PARTNER = "alice-roasters.myshopify.com"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def ready_order(partner, ready_at, variant="gid://shopify/ProductVariant/11", quantity=1):
    order = OrderSyncFactory(partner=partner, ready=True, ready_at=ready_at)
    OrderSyncLineFactory(order_sync=order, partner_variant_id=variant, quantity=quantity)
    return order


@pytest.fixture
def daily_partner(db_session):
    # 17:00 in Los Angeles is 01:00 UTC the next day in November
    return PartnerStoreFactory(
        shop_domain=PARTNER,
        cadence=Cadence.DAILY,
        cutoff_time=time(17),
        cutoff_timezone="America/Los_Angeles",
    )


def test_a_daily_batch_goes_out_only_after_the_local_cutoff(shopify, daily_partner, db_session):
    store = PartnerStoreDouble(shopify, PARTNER)
    before_cutoff = ready_order(daily_partner, utc(2026, 11, 20, 20))  # 12:00 in LA
    also_before = ready_order(daily_partner, utc(2026, 11, 21, 0, 59))  # 16:59 in LA
    after_cutoff = ready_order(daily_partner, utc(2026, 11, 21, 1, 1))  # 17:01 in LA
    db_session.commit()

    with time_machine.travel(utc(2026, 11, 21, 0, 30), tick=False):
        assert dispatch.partners_with_due_orders()["batched"] == [PARTNER]
        assert batches.send_daily(PARTNER) == 0
    with time_machine.travel(utc(2026, 11, 21, 1, 30), tick=False):
        assert batches.send_daily(PARTNER) == 2

    assert len(store.orders) == 1
    [line] = store.orders[0]["input"]["order"]["lineItems"]  # one bag twice: one line
    assert line["quantity"] == 2
    assert before_cutoff.partner_order_id == also_before.partner_order_id == store.orders[0]["id"]
    # a statement counts the batch's orders sent when the batch was
    assert before_cutoff.sent_at == also_before.sent_at == utc(2026, 11, 21, 1, 30)
    assert after_cutoff.status == OrderStatus.READY_FOR_SYNC
    assert after_cutoff.sent_at is None
    batch = db_session.get(PartnerBatch, before_cutoff.batch_id)
    assert batch.status == BatchStatus.SENT
    assert batch.window_end == utc(2026, 11, 21, 1)

    with time_machine.travel(utc(2026, 11, 22, 1, 30), tick=False):
        assert batches.send_daily(PARTNER) == 1
    assert len(store.orders) == 2


class MasterOrder(PartnerStoreDouble):
    """Adds order editing: the lines of each created order, raised or added to by edits."""

    def __init__(self, shopify, shop):
        super().__init__(shopify, shop)
        self.edits = 0
        self.added_lines = 0
        shopify.on(shop, "PartnerOrderLines", self.lines)
        shopify.on(shop, "OrderEditBegin", self.begin)
        shopify.on(shop, "OrderEditAddVariant", self.add)
        shopify.on(shop, "OrderEditSetQuantity", self.set_quantity)
        shopify.on(shop, "OrderEditCommit", self.commit)
        self.pending = []

    def order_lines(self, order):
        """[variant, quantity, unit price] per line, made on first use from the input."""
        if "lines" not in order:
            order["lines"] = [
                [item["variantId"], item["quantity"], item["priceSet"]["shopMoney"]["amount"]]
                for item in order["input"]["order"]["lineItems"]
            ]
        return order["lines"]

    def quantities(self, order):
        held = {}
        for variant, quantity, _ in self.order_lines(order):
            held[variant] = held.get(variant, 0) + quantity
        return held

    def nodes(self, order):
        return [
            {
                "id": f"{order['id']}/line/{i}",
                "quantity": q,
                "currentQuantity": q,
                "variant": {"id": v},
                "originalUnitPriceSet": {"shopMoney": {"amount": price}},
            }
            for i, (v, q, price) in enumerate(self.order_lines(order))
        ]

    def lines(self, variables):
        order = next(o for o in self.orders if o["id"] == variables["id"])
        return {
            "order": {
                "id": order["id"],
                "cancelledAt": None,
                "displayFulfillmentStatus": "UNFULFILLED",
                "lineItems": {"nodes": self.nodes(order)},
            }
        }

    def begin(self, variables):
        order = next(o for o in self.orders if o["id"] == variables["id"])
        calculated = {"id": order["id"] + "/calc", "lineItems": {"nodes": self.nodes(order)}}
        return {"orderEditBegin": {"calculatedOrder": calculated, "userErrors": []}}

    def add(self, variables):
        self.pending.append(("add", variables["variantId"], variables["quantity"]))
        line = {"id": "x", "originalUnitPriceSet": {"shopMoney": {"amount": "99.00"}}}
        return {"orderEditAddVariant": {"calculatedLineItem": line, "userErrors": []}}

    def set_quantity(self, variables):
        index = int(variables["lineItemId"].rsplit("/", 1)[1])
        self.pending.append(("set", index, variables["quantity"]))
        return {"orderEditSetQuantity": {"calculatedLineItem": {"id": "x"}, "userErrors": []}}

    def commit(self, variables):
        order_id = variables["id"].removesuffix("/calc")
        order = next(o for o in self.orders if o["id"] == order_id)
        lines = self.order_lines(order)
        for change in self.pending:
            if change[0] == "add":
                lines.append([change[1], change[2], "99.00"])
                self.added_lines += 1
            else:
                lines[change[1]][1] = change[2]
        self.pending = []
        self.edits += 1
        return {"orderEditCommit": {"order": {"id": order_id}, "userErrors": []}}


@pytest.fixture
def weekly_partner(db_session):
    return PartnerStoreFactory(
        shop_domain=PARTNER,
        cadence=Cadence.WEEKLY,
        cutoff_weekday=4,
        cutoff_time=time(15),
        cutoff_timezone="Europe/London",
    )


def test_weekly_orders_append_to_one_master_order_until_the_cutoff(
    shopify, weekly_partner, db_session
):
    store = MasterOrder(shopify, PARTNER)
    monday = utc(2026, 11, 16, 9)
    first = ready_order(weekly_partner, monday)
    db_session.commit()
    with time_machine.travel(monday + timedelta(minutes=5), tick=False):
        assert batches.send_weekly(PARTNER) == 1
    second = ready_order(
        weekly_partner,
        monday + timedelta(days=1),
        variant="gid://shopify/ProductVariant/12",
        quantity=2,
    )
    third = ready_order(weekly_partner, monday + timedelta(days=1, hours=1))
    db_session.commit()
    with time_machine.travel(monday + timedelta(days=2), tick=False):
        assert batches.send_weekly(PARTNER) == 2
    assert len(store.orders) == 1
    assert store.quantities(store.orders[0]) == {
        "gid://shopify/ProductVariant/11": 2,
        "gid://shopify/ProductVariant/12": 2,
    }
    # variant 11 was on the order: its line was raised, not added a second time
    assert [line[:2] for line in store.order_lines(store.orders[0])] == [
        ["gid://shopify/ProductVariant/11", 2],
        ["gid://shopify/ProductVariant/12", 2],
    ]
    assert store.added_lines == 1
    assert first.partner_order_id == second.partner_order_id == third.partner_order_id
    # each is sent when its units went on the master order
    assert first.sent_at == monday + timedelta(minutes=5)
    assert second.sent_at == third.sent_at == monday + timedelta(days=2)

    next_week = ready_order(weekly_partner, utc(2026, 11, 20, 16))  # after Friday 15:00 London
    db_session.commit()
    with time_machine.travel(utc(2026, 11, 20, 16, 5), tick=False):
        assert batches.close_past_weekly_batches() == 1
        assert batches.send_weekly(PARTNER) == 1
    assert len(store.orders) == 2
    assert next_week.partner_order_id == store.orders[1]["id"]


def test_an_append_committed_on_shopify_but_not_here_is_not_applied_twice(
    shopify, weekly_partner, db_session, monkeypatch
):
    store = MasterOrder(shopify, PARTNER)
    monday = utc(2026, 11, 16, 9)
    ready_order(weekly_partner, monday)
    db_session.commit()
    with time_machine.travel(monday + timedelta(minutes=5), tick=False):
        batches.send_weekly(PARTNER)
    late = ready_order(weekly_partner, monday + timedelta(hours=2), quantity=3)
    db_session.commit()

    from powerpact.orders import push

    def crash(*args, **kwargs):
        raise SystemExit("killed after the edit committed")

    with time_machine.travel(monday + timedelta(hours=3), tick=False):
        monkeypatch.setattr(push, "mark_sent", crash)
        with pytest.raises(SystemExit):
            batches.send_weekly(PARTNER)
        db_session.rollback()
        monkeypatch.undo()
        assert batches.send_weekly(PARTNER) == 1
    assert store.edits == 1
    assert store.quantities(store.orders[0]) == {"gid://shopify/ProductVariant/11": 4}
    db_session.refresh(late)
    assert late.status == OrderStatus.SYNCED


def test_run_the_batch_now_sends_a_daily_partners_ready_orders_at_once(
    shopify, daily_partner, db_session
):
    store = PartnerStoreDouble(shopify, PARTNER)
    first = ready_order(daily_partner, utc(2026, 11, 20, 20))
    second = ready_order(daily_partner, utc(2026, 11, 20, 21))
    db_session.commit()
    with time_machine.travel(utc(2026, 11, 20, 22), tick=False):
        assert batches.send_now(PARTNER) == 2
        assert batches.send_now(PARTNER) == 0
        late = ready_order(daily_partner, utc(2026, 11, 20, 22, 30))
        db_session.commit()
    with time_machine.travel(utc(2026, 11, 20, 23), tick=False):
        assert batches.send_now(PARTNER) == 1
    assert len(store.orders) == 2
    assert first.partner_order_id == second.partner_order_id != late.partner_order_id


def killed_after_create(send, db_session, monkeypatch):
    """Run ``send`` up to Shopify's answer to ``orderCreate``, then die before the commit."""
    from powerpact.orders import push

    def killed(*args, **kwargs):
        raise SystemExit("worker killed after Shopify's answer")

    monkeypatch.setattr(push, "mark_sent", killed)
    with pytest.raises(SystemExit):
        send()
    db_session.rollback()
    monkeypatch.undo()


@pytest.mark.parametrize(
    ("cadence", "ready_at", "send_at", "send"),
    [
        (Cadence.DAILY, utc(2026, 11, 20, 20), utc(2026, 11, 21, 1, 30), batches.send_daily),
        (Cadence.WEEKLY, utc(2026, 11, 16, 9), utc(2026, 11, 16, 10), batches.send_weekly),
        (Cadence.DAILY, utc(2026, 11, 20, 20), utc(2026, 11, 20, 21), batches.send_now),
    ],
)
def test_a_batch_killed_after_orderCreate_is_found_under_the_same_identifier(
    shopify, db_session, monkeypatch, cadence, ready_at, send_at, send
):
    """The batch row outlives the crash: the retry looks for the order the crash left."""
    partner = PartnerStoreFactory(
        shop_domain=PARTNER,
        cadence=cadence,
        cutoff_weekday=4,
        cutoff_time=time(17),
        cutoff_timezone="America/Los_Angeles",
    )
    store = MasterOrder(shopify, PARTNER)
    order = ready_order(partner, ready_at)
    db_session.commit()
    with time_machine.travel(send_at, tick=False):
        killed_after_create(lambda: send(PARTNER), db_session, monkeypatch)
        assert send(PARTNER) == 1
    assert len(store.orders) == 1
    db_session.refresh(order)
    assert order.partner_order_id == store.orders[0]["id"]
    batch = db_session.get(PartnerBatch, order.batch_id)
    assert store.orders[0]["sourceIdentifier"] == batches.batch_identifier(batch)
    assert "Found the already created" in order.events[-1].message


def sent_early_then_one_more(partner, db_session):
    """An order sent by "Run the batch now" at 21:00 UTC, then another of the same day
    window ready at 22:00 (the cutoff is 01:00 UTC): both OrderSyncs."""
    early = ready_order(partner, utc(2026, 11, 20, 20))
    db_session.commit()
    with time_machine.travel(utc(2026, 11, 20, 21), tick=False):
        assert batches.send_now(PARTNER) == 1
    late = ready_order(partner, utc(2026, 11, 20, 22))
    db_session.commit()
    return early, late


def test_run_the_batch_now_after_a_killed_extra_batch_takes_that_batch_again(
    shopify, daily_partner, db_session, monkeypatch
):
    store = PartnerStoreDouble(shopify, PARTNER)
    _, late = sent_early_then_one_more(daily_partner, db_session)
    with time_machine.travel(utc(2026, 11, 20, 23), tick=False):
        killed_after_create(lambda: batches.send_now(PARTNER), db_session, monkeypatch)
    with time_machine.travel(utc(2026, 11, 20, 23, 5), tick=False):
        assert batches.send_now(PARTNER) == 1
    assert len(store.orders) == 2
    db_session.refresh(late)
    assert late.partner_order_id == store.orders[1]["id"]


def test_an_order_ready_after_run_the_batch_now_goes_out_at_the_cutoff(
    shopify, daily_partner, db_session
):
    """The window's batch was sent early; a later order of the same window is a new one,
    not "found" as that batch's order (it would be marked sent and never reach the partner)."""
    store = PartnerStoreDouble(shopify, PARTNER)
    early, late = sent_early_then_one_more(daily_partner, db_session)
    with time_machine.travel(utc(2026, 11, 21, 1, 30), tick=False):  # past the 17:00 cutoff
        assert batches.send_daily(PARTNER) == 1
        assert batches.send_daily(PARTNER) == 0
    assert len(store.orders) == 2
    db_session.refresh(early)
    db_session.refresh(late)
    assert late.status == OrderStatus.SYNCED
    assert late.partner_order_id == store.orders[1]["id"] != early.partner_order_id
    assert "Found the already created" not in late.events[-1].message


def test_a_late_batch_killed_after_orderCreate_is_taken_again_at_the_next_run(
    shopify, daily_partner, db_session, monkeypatch
):
    store = PartnerStoreDouble(shopify, PARTNER)
    _, late = sent_early_then_one_more(daily_partner, db_session)
    with time_machine.travel(utc(2026, 11, 21, 1, 30), tick=False):
        killed_after_create(lambda: batches.send_daily(PARTNER), db_session, monkeypatch)
    with time_machine.travel(utc(2026, 11, 21, 1, 35), tick=False):
        assert batches.send_daily(PARTNER) == 1
    assert len(store.orders) == 2, "the retry found the late batch's order"
    db_session.refresh(late)
    assert late.partner_order_id == store.orders[1]["id"]
