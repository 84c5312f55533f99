"""The partner's order table and the admin's desk: filters, paging, retry, CSV, few queries."""

import contextlib
import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus
from tests.embedded_requests import toast_of
from tests.factories import OrderSyncFactory, OrderSyncLineFactory


@contextlib.contextmanager
def count_queries():
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    target = engine.engine if hasattr(engine, "engine") else engine
    event.listen(target, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", record)


def orders_for(partner, count, **kwargs):
    orders = OrderSyncFactory.create_batch(count, partner=partner, **kwargs)
    for order in orders:
        OrderSyncLineFactory(order_sync=order)
        OrderSyncLineFactory(order_sync=order, quantity=1, title="Decaf 250g")
    return orders


@pytest.mark.parametrize("rows", [1, 60])
def test_the_partner_table_takes_at_most_five_queries_whatever_its_size(as_shop, personas, rows):
    """Five once the process knows the retail store's name: the first page of a process
    (and one every ``RETAIL_NAME_SECONDS``) reads it too, a sixth."""
    orders_for(personas.alice, rows)
    as_shop("/partner/orders", personas.alice, htmx=False)
    with count_queries() as statements:
        response = as_shop("/partner/orders", personas.alice, htmx=False)
    assert response.status_code == 200
    assert len(statements) <= 5, "\n\n".join(statements)


@pytest.mark.parametrize("rows", [1, 60])
def test_the_admin_desk_takes_at_most_five_queries_whatever_its_size(as_shop, personas, rows):
    orders_for(personas.alice, rows)
    with count_queries() as statements:
        response = as_shop("/admin/orders", personas.retail, htmx=False)
    assert response.status_code == 200
    assert len(statements) <= 5, "\n\n".join(statements)


def test_partner_sees_its_orders_pages_filters_and_searches(as_shop, personas):
    orders_for(personas.alice, 30)
    failed = orders_for(personas.alice, 1, failed=True, bubbly_order_name="#7777")[0]
    orders_for(personas.bob, 3, bubbly_order_name="#BOB")
    page = as_shop("/partner/orders", personas.alice, htmx=False).get_data(as_text=True)
    assert "Page 1 of 2" in page and "31 orders" in page
    assert "#BOB" not in page
    assert "2 \u00d7 House Blend" in page
    fragment = as_shop("/partner/orders?status=failed", personas.alice).get_data(as_text=True)
    assert "#7777" in fragment and "<html" not in fragment
    assert "Shopify did not answer" in fragment
    assert f'hx-post="/partner/orders/{failed.id}/retry"' in fragment
    assert "#7777" in as_shop("/partner/orders?q=7777", personas.alice).get_data(as_text=True)
    empty = as_shop("/partner/orders?q=nothing", personas.alice).get_data(as_text=True)
    assert "No orders match" in empty


def test_partner_retry_flips_the_row_and_cannot_touch_another_partner(
    client, session_token, personas, db_session
):
    mine = orders_for(personas.alice, 1, failed=True)[0]
    theirs = orders_for(personas.bob, 1, failed=True)[0]
    headers = {"Authorization": f"Bearer {session_token(personas.alice)}", "HX-Request": "true"}
    row = client.post(f"/partner/orders/{mine.id}/retry", headers=headers)
    assert row.status_code == 200
    assert "Ready for sync" in row.get_data(as_text=True)
    assert mine.status == OrderStatus.READY_FOR_SYNC
    assert client.post(f"/partner/orders/{theirs.id}/retry", headers=headers).status_code == 404
    db_session.refresh(theirs)
    assert theirs.status == OrderStatus.FAILED


def test_retry_of_a_partner_needing_reauthorization_says_so(
    client, session_token, personas, db_session
):
    personas.alice.reauthorization_required = True
    order = orders_for(
        personas.alice,
        1,
        failed=True,
        last_order_failure_reason=FailureReason.REAUTHORIZATION_REQUIRED,
    )[0]
    response = as_json = client.post(
        f"/partner/orders/{order.id}/retry",
        headers={"Authorization": f"Bearer {session_token(personas.alice)}", "HX-Request": "true"},
    )
    assert "re-authorize PowerPact first" in toast_of(as_json)
    assert response.status_code == 200
    assert order.status == OrderStatus.FAILED


def test_csv_export_follows_the_filter(as_shop, personas):
    orders_for(personas.alice, 2, bubbly_order_name="#100")
    orders_for(personas.alice, 1, failed=True, bubbly_order_name="#200")
    response = as_shop("/partner/orders.csv?status=failed", personas.alice)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["retail_order", "created_at"]
    assert len(rows) == 2 and rows[1][0] == "#200"


def test_admin_desk_filters_by_partner_counts_and_bulk_retries(
    client, session_token, as_shop, personas
):
    alice_failed = orders_for(personas.alice, 2, failed=True)
    orders_for(personas.bob, 1)
    page = as_shop("/admin/orders", personas.retail, htmx=False).get_data(as_text=True)
    assert "data-bulk-bar hidden" in page and ">Retry</button>" in page
    bob_only = as_shop(
        f"/admin/orders?partner={personas.bob.shop_domain}", personas.retail
    ).get_data(as_text=True)
    assert '<td data-label="Partner">Bob</td>' in bob_only
    assert '<td data-label="Partner">Alice</td>' not in bob_only
    headers = {"Authorization": f"Bearer {session_token(personas.retail)}", "HX-Request": "true"}
    result = client.post(
        "/admin/orders/retry", data={"order_id": [str(o.id) for o in alice_failed]}, headers=headers
    )
    assert "2 order(s) will be sent again shortly." in toast_of(result)
    assert all(o.status == OrderStatus.READY_FOR_SYNC for o in alice_failed)


def test_admin_order_page_shows_the_timeline(as_shop, personas):
    from tests.factories import OrderSyncEventFactory

    order = orders_for(personas.alice, 1, synced=True)[0]
    OrderSyncEventFactory(order_sync=order, kind="sent", message="Created partner order #P1.")
    panel = as_shop(f"/admin/orders/{order.id}", personas.retail).get_data(as_text=True)
    assert "Created partner order #P1." in panel
    assert "Partner order" in panel
    assert as_shop("/admin/orders/999999", personas.retail).status_code == 404


def test_partners_cannot_open_the_desk(as_shop, personas):
    assert as_shop("/admin/orders", personas.alice).status_code == 403


def test_the_desk_words_failures_for_the_retail_admins_and_shows_why_an_order_is_held(
    as_shop, personas
):
    orders_for(
        personas.alice,
        1,
        failed=True,
        last_order_failure_reason=FailureReason.INSUFFICIENT_INVENTORY,
        bubbly_order_name="#5001",
    )
    orders_for(
        personas.alice,
        1,
        status=OrderStatus.PENDING,
        hold_reason="Held: the order's fraud risk is under review.",
        bubbly_order_name="#5002",
    )
    desk = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert "The partner&#39;s store refused the order for lack of stock." in desk
    assert "Your store" not in desk
    assert "Held: the order&#39;s fraud risk is under review." in desk
    partner_page = as_shop("/partner/orders", personas.alice).get_data(as_text=True)
    assert "Your store refused the order for lack of stock." in partner_page


def test_the_order_page_shows_how_the_retail_order_was_shared(as_shop, personas):
    from decimal import Decimal

    from tests.factories import OrderSyncFactory

    common = {"bubbly_order_id": "gid://shopify/Order/42", "bubbly_order_name": "#42"}
    totals = {"order_shipping": Decimal("7.50"), "order_tax": Decimal("7.16")}
    mine = OrderSyncFactory(
        partner=personas.alice,
        shipping_share=Decimal("2.74"),
        tax_share=Decimal("2.62"),
        partner_order_name="#P1",
        **common,
        **totals,
    )
    OrderSyncFactory(
        partner=personas.bob, shipping_share=Decimal("3.48"), tax_share=Decimal("3.32"), **common
    )
    page = as_shop(f"/admin/orders/{mine.id}", personas.retail).get_data(as_text=True)
    panel = re.sub(r"<(t[dh])\b[^>]*>", r"<\1>", page)  # the cells without their labels
    assert "How #42's shipping and tax were shared" in panel
    retail_name = personas.retail.name or personas.retail.shop_domain
    assert f"<td>{retail_name} (its own lines)</td><td>—</td><td>1.28</td><td>1.22</td>" in panel
    assert "<th>7.50</th><th>7.16</th>" in panel
    assert "not sent yet" in panel


def test_the_admin_releases_an_order_held_for_investigation_and_the_timeline_says_who(
    client, session_token, as_shop, personas, shopify, db_session
):
    from decimal import Decimal

    from sqlalchemy import select

    from powerpact.models import Cadence, OrderSync, OrderSyncEvent
    from powerpact.orders.capture import parse_order, record_order
    from tests.factories import ProductMapFactory
    from tests.orders.test_capture import line, order_node

    for partner in (personas.alice, personas.bob):
        partner.cadence = Cadence.DAILY  # released orders wait for the batch: no send here
    maps = [
        ProductMapFactory(partner=p, partner_price=Decimal("8.00"))
        for p in (personas.alice, personas.bob)
    ]
    facts = [{"description": "Card declined twice", "sentiment": "NEGATIVE"}]
    node = order_node(
        [line(1, maps[0].bubbly_variant_id, "10"), line(2, maps[1].bubbly_variant_id, "12")],
        risk="INVESTIGATE",
        assessments=[{"riskLevel": "MEDIUM", "facts": facts}],
    )
    shopify.on(personas.retail.shop_domain, "OrderForSync", lambda v: {"order": node})
    held = record_order(parse_order(node), risk_hold=timedelta(minutes=2))
    db_session.commit()
    assert {o.status for o in held} == {OrderStatus.PENDING}

    desk = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert "(Card declined twice)" in desk
    assert desk.count(">Release</button>") == 2
    token = session_token(personas.retail, user_id="8001")
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    answer = client.post(f"/admin/orders/{held[0].id}/release", headers=headers)
    assert "Released 2 partner order(s)" in toast_of(answer)

    db_session.expire_all()
    orders = db_session.scalars(select(OrderSync).order_by(OrderSync.id)).all()
    assert {o.status for o in orders} == {OrderStatus.READY_FOR_SYNC}
    who = f"staff member 8001 of {personas.retail.shop_domain}"
    assert {o.risk_released_by for o in orders} == {who}
    released = db_session.scalars(
        select(OrderSyncEvent).where(OrderSyncEvent.kind == "risk_released")
    ).all()
    assert len(released) == 2 and all(who in e.message for e in released)
    again = client.post(f"/admin/orders/{held[0].id}/release", headers=headers)
    assert "Only an order held for its fraud risk" in toast_of(again)
    page = as_shop("/admin/orders", personas.retail).get_data(as_text=True)
    assert ">Release</button>" not in page


def test_an_order_that_is_not_held_for_risk_cannot_be_released(client, session_token, personas):
    order = orders_for(
        personas.alice, 1, status=OrderStatus.PENDING, hold_reason="Waiting for payment."
    )[0]
    headers = {"Authorization": f"Bearer {session_token(personas.retail)}", "HX-Request": "true"}
    answer = client.post(f"/admin/orders/{order.id}/release", headers=headers)
    assert "Only an order held for its fraud risk" in toast_of(answer)
    assert order.risk_released_at is None


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63), "²", "١٢٣", "-3"])
def test_a_page_number_out_of_range_shows_the_first_page(as_shop, personas, page):
    orders_for(personas.alice, 1, bubbly_order_name="#4242")
    for url, shop in (("/partner/orders", personas.alice), ("/admin/orders", personas.retail)):
        response = as_shop(f"{url}?page={page}", shop)
        assert response.status_code == 200
        assert "#4242" in response.get_data(as_text=True)


