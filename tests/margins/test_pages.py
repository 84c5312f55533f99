"""The margins page and its CSV: who may see them, the chart, the table's levels and order,
the CSV's content."""

import csv
import io
import re
from decimal import Decimal

import pytest

from powerpact.models import OrderStatus
from tests.margins.conftest import credit, line, sold
from tests.orders.test_pages import count_queries

D = Decimal


@pytest.fixture
def sales(personas):
    alice, bob = personas.alice, personas.bob
    sold(alice, line(2, "10.00", "15.00", discount="2.00", retail_discount="3.00"))
    decaf = sold(alice, line(3, "4.00", "7.00", product="Decaf"), status=OrderStatus.FULFILLED)
    credit(decaf, "4.00")
    sold(bob, line(4, "9.00", "10.00", product="Bob's Kettle"))
    sold(bob, line(1, "5.00", None, product="Mystery"))
    return personas


def table_rows(html):
    """Each body row of the margins table: its cells' text."""
    body = html.split('id="margin-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells])
    return rows


def test_only_the_retail_admins_see_the_margins(client, as_shop, sales):
    anonymous = client.get("/admin/margins")
    assert anonymous.status_code == 200  # the bounce page, which fetches a session token
    assert "chart-margins" not in anonymous.get_data(as_text=True)
    refused = as_shop("/admin/margins", sales.alice)
    assert refused.status_code == 403
    assert "Kettle" not in refused.get_data(as_text=True)
    assert as_shop("/admin/margins.csv", sales.alice).status_code == 403
    assert client.get("/admin/margins.csv").status_code in (200, 401)
    assert "Kettle" not in client.get("/admin/margins.csv").get_data(as_text=True)
    page = as_shop("/admin/margins", sales.retail, htmx=False).get_data(as_text=True)
    assert '<a href="/admin/margins" aria-current="page">Margins</a>' in page


def test_the_page_shows_each_partners_margin_highest_first_and_the_chart(as_shop, sales):
    page = as_shop("/admin/margins", sales.retail, htmx=False).get_data(as_text=True)
    assert table_rows(page) == [
        ["Alice", "4", "41.00", "26.00", "15.00", "36.6%", "7.00"],
        [
            "Bob 1 of 5 units: retail price not known",
            "5",
            "40.00",
            "36.00",
            "4.00",
            "10.0%",
            "0.00",
        ],
    ]
    assert "Total" in page and "19.00" in page
    chart = page.split('id="chart-margins"', 1)[1].split("</section>", 1)[0]
    assert 'role="img"' in chart and "Gross margin per week" in chart
    assert "Show data" in chart
    assert "gross margin of 19.00 (USD): Alice 15.00, Bob 4.00" in chart


def test_sorting_by_a_column_turns_round_on_a_second_click(as_shop, sales):
    fragment = as_shop("/admin/margins?sort=margin&dir=asc", sales.retail).get_data(as_text=True)
    assert "<html" not in fragment
    assert [r[0].split()[0] for r in table_rows(fragment)] == ["Bob", "Alice"]
    assert 'aria-sort="ascending"' in fragment
    assert 'name="sort" value="margin" form="margin-filters"' in fragment
    by_units = as_shop("/admin/margins?sort=units", sales.retail).get_data(as_text=True)
    assert [r[0].split()[0] for r in table_rows(by_units)] == ["Bob", "Alice"]
    assert 'hx-get="/admin/margins?sort=units&amp;dir=asc"' in by_units


def test_a_partner_opens_into_its_products_and_variants(as_shop, sales):
    page = as_shop("/admin/margins", sales.retail).get_data(as_text=True)
    products_url = f"/admin/margins?partner={sales.alice.shop_domain}&amp;level=product"
    assert f'href="{products_url}"' in page
    products = as_shop(products_url.replace("&amp;", "&"), sales.retail).get_data(as_text=True)
    assert [r[:2] for r in table_rows(products)] == [["House Blend", "Alice"], ["Decaf", "Alice"]]
    variants = as_shop(
        f"/admin/margins?partner={sales.alice.shop_domain}&level=variant&sort=name",
        sales.retail,
    ).get_data(as_text=True)
    assert [r[0] for r in table_rows(variants)] == ["Decaf - 250g", "House Blend - 250g"]


def test_a_period_without_sales_says_so(as_shop, personas):
    page = as_shop("/admin/margins?days=90", personas.retail).get_data(as_text=True)
    assert "No partner's product was sold in this period." in page
    assert "No margin to draw" in page and "<svg" not in page


def test_the_csv_holds_the_table_in_its_order_to_the_cent(as_shop, sales):
    response = as_shop("/admin/margins.csv?level=product&sort=margin&dir=asc", sales.retail)
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r"attachment; filename=powerpact-margins-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv",
        disposition,
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:10] == [
        "Partner",
        "Product",
        "Variant",
        "Currency",
        "Units sold",
        "Retail revenue",
        "Partner cost",
        "Gross margin",
        "Margin %",
        "Refunded",
    ]
    unknown = "not known"
    assert [row[:4] for row in rows[1:]] == [
        ["Bob", "Mystery", "", "USD"],
        ["Bob", "Bob's Kettle", "", "USD"],
        ["Alice", "Decaf", "", "USD"],
        ["Alice", "House Blend", "", "USD"],
    ]
    assert [row[4:] for row in rows[1:]] == [
        ["1", unknown, unknown, unknown, "", "0.00", "1", "0"],
        ["4", "40.00", "36.00", "4.00", "10.0", "0.00", "0", "0"],
        ["2", "14.00", "8.00", "6.00", "42.9", "7.00", "0", "0"],
        ["2", "27.00", "18.00", "9.00", "33.3", "0.00", "0", "0"],
    ]


def test_a_product_title_that_looks_like_a_formula_is_text_in_the_csv(as_shop, personas):
    sold(personas.alice, line(1, "1.00", "2.00", product="=HYPERLINK(1)"))
    response = as_shop("/admin/margins.csv?level=product", personas.retail)
    assert "'=HYPERLINK(1)" in response.get_data(as_text=True)


@pytest.mark.parametrize("orders", [1, 40])
def test_the_page_takes_few_queries_whatever_its_size(as_shop, personas, orders):
    for n in range(orders):
        sold(personas.alice, line(1, "10.00", "15.00", product=f"Blend {n}"))
    with count_queries() as statements:
        response = as_shop("/admin/margins?level=variant", personas.retail, htmx=False)
    assert response.status_code == 200
    assert len(statements) <= 6, "\n\n".join(statements)
