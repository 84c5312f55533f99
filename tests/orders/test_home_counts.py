"""The home's counts (``orders/rollup.py``, migration 0025): failed OrderSyncs by failure
reason, and retail orders counted once at the hour of their first OrderSync; kept by the
triggers whatever statement changes the OrderSyncs, recounted by the reconciliation, and
read exactly by the home's figures and charts."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text, update

from powerpact.extensions import db
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    OrderSyncHourCount,
    PartnerStore,
    RetailOrderFirst,
    RetailOrderHourCount,
)
from powerpact.orders import rollup
from powerpact.orders.charts_data import FailuresForReason, failures_by_reason
from tests.factories import OrderSyncFactory, PartnerStoreFactory
from tests.order_counts import assert_counts_match, retail_recounted, retail_stored

NOW = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)
STATUSES = list(OrderStatus)
REASONS = [None, *FailureReason]
SPLIT = "gid://shopify/Order/split"
NUMBERS = itertools.count(1)


@pytest.fixture
def partners(db_session):
    return [
        PartnerStoreFactory(shop_domain=f"home-{n}.myshopify.com", name=f"Home {n}")
        for n in range(3)
    ]


def retail_hours() -> dict[datetime, int]:
    t = RetailOrderHourCount
    return {
        hour: n for hour, n in db.session.execute(select(t.hour, t.orders).where(t.orders != 0))
    }


def reason_rows() -> dict[tuple[str, str], int]:
    h = OrderSyncHourCount
    rows = db.session.execute(select(h.status, h.reason, h.orders).where(h.orders != 0))
    return {(status.value, reason): orders for status, reason, orders in rows}


def test_a_failure_reason_is_in_the_key_only_while_failed(partners):
    order = OrderSyncFactory(partner=partners[0], created_at=NOW)
    assert reason_rows() == {("pending", ""): 1}
    order.last_order_failure_reason = FailureReason.THROTTLED  # not failed: no reason counted
    db.session.flush()
    assert reason_rows() == {("pending", ""): 1}
    order.status = OrderStatus.FAILED
    db.session.flush()
    assert reason_rows() == {("failed", "throttled"): 1}
    # The reason changes while the status stays failed: the count moves.
    db.session.execute(
        update(OrderSync)
        .where(OrderSync.id == order.id)
        .values(last_order_failure_reason=FailureReason.VARIANT_NOT_MAPPED)
    )
    assert reason_rows() == {("failed", "variant_not_mapped"): 1}
    db.session.execute(
        update(OrderSync).where(OrderSync.id == order.id).values(last_order_failure_reason=None)
    )
    assert reason_rows() == {("failed", ""): 1}
    db.session.expire_all()
    assert_counts_match()


def test_a_retail_order_counts_once_at_its_first_order_syncs_hour(partners):
    alice, bob, carol = partners
    first = OrderSyncFactory(partner=alice, bubbly_order_id=SPLIT, created_at=NOW)
    assert retail_hours() == {NOW.replace(minute=0): 1}
    later = OrderSyncFactory(
        partner=bob, bubbly_order_id=SPLIT, created_at=NOW + timedelta(hours=3)
    )
    assert retail_hours() == {NOW.replace(minute=0): 1}  # the same retail order
    earlier = OrderSyncFactory(
        partner=carol, bubbly_order_id=SPLIT, created_at=NOW - timedelta(hours=2)
    )
    assert retail_hours() == {NOW.replace(minute=0) - timedelta(hours=2): 1}  # moved back
    db.session.delete(earlier)
    db.session.flush()
    assert retail_hours() == {NOW.replace(minute=0): 1}
    db.session.delete(first)
    db.session.flush()
    assert retail_hours() == {NOW.replace(minute=0) + timedelta(hours=3): 1}
    later.bubbly_order_id = "gid://shopify/Order/other"  # one order's sync moved to another
    db.session.flush()
    assert retail_hours() == {NOW.replace(minute=0) + timedelta(hours=3): 1}
    assert db.session.scalars(select(RetailOrderFirst.bubbly_order_id)).all() == [
        "gid://shopify/Order/other"
    ]
    db.session.delete(later)
    db.session.flush()
    assert retail_hours() == {}
    assert_counts_match()


def test_the_reconciliation_refreshes_retail_firsts_and_their_hours(partners):
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    OrderSyncFactory(partner=partners[0], bubbly_order_id=SPLIT, created_at=NOW)
    OrderSyncFactory(partner=partners[1], bubbly_order_id=SPLIT, created_at=NOW)
    db.session.execute(text("SET LOCAL session_replication_role = origin"))
    db.session.add(RetailOrderFirst(bubbly_order_id="gid://shopify/Order/gone", first_at=NOW))
    db.session.flush()
    firsts, hours = retail_stored()
    assert firsts == {"gid://shopify/Order/gone": NOW} and hours == {}

    result = rollup.reconcile_counts(days=None)

    assert result.firsts_refreshed == 2  # the split order added, the gone one removed
    assert [(c.stored, c.actual) for c in result.retail_corrections] == [(0, 1)]
    assert retail_stored() == retail_recounted()
    assert rollup.reconcile_counts(days=None).as_dict()["retail_corrected"] == 0


def test_failures_by_reason_are_exact_at_any_minute(partners):
    """Whole days and hours from the counts, the minutes before the first whole hour from
    the OrderSyncs: an order a minute inside the window counts, one a minute before not."""
    now = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)
    since = now - timedelta(days=30)
    for minutes, reason in ((1, FailureReason.THROTTLED), (-1, FailureReason.SHOPIFY_ERROR)):
        OrderSyncFactory(
            partner=partners[0],
            failed=True,
            last_order_failure_reason=reason,
            created_at=since + timedelta(minutes=minutes),
        )
    OrderSyncFactory(partner=partners[1], failed=True, created_at=since + timedelta(hours=2))
    OrderSyncFactory(partner=partners[1], failed=True, created_at=now - timedelta(days=3))

    assert failures_by_reason(30, now=now) == [
        FailuresForReason(FailureReason.SHOPIFY_ERROR, 2),  # the factory's reason
        FailuresForReason(FailureReason.THROTTLED, 1),
    ]
    assert failures_by_reason(30, shop=partners[0].shop_domain, now=now) == [
        FailuresForReason(FailureReason.THROTTLED, 1)
    ]


def test_orders_since_a_midnight_at_half_past_count_its_first_minutes(partners):
    """ "Orders today" in a zone at :30 starts at a midnight inside a UTC hour."""
    midnight = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)  # 00:00 in Asia/Kolkata
    OrderSyncFactory(partner=partners[0], created_at=midnight - timedelta(minutes=1))
    OrderSyncFactory(partner=partners[0], created_at=midnight)
    OrderSyncFactory(partner=partners[1], created_at=midnight + timedelta(minutes=29))
    OrderSyncFactory(partner=partners[1], created_at=midnight + timedelta(hours=5))
    assert db.session.scalar(select(rollup.retail_orders_since(midnight))) == 3


# Random changes through every kind of statement, few retail orders so that they are
# shared by partners and their first OrderSync moves.
@st.composite
def changes(draw):
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "orm_insert",
                        "core_insert_many",
                        "core_status",
                        "sql_reason",
                        "bulk_reason",
                        "move_created",
                        "move_order",
                        "orm_delete",
                        "core_delete",
                        "delete_partner",
                    ]
                ),
                st.integers(0, 10_000),
                st.sampled_from(STATUSES),
                st.sampled_from(REASONS),
                st.integers(-72, 72),
            ),
            max_size=25,
        )
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=changes())
def test_random_changes_keep_the_reasons_and_retail_firsts_equal_to_a_recount(db_session, steps):
    savepoint = db.session.begin_nested()
    try:
        for n in range(3):
            domain = f"fuzz-{n}.myshopify.com"
            db.session.add(PartnerStore(shop_domain=domain, name=domain))
        db.session.flush()
        for step in steps:
            apply_change(*step)
            db.session.flush()
            db.session.expire_all()
        assert_counts_match()
    finally:
        savepoint.rollback()


def free_order(partner: str, pick: int) -> str | None:
    """One of four retail orders that ``partner`` has no OrderSync of yet, if any."""
    taken = set(
        db.session.scalars(
            select(OrderSync.bubbly_order_id).where(OrderSync.partner_shop_domain == partner)
        )
    )
    free = [f"gid://shopify/Order/r{(pick + n) % 4}" for n in range(4)]
    return next((order for order in free if order not in taken), None)


def apply_change(
    step: str, pick: int, status: OrderStatus, reason: FailureReason | None, hours: int
) -> None:
    ids = list(db.session.scalars(select(OrderSync.id).order_by(OrderSync.id)))
    chosen = ids[pick % len(ids)] if ids else None
    partners = list(db.session.scalars(select(PartnerStore.shop_domain).order_by(PartnerStore.id)))
    when = NOW + timedelta(hours=hours, minutes=pick % 60)
    if not partners:
        return
    if step in ("orm_insert", "core_insert_many") or chosen is None:
        rows = []
        for n in range(pick % 3 + 1 if step == "core_insert_many" else 1):
            partner = partners[(pick + n) % len(partners)]
            order = free_order(partner, pick + n)
            if order is not None and all(
                (r["bubbly_order_id"], r["partner_shop_domain"]) != (order, partner) for r in rows
            ):
                rows.append(
                    {
                        "bubbly_order_id": order,
                        "partner_shop_domain": partner,
                        "currency": "USD",
                        "status": status,
                        "last_order_failure_reason": reason,
                        "created_at": when - timedelta(hours=n),
                    }
                )
        if step == "orm_insert":
            db.session.add_all(OrderSync(**row) for row in rows)
        elif rows:
            db.session.execute(insert(OrderSync), rows)
    elif step == "core_status":
        db.session.execute(update(OrderSync).where(OrderSync.id == chosen).values(status=status))
    elif step == "sql_reason":
        db.session.execute(
            text("UPDATE order_syncs SET last_order_failure_reason = :reason WHERE id = :id"),
            {"reason": reason.value if reason else None, "id": chosen},
        )
    elif step == "bulk_reason":
        db.session.execute(
            update(OrderSync)
            .where(OrderSync.id % 2 == pick % 2)
            .values(status=OrderStatus.FAILED, last_order_failure_reason=reason)
        )
    elif step == "move_created":
        db.session.execute(update(OrderSync).where(OrderSync.id == chosen).values(created_at=when))
    elif step == "move_order":
        partner = db.session.scalar(
            select(OrderSync.partner_shop_domain).where(OrderSync.id == chosen)
        )
        order = free_order(partner or "", pick)
        if order is not None:
            db.session.execute(
                update(OrderSync).where(OrderSync.id == chosen).values(bubbly_order_id=order)
            )
    elif step == "orm_delete":
        db.session.delete(db.session.get(OrderSync, chosen))
    elif step == "core_delete":
        db.session.execute(delete(OrderSync).where(OrderSync.id % 3 == pick % 3))
    elif step == "delete_partner" and len(partners) > 1:
        db.session.execute(
            delete(PartnerStore).where(PartnerStore.shop_domain == partners[pick % len(partners)])
        )


def test_two_captures_recording_two_partners_in_opposite_orders_do_not_deadlock(committed_app):
    """Capture A records North then Harbor for its retail order, capture B Harbor then North
    for its own, in the same hour, each in its own transaction. Each statement's trigger
    takes the hour's retail row before any partner's count row (migration 0028): B waits
    for A holding nothing A needs, and both commit. With the partners' rows first (0025)
    A held the hour's row and waited for B's Harbor row while B waited for the hour's row:
    PostgreSQL broke the deadlock by failing one of them."""
    north, harbor = (
        PartnerStoreFactory(shop_domain=f"{name}.myshopify.com", name=name)
        for name in ("north", "harbor")
    )
    db.session.commit()
    a_recorded_one = threading.Event()
    errors: list[BaseException] = []

    def capture(order_id: str, partners: list[str], *, first: bool) -> None:
        try:
            with committed_app.app_context():
                for n, partner in enumerate(partners):
                    if n == 1 and first:
                        time.sleep(0.5)  # B is waiting by now
                    db.session.add(
                        OrderSync(
                            bubbly_order_id=order_id,
                            partner_shop_domain=partner,
                            currency="USD",
                            created_at=NOW,
                        )
                    )
                    db.session.flush()
                    if first:
                        a_recorded_one.set()
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    domains = [north.shop_domain, harbor.shop_domain]
    a = threading.Thread(
        target=capture, args=("gid://shopify/Order/A", domains), kwargs={"first": True}
    )
    b = threading.Thread(
        target=capture, args=("gid://shopify/Order/B", domains[::-1]), kwargs={"first": False}
    )
    a.start()
    assert a_recorded_one.wait(10)
    b.start()
    a.join(30)
    b.join(30)
    assert errors == []
    assert retail_hours() == {datetime(2026, 12, 6, 14, tzinfo=UTC): 2}
    assert_counts_match()
