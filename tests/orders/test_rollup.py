"""The order counts (``orders/rollup.py``): kept by the database on every change, whatever
statement makes it; recounted and corrected by the reconciliation; read by the order tables
and by the home page's charts."""

from __future__ import annotations

import itertools
import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text, update

from powerpact.config import PROJECT_ROOT
from powerpact.extensions import db
from powerpact.models import (
    FailureReason,
    OrderStatus,
    OrderSync,
    OrderSyncDayCount,
    OrderSyncHourCount,
    PartnerStore,
)
from powerpact.orders import charts_data, rollup
from powerpact.orders.listing import status_counts, window_start
from powerpact.shopify.lifecycle import fail_unsent_orders
from powerpact.timezones import shop_zone
from tests.factories import OrderSyncFactory, PartnerStoreFactory
from tests.order_counts import assert_counts_match, recounted, stored

NOW = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)
STATUSES = list(OrderStatus)
ORDER_NUMBERS = itertools.count(1)


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(rollup, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def partners(db_session):
    return [
        PartnerStoreFactory(shop_domain=f"counted-{n}.myshopify.com", name=f"Counted {n}")
        for n in range(3)
    ]


def hour_rows() -> dict[tuple[str, datetime, str], int]:
    h = OrderSyncHourCount
    rows = db.session.execute(
        select(h.partner_shop_domain, h.hour, h.status, h.orders).where(h.orders != 0)
    )
    return {(partner, hour, status.value): orders for partner, hour, status, orders in rows}


def triggers_off() -> None:
    """Make changes the triggers do not see, as a bulk load or a hand edit could."""
    db.session.execute(text("SET LOCAL session_replication_role = replica"))


def triggers_on() -> None:
    db.session.execute(text("SET LOCAL session_replication_role = origin"))


def test_an_insert_a_status_change_and_a_delete_move_the_counts(partners):
    alice = partners[0]
    created = datetime(2026, 12, 5, 23, 59, 59, tzinfo=UTC)
    order = OrderSyncFactory(partner=alice, created_at=created)
    hour = datetime(2026, 12, 5, 23, tzinfo=UTC)
    assert hour_rows() == {(alice.shop_domain, hour, "pending"): 1}

    order.status = OrderStatus.SYNCED
    db.session.flush()
    assert hour_rows() == {(alice.shop_domain, hour, "synced"): 1}
    d = OrderSyncDayCount
    day = db.session.execute(select(d.day, d.status, d.orders).where(d.orders > 0)).one()
    assert tuple(day) == (date(2026, 12, 5), OrderStatus.SYNCED, 1)

    order.created_at = created + timedelta(seconds=1)  # into the next hour and day
    db.session.flush()
    assert hour_rows() == {(alice.shop_domain, datetime(2026, 12, 6, tzinfo=UTC), "synced"): 1}

    db.session.delete(order)
    db.session.flush()
    assert hour_rows() == {}
    assert_counts_match()


def test_a_bulk_update_a_partners_deletion_and_its_rename_are_counted(partners):
    alice, bob = partners[0], partners[1]
    OrderSyncFactory.create_batch(3, partner=alice)
    OrderSyncFactory(partner=alice, synced=True)
    OrderSyncFactory.create_batch(2, partner=bob, ready=True)

    assert fail_unsent_orders(alice.shop_domain, rollup_reason(), "uninstalled") == 3
    assert_counts_match()

    db.session.execute(
        update(PartnerStore)
        .where(PartnerStore.shop_domain == bob.shop_domain)
        .values(shop_domain="bob-renamed.myshopify.com")
    )  # ON UPDATE CASCADE moves bob's orders
    db.session.expire_all()
    assert_counts_match()
    assert {key[0] for key in hour_rows()} == {alice.shop_domain, "bob-renamed.myshopify.com"}

    db.session.execute(delete(PartnerStore).where(PartnerStore.shop_domain == alice.shop_domain))
    db.session.expire_all()
    assert_counts_match()
    assert {key[0] for key in hour_rows()} == {"bob-renamed.myshopify.com"}


def rollup_reason():
    from powerpact.models import FailureReason

    return FailureReason.PARTNER_UNINSTALLED


def test_updates_that_change_no_counted_column_touch_no_count(partners):
    order = OrderSyncFactory(partner=partners[0])
    db.session.execute(update(OrderSyncHourCount).values(orders=41))
    order.error_message = "changed"
    order.status = OrderStatus.PENDING  # the same status
    db.session.flush()
    assert set(hour_rows().values()) == {41}
    rollup.reconcile_counts(days=None)


def test_without_the_triggers_the_counts_drift_and_the_check_sees_it(partners):
    """The check every order test ends with can fail: it compares with a recount."""
    triggers_off()
    OrderSyncFactory(partner=partners[0])
    triggers_on()
    with pytest.raises(AssertionError, match="hour counts differ"):
        assert_counts_match()
    rollup.reconcile_counts(days=None)  # as every test ends: counts equal to a recount


# Ways of changing OrderSyncs, as PowerPact's code does: the ORM's unit of work, a Core
# UPDATE per row (a send's), bulk UPDATEs and DELETEs (an uninstall, a redaction), plain
# SQL, and a partner's deletion or rename cascading to its orders.
@st.composite
def changes(draw):
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "orm_insert",
                        "core_insert_many",
                        "orm_status",
                        "core_status",
                        "core_executemany",
                        "bulk_status",
                        "sql_status",
                        "move_created",
                        "move_partner",
                        "orm_delete",
                        "core_delete",
                        "rename_partner",
                        "delete_partner",
                    ]
                ),
                st.integers(0, 10_000),
                st.sampled_from(STATUSES),
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
def test_random_changes_by_every_kind_of_statement_keep_the_counts_equal_to_a_recount(
    db_session, steps
):
    savepoint = db.session.begin_nested()
    try:
        domains = [f"fuzz-{n}.myshopify.com" for n in range(3)]
        for domain in domains:
            db.session.add(PartnerStore(shop_domain=domain, name=domain))
        db.session.flush()
        for step, pick, status, hours in steps:
            apply_change(step, pick, status, hours, domains)
            db.session.flush()
        db.session.expire_all()
        assert_counts_match()
    finally:
        savepoint.rollback()


