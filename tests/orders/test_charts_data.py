"""The order charts' figures: days in the shop's zone, zeros filled in, partners apart."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from powerpact.models import FailureReason, OrderStatus
from powerpact.orders.charts_data import (
    FailuresForReason,
    PartnerOrdersOnDay,
    RetailOrdersOnDay,
    failures_by_reason,
    partner_orders_per_day,
    retail_orders_per_day,
)
from powerpact.orders.listing import status_counts
from tests.factories import OrderSyncFactory, PartnerStoreFactory

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)  # 08:00 in New York (EDT, UTC-4)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def counts(rows: list[PartnerOrdersOnDay], domain: str) -> dict[date, int]:
    return {row.day: row.orders for row in rows if row.partner_domain == domain}


def test_a_day_is_the_shops_day_from_its_midnight_to_the_next(personas):
    alice = personas.alice
    OrderSyncFactory(partner=alice, created_at=at(2026, 7, 15, 3, 59))  # Jul 14, 23:59 EDT
    OrderSyncFactory(partner=alice, created_at=at(2026, 7, 15, 4, 0))  # Jul 15, 00:00 EDT
    OrderSyncFactory(partner=alice, created_at=at(2026, 7, 15, 11, 0))  # Jul 15, 07:00 EDT
    OrderSyncFactory(partner=alice, created_at=at(2026, 7, 9, 3, 59))  # Jul 8: before the window
    OrderSyncFactory(partner=alice, created_at=at(2026, 7, 9, 4, 0))  # Jul 9, 00:00: its first

    rows = partner_orders_per_day(None, 7, NEW_YORK, now=NOW)

    by_day = counts(rows, alice.shop_domain)
    assert list(by_day) == [date(2026, 7, 9) + timedelta(days=n) for n in range(7)]
    assert by_day[date(2026, 7, 9)] == 1
    assert by_day[date(2026, 7, 14)] == 1
    assert by_day[date(2026, 7, 15)] == 2
    assert sum(by_day.values()) == 4
    # In UTC the same orders fall on other days.
    in_utc = counts(partner_orders_per_day(None, 7, ZoneInfo("UTC"), now=NOW), alice.shop_domain)
    assert in_utc[date(2026, 7, 15)] == 3 and in_utc[date(2026, 7, 14)] == 0


def test_a_day_when_the_clocks_go_back_has_its_25_hours(personas):
    # Europe/Paris leaves summer time on Sunday, October 25, 2026 at 03:00 CEST.
    now = at(2026, 10, 26, 12, 0)
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 10, 24, 21, 59))  # 24th 23:59
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 10, 24, 22, 0))  # 25th 00:00
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 10, 25, 22, 59))  # 25th 23:59
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 10, 25, 23, 0))  # 26th 00:00

    by_day = counts(partner_orders_per_day(None, 3, PARIS, now=now), personas.alice.shop_domain)

    assert by_day == {date(2026, 10, 24): 1, date(2026, 10, 25): 2, date(2026, 10, 26): 1}


def test_days_without_orders_are_zeros_and_partners_are_stacked_by_their_names(personas):
    zoe = PartnerStoreFactory(shop_domain="aaa-zoe.myshopify.com", name="Zoe Teas")
    OrderSyncFactory(partner=zoe, created_at=at(2026, 7, 15, 10, 0))
    OrderSyncFactory(partner=personas.bob, created_at=at(2026, 7, 13, 10, 0))
    OrderSyncFactory(partner=personas.bob, created_at=at(2026, 7, 13, 11, 0))
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 6, 1, 10, 0))  # long before

    rows = partner_orders_per_day(None, 5, NEW_YORK, now=NOW)

    assert [(row.partner_name, row.day.day) for row in rows[::5]] == [("Bob", 11), ("Zoe Teas", 11)]
    assert len(rows) == 10  # Alice had no order in the window: no series of zeros
    assert [row.orders for row in rows if row.partner_name == "Bob"] == [0, 0, 2, 0, 0]
    assert [row.orders for row in rows if row.partner_name == "Zoe Teas"] == [0, 0, 0, 0, 1]
    assert rows[0] == PartnerOrdersOnDay(date(2026, 7, 11), "bob-beans.myshopify.com", "Bob", 0)


def test_a_partners_own_days_hold_only_its_orders_and_all_its_days(personas):
    OrderSyncFactory(partner=personas.alice, created_at=at(2026, 7, 14, 10, 0))
    OrderSyncFactory(partner=personas.bob, created_at=at(2026, 7, 14, 10, 0))

    alice = partner_orders_per_day(personas.alice.shop_domain, 3, NEW_YORK, now=NOW)
    quiet = PartnerStoreFactory(name="Quiet Co")
    none = partner_orders_per_day(quiet.shop_domain, 3, NEW_YORK, now=NOW)

    assert [(row.partner_name, row.orders) for row in alice] == [
        ("Alice", 0),
        ("Alice", 1),
        ("Alice", 0),
    ]
    assert [(row.partner_name, row.orders) for row in none] == [("Quiet Co", 0)] * 3


def test_a_retail_order_counts_once_on_the_day_it_was_first_seen(personas):
    split = "gid://shopify/Order/1"
    OrderSyncFactory(partner=personas.alice, bubbly_order_id=split, created_at=at(2026, 7, 13, 10))
    OrderSyncFactory(partner=personas.bob, bubbly_order_id=split, created_at=at(2026, 7, 13, 10))
    edited = "gid://shopify/Order/2"  # a partner's line added a day later
    OrderSyncFactory(partner=personas.alice, bubbly_order_id=edited, created_at=at(2026, 7, 14, 9))
    OrderSyncFactory(partner=personas.bob, bubbly_order_id=edited, created_at=at(2026, 7, 15, 9))
    older = "gid://shopify/Order/3"  # first seen before the window: not counted in it
    OrderSyncFactory(partner=personas.alice, bubbly_order_id=older, created_at=at(2026, 7, 1, 9))
    OrderSyncFactory(partner=personas.bob, bubbly_order_id=older, created_at=at(2026, 7, 15, 9))

    rows = retail_orders_per_day(3, NEW_YORK, now=NOW)

    assert rows == [
        RetailOrdersOnDay(date(2026, 7, 13), 1),
        RetailOrdersOnDay(date(2026, 7, 14), 1),
        RetailOrdersOnDay(date(2026, 7, 15), 0),
    ]


def test_failures_are_counted_by_reason_over_the_order_desks_window(personas):
    for _ in range(3):
        OrderSyncFactory(partner=personas.alice, failed=True)
    OrderSyncFactory(
        partner=personas.bob,
        failed=True,
        last_order_failure_reason=FailureReason.VARIANT_NOT_MAPPED,
    )
    OrderSyncFactory(partner=personas.bob, failed=True, last_order_failure_reason=None)
    OrderSyncFactory(partner=personas.bob, status=OrderStatus.SYNCED)
    old = datetime.now(UTC) - timedelta(days=31)
    OrderSyncFactory(partner=personas.bob, failed=True, created_at=old)

    rows = failures_by_reason(30)

    assert rows == [
        FailuresForReason(FailureReason.SHOPIFY_ERROR, 3),
        FailuresForReason(None, 1),
        FailuresForReason(FailureReason.VARIANT_NOT_MAPPED, 1),
    ]
    assert sum(row.orders for row in rows) == status_counts()["failed"]
    assert failures_by_reason(30, shop=personas.bob.shop_domain)[0].orders == 1
