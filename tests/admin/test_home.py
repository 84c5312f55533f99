from tests.factories import OrderSyncFactory, PartnerStoreFactory, RetailStoreFactory


def test_root_leads_to_the_admin_home(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")


def test_empty_dashboard_says_what_is_missing(client):
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nothing to show yet" in page
    assert "Install PowerPact on the retail store (bubbly-retail.myshopify.com)" in page
    assert "Not connected" in page


def test_dashboard_counts_partners_and_failed_orders(client, db_session):
    RetailStoreFactory()
    PartnerStoreFactory.create_batch(2)
    OrderSyncFactory(failed=True)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Connected" in page
    assert "Nothing to show yet" not in page
    assert '<p class="stat">3</p>' in page
    assert '<p class="stat">1</p>' in page