def apply_change(step: str, pick: int, status: OrderStatus, hours: int, domains: list[str]):
    ids = list(db.session.scalars(select(OrderSync.id).order_by(OrderSync.id)))
    chosen = ids[pick % len(ids)] if ids else None
    partners = list(db.session.scalars(select(PartnerStore.shop_domain).order_by(PartnerStore.id)))
    when = NOW + timedelta(hours=hours, minutes=pick % 60)
    if step == "orm_insert" or (chosen is None and step != "core_insert_many"):
        if partners:
            db.session.add(
                OrderSync(
                    bubbly_order_id=f"gid://shopify/Order/{next(ORDER_NUMBERS)}",
                    partner_shop_domain=partners[pick % len(partners)],
                    currency="USD",
                    status=status,
                    created_at=when,
                )
            )
    elif step == "core_insert_many":
        if partners:
            db.session.execute(
                insert(OrderSync),
                [
                    {
                        "bubbly_order_id": f"gid://shopify/Order/{next(ORDER_NUMBERS)}",
                        "partner_shop_domain": partners[(pick + n) % len(partners)],
                        "currency": "USD",
                        "status": STATUSES[(pick + n) % len(STATUSES)],
                        "created_at": when - timedelta(hours=n),
                    }
                    for n in range(pick % 4 + 1)
                ],
            )
    elif step == "orm_status":
        order = db.session.get(OrderSync, chosen)
        assert order is not None
        order.status = status
    elif step == "core_status":
        db.session.execute(update(OrderSync).where(OrderSync.id == chosen).values(status=status))
    elif step == "core_executemany":  # as a send writes its attempt (orders/push.py)
        from powerpact.orders.push import UPDATE_ORDER_SYNC

        db.session.connection().execute(
            UPDATE_ORDER_SYNC,
            [
                {"order_sync_id": i, "status": STATUSES[(pick + n) % len(STATUSES)]}
                for n, i in enumerate(ids[:3])
            ],
        )
    elif step == "bulk_status":
        db.session.execute(
            update(OrderSync)
            .where(OrderSync.status != status, OrderSync.id % 2 == pick % 2)
            .values(status=status)
        )
    elif step == "sql_status":
        db.session.execute(
            text("UPDATE order_syncs SET status = :status WHERE id = :id"),
            {"status": status.value, "id": chosen},
        )
    elif step == "move_created":
        db.session.execute(update(OrderSync).where(OrderSync.id == chosen).values(created_at=when))
    elif step == "move_partner" and partners:
        db.session.execute(
            update(OrderSync)
            .where(OrderSync.id == chosen)
            .values(partner_shop_domain=partners[pick % len(partners)])
        )
    elif step == "orm_delete":
        order = db.session.get(OrderSync, chosen)
        db.session.delete(order)
    elif step == "core_delete":
        db.session.execute(delete(OrderSync).where(OrderSync.id % 3 == pick % 3))
    elif step == "rename_partner" and partners:
        old = partners[pick % len(partners)]
        db.session.execute(
            update(PartnerStore)
            .where(PartnerStore.shop_domain == old)
            .values(shop_domain=f"r{pick}-{old}"[:255])
        )
    elif step == "delete_partner" and len(partners) > 1:
        db.session.execute(
            delete(PartnerStore).where(PartnerStore.shop_domain == partners[pick % len(partners)])
        )
    db.session.expire_all()


