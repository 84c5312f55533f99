"""Against the sandbox: install through the real redirects, then import with markup."""

from decimal import Decimal

from sqlalchemy import func, select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule, Rounding
from powerpact.extensions import db
from powerpact.models import PartnerStore, ProductMap, RetailStore, RunStatus

RETAIL = "bubbly-retail.myshopify.com"
PARTNER = "north-star-roasters.myshopify.com"


def test_partner_and_retail_install_and_webhooks_exist_in_the_sandbox(harness):
    harness.install(RETAIL)
    harness.install(PARTNER)
    retail = db.session.scalars(select(RetailStore)).one()
    partner = db.session.scalars(select(PartnerStore)).one()
    assert retail.name == "Bubbly" and retail.location_id
    assert partner.name == "North Star Roasters" and partner.timezone == "America/Los_Angeles"
    assert partner.products_available == 24
    topics = {s["topic"] for s in harness.shop(PARTNER)["subscriptions"]}
    assert {
        "PRODUCTS_UPDATE",
        "INVENTORY_LEVELS_UPDATE",
        "FULFILLMENTS_CREATE",
        "APP_UNINSTALLED",
    } <= topics
    assert "ORDERS_CREATE" in {s["topic"] for s in harness.shop(RETAIL)["subscriptions"]}


def test_reinstall_after_uninstall_reactivates_the_partner(harness):
    harness.install(RETAIL)
    harness.install(PARTNER)
    harness.control("POST", f"/shops/{PARTNER}/uninstall")
    harness.settle()
    db.session.expire_all()
    assert db.session.scalars(select(PartnerStore)).one().status == "disabled"
    harness.install(PARTNER)
    db.session.expire_all()
    assert db.session.scalars(select(PartnerStore)).one().status == "active"


def test_importing_products_creates_them_once_with_prices_and_skus(harness):
    harness.install(RETAIL)
    harness.install(PARTNER)
    partner = db.session.scalars(select(PartnerStore)).one()
    source = harness.shop(PARTNER)["products"][:3]
    rule = MarkupRule(rounding=Rounding.TO_99)
    for _ in range(2):
        job = run_import_job(create_import_job(partner, [p["id"] for p in source], rule).id)
        assert job.status == RunStatus.SUCCEEDED, [i.error_message for i in job.items]
    retail_products = harness.shop(RETAIL)["products"]
    imported = [p for p in retail_products if p["vendor"] == "North Star Roasters"]
    assert len(imported) == 3
    first_source = source[0]["variants"][0]
    match = next(
        v for p in imported for v in p["variants"] if v["sku"].endswith(first_source["sku"])
    )
    assert match["sku"] == f"PARTNER-north-star-roasters-{first_source['sku']}"
    assert match["price"].endswith(".99")
    assert match["available"] == max(first_source["available"], 0)
    variants = sum(len(p["variants"]) for p in source)
    assert db.session.scalar(select(func.count()).select_from(ProductMap)) == variants


def test_a_partner_set_to_auto_import_gets_its_whole_active_catalog_imported(harness):
    harness.install(RETAIL)
    harness.install(PARTNER)
    partner = db.session.scalars(select(PartnerStore)).one()
    partner.auto_import_on_install = True
    partner.default_markup_rule = {"kind": "percentage", "value": "25", "rounding": "whole"}
    db.session.commit()
    harness.control("POST", f"/shops/{PARTNER}/uninstall")
    harness.settle()
    harness.install(PARTNER)
    active = [p for p in harness.shop(PARTNER)["products"] if p["status"] == "ACTIVE"]
    imported = [p for p in harness.shop(RETAIL)["products"] if p["vendor"] == "North Star Roasters"]
    assert len(imported) == len(active) > 20
    prices = [Decimal(v["price"]) for p in imported for v in p["variants"]]
    assert all(price == price.to_integral_value() for price in prices)  # the partner's rule
