"""The statements' pages: who sees what, recording a payment (checked, confirmed in App
Bridge's modal, recorded once), the CSV, and the queries a page takes."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.models import StatementPayment
from tests.embedded_requests import post_as, toast_of
from tests.factories import OrderSyncFactory, PartnerCreditFactory, StatementPaymentFactory
from tests.orders.test_pages import count_queries

MARCH = "2026-03"


@pytest.fixture
def statements(personas, db_session):
    """Alice: two March orders (31.40 each) and a refund of 2.40; Bob: one, never shown to
    Alice."""
    personas.retail.timezone = "America/New_York"
    orders = [
        OrderSyncFactory(
            partner=personas.alice,
            synced=True,
            bubbly_order_name=f"#A-{n}",
            sent_at=datetime(2026, 3, 10 + n, 15, tzinfo=UTC),
        )
        for n in range(2)
    ]
    PartnerCreditFactory(
        order_sync=orders[0],
        occurred_at=datetime(2026, 3, 20, 15, tzinfo=UTC),
        lines=Decimal("2.40"),
        note="1 x House Blend refunded",
    )
    OrderSyncFactory(
        partner=personas.bob,
        synced=True,
        bubbly_order_name="#BOB-SECRET",
        sent_at=datetime(2026, 3, 12, 15, tzinfo=UTC),
    )
    StatementPaymentFactory(
        partner=personas.bob,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 4, 1),
        reference="BOB-PAYMENT-SECRET",
    )
    db_session.commit()  # into the test's transaction: a refused payment rolls back only itself
    return orders


def admin_url(personas, period=MARCH, partner=None):
    return f"/admin/partners/{(partner or personas.alice).id}/statements/{period}"


def test_the_admin_sees_every_partners_statement_of_a_month(as_shop, personas, statements):
    page = as_shop(f"/admin/statements?month={MARCH}", personas.retail, htmx=False)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "March 2026" in text
    alice_row = re.search(r"<tr>\s*<td data-label=\"Partner\">.*?Alice.*?</tr>", text, re.S)
    assert alice_row is not None
    assert "60.40" in alice_row[0] and "Open" in alice_row[0]
    assert "Bob" in text
    assert f'href="{admin_url(personas)}"' in text
    fragment = as_shop("/admin/statements?month=2026-02", personas.retail).get_data(as_text=True)
    assert "<html" not in fragment and "February 2026" in fragment


def test_a_bad_month_shows_the_current_one_and_says_why(as_shop, personas, statements):
    text = as_shop("/admin/statements?month=2026-13", personas.retail).get_data(as_text=True)
    assert "Pick a month, such as 2026-03." in text
    text = as_shop("/admin/statements?start=2026-03-10&end=2026-03-01", personas.retail).get_data(
        as_text=True
    )
    assert "the first on or before the last" in text
    text = as_shop("/admin/statements?start=2026-03-01&end=2026-03-10", personas.retail).get_data(
        as_text=True
    )
    assert "Mar 01, 2026 to Mar 10, 2026" in text


def test_the_admins_statement_lists_orders_credits_and_payments(as_shop, personas, statements):
    text = as_shop(admin_url(personas), personas.retail, htmx=False).get_data(as_text=True)
    assert "Alice" in text and "March 2026" in text
    assert "#A-0" in text and "#A-1" in text and "#BOB-SECRET" not in text
    assert "1 x House Blend refunded" in text
    assert "60.40 USD" in text  # the balance: 62.80 sent less 2.40
    assert 'name="amount" inputmode="decimal" autocomplete="off" value="60.40"' in text
    assert "Record payment" in text and "data-print" in text and "data-download" in text


def test_a_statement_page_takes_a_handful_of_queries_whatever_its_size(
    as_shop, personas, statements
):
    for n in range(40):
        OrderSyncFactory(
            partner=personas.alice, synced=True, sent_at=datetime(2026, 3, 5, 12, n, tzinfo=UTC)
        )
    with count_queries() as queries:
        response = as_shop(admin_url(personas), personas.retail, htmx=False)
    assert response.status_code == 200
    assert len(queries) <= 6, "\n\n".join(queries)


def test_the_partner_sees_its_own_statements_only(as_shop, personas, statements):
    listing = as_shop("/partner/statements", personas.alice, htmx=False).get_data(as_text=True)
    assert "March 2026" in listing and "60.40" in listing
    assert 'href="/partner/statements/2026-03"' in listing
    text = as_shop("/partner/statements/2026-03", personas.alice).get_data(as_text=True)
    assert "#A-0" in text and "#BOB-SECRET" not in text
    assert "Record payment" not in text and "Recorded by" not in text
    bobs = as_shop("/partner/statements/2026-03", personas.bob).get_data(as_text=True)
    assert "#BOB-SECRET" in bobs and "BOB-PAYMENT-SECRET" in bobs and "#A-0" not in bobs


def test_the_partner_opens_any_month_or_range_from_its_list(as_shop, personas, statements):
    response = as_shop("/partner/statements?month=2026-03", personas.alice)
    assert response.headers["HX-Redirect"] == "/partner/statements/2026-03"
    response = as_shop("/partner/statements?start=2026-03-01&end=2026-03-15", personas.alice)
    assert response.headers["HX-Redirect"] == "/partner/statements/2026-03-01..2026-03-15"
    refused = as_shop("/partner/statements?month=nope", personas.alice)
    assert refused.status_code == 200
    assert "Pick a month" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/statements",
        "/admin/partners/{alice}/statements/2026-03",
        "/admin/partners/{alice}/statements/2026-03.csv",
    ],
)
def test_a_partner_and_nobody_are_refused_the_admins_pages(
    as_shop, client, personas, statements, path
):
    url = path.format(alice=personas.alice.id)
    assert as_shop(url, personas.alice).status_code in (401, 403)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/partner/statements", "/partner/statements/2026-03", "/partner/statements/2026-03.csv"],
)
def test_nobody_is_refused_the_partners_pages(client, personas, statements, path):
    assert client.get(path, headers={"HX-Request": "true"}).status_code == 401


@pytest.mark.parametrize("period", ["2026-13", "nope", "2026-03-10..2026-03-01", "1999-01"])
def test_a_period_that_is_none_is_not_found(as_shop, personas, statements, period):
    assert as_shop(f"/partner/statements/{period}", personas.alice).status_code == 404
    assert as_shop(admin_url(personas, period), personas.retail).status_code == 404


def test_the_csv_is_the_statements(as_shop, personas, statements):
    response = as_shop(f"{admin_url(personas)}.csv", personas.retail)
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=powerpact-statement-alice-roasters-2026-03.csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["entry"] for r in rows] == ["order", "order", "credit"]
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("60.40")
    partner = as_shop("/partner/statements/2026-03.csv", personas.alice).get_data(as_text=True)
    assert partner == response.get_data(as_text=True)


def post_payment(client, session_token, personas, **fields):
    return post_as(
        client, session_token, personas.retail, f"{admin_url(personas)}/payments", fields
    )


def confirmation_of(response) -> dict[str, str]:
    """The hidden fields the modal's button posts."""
    modal = response.get_data(as_text=True).split("<ui-modal", 1)[1]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', modal))