def test_no_product_code_turns_the_triggers_off():
    """The triggers are the one seam; only the benchmark's bulk load (which then recounts
    with ``reconcile_counts``) may load rows without them."""
    pattern = re.compile(r"session_replication_role|DISABLE\s+TRIGGER", re.IGNORECASE)
    product = Path(PROJECT_ROOT) / "powerpact"
    offenders = [
        str(path.relative_to(product))
        for path in product.rglob("*.py")
        if pattern.search(path.read_text()) and path.parent.name != "bench"
    ]
    assert offenders == []


def test_the_reconciliation_corrects_drift_in_its_window_and_logs_it(partners, fixed_now, caplog):
    alice, bob = partners[0], partners[1]
    triggers_off()
    OrderSyncFactory(partner=alice, created_at=NOW - timedelta(hours=1))
    old = OrderSyncFactory(partner=bob, created_at=NOW - timedelta(days=40), synced=True)
    triggers_on()
    db.session.execute(  # a row counted for nothing, inside the window
        insert(OrderSyncHourCount).values(
            partner_shop_domain=bob.shop_domain,
            hour=NOW.replace(minute=0) - timedelta(hours=5),
            status=OrderStatus.FAILED,
            orders=2,
        )
    )

    with caplog.at_level(logging.WARNING, logger="powerpact.orders.rollup"):
        result = rollup.reconcile_counts(days=31)

    corrected = {
        (c.table, c.partner_shop_domain, c.status, c.stored, c.actual) for c in result.corrections
    }
    assert corrected == {
        ("order_sync_hour_counts", alice.shop_domain, "pending", 0, 1),
        ("order_sync_day_counts", alice.shop_domain, "pending", 0, 1),
        ("order_sync_hour_counts", bob.shop_domain, "failed", 2, 0),
    }
    assert (
        "order_sync_hour_counts counted-1.myshopify.com 2026-12-06T09:00:00+00:00 failed: 2 -> 0"
        in caplog.text
    )
    assert "3 rows corrected" in caplog.text
    # The 40-day-old order is outside the window: still uncounted, until a whole recount.
    hours, _ = stored()
    assert not any(key[0] == bob.shop_domain for key in hours)
    assert rollup.reconcile_counts(days=31).corrections == []

    everything = rollup.reconcile_counts(days=None)
    assert {(c.partner_shop_domain, c.status) for c in everything.corrections} == {
        (bob.shop_domain, "synced")
    }
    assert old.status == OrderStatus.SYNCED
    assert_counts_match()
    assert stored() == recounted()


