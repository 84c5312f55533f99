"""The stock sync chart's figures: changes applied and errors per hour of the shop's clock."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from powerpact.inventory.charts_data import SyncHour, hours_window, sync_health_per_hour
from powerpact.models import RunStatus
from tests.factories import SyncRunFactory

KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours start at half past UTC's
NOW = datetime(2026, 7, 15, 12, 10, tzinfo=UTC)  # 17:40 in Kolkata


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 7, 15, hour, minute, tzinfo=UTC)


def test_the_hours_are_the_shops_ending_with_the_one_under_way():
    assert hours_window(3, KOLKATA, NOW) == [at(9, 30), at(10, 30), at(11, 30)]
    assert hours_window(2, ZoneInfo("UTC"), NOW) == [at(11, 0), at(12, 0)]


def test_each_run_counts_in_the_hour_it_started_and_empty_hours_are_zeros(db_session):
    SyncRunFactory(started_at=at(11, 29), changed=5, status=RunStatus.SUCCEEDED)  # 16:59
    SyncRunFactory(started_at=at(11, 30), changed=7, status=RunStatus.SUCCEEDED)  # 17:00
    SyncRunFactory(
        kind="inventory_webhook",
        started_at=at(11, 45),
        changed=1,
        error_count=3,
        status=RunStatus.PARTIAL,
    )
    SyncRunFactory(started_at=at(12, 5), status=RunStatus.FAILED, error_count=0)  # abandoned
    SyncRunFactory(started_at=at(8, 29), changed=100)  # before the window
    SyncRunFactory(kind="import", started_at=at(11, 40), changed=50, error_count=9)  # not stock

    hours = sync_health_per_hour(4, KOLKATA, now=NOW)

    assert hours == [
        SyncHour(at(8, 30), runs=0, changed=0, errors=0),
        SyncHour(at(9, 30), runs=0, changed=0, errors=0),
        SyncHour(at(10, 30), runs=1, changed=5, errors=0),
        SyncHour(at(11, 30), runs=3, changed=8, errors=4),
    ]
