"""An order's own page (its back link keeps the desk's filters, and only those), the desk as
an index table, and what a partner's page says: names, times, the retailer, ship-to."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from powerpact.models import PartnerSettingsChange, ShipTo
from tests.factories import (
    OrderSyncEventFactory,
    OrderSyncFactory,
    OrderSyncLineFactory,
    PartnerBatchFactory,
    PartnerStoreFactory,
)
from tests.orders.test_pages import count_queries

BACK_LINK = re.compile(r'<a class="breadcrumb" href="([^"]*)" aria-label="Back to Orders">')


def text_of(page: str) -> str:
    """What the page's main area shows a reader: its text, without tags or attributes."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]))


def shown_at(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%b %d, %Y %H:%M %Z")


def back_link(page: str) -> str:
    found = BACK_LINK.search(page)
    assert found, "the page has no back link to the desk"
    return html.unescape(found.group(1))


@pytest.fixture
def bobs_order(personas):
    order = OrderSyncFactory(
        partner=personas.bob, failed=True, bubbly_order_name="#B-77", ship_to_city="Bobtown"
    )
    OrderSyncLineFactory(order_sync=order, title="Bob's Espresso 1kg")
    OrderSyncEventFactory(order_sync=order, kind="failed", message="Shopify answered 502.")
    return order


def test_an_order_is_a_page_of_its_own_with_its_heading_focused(as_shop, personas, bobs_order):
    answer = as_shop(f"/admin/orders/{bobs_order.id}", personas.retail, htmx=False)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "<html" in page and 'aria-label="PowerPact"' in page  # the page, with the admin nav
    assert '<h1 tabindex="-1" autofocus>#B-77</h1>' in page
    assert "for Bob" in text_of(page) and "myshopify" not in text_of(page)
    assert "Bob&#39;s Espresso 1kg" in page and "Shopify answered 502." in page
    assert back_link(page) == "/admin/orders?sort=date"
    boosted = as_shop(f"/admin/orders/{bobs_order.id}", personas.retail)  # htmx, as a link
    assert "<html" in boosted.get_data(as_text=True)


def test_an_order_page_refuses_anyone_but_the_retail_admins(client, as_shop, personas, bobs_order):
    url = f"/admin/orders/{bobs_order.id}"
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 401
    for partner in (personas.bob, personas.alice):  # its own order, another partner's
        refused = as_shop(url, partner)
        assert refused.status_code == 403
        assert "#B-77" not in refused.get_data(as_text=True)
    assert as_shop(url, personas.retail).status_code == 200
    assert as_shop(f"/admin/orders/{bobs_order.id + 1000}", personas.retail).status_code == 404


def test_the_back_link_carries_the_desks_filters_it_was_opened_from(as_shop, personas, bobs_order):
    query = f"partner={personas.bob.shop_domain}&status=failed&q=%23B-7&sort=status&page=2"
    page = as_shop(f"/admin/orders/{bobs_order.id}?{query}", personas.retail).get_data(as_text=True)
    back = urlsplit(back_link(page))
    assert back.path == "/admin/orders" and not back.netloc
    assert parse_qs(back.query) == {
        "partner": [personas.bob.shop_domain],
        "status": ["failed"],
        "q": ["#B-7"],
        "sort": ["status"],
        "page": ["2"],
    }


@pytest.mark.parametrize(
    "junk",
    [
        "partner=https://evil.example/&status=<script>&sort=evil&page=-1",
        "partner=//evil.example&next=https://evil.example",
        "partner=bob-beans.myshopify.com.evil.example",
        "partner=bob-beans.myshopify.com%0d%0aLocation:%20https://evil.example",
        "back=https://evil.example&redirect=//evil.example&page=%C2%B2",
    ],
)
def test_the_back_link_refuses_anything_but_the_desks_own_filters(
    as_shop, personas, bobs_order, junk
):
    answer = as_shop(f"/admin/orders/{bobs_order.id}?{junk}", personas.retail)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert back_link(page) == "/admin/orders?sort=date"
    assert "evil" not in page and "<script>" not in page


def test_the_desk_links_each_order_to_its_page_with_the_filters(as_shop, personas, bobs_order):
    desk = as_shop(
        f"/admin/orders?partner={personas.bob.shop_domain}&status=failed", personas.retail
    ).get_data(as_text=True)
    link = re.search(r'<a class="row-link" href="([^"]*)">#B-77</a>', desk)
    assert link, desk
    target = urlsplit(html.unescape(link.group(1)))
    assert target.path == f"/admin/orders/{bobs_order.id}"
    assert parse_qs(target.query)["partner"] == [personas.bob.shop_domain]
    assert parse_qs(target.query)["status"] == ["failed"]


def test_the_desk_names_partners_by_their_names_in_the_shops_time_zone(as_shop, personas):
    personas.retail.timezone = "Europe/Zurich"
    nameless = PartnerStoreFactory(shop_domain="carol-coffee.myshopify.com", name=None)
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    OrderSyncFactory(partner=personas.alice, bubbly_order_name="#A-1", created_at=moment)
    OrderSyncFactory(partner=nameless, bubbly_order_name="#C-1")
    desk = as_shop("/admin/orders", personas.retail, htmx=False).get_data(as_text=True)
    assert '<td data-label="Partner">Alice</td>' in desk
    assert '<td data-label="Partner">carol-coffee</td>' in desk
    assert '<option value="carol-coffee.myshopify.com" >carol-coffee</option>' in desk
    assert shown_at(moment, "Europe/Zurich") in desk
    assert ".myshopify.com</td>" not in desk and ".myshopify.com</option>" not in desk


def test_the_desk_offers_selection_and_retry_only_for_failed_orders(as_shop, personas):
    OrderSyncFactory(partner=personas.alice, synced=True, bubbly_order_name="#S-1")
    calm = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert "data-select-all" not in calm and "data-bulk-bar" not in calm
    assert ">Retry</button>" not in calm
    OrderSyncFactory(partner=personas.alice, failed=True, bubbly_order_name="#F-1")
    failing = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert "data-select-all" in failing and "data-bulk-bar hidden" in failing
    assert failing.count("data-select-row") == 1
    assert '<span class="badge badge-critical">Failed</span>' in failing
    assert '<span class="badge badge-info">Synced</span>' in failing


def test_a_filtered_empty_desk_offers_to_clear_the_filters(as_shop, personas):
    OrderSyncFactory(partner=personas.alice, synced=True)
    empty = as_shop("/admin/orders?q=nothing-like-it", personas.retail).get_data(as_text=True)
    assert "No orders match these filters" in empty
    assert '<a class="button" href="/admin/orders">Clear filters</a>' in empty
    personas_only = as_shop("/partner/orders?status=failed", personas.alice).get_data(as_text=True)
    assert '<a class="button" href="/partner/orders">Clear filters</a>' in personas_only


def test_an_empty_unfiltered_desk_has_nothing_to_clear(as_shop, personas):
    desk = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert "No orders yet" in desk and "Clear filters" not in desk


def test_the_partner_page_has_its_nav_names_its_retailer_and_says_where_orders_ship(
    as_shop, personas, db_session
):
    alice = personas.alice
    alice.timezone = "America/New_York"
    moment = datetime.now(UTC).replace(microsecond=0)
    OrderSyncFactory(partner=alice, bubbly_order_name="#TO-CUSTOMER", created_at=moment)
    batch = PartnerBatchFactory(partner=alice)
    OrderSyncFactory(partner=alice, bubbly_order_name="#IN-BATCH", batch_id=batch.id)
    db_session.flush()
    page = as_shop("/partner/orders", alice, htmx=False).get_data(as_text=True)
    nav = page.split('<nav class="nav" aria-label="PowerPact">', 1)[1].split("</nav>", 1)[0]
    assert 'aria-current="page">Orders</a>' in nav and "Supplying Bubbly" in nav
    assert "Orders Bubbly&#39;s customers placed for your products" in page

    def ship_to(name: str) -> str:
        row = page.split(f"<strong>{name}</strong>", 1)[1].split("</tr>", 1)[0]
        return re.search(r'<td data-label="Ship to">([^<]*)</td>', row).group(1)  # type: ignore[union-attr]

    assert ship_to("#TO-CUSTOMER") == "Portland, US"
    assert ship_to("#IN-BATCH") == "Fulfilment centre"
    assert shown_at(moment, "America/New_York") in page

    alice.ship_to = ShipTo.FULFILMENT_CENTRE
    db_session.flush()
    again = as_shop("/partner/orders", alice).get_data(as_text=True)
    assert "Portland" not in again and again.count("Fulfilment centre") == 2


def test_an_order_sent_on_its_own_shows_where_it_went_when_it_was_sent(
    as_shop, personas, db_session
):
    """The ship-to setting of the moment it was sent, from the settings history: an order
    sent to its customer before the partner switched to the fulfilment centre still says
    the customer's city."""
    alice = personas.alice
    switched = datetime.now(UTC) - timedelta(hours=1)
    before, after = switched - timedelta(hours=1), switched + timedelta(minutes=5)
    sent = {"partner": alice, "synced": True}
    OrderSyncFactory(
        **sent, bubbly_order_name="#BEFORE", last_attempted_at=before, ship_to_city="Salem"
    )
    OrderSyncFactory(
        **sent, bubbly_order_name="#AFTER", last_attempted_at=after, ship_to_city="Bend"
    )
    OrderSyncFactory(partner=alice, bubbly_order_name="#NOT-SENT", ship_to_city="Eugene")
    alice.ship_to = ShipTo.FULFILMENT_CENTRE
    db_session.add(
        PartnerSettingsChange(
            partner_shop_domain=alice.shop_domain,
            changed_by="an admin",
            changed_at=switched,
            changes={"ship_to": {"from": "customer", "to": "fulfilment_centre"}},
        )
    )
    db_session.flush()
    with count_queries() as statements:
        page = as_shop("/partner/orders", alice).get_data(as_text=True)
    assert "Salem, US" in page and "Bend" not in page and "Eugene" not in page
    assert page.count("Fulfilment centre") == 2
    assert sum("partner_settings_changes" in s for s in statements) == 1