def test_the_reconciliation_adds_the_difference_to_what_the_row_holds_by_then(partners, fixed_now):
    """A correction is a difference added (not a value set), so changes the triggers count
    while it runs are kept."""
    alice = partners[0]
    OrderSyncFactory.create_batch(2, partner=alice, created_at=NOW)
    db.session.execute(update(OrderSyncHourCount).values(orders=5))
    result = rollup.reconcile_counts(days=1)
    assert [(c.stored, c.actual) for c in result.corrections] == [(5, 2)]
    assert set(hour_rows().values()) == {2}
    assert result.as_dict() == {
        "since": "2026-12-06T00:00:00+00:00",
        "corrected": 1,
        "retail_corrected": 0,
    }


def test_the_reconciliation_task_runs_it(partners, fixed_now):
    from powerpact.orders.tasks import reconcile_order_counts

    triggers_off()
    OrderSyncFactory(partner=partners[0], created_at=NOW)
    triggers_on()
    assert reconcile_order_counts.call_local() == {
        "since": "2026-11-06T00:00:00+00:00",
        "corrected": 2,
        "retail_corrected": 2,  # the order's first, and its hour's row
    }
    assert_counts_match()


def test_status_counts_read_whole_days_and_the_first_days_hours(partners, fixed_now):
    alice, bob = partners[0], partners[1]
    since = datetime(2026, 11, 6, 14, tzinfo=UTC)
    OrderSyncFactory(partner=alice, created_at=since - timedelta(seconds=1))  # before
    OrderSyncFactory(partner=alice, created_at=since)  # the first hour
    OrderSyncFactory(partner=alice, created_at=datetime(2026, 11, 6, 23, 59, tzinfo=UTC))
    OrderSyncFactory(partner=alice, created_at=datetime(2026, 11, 7, tzinfo=UTC), failed=True)
    OrderSyncFactory(partner=bob, created_at=NOW, synced=True)

    everyone = rollup.status_counts(since)
    assert everyone == {
        **dict.fromkeys((s.value for s in STATUSES), 0),
        "pending": 2,
        "failed": 1,
        "synced": 1,
    }
    assert rollup.status_counts(since, alice.shop_domain)["pending"] == 2
    assert rollup.status_counts(since, bob.shop_domain)["synced"] == 1
    assert rollup.status_counts(datetime(2026, 11, 7, tzinfo=UTC))["pending"] == 0
    with pytest.raises(ValueError, match="whole UTC hour"):
        rollup.status_counts(since + timedelta(minutes=1))


def test_the_order_tables_count_the_rows_they_list(partners, monkeypatch):
    from powerpact.orders import listing

    now = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)
    monkeypatch.setattr(listing, "utcnow", lambda: now)
    start = window_start()
    assert start == datetime(2026, 11, 6, 14, tzinfo=UTC)
    OrderSyncFactory(partner=partners[0], created_at=start - timedelta(microseconds=1))
    OrderSyncFactory(partner=partners[0], created_at=start)
    counts = status_counts()
    page = listing.order_page(listing.Filters(), counts=counts)
    assert counts["pending"] == page.total == len(page.rows) == 1


def partner_days(rows) -> dict[str, list[int]]:
    days: dict[str, list[int]] = {}
    for row in rows:
        days.setdefault(row.partner_domain, []).append(row.orders)
    return days


def test_the_charts_read_each_local_day_from_the_hour_counts(partners, fixed_now):
    alice, bob = partners[0], partners[1]
    # 03:00 UTC on 6 December is still 5 December in New York (UTC-5).
    OrderSyncFactory(partner=alice, created_at=datetime(2026, 12, 6, 3, tzinfo=UTC))
    OrderSyncFactory(partner=alice, created_at=datetime(2026, 12, 6, 6, tzinfo=UTC), failed=True)
    OrderSyncFactory(partner=bob, created_at=datetime(2026, 12, 4, 12, tzinfo=UTC))
    OrderSyncFactory(partner=bob, created_at=datetime(2026, 11, 1, tzinfo=UTC))  # too old

    new_york = charts_data.partner_orders_per_day(None, 3, shop_zone("America/New_York"), now=NOW)
    assert partner_days(new_york) == {alice.shop_domain: [0, 1, 1], bob.shop_domain: [1, 0, 0]}
    assert [row.day for row in new_york][:3] == [date(2026, 12, d) for d in (4, 5, 6)]
    utc = charts_data.partner_orders_per_day(None, 3, shop_zone("UTC"), now=NOW)
    assert partner_days(utc)[alice.shop_domain] == [0, 0, 2]
    # A partner alone has all its days, with no orders too.
    quiet = charts_data.partner_orders_per_day(
        partners[2].shop_domain, 2, shop_zone("UTC"), now=NOW
    )
    assert partner_days(quiet) == {partners[2].shop_domain: [0, 0]}


