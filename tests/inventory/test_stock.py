"""The safety buffer on every path that writes retail stock, the stock history it leaves,
its retention, and the low-stock list."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from powerpact import charts
from powerpact.db_types import utcnow
from powerpact.inventory import history, service
from powerpact.inventory.buffer import InvalidBuffer, parse_units, retail_target
from powerpact.inventory.low_stock import LowStockVariant, low_stock_variants
from powerpact.inventory.sync import FULL_SYNC, start_run, sync_partner_inventory
from powerpact.inventory.tasks import (
    buffer_resync_task,
    hourly_inventory_sync,
    prune_stock_history,
)
from powerpact.models import PartnerSettingsChange, ProductMap, StockChange, StockSource, SyncRun
from tests.embedded_requests import post_as, toast_of
from tests.factories import PartnerStoreFactory, ProductMapFactory, RetailStoreFactory
from tests.inventory.test_sync import PARTNER, RETAIL, doubles
from tests.orders.test_pages import count_queries
from tests.webhook_bodies import inventory_level_body


@pytest.fixture
def world(db_session):
    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain=PARTNER, name="Alice Roasters", safety_buffer=2)
    maps = [
        ProductMapFactory(
            partner=partner,
            partner_product_id="gid://shopify/Product/500",
            product_title="House Blend",
            variant_title=f"{size} / Whole bean",
        )
        for size in ("250g", "500g", "1kg")
    ]
    db_session.commit()
    return retail, partner, maps


def retail_of(retail, maps):
    return [retail.quantities[m.bubbly_variant_id] for m in maps]


def sources(db_session):
    return [
        (change.product_map_id, change.before, change.after, change.source)
        for change in db_session.scalars(select(StockChange).order_by(StockChange.id))
    ]


def test_the_target_holds_the_buffer_back_and_is_never_negative():
    assert retail_target(10, 2) == 8
    assert retail_target(2, 2) == 0
    assert retail_target(1, 2) == 0
    assert retail_target(-5, 0) == 0
    assert retail_target(None, 2) == 0
    assert retail_target(3, -4) == 3, "a negative buffer holds nothing back"


@pytest.mark.parametrize("typed", ["-1", "2.5", "two", "100001", "٣", "9" * 5000])
def test_a_buffer_that_is_not_a_whole_count_is_refused_in_words(typed):
    with pytest.raises(InvalidBuffer, match="whole number of units from 0 to 100,000"):
        parse_units(typed, "the buffer")


def test_an_empty_buffer_follows_the_partner():
    assert parse_units("  ", "the buffer") is None
    assert parse_units("", "the buffer", blank=0) == 0
    assert parse_units(" 7 ", "the buffer") == 7


def test_the_hourly_sync_writes_partner_stock_less_the_buffer(shopify, world, db_session):
    _, _, maps = world
    _, retail = doubles(shopify, maps, [10, 2, 1], [10, 2, 1])

    hourly_inventory_sync.call_local()

    assert retail_of(retail, maps) == [8, 0, 0], "never negative"
    assert sources(db_session) == [
        (maps[0].id, 10, 8, StockSource.HOURLY),
        (maps[1].id, 2, 0, StockSource.HOURLY),
        (maps[2].id, 1, 0, StockSource.HOURLY),
    ]
    db_session.expire_all()
    assert [db_session.get(ProductMap, m.id).retail_available for m in maps] == [8, 0, 0]
    run = db_session.scalars(select(SyncRun)).one()
    assert {c.sync_run_id for c in db_session.scalars(select(StockChange))} == {run.id}


def test_sync_now_applies_the_buffer_and_records_its_source(
    client, session_token, shopify, world, db_session
):
    retail_row, _, maps = world
    _, retail = doubles(shopify, maps, [6, 6, 6], [0, 4, 9])
    response = post_as(client, session_token, retail_row, "/admin/inventory/sync", {})
    assert "Stock synced" in response.get_data(as_text=True)
    assert retail_of(retail, maps) == [4, 4, 4]
    assert sources(db_session) == [
        (maps[0].id, 0, 4, StockSource.SYNC_NOW),
        (maps[2].id, 9, 4, StockSource.SYNC_NOW),
    ], "only the levels written, with what they were"


def test_the_webhook_path_applies_the_buffer(shopify, world, send_webhook, db_session):
    _, _, maps = world
    partner, retail = doubles(shopify, maps, [8, 8, 8], [6, 6, 6])
    partner.quantities[maps[1].partner_variant_id] = 3
    item = int(maps[1].partner_inventory_item_id.rsplit("/", 1)[1])
    assert (
        send_webhook(
            "inventory_levels/update", inventory_level_body(item), shop=PARTNER
        ).status_code
        == 200
    )

    assert service.apply_reported_changes(PARTNER) == 1
    assert retail_of(retail, maps) == [6, 1, 6]
    assert sources(db_session) == [(maps[1].id, 6, 1, StockSource.WEBHOOK)]


def test_a_products_own_buffer_overrides_the_partners(shopify, world, db_session):
    _, _, maps = world
    maps[2].safety_buffer = 0
    db_session.commit()
    _, retail = doubles(shopify, maps, [5, 5, 5], [5, 5, 5])
    sync_partner_inventory(PARTNER)
    assert retail_of(retail, maps) == [3, 3, 5]


def test_changing_the_partners_buffer_resyncs_its_levels_at_once(
    client, session_token, shopify, world, db_session
):
    retail_row, partner_row, maps = world
    shopify.on(PARTNER, "Locations", lambda _: {"locations": {"nodes": []}})
    _, retail = doubles(shopify, maps, [9, 4, 0], [7, 2, 0])  # synced at buffer 2
    form = {
        "cadence": "immediate",
        "cutoff_weekday": "0",
        "cutoff_time": "17:00",
        "cutoff_timezone": "UTC",
        "ship_to": "customer",
        "markup_kind": "percentage",
        "markup_value": "30",
        "markup_rounding": "none",
        "markup_min_margin": "0",
        "safety_buffer": "5",
        "low_stock_threshold": "3",
    }
    response = client.post(
        f"/admin/partners/{partner_row.id}/settings",
        data=form,
        headers={"Authorization": f"Bearer {session_token(retail_row)}"},
    )
    assert response.status_code == 200 and toast_of(response) == "Settings saved"
    assert (partner_row.safety_buffer, partner_row.low_stock_threshold) == (5, 3)
    assert retail_of(retail, maps) == [4, 0, 0]
    # one read of each side and one write: the same calls and compare-and-set as a sync
    assert shopify.count("VariantQuantities", PARTNER) == 1
    assert shopify.count("InventoryAvailableAt", RETAIL) == 1
    assert shopify.count("InventorySetQuantities") == 1
    assert [c["changeFromQuantity"] for c in retail.writes[0]] == [7, 2]
    assert sources(db_session) == [
        (maps[0].id, 7, 4, StockSource.BUFFER_CHANGE),
        (maps[1].id, 2, 0, StockSource.BUFFER_CHANGE),
    ]
    again = client.post(
        f"/admin/partners/{partner_row.id}/settings",
        data=form,
        headers={"Authorization": f"Bearer {session_token(retail_row)}"},
    )
    assert toast_of(again) == "Nothing changed"
    assert shopify.count("InventorySetQuantities") == 1, "no resync when the buffer stays"


def test_a_refused_buffer_keeps_what_was_typed_under_its_field(
    client, session_token, shopify, world
):
    retail_row, partner_row, _ = world
    shopify.on(PARTNER, "Locations", lambda _: {"locations": {"nodes": []}})
    response = client.post(
        f"/admin/partners/{partner_row.id}/settings",
        data={"cadence": "immediate", "ship_to": "customer", "safety_buffer": "-3"},
        headers={"Authorization": f"Bearer {session_token(retail_row)}"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="-3"' in page and 'id="safety_buffer-error"' in page
    assert partner_row.safety_buffer == 2
    assert shopify.count("InventorySetQuantities") == 0


def test_a_buffer_resync_waits_for_a_running_sync(world):
    start_run(FULL_SYNC, PARTNER)
    with pytest.raises(Exception, match="running"):
        buffer_resync_task.call_local(PARTNER)


def test_a_products_buffer_is_saved_on_its_page_and_resyncs_only_that_product(
    client, session_token, shopify, world, db_session
):
    retail_row, partner_row, maps = world
    other = ProductMapFactory(partner=partner_row, product_title="Decaf")
    db_session.commit()
    _, retail = doubles(shopify, [*maps, other], [6, 6, 6, 6], [4, 4, 4, 4])
    url = f"/admin/stock/{maps[0].id}"
    response = post_as(client, session_token, retail_row, url, {"safety_buffer": "0"})
    assert response.status_code == 200 and toast_of(response) == "Buffer saved"
    assert [m.safety_buffer for m in maps] == [0, 0, 0], "every variant of the product"
    assert retail_of(retail, [*maps, other]) == [6, 6, 6, 4]
    assert shopify.variables("VariantQuantities")[0]["ids"] == [m.partner_variant_id for m in maps]
    assert {c.source for c in db_session.scalars(select(StockChange))} == {
        StockSource.BUFFER_CHANGE
    }
    refused = post_as(client, session_token, retail_row, url, {"safety_buffer": "lots"})
    assert refused.status_code == 422 and 'value="lots"' in refused.get_data(as_text=True)
    back = post_as(client, session_token, retail_row, url, {"safety_buffer": ""})
    assert toast_of(back) == "Buffer saved" and maps[0].safety_buffer is None
    assert retail_of(retail, maps) == [4, 4, 4], "the partner's buffer again"


def test_history_keeps_90_days_and_prunes_only_older_rows_in_batches(world, db_session):
    _, _, maps = world
    now = datetime(2026, 9, 1, 12, tzinfo=UTC)
    ages = [timedelta(days=d) for d in (1, 89, 90) for _ in range(2)] + [
        timedelta(days=90, seconds=1),
        timedelta(days=91),
        timedelta(days=400),
    ]
    for age in ages:
        db_session.add(
            StockChange(
                product_map_id=maps[0].id,
                before=1,
                after=2,
                source=StockSource.HOURLY,
                at=now - age,
            )
        )
    db_session.commit()
    assert history.prune(now=now, batch=2) == 3
    kept = db_session.scalars(select(StockChange.at).order_by(StockChange.at)).all()
    assert len(kept) == 6 and min(kept) == now - timedelta(days=90)
    assert history.prune(now=now) == 0


def test_the_history_gives_the_level_at_each_days_end(world, db_session):
    _, _, maps = world
    now = datetime(2026, 9, 10, 15, tzinfo=UTC)
    for at, before, after in (
        (now - timedelta(days=40), 0, 12),  # before the window: its start level
        (now - timedelta(days=3, hours=2), 12, 9),
        (now - timedelta(days=3, hours=1), 9, 7),
        (now - timedelta(hours=1), 7, 3),
    ):
        db_session.add(
            StockChange(
                product_map_id=maps[0].id,
                before=before,
                after=after,
                source=StockSource.WEBHOOK,
                at=at,
            )
        )
    db_session.commit()
    days = history.stock_per_day(maps[0].id, 3, ZoneInfo("UTC"), now=now)
    assert len(days) == 30 and days[-1].day == now.date()
    assert [(d.level, d.changes) for d in days[-5:]] == [
        (12, 0),
        (7, 2),
        (7, 0),
        (7, 0),
        (3, 1),
    ]
    assert days[0].level == 12
    untouched = history.stock_per_day(maps[1].id, 5, ZoneInfo("UTC"), now=now)
    assert {d.level for d in untouched} == {5}
    # Imported three days ago: the days before it had no retail stock to draw.
    new = history.stock_per_day(
        maps[1].id, 5, ZoneInfo("UTC"), since=now - timedelta(days=2, hours=1), now=now
    )
    assert [d.day for d in new] == [now.date() - timedelta(days=n) for n in (2, 1, 0)]
    chart = charts.stock_history_chart(new)
    assert chart.period == "Last 3 days (since it was imported)"
    assert charts.stock_history_chart(days).period == "Last 30 days"
    today = history.stock_per_day(maps[1].id, 5, ZoneInfo("UTC"), since=now, now=now)
    assert len(today) == 1 and charts.stock_history_chart(today).summary.startswith(
        "In the last 1 day PowerPact"
    )


def test_low_stock_lists_variants_at_or_under_the_threshold_with_their_trend(world, db_session):
    retail, partner, maps = world
    bob = PartnerStoreFactory(shop_domain="bob-beans.myshopify.com", name=None)
    bob_map = ProductMapFactory(partner=bob, retail_available=0, product_title="Bob Blend")
    ProductMapFactory(partner=bob, retail_available=None)  # not synced yet
    ProductMapFactory(partner=bob, retail_available=1, partner_variant_missing=True)
    partner.low_stock_threshold = 4
    maps[0].retail_available, maps[1].retail_available, maps[2].retail_available = 4, 5, 1
    db_session.add_all(
        [
            StockChange(
                product_map_id=maps[2].id,
                before=9,
                after=6,
                source=StockSource.HOURLY,
                at=utcnow() - timedelta(days=5),
            ),
            StockChange(
                product_map_id=maps[2].id,
                before=6,
                after=1,
                source=StockSource.WEBHOOK,
                at=utcnow() - timedelta(days=1),
            ),
            StockChange(  # older than the trend's 7 days
                product_map_id=maps[0].id,
                before=20,
                after=4,
                source=StockSource.HOURLY,
                at=utcnow() - timedelta(days=8),
            ),
        ]
    )
    db_session.commit()

    found = low_stock_variants(retail.id)

    assert found == [
        LowStockVariant(
            partner_name="bob-beans",
            product_title="Bob Blend",
            variant_title="",
            sku=bob_map.bubbly_sku,
            retail_available=0,
            threshold=5,
            trend=0,
            product_map_id=bob_map.id,
        ),
        LowStockVariant(
            partner_name="Alice Roasters",
            product_title="House Blend",
            variant_title="1kg / Whole bean",
            sku=maps[2].bubbly_sku,
            retail_available=1,
            threshold=4,
            trend=-8,
            product_map_id=maps[2].id,
        ),
        LowStockVariant(
            partner_name="Alice Roasters",
            product_title="House Blend",
            variant_title="250g / Whole bean",
            sku=maps[0].bubbly_sku,
            retail_available=4,
            threshold=4,
            trend=0,
            product_map_id=maps[0].id,
        ),
    ]
    assert low_stock_variants(retail.id + 1000) == [], "another retail store has none"


def test_the_low_stock_list_is_one_query(world):
    retail_id = world[0].id
    with count_queries() as statements:
        low_stock_variants(retail_id)
    assert len(statements) == 1, statements


def test_the_history_is_kept_for_the_time_zone_aware_moment_written(shopify, world, db_session):
    _, _, maps = world
    doubles(shopify, maps, [9, 9, 9], [0, 0, 0])
    moment = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        sync_partner_inventory(PARTNER)
    db_session.expire_all()
    ats = db_session.scalars(select(StockChange.at)).all()
    assert ats == [moment] * 3 and all(at.tzinfo is not None for at in ats)


def test_the_stock_buffer_command_sets_the_buffer_and_resyncs(app, shopify, world, db_session):
    """The demo gives Harbor Bean Co. its buffer of 2 this way."""
    _, partner_row, maps = world
    _, retail = doubles(shopify, maps, [5, 5, 1], [3, 3, 0])
    result = app.test_cli_runner().invoke(args=["stock-buffer", PARTNER, "4"])
    assert result.exit_code == 0, result.output
    assert f"{PARTNER}: safety buffer 4" in result.output
    assert partner_row.safety_buffer == 4
    assert retail_of(retail, maps) == [1, 1, 0]
    change = db_session.scalars(select(PartnerSettingsChange)).one()
    assert change.changes == {"safety_buffer": {"from": 2, "to": 4}}
    same = app.test_cli_runner().invoke(args=["stock-buffer", PARTNER, "4"])
    assert "(unchanged)" in same.output
    assert shopify.count("InventorySetQuantities") == 1
    unknown = app.test_cli_runner().invoke(args=["stock-buffer", "nobody.myshopify.com", "1"])
    assert unknown.exit_code != 0 and "no partner nobody.myshopify.com" in unknown.output
    negative = app.test_cli_runner().invoke(args=["stock-buffer", PARTNER, "-1"])
    assert negative.exit_code != 0


def test_the_demo_gives_one_roaster_a_buffer_of_2(app, monkeypatch, db_session):
    """The demo runs ``stock-buffer`` on Harbor Bean Co.; run here on the tests' database."""
    from powerpact import demo

    harbor = PartnerStoreFactory(shop_domain="harbor-bean-co.myshopify.com")
    db_session.commit()
    commands = []
    monkeypatch.setattr(demo.subprocess, "run", lambda command, **_: commands.append(command))
    demo.give_demo_buffer(["flask", "--app", "wsgi"], {})
    [command] = commands
    assert command[:3] == ["flask", "--app", "wsgi"]
    result = app.test_cli_runner().invoke(args=command[3:])
    assert result.exit_code == 0, result.output
    assert harbor.safety_buffer == 2


