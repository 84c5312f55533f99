from tests.factories import OrderSyncFactory, PartnerStoreFactory


def test_empty_dashboard_says_what_is_missing(as_shop, personas, db_session):
    personas.alice.status = personas.bob.status = "disabled"
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Nothing to show yet" in page
    assert "Have at least one partner store install PowerPact" in page


def test_dashboard_counts_partners_and_failed_orders(as_shop, personas):
    PartnerStoreFactory()
    OrderSyncFactory(failed=True, partner=personas.alice)
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Connected" in page
    assert "Nothing to show yet" not in page
    assert '<p class="stat">3</p>' in page
    assert '<p class="stat">1</p>' in page