def test_the_charts_east_of_utc_give_the_early_hours_to_the_next_day(partners, fixed_now):
    # 22:00 UTC on 5 December is 6 December in Tokyo (UTC+9).
    OrderSyncFactory(partner=partners[0], created_at=datetime(2026, 12, 5, 22, tzinfo=UTC))
    tokyo = charts_data.partner_orders_per_day(
        partners[0].shop_domain, 2, shop_zone("Asia/Tokyo"), now=NOW
    )
    assert [(row.day, row.orders) for row in tokyo] == [
        (date(2026, 12, 5), 0),
        (date(2026, 12, 6), 1),
    ]


def test_on_sqlite_as_the_demo_runs_the_triggers_readers_and_reconciliation_agree(
    tmp_path, monkeypatch
):
    import flask_migrate

    from powerpact import create_app
    from tests.conftest import settings_for

    monkeypatch.setattr(rollup, "utcnow", lambda: NOW)
    app = create_app({"TESTING": True}, settings=settings_for(f"sqlite:///{tmp_path}/demo.db"))
    with app.app_context():
        flask_migrate.upgrade()
        alice = PartnerStore(shop_domain="alice.myshopify.com", name="Alice")
        db.session.add(alice)
        db.session.flush()
        orders = [
            OrderSync(
                bubbly_order_id=f"gid://shopify/Order/{n}",
                partner_shop_domain=alice.shop_domain,
                currency="USD",
                created_at=NOW - timedelta(hours=n * 7),
            )
            for n in range(6)
        ]
        db.session.add_all(orders)
        db.session.commit()
        orders[0].status = OrderStatus.FAILED
        orders[1].created_at = NOW - timedelta(days=3)
        db.session.delete(orders[2])
        db.session.commit()
        assert_counts_match()
        # A second partner's OrderSync of a retail order, earlier than its first; a failure
        # reason changed while failed; an OrderSync moved to another retail order.
        bob = PartnerStore(shop_domain="bob.myshopify.com", name="Bob")
        db.session.add(bob)
        db.session.flush()
        split = OrderSync(
            bubbly_order_id=orders[3].bubbly_order_id,
            partner_shop_domain=bob.shop_domain,
            currency="USD",
            created_at=NOW - timedelta(days=2, minutes=30),
        )
        db.session.add(split)
        db.session.commit()
        orders[0].last_order_failure_reason = FailureReason.THROTTLED
        db.session.commit()
        orders[4].bubbly_order_id = "gid://shopify/Order/moved"
        db.session.commit()
        assert_counts_match()
        assert rollup.failed_by_reason(NOW - timedelta(days=1, minutes=7)) == {"throttled": 1}
        assert db.session.scalar(select(rollup.retail_orders_since(NOW - timedelta(days=2)))) == 3
        db.session.delete(split)
        db.session.commit()
        assert_counts_match()

        assert rollup.status_counts(datetime(2026, 12, 5, 1, tzinfo=UTC))["pending"] == 3
        new_york = charts_data.partner_orders_per_day(
            alice.shop_domain, 2, shop_zone("America/New_York"), now=NOW
        )
        assert [(row.day, row.orders) for row in new_york] == [
            (date(2026, 12, 5), 2),
            (date(2026, 12, 6), 1),
        ]
        utc = charts_data.partner_orders_per_day(alice.shop_domain, 5, shop_zone("UTC"), now=NOW)
        assert sum(row.orders for row in utc) == 5

        db.session.execute(update(OrderSyncHourCount).values(orders=9))
        db.session.commit()
        # Every hour row, those emptied by the changes too, now 9.
        every_hour_row = db.session.scalar(select(func.count()).select_from(OrderSyncHourCount))
        assert len(rollup.reconcile_counts(days=None).corrections) == every_hour_row == 10
        assert_counts_match()
        db.session.remove()
        db.engine.dispose()