def test_the_nightly_task_prunes_the_history(world, db_session):
    _, _, maps = world
    for age in (timedelta(days=1), timedelta(days=120)):
        db_session.add(
            StockChange(
                product_map_id=maps[0].id,
                before=0,
                after=1,
                source=StockSource.SYNC_NOW,
                at=utcnow() - age,
            )
        )
    db_session.commit()
    assert prune_stock_history.call_local() == 1
    assert len(db_session.scalars(select(StockChange)).all()) == 1


def test_the_low_stock_query_reads_by_its_indexes(world, db_session):
    """Over 5,000 well-stocked variants and their history, analyzed as autovacuum would,
    PostgreSQL finds the partner's few low ones and each one's trend through the indexes
    made for them, not by scanning."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from powerpact.inventory.low_stock import low_stock_query

    retail, partner, maps = world
    db_session.execute(
        text(
            """
            INSERT INTO product_maps (partner_shop_domain, partner_product_id, partner_variant_id,
                partner_price, bubbly_product_id, bubbly_variant_id, partner_variant_missing,
                retail_available, created_at, updated_at)
            SELECT :partner, 'gid://shopify/Product/9' || n, 'gid://shopify/ProductVariant/9' || n,
                10, 'gid://shopify/Product/8' || n, 'gid://shopify/ProductVariant/8' || n, false,
                50 + n % 100, now(), now()
            FROM generate_series(1, 5000) AS n
            """
        ),
        {"partner": partner.shop_domain},
    )
    db_session.execute(
        text(
            """
            INSERT INTO stock_changes (product_map_id, before, after, source, at)
            SELECT id, retail_available + 1, retail_available, 'hourly', now() - interval '1 day'
            FROM product_maps WHERE retail_available IS NOT NULL
            """
        )
    )
    maps[0].retail_available = 1
    db_session.flush()
    db_session.execute(text("ANALYZE partner_stores"))
    db_session.execute(text("ANALYZE product_maps"))
    db_session.execute(text("ANALYZE stock_changes"))
    query = low_stock_query(retail.id, utcnow() - timedelta(days=7))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = "\n".join(db_session.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "ix_product_maps_partner_retail_available" in plan, plan
    assert "ix_stock_changes_map_at" in plan, plan
    assert "Seq Scan on product_maps" not in plan and "Seq Scan on stock_changes" not in plan