@pytest.mark.parametrize("order_id", ["99999999999999999999", str(2**31), "²", "١٢٣", "x", ""])
def test_the_desk_refuses_a_retry_of_something_that_is_no_order_id(
    client, session_token, personas, order_id
):
    failed = orders_for(personas.alice, 1, failed=True)[0]
    headers = {"Authorization": f"Bearer {session_token(personas.retail)}", "HX-Request": "true"}
    response = client.post(
        "/admin/orders/retry", data={"order_id": [str(failed.id), order_id]}, headers=headers
    )
    assert response.status_code == 400
    assert "not an order" in response.get_data(as_text=True)
    assert failed.status == OrderStatus.FAILED


def test_the_csv_export_falls_back_to_utc_for_a_shop_time_zone_that_is_not_iana(as_shop, personas):
    """Shopify's ``ianaTimezone`` is stored as given; a name zoneinfo does not know once
    made the export fail."""
    personas.alice.timezone = "Mars/Olympus"
    orders_for(personas.alice, 1, bubbly_order_name="#300")
    response = as_shop("/partner/orders.csv", personas.alice)
    assert response.status_code == 200
    row = response.get_data(as_text=True).strip().splitlines()[1]
    assert row.startswith('"#300",') and "+00:00" in row


def test_after_a_bulk_retry_the_desks_pager_still_leads_to_the_desk(
    client, session_token, personas
):
    """The pager once built its links from the current endpoint: after a retry (a POST)
    Next led to ``/admin/orders/retry?page=2``, which answers only POST."""
    failed = orders_for(personas.alice, 30, failed=True)
    headers = {"Authorization": f"Bearer {session_token(personas.retail)}", "HX-Request": "true"}
    answer = client.post(
        "/admin/orders/retry", data={"order_id": [str(failed[0].id)]}, headers=headers
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Next" in page
    assert 'href="/admin/orders?sort=date&amp;page=2"' in page
    assert "/admin/orders/retry?" not in page


def test_back_onto_an_uncached_page_gets_the_whole_page(client, session_token, personas):
    """htmx's history restore sends HX-Request too, and swaps the answer in for the body."""
    orders_for(personas.alice, 1, failed=True, bubbly_order_name="#7777")
    headers = {
        "Authorization": f"Bearer {session_token(personas.alice)}",
        "HX-Request": "true",
        "HX-History-Restore-Request": "true",
    }
    restored = client.get("/partner/orders?status=failed", headers=headers)
    assert restored.status_code == 200
    body = restored.get_data(as_text=True)
    assert "<html" in body and 'id="order-filters"' in body and "#7777" in body


def test_the_csv_export_holds_every_page_of_the_filtered_table(as_shop, personas):
    """It once held the table's first page only (25 rows)."""
    orders_for(personas.alice, 30, failed=True)
    orders_for(personas.alice, 2)
    response = as_shop("/partner/orders.csv?status=failed", personas.alice)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1 + 30


def test_the_partner_page_charts_its_own_orders_per_day_in_its_zone(as_shop, personas):
    personas.alice.timezone = "Asia/Tokyo"
    now = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)  # noon in Tokyo
    late = datetime(2026, 7, 14, 15, 30, tzinfo=UTC)  # 00:30 on July 15 in Tokyo
    OrderSyncFactory.create_batch(2, partner=personas.alice, created_at=late)
    OrderSyncFactory.create_batch(5, partner=personas.bob, created_at=late)
    with time_machine.travel(now, tick=False):
        page = as_shop("/partner/orders", personas.alice, htmx=False).get_data(as_text=True)
        fragment = as_shop("/partner/orders?status=failed", personas.alice).get_data(as_text=True)

    start = page.index('id="chart-partner-orders"')
    card = page[start : page.index("</section>", start)]
    assert 'role="img"' in card and "<summary>Show data</summary>" in card
    assert "In the last 30 days you received 2 orders" in card
    cells = re.findall(r'<th scope="row">([^<]*)</th><td class="numeric">(\d+)</td>', card)
    assert len(cells) == 30 and cells[-1] == ("Jul 15", "2")
    assert sum(int(count) for _, count in cells) == 2  # Bob's five are not Alice's
    assert "chart-partner-orders" not in fragment  # a filtered table leaves the chart be


def test_a_partner_without_orders_sees_the_charts_empty_state(as_shop, personas):
    page = as_shop("/partner/orders", personas.alice, htmx=False).get_data(as_text=True)
    assert "No orders in the last 30 days." in page and "<svg xmlns" not in page


def test_only_a_partner_sees_its_orders_chart(client, as_shop, personas):
    OrderSyncFactory(partner=personas.alice)
    anonymous = client.get("/partner/orders")
    assert anonymous.status_code == 200
    assert "chart-partner-orders" not in anonymous.get_data(as_text=True)
    refused = as_shop("/partner/orders", personas.retail, htmx=False)
    assert refused.status_code == 403
    assert "chart-partner-orders" not in refused.get_data(as_text=True)
