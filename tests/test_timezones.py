"""A shop's time zone: its IANA name, or UTC when the name is unknown (the documented fallback)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from powerpact.shopify.clients import client_for
from powerpact.shopify.install import learn_shop
from powerpact.templating import local_time
from powerpact.timezones import known_zone, shop_zone


@pytest.mark.parametrize("name", ["Europe/Zurich", "America/New_York", "UTC"])
def test_a_known_zone_is_the_shops(name):
    assert shop_zone(name) == ZoneInfo(name) == known_zone(name)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", None, "Europe/", "../etc/passwd", "zone.tab", "UTC\x00", "x" * 300]
)
def test_an_unknown_zone_reads_as_utc(name):
    assert known_zone(name) is None
    assert shop_zone(name) == ZoneInfo("UTC")


def test_pages_show_an_unknown_zones_times_in_utc():
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert local_time(moment, "Mars/Olympus") == "Jul 01, 2026 12:30 UTC"
    assert local_time(moment, "Europe/Zurich") == "Jul 01, 2026 14:30 CEST"


def test_an_install_keeps_the_utc_cutoff_when_shopify_names_an_unknown_zone(
    personas, shopify, as_shop
):
    """The batching cutoff's zone must be a known one (its windows are computed in it);
    the shop's own zone is kept as Shopify gave it, and its pages still answer."""
    alice = personas.alice
    shopify.on(
        alice.shop_domain,
        "ShopInfo",
        lambda v: {
            "shop": {"name": "Alice", "currencyCode": "USD", "ianaTimezone": "Mars/Olympus"},
            "locations": {"nodes": []},
        },
    )
    learn_shop(client_for(alice), alice)
    assert alice.timezone == "Mars/Olympus"
    assert alice.cutoff_timezone == "UTC"
    assert as_shop("/partner/orders", alice).status_code == 200


def test_a_page_shows_times_in_the_viewing_shops_zone_unless_told_another(app):
    from flask import g

    from powerpact.templating import local_date

    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    with app.test_request_context():
        assert local_time(moment) == "Jul 01, 2026 23:30 UTC", "no shop signed in: UTC"
        g.shop = SimpleNamespace(timezone="Asia/Tokyo")
        assert local_time(moment) == "Jul 02, 2026 08:30 JST"
        assert local_date(moment) == "Jul 02, 2026"
        assert local_time(moment, "Europe/Zurich") == "Jul 02, 2026 01:30 CEST"
        assert local_date(None) == local_time(None) == ""
