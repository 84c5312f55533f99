"""The margins over stored orders: which orders count, refunds netted, levels, weeks, and
the same figures on the demo's SQLite."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import flask_migrate
import pytest

from powerpact import create_app
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.margins.figures import Level, margin_report
from powerpact.models import CreditKind, OrderStatus, RetailPriceSource
from tests.conftest import settings_for
from tests.factories import PartnerStoreFactory
from tests.margins.conftest import credit, line, sold
from tests.orders.test_pages import count_queries

D = Decimal
UTC = ZoneInfo("UTC")


def shop_history(alice, bob):
    """Alice: two house blends with a 10% discount (at both prices), three decafs of which one
    was refunded after sending, a house blend whose send failed; and what does not count: a
    pending order, a cancelled one (with its cancellation credit), one of 40 days ago. Bob:
    a line whose retail price is not known and one estimated from the markup rule."""
    sold(alice, line(2, "10.00", "15.00", discount="2.00", retail_discount="3.00"))
    decaf = sold(alice, line(3, "4.00", "7.00", product="Decaf"), status=OrderStatus.FULFILLED)
    credit(decaf, "4.00")
    sold(alice, line(1, "10.00", "15.00"), status=OrderStatus.FAILED)
    sold(alice, line(5, "10.00", "15.00"), status=OrderStatus.PENDING)
    cancelled = sold(alice, line(4, "10.00", "15.00"), status=OrderStatus.CANCELLED)
    credit(cancelled, "40.00", CreditKind.CANCELLATION)
    sold(alice, line(1, "10.00", "12.00"), created_at=utcnow() - timedelta(days=40))
    sold(
        bob,
        line(1, "5.00", None, product="Mystery"),
        line(1, "8.00", "10.40", product="Kettle", source=RetailPriceSource.MARKUP),
        status=OrderStatus.READY_FOR_SYNC,
    )


@pytest.fixture
def history(db_session):
    alice = PartnerStoreFactory(name="Alice")
    bob = PartnerStoreFactory(name="Bob")
    shop_history(alice, bob)
    return alice, bob


def figures_by_name(report, level):
    return {row.name: row.figures for row in report.rows(level)}


def test_each_partners_margin_nets_its_refunds_and_leaves_out_what_was_not_sold(history):
    rows = figures_by_name(margin_report(30, UTC), Level.PARTNER)
    a = rows["Alice"]
    assert (a.units, a.revenue, a.cost, a.margin, a.margin_percent) == (
        5,
        D("56.00"),
        D("36.00"),
        D("20.00"),
        D("35.7"),
    )
    assert a.refunded == D("7.00")
    assert (a.unknown_units, a.estimated_units) == (0, 0)
    b = rows["Bob"]
    assert (b.units, b.unknown_units, b.estimated_units) == (2, 1, 1)
    assert (b.revenue, b.cost, b.margin, b.margin_percent) == (
        D("10.40"),
        D("8.00"),
        D("2.40"),
        D("23.1"),
    )


def test_ninety_days_count_the_order_of_forty_days_ago(history):
    alice = figures_by_name(margin_report(90, UTC), Level.PARTNER)["Alice"]
    assert (alice.units, alice.revenue, alice.cost) == (6, D("68.00"), D("46.00"))


def test_products_and_variants_split_a_partners_figures(history):
    report = margin_report(30, UTC)
    products = {(r.partner_name, r.product): r.figures for r in report.rows(Level.PRODUCT)}
    house, decaf = products["Alice", "House Blend"], products["Alice", "Decaf"]
    assert (house.units, house.revenue, house.cost) == (3, D("42.00"), D("28.00"))
    assert (decaf.units, decaf.revenue, decaf.cost, decaf.refunded) == (
        2,
        D("14.00"),
        D("8.00"),
        D("7.00"),
    )
    assert products["Bob", "Mystery"].all_unknown
    variants = [(r.partner_name, r.product, r.variant) for r in report.rows(Level.VARIANT)]
    assert ("Alice", "Decaf", "Decaf - 250g") in variants
    totals = report.totals()
    assert list(totals) == ["USD"]
    assert (totals["USD"].units, totals["USD"].margin) == (7, D("22.40"))


def test_each_partners_weeks_add_up_to_its_margin(history):
    report = margin_report(30, UTC)
    weeks = report.partner_weeks()
    assert {w.partner_name for w in weeks} == {"Alice", "Bob"}
    assert len(weeks) == 2 * len(report.period.week_starts)
    alice = sum((w.margin for w in weeks if w.partner_name == "Alice"), D(0))
    assert alice == D("20.00")


def test_a_refund_of_an_order_with_several_lines_nets_the_partner_exactly(db_session):
    alice = PartnerStoreFactory(name="Alice")
    order = sold(
        alice,
        line(1, "10.00", "15.00"),
        line(3, "6.67", "9.99", product="Decaf"),
    )
    credit(order, "10.00")
    credit(order, "5.01")
    report = margin_report(30, UTC)
    partner = figures_by_name(report, Level.PARTNER)["Alice"]
    assert partner.cost == D("10.00") + D("20.01") - D("15.01")
    products = figures_by_name(report, Level.PRODUCT)
    assert products["House Blend"].cost + products["Decaf"].cost == partner.cost
    assert partner.revenue == products["House Blend"].revenue + products["Decaf"].revenue


def test_one_partner_alone(history):
    alice, _bob = history
    rows = margin_report(30, UTC, partner=alice.shop_domain).rows(Level.PARTNER)
    assert [r.partner_name for r in rows] == ["Alice"]


def test_the_report_takes_three_queries_whatever_its_size(history):
    with count_queries() as statements:
        margin_report(90, UTC)
    assert len(statements) == 3, "\n\n".join(statements)


@pytest.fixture
def sqlite_app(migrated_app, tmp_path):
    """The app on an SQLite file, migrated for it, as the demo runs."""
    app = create_app({"TESTING": True}, settings=settings_for(f"sqlite:///{tmp_path / 'pp.db'}"))
    with app.app_context():
        flask_migrate.upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_demos_sqlite_gives_the_same_figures(sqlite_app):
    shop_history(PartnerStoreFactory(name="Alice"), PartnerStoreFactory(name="Bob"))
    rows = figures_by_name(margin_report(30, UTC), Level.PARTNER)
    alice, bob = rows["Alice"], rows["Bob"]
    assert (alice.units, alice.revenue, alice.cost, alice.refunded) == (
        5,
        D("56.00"),
        D("36.00"),
        D("7.00"),
    )
    assert (bob.revenue, bob.margin_percent) == (D("10.40"), D("23.1"))
