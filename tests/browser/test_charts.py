"""In Chromium: the admin home's charts and the partner's, their tables under "Show data"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus, OrderSync, RunStatus, SyncRun
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
RETAIL = "bubbly-retail.myshopify.com"
NORTH = "north-star-roasters.myshopify.com"
HARBOR = "harbor-bean-co.myshopify.com"


def a_month_of_orders() -> None:
    """Retail orders over 30 days, most split between the two roasters, a few failed; a
    week of stock syncs."""
    now = utcnow()
    for day in range(30):
        for n in range(day % 4 + 1):
            order_id = f"gid://shopify/Order/{day * 10 + n}"
            when = now - timedelta(days=day, hours=n)
            partners = (NORTH, HARBOR) if (day + n) % 3 else (NORTH,)
            for domain in partners:
                failed = domain == HARBOR and (day * 10 + n) % 11 == 0
                db.session.add(
                    OrderSync(
                        bubbly_order_id=order_id,
                        bubbly_order_name=f"#{1000 + day * 10 + n}",
                        partner_shop_domain=domain,
                        currency="USD",
                        created_at=when,
                        status=OrderStatus.FAILED if failed else OrderStatus.SYNCED,
                        last_order_failure_reason=(
                            FailureReason.INSUFFICIENT_INVENTORY if failed else None
                        ),
                    )
                )
    for hour in range(0, 7 * 24, 3):
        db.session.add(
            SyncRun(
                kind="inventory",
                partner_shop_domain=NORTH,
                status=RunStatus.PARTIAL if hour % 45 == 0 else RunStatus.SUCCEEDED,
                started_at=now - timedelta(hours=hour),
                finished_at=now - timedelta(hours=hour),
                checked=40,
                changed=(hour * 7) % 30,
                error_count=1 if hour % 45 == 0 else 0,
            )
        )
    db.session.commit()


def test_the_home_draws_its_charts_and_shows_their_figures_on_demand(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    a_month_of_orders()

    page.goto(f"{base}/dev/login/{RETAIL}")
    page.wait_for_load_state("networkidle")
    assert "/admin/" in page.url
    orders = page.locator("#chart-orders")
    chart = orders.get_by_role("img", name="Orders per day")
    assert chart.is_visible()
    assert chart.bounding_box()["height"] > 150
    assert orders.locator("svg rect").count() > 30
    assert "North Star Roasters" in orders.locator(".chart-legend").inner_text()
    for key in ("chart-failures", "chart-sync"):
        assert page.locator(f"#{key} svg[role=img]").first.is_visible()
    screenshot(page, "admin-home-charts")

    table = orders.get_by_role("table")
    assert not table.is_visible()
    orders.get_by_text("Show data").click()
    assert table.is_visible()
    assert table.get_by_role("columnheader", name="North Star Roasters").is_visible()
    assert table.get_by_role("row").count() == 31  # the heading and 30 days
    orders.scroll_into_view_if_needed()
    screenshot(page, "admin-home-charts-data")


def test_a_partner_sees_its_orders_per_day(live, page):
    harness, base = live
    for shop in (RETAIL, NORTH, HARBOR):
        harness.install(shop)
    a_month_of_orders()

    page.goto(f"{base}/dev/login/{NORTH}")
    page.wait_for_load_state("networkidle")
    assert "/partner/orders" in page.url
    card = page.locator("#chart-partner-orders")
    assert card.get_by_role("img", name="Orders per day").is_visible()
    card.get_by_text("Show data").click()
    assert card.get_by_role("table").is_visible()
    screenshot(page, "partner-orders-chart")