def test_a_partial_payment_is_confirmed_then_recorded_once(
    client, session_token, personas, statements, db_session
):
    asked = post_payment(
        client, session_token, personas, paid_on="2026-04-03", amount="20", reference="TR-1"
    )
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert '<ui-modal id="confirm-payment" data-open>' in text
    assert 'title="Record a partial payment?"' in text
    assert "40.40 USD</strong> stays open" in text
    assert (
        db_session.scalars(
            select(StatementPayment).where(
                StatementPayment.partner_shop_domain == personas.alice.shop_domain
            )
        ).all()
        == []
    )

    fields = confirmation_of(asked)
    assert fields["amount"] == "20.00" and fields["confirmed"] == "yes"
    recorded = post_payment(client, session_token, personas, **fields)
    assert recorded.status_code == 200
    assert toast_of(recorded) == "Payment recorded. The statement is partly paid."
    page = recorded.get_data(as_text=True)
    assert 'id="statement"' in page and "Partly paid" in page and "TR-1" in page

    again = post_payment(client, session_token, personas, **fields)
    assert toast_of(again) == "That payment was already recorded."
    (payment,) = db_session.scalars(
        select(StatementPayment).where(
            StatementPayment.partner_shop_domain == personas.alice.shop_domain
        )
    ).all()
    assert (payment.amount, payment.paid_on, payment.reference) == (
        Decimal("20.00"),
        date(2026, 4, 3),
        "TR-1",
    )
    assert (payment.period_start, payment.period_end) == (date(2026, 3, 1), date(2026, 4, 1))
    assert payment.recorded_by.endswith(personas.retail.shop_domain)

    rest = post_payment(client, session_token, personas, paid_on="2026-04-04", amount="40.40")
    assert 'title="Mark the statement paid?"' in rest.get_data(as_text=True)
    paid = post_payment(client, session_token, personas, **confirmation_of(rest))
    assert toast_of(paid) == "Payment recorded. The statement is paid."


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"paid_on": "2026-04-03", "amount": "60.41"}, "Only 60.40 USD is open"),
        ({"paid_on": "2026-04-03", "amount": "0"}, "above zero"),
        ({"paid_on": "2026-04-03", "amount": "1.005"}, "Enter an amount in USD"),
        ({"paid_on": "2026-04-03", "amount": "-5"}, "Enter an amount in USD"),
        ({"paid_on": "2026-04-03", "amount": "1e3"}, "Enter an amount in USD"),
        ({"paid_on": "2026-02-30", "amount": "5"}, "Enter the day it was paid"),
        ({"paid_on": "2999-01-01", "amount": "5"}, "cannot be after today"),
        ({"paid_on": "2026-04-03", "amount": "5", "reference": "x" * 256}, "255 characters"),
    ],
)
def test_a_payment_that_does_not_fit_is_refused_with_the_reason(
    client, session_token, personas, statements, fields, error
):
    response = post_payment(client, session_token, personas, **fields)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert error in text and "<ui-modal" not in text
    assert 'aria-invalid="true"' in text


def test_a_confirmed_payment_is_checked_again_when_it_is_recorded(
    client, session_token, personas, statements, db_session
):
    """Another admin paid in between: the confirmed payment would pay more than is open."""
    asked = post_payment(client, session_token, personas, paid_on="2026-04-03", amount="60.40")
    StatementPaymentFactory(
        partner=personas.alice,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 4, 1),
        amount=Decimal("50.00"),
    )
    db_session.commit()
    refused = post_payment(client, session_token, personas, **confirmation_of(asked))
    assert toast_of(refused) == "The payment was not recorded: see the form."
    assert "Only 10.40 USD is open" in refused.get_data(as_text=True)
    forged = post_payment(
        client, session_token, personas, paid_on="2026-04-03", amount="1", confirmed="yes"
    )
    assert "was not confirmed" in forged.get_data(as_text=True)
    assert (
        db_session.scalar(
            select(StatementPayment.id).where(StatementPayment.amount == Decimal("1"))
        )
        is None
    )
