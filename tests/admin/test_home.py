from tests.factories import OrderSyncFactory, PartnerStoreFactory, SyncRunFactory


def test_empty_dashboard_says_what_is_missing(as_shop, personas, db_session):
    personas.alice.status = personas.bob.status = "disabled"
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Nothing to show yet" in page
    assert "Have at least one partner store install PowerPact" in page


def test_home_cards_count_what_needs_attention_and_link_to_the_lists(as_shop, personas):
    PartnerStoreFactory(needs_reauthorization=True)
    OrderSyncFactory(failed=True, partner=personas.alice)
    OrderSyncFactory(partner=personas.alice, needs_attention=True)
    SyncRunFactory(
        partner_shop_domain=personas.alice.shop_domain, status="succeeded", checked=5, changed=2
    )
    page = as_shop("/admin/", personas.retail).get_data(as_text=True)
    assert "Connected" in page and "Nothing to show yet" not in page
    assert '<h2>Orders today</h2><p class="stat">2</p>' in page
    assert "1 failed, 1 cancelled after sending" in page
    assert '<h2>Partners needing re-authorization</h2><p class="stat">1</p>' in page
    assert "2 changed of 5" in page
    assert 'href="/admin/orders?status=failed"' in page
