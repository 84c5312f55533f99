"""Against the sandbox: a customer's redaction reaches the partner orders PowerPact created."""

from powerpact.extensions import db
from powerpact.orders.privacy import ERASED_ADDRESS
from tests.e2e.test_orders import HARBOR, NORTH, RETAIL, set_up
from tests.security.dumps import database_dump

ADA = {
    "firstName": "Adelheid",
    "lastName": "Lovelace-Sandbox",
    "address1": "12 Secretive Lane",
    "city": "Redactville",
    "zip": "97999",
    "countryCodeV2": "US",
    "phone": "+15550199123",
}
EMAIL = "adelheid.sandbox@example.com"
TRACKING = "1ZADASANDBOX1"


def test_customers_redact_erases_her_from_powerpact_and_from_each_partner_order(harness):
    maps = set_up(harness)
    order = harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {
            "lines": [
                {"sku": maps[NORTH].bubbly_sku, "quantity": 1},
                {"sku": maps[HARBOR].bubbly_sku, "quantity": 1},
            ],
            "email": EMAIL,
            "customer": {"first_name": ADA["firstName"], "last_name": ADA["lastName"]},
            "shipping_address": ADA,
        },
    )
    harness.settle()
    north = harness.shop(NORTH)["orders"][0]
    assert north["shipping_address"]["address1"] == ADA["address1"]
    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{north['id'].rsplit('/', 1)[1]}/fulfil",
        {"tracking_number": TRACKING, "company": "UPS", "url": f"https://ups.example/{TRACKING}"},
    )
    harness.settle()
    secrets = [EMAIL, ADA["lastName"], ADA["address1"], ADA["city"], ADA["phone"], TRACKING]
    assert all(s in database_dump(db.session()) for s in secrets)

    harness.control(
        "POST",
        f"/shops/{RETAIL}/compliance/customers/redact",
        {"customer": {"id": 1, "email": EMAIL}, "orders_to_redact": [order["id"].rsplit("/")[-1]]},
    )
    harness.settle()
    for partner in (NORTH, HARBOR):
        (partner_order,) = harness.shop(partner)["orders"]
        assert partner_order["shipping_address"] == ERASED_ADDRESS, partner
    db.session.remove()
    dump = database_dump(db.session())
    assert [s for s in secrets if s.lower() in dump.lower()] == []
