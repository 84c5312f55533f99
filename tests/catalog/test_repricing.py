"""Re-importing never changes a live retail price unasked: which prices an import would change
(to the cent), the modal that asks, a confirmation checked again, and keeping live prices."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from powerpact.catalog import browse
from powerpact.catalog.imports import (
    changes_digest,
    changes_to_confirm,
    create_import_job,
    job_summary,
    price_changes,
    run_import_job,
)
from powerpact.catalog.pricing import MarkupKind, MarkupRule, Rounding
from powerpact.models import ImportJob, ProductMap
from tests.catalog.test_imports import PARTNER, RETAIL, RULE, RetailProducts, partner_product
from tests.catalog.test_imports import serve_products as serve
from tests.catalog.test_pages import catalog_answer
from tests.embedded_requests import post_as, toast_of
from tests.factories import PartnerStoreFactory, RetailStoreFactory
from tests.shopify_double import Answer

ONE = "gid://shopify/Product/1"
TWO = "gid://shopify/Product/2"
TO_95 = MarkupRule(value=Decimal(30), rounding=Rounding.TO_95)
SKU_250G = "PARTNER-alice-roasters-R1-0"
SKU_500G = "PARTNER-alice-roasters-R1-1"


@pytest.fixture
def stores(db_session):
    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(
        shop_domain=PARTNER,
        name="Alice Roasters",
        default_markup_rule={"kind": "percentage", "value": "30", "rounding": "99"},
    )
    db_session.commit()
    return partner, retail


@pytest.fixture
def imported(shopify, stores):
    """Roast 1 (12.00 and 13.00 at the partner) imported at 30% ending .99: 15.99 and 16.99
    live; Roast 2 not imported."""
    partner, _ = stores
    serve(shopify, [partner_product(1), partner_product(2)])
    retail = RetailProducts(shopify)
    run_import_job(create_import_job(partner, [ONE], RULE).id)
    shopify.calls.clear()
    return retail


def live_prices(retail_products):
    return {
        sku: Decimal(retail_products.variants[v]["price"])
        for sku, v in retail_products.by_sku.items()
    }


# -- which live prices an import would change --------------------------------------------


def test_a_new_rounding_changes_every_variant_by_what_it_costs(stores, imported, shopify):
    partner, retail = stores
    changes = price_changes(partner, retail, [ONE, TWO], TO_95)
    assert [(c.variant_title, c.live, c.new, c.difference) for c in changes] == [
        ("250g", Decimal("15.99"), Decimal("15.95"), Decimal("-0.04")),
        ("500g", Decimal("16.99"), Decimal("16.95"), Decimal("-0.04")),
    ]
    assert changes[0].product_title == "Roast 1"
    assert changes[0].signed_difference == "-0.04"
    # one read of each store for the imported variants; Roast 2 is new and reprices nothing
    assert shopify.count("VariantPrices", PARTNER) == 1
    assert shopify.count("VariantPrices", RETAIL) == 1


def test_the_same_rule_changes_nothing_and_a_cent_is_a_change(stores, imported):
    partner, retail = stores
    assert price_changes(partner, retail, [ONE], RULE) == []
    imported.set_price(SKU_250G, "15.98")
    [change] = price_changes(partner, retail, [ONE], RULE)
    assert (change.live, change.new, change.signed_difference) == (
        Decimal("15.98"),
        Decimal("15.99"),
        "+0.01",
    )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # 12.00 + 3.99 is 15.99, as 30% ending .99 made it: no change; 13.00 + 3.99 = 16.99
        (MarkupRule(kind=MarkupKind.FIXED, value=Decimal("3.99")), []),
        # whole units: 15.60 -> 16, 16.90 -> 17
        (
            MarkupRule(value=Decimal(30), rounding=Rounding.WHOLE),
            [("250g", "+0.01"), ("500g", "+0.01")],
        ),
        # a 50% minimum margin lifts 12.00 to 24.00 and 13.00 to 26.00
        (
            MarkupRule(value=Decimal(30), min_margin_percent=Decimal(50)),
            [("250g", "+8.01"), ("500g", "+9.01")],
        ),
    ],
)
def test_markup_rules_are_compared_to_the_cent(stores, imported, rule, expected):
    partner, retail = stores
    changes = price_changes(partner, retail, [ONE], rule)
    assert [(c.variant_title, c.signed_difference) for c in changes] == expected


def test_the_partners_price_now_is_what_the_new_price_comes_from(stores, shopify, imported):
    partner, retail = stores
    cheaper = partner_product(1)
    cheaper["variants"]["nodes"][1]["price"] = "11.00"  # 13.00 -> 11.00 at the partner
    serve(shopify, [cheaper])
    [change] = price_changes(partner, retail, [ONE], RULE)
    assert (change.variant_title, change.live, change.new) == (
        "500g",
        Decimal("16.99"),
        Decimal("14.99"),
    )


def test_variants_gone_from_either_store_and_new_products_reprice_nothing(
    stores, shopify, imported
):
    partner, retail = stores
    gone = imported.by_sku[SKU_250G]
    del imported.variants[gone]  # deleted in the retail admin
    shrunk = partner_product(1)
    shrunk["variants"]["nodes"] = shrunk["variants"]["nodes"][:1]  # 500g gone at the partner
    serve(shopify, [shrunk, partner_product(2)])
    assert price_changes(partner, retail, [ONE, TWO], TO_95) == []
    shopify.calls.clear()
    assert price_changes(partner, retail, [TWO], TO_95) == []
    assert shopify.calls == []  # nothing imported: nothing to read


def test_the_digest_names_the_changes_shown(stores, imported):
    partner, retail = stores
    shown = changes_digest(price_changes(partner, retail, [ONE], TO_95))
    assert shown == changes_digest(list(reversed(price_changes(partner, retail, [ONE], TO_95))))
    imported.set_price(SKU_250G, "15.97")
    assert changes_digest(price_changes(partner, retail, [ONE], TO_95)) != shown


def test_a_confirmation_holds_only_for_the_changes_it_was_shown(stores, imported):
    partner, retail = stores
    changes = changes_to_confirm(partner, retail, [ONE], TO_95)
    assert len(changes) == 2
    digest = changes_digest(changes)
    assert changes_to_confirm(partner, retail, [ONE], TO_95, confirmed=digest) == []
    assert changes_to_confirm(partner, retail, [ONE], TO_95, confirmed="") == changes
    imported.set_price(SKU_500G, "16.98")
    [*now] = changes_to_confirm(partner, retail, [ONE], TO_95, confirmed=digest)
    assert [c.live for c in now] == [Decimal("15.99"), Decimal("16.98")]


# -- what an import does with live prices ---------------------------------------------------


def test_a_re_import_counts_the_live_prices_it_changed(stores, imported, db_session):
    partner, _ = stores
    job = run_import_job(create_import_job(partner, [ONE, TWO], TO_95).id)
    assert live_prices(imported)[SKU_250G] == Decimal("15.95")
    assert [i.repriced_variants for i in job.items] == [2, 0]
    assert job_summary(job) == "2 imported, 1 repriced"


def test_keeping_live_prices_imports_new_products_and_leaves_live_prices_alone(
    stores, imported, db_session
):
    partner, _ = stores
    imported.set_price(SKU_500G, "18.00")  # set by hand in the retail admin
    job = run_import_job(create_import_job(partner, [ONE, TWO], TO_95, keep_live_prices=True).id)
    prices = live_prices(imported)
    assert (prices[SKU_250G], prices[SKU_500G]) == (Decimal("15.99"), Decimal("18.00"))
    assert prices["PARTNER-alice-roasters-R2-0"] == Decimal("15.95")  # new: the job's rule
    assert [i.repriced_variants for i in job.items] == [0, 0]
    assert job_summary(job) == "2 imported, live prices kept"
    maps = {m.bubbly_sku: m for m in db_session.scalars(select(ProductMap)).all()}
    assert maps[SKU_500G].retail_price == Decimal("18.00")
    # Roast 1 stays on the rule its prices came from, which keeps it in step later
    assert maps[SKU_500G].markup_rule["rounding"] == "99"
    assert maps["PARTNER-alice-roasters-R2-0"].markup_rule["rounding"] == "95"


# -- the catalog's retail price column --------------------------------------------------


def test_an_imported_variant_shows_its_live_price_and_the_preview_beside_it(
    as_shop, stores, shopify, imported
):
    partner, retail = stores
    imported.set_price(SKU_500G, "18.00")
    shopify.on(
        PARTNER,
        "CatalogProducts",
        lambda v: catalog_answer([partner_product(1), partner_product(2)]),
    )
    page = browse.fetch_catalog_page(partner, rule=RULE, currency="USD", retail=retail)
    one, two = page.products
    assert [(v.live_price, v.retail_price, v.reprices) for v in one.variants] == [
        (Decimal("15.99"), Decimal("15.99"), False),
        (Decimal("18.00"), Decimal("16.99"), True),
    ]
    assert [v.live_price for v in two.variants] == [None, None]
    assert shopify.count("VariantPrices", RETAIL) == 1  # one read for the page

    html = as_shop(f"/admin/partners/{partner.id}/catalog?rounding=99", retail).get_data(
        as_text=True
    )
    assert '18.00 USD</strong> <span class="subdued">live</span>' in html
    assert "· 16.99 at 30%, ending .99" in html
    assert '15.99 USD</strong> <span class="subdued">live</span></td>' in html  # same: no preview
    assert html.count('class="badge badge-info">Imported') == 1


def test_live_prices_that_cannot_be_read_leave_the_preview_and_say_so(
    as_shop, stores, shopify, imported
):
    partner, retail = stores
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    shopify.on(RETAIL, "VariantPrices", lambda v: (_ for _ in ()).throw(Answer(503)))
    response = as_shop(f"/admin/partners/{partner.id}/catalog", retail)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "live retail prices could not be read" in html
    assert "15.99 USD" in html and "live</span>" not in html


# -- the import asks first ------------------------------------------------------------------


def import_form(**extra):
    return {
        "product_id": [ONE, TWO],
        "kind": "percentage",
        "value": "30",
        "rounding": "95",
        **extra,
    }


def start(client, session_token, shop, partner, data):
    return post_as(client, session_token, shop, f"/admin/partners/{partner.id}/imports", data)


def test_a_re_import_that_would_reprice_asks_in_a_modal_and_imports_nothing(
    client, session_token, stores, shopify, imported, db_session
):
    partner, retail = stores
    response = start(client, session_token, retail, partner, import_form(vendor="Alice"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<ui-modal id="import-price-changes" data-open>' in html
    assert '<ui-title-bar title="Change 2 live prices?">' in html
    assert "<td>Roast 1</td>" in html and "<td>250g</td>" in html
    assert '<td class="num">15.99 USD</td>' in html and "<strong>15.95 USD</strong>" in html
    assert '<td class="num">-0.04</td>' in html
    for button in ("Reprice and import", "Import without repricing", "Cancel"):
        assert f">{button}</button>" in html
    # the buttons repeat this very request, with the changes shown
    assert '<input type="hidden" name="vendor" value="Alice">' in html
    assert f'value="{ONE}"' in html and f'value="{TWO}"' in html
    assert "HX-Redirect" not in response.headers
    assert shopify.count("ProductSet") == 0
    assert len(db_session.scalars(select(ImportJob)).all()) == 1  # the fixture's import only


def test_a_confirmed_import_reprices_and_reports_it(
    client, session_token, as_shop, stores, shopify, imported, db_session
):
    partner, retail = stores
    digest = changes_digest(price_changes(partner, retail, [ONE, TWO], TO_95))
    response = start(
        client, session_token, retail, partner, import_form(reprice="yes", confirmed=digest)
    )
    assert response.status_code == 204
    job = db_session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert response.headers["HX-Redirect"] == f"/admin/imports/{job.id}"
    assert live_prices(imported)[SKU_250G] == Decimal("15.95")
    assert job_summary(job) == "2 imported, 1 repriced"
    progress = as_shop(f"/admin/imports/{job.id}", retail)
    assert toast_of(progress) == "2 imported, 1 repriced"
    assert "1 repriced" in progress.get_data(as_text=True)
    page = as_shop(f"/admin/imports/{job.id}", retail, htmx=False)
    assert toast_of(page) is None  # a whole page shows the counts; no toast


def test_a_stale_confirmation_asks_again_with_the_prices_now(
    client, session_token, stores, shopify, imported
):
    partner, retail = stores
    digest = changes_digest(price_changes(partner, retail, [ONE, TWO], TO_95))
    imported.set_price(SKU_250G, "17.50")  # someone changed it while the modal was open
    response = start(
        client, session_token, retail, partner, import_form(reprice="yes", confirmed=digest)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-open" in html
    assert "changed since you were asked" in html
    assert '<td class="num">17.50 USD</td>' in html and '<td class="num">-1.55</td>' in html
    assert shopify.count("ProductSet") == 0
    assert live_prices(imported)[SKU_250G] == Decimal("17.50")


def test_an_unconfirmed_flag_alone_does_not_reprice(
    client, session_token, stores, shopify, imported
):
    partner, retail = stores
    response = start(client, session_token, retail, partner, import_form(reprice="yes"))
    assert "data-open" in response.get_data(as_text=True)
    assert shopify.count("ProductSet") == 0


def test_import_without_repricing_keeps_the_live_prices(
    client, session_token, stores, shopify, imported, db_session
):
    partner, retail = stores
    response = start(client, session_token, retail, partner, import_form(reprice="keep"))
    assert response.status_code == 204
    assert live_prices(imported)[SKU_250G] == Decimal("15.99")
    assert live_prices(imported)["PARTNER-alice-roasters-R2-0"] == Decimal("15.95")
    job = db_session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert job.keep_live_prices and job_summary(job) == "2 imported, live prices kept"


def test_an_import_that_changes_no_live_price_starts_at_once(
    client, session_token, stores, shopify, imported
):
    partner, retail = stores
    response = start(client, session_token, retail, partner, import_form(rounding="99"))
    assert response.status_code == 204 and "HX-Redirect" in response.headers


def test_live_prices_that_cannot_be_checked_import_nothing(
    client, session_token, stores, shopify, imported
):
    partner, retail = stores
    shopify.on(RETAIL, "VariantPrices", lambda v: (_ for _ in ()).throw(Answer(503)))
    response = start(client, session_token, retail, partner, import_form())
    assert "could not be checked, so nothing was imported" in response.get_data(as_text=True)
    assert toast_of(response).startswith("The live prices could not be checked")
    assert shopify.count("ProductSet") == 0


def test_an_unknown_answer_to_the_question_is_refused(client, session_token, stores):
    partner, retail = stores
    response = start(client, session_token, retail, partner, import_form(reprice="maybe"))
    assert response.status_code == 422


# -- who may ------------------------------------------------------------------------------


def test_only_the_retail_admin_sees_the_catalog_and_imports(
    client, session_token, as_shop, stores, shopify, imported, db_session
):
    partner, retail = stores
    job_id = db_session.scalars(select(ImportJob.id)).one()
    htmx = {"HX-Request": "true"}
    for url in (f"/admin/partners/{partner.id}/catalog", f"/admin/imports/{job_id}"):
        assert client.get(url, headers=htmx).status_code == 401
        assert as_shop(url, partner).status_code == 403
    imports_url = f"/admin/partners/{partner.id}/imports"
    assert client.post(imports_url, data=import_form(), headers=htmx).status_code == 401
    assert start(client, session_token, partner, partner, import_form()).status_code == 403
    assert (
        start(client, session_token, partner, partner, import_form(reprice="keep")).status_code
        == 403
    )
    assert shopify.count("ProductSet") == 0
    assert live_prices(imported)[SKU_250G] == Decimal("15.99")
    shopify.on(PARTNER, "CatalogProducts", lambda v: catalog_answer([partner_product(1)]))
    assert as_shop(f"/admin/partners/{partner.id}/catalog", retail).status_code == 200
    assert as_shop(f"/admin/imports/{job_id}", retail).status_code == 200
    assert "data-open" in start(client, session_token, retail, partner, import_form()).get_data(
        as_text=True
    )
