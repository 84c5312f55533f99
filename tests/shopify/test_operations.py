"""Every GraphQL document PowerPact sends is valid against Shopify's 2026-07 schema."""

import pytest

from powerpact.shopify.operations import (
    FRAGMENTS_DIR,
    OPERATIONS_DIR,
    UnknownOperation,
    fragment,
    fragment_names,
    fragments_reached,
    is_mutation,
    name_of,
    operation,
    operation_definitions,
    operation_names,
)
from powerpact.shopify.schema import validate_document

REQUIRED = {
    "ShopInfo",
    "AppScopes",
    "WebhookSubscriptionCreate",
    "WebhookSubscriptions",
    "WebhookSubscriptionDelete",
    "CatalogProducts",
    "ProductSet",
    "VariantInventory",
    "InventorySetQuantities",
    "OrderForSync",
    "OrderCreate",
    "OrdersBySourceIdentifier",
    "OrderCancel",
    "OrderEditBegin",
    "OrderEditAddVariant",
    "OrderEditSetQuantity",
    "OrderEditCommit",
    "OrderChangesAfterSend",
    "FulfillmentCreate",
    "FulfillmentOrdersForOrder",
}


@pytest.mark.parametrize("name", operation_names())
def test_operation_is_valid_against_the_schema(name):
    errors = validate_document(operation(name))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("name", operation_names())
def test_each_file_holds_one_named_operation_named_after_the_file(name):
    definitions = operation_definitions(operation(name))
    assert len(definitions) == 1
    assert definitions[0].name is not None
    assert definitions[0].name.value == name
    assert name_of(operation(name)) == name


def test_the_operations_powerpact_needs_are_all_there():
    assert not REQUIRED - set(operation_names())
    assert all(p.suffix == ".graphql" for p in OPERATIONS_DIR.iterdir() if p.is_file())
    assert all(p.suffix == ".graphql" for p in FRAGMENTS_DIR.iterdir())


def test_the_first_page_of_an_orders_lines_and_the_next_select_the_same_fields():
    first, later = operation("OrderForSync"), operation("OrderLineItemsPage")
    assert "...OrderLineItem" in first and "...OrderLineItem" in later
    assert fragments_reached(first) == ["MailingAddressFields", "OrderLineItem", "ShopMoney"]
    assert fragments_reached(later) == ["OrderLineItem", "ShopMoney"]
    assert fragment("OrderLineItem") in first and fragment("OrderLineItem") in later


@pytest.mark.parametrize("name", fragment_names())
def test_each_fragment_file_holds_the_fragment_it_is_named_after_and_is_used(name):
    assert f"fragment {name} on " in fragment(name)
    assert any(name in fragments_reached(operation(op)) for op in operation_names())


def test_an_unknown_fragment_is_refused():
    with pytest.raises(UnknownOperation):
        fragments_reached("query Q { shop { ...NoSuchFragment } }")


def test_a_misspelled_field_is_caught():
    errors = validate_document("query ShopInfo { shop { nmae } }")
    assert "Cannot query field 'nmae'" in errors[0].message


def test_unknown_operations_are_refused():
    for name in ("NoSuchThing", "../schema", ""):
        with pytest.raises(UnknownOperation):
            operation(name)


def test_mutations_are_told_from_queries():
    assert is_mutation(operation("OrderCreate"))
    assert not is_mutation(operation("ShopInfo"))
    # a comment mentioning a mutation does not make a query one
    assert not is_mutation("# mutation Fake\nquery Real { shop { name } }")
    assert name_of("# mutation Fake\nquery Real { shop { name } }") == "Real"


def test_unparseable_or_anonymous_documents_have_no_name():
    assert name_of("{ shop { name } }") is None
    assert name_of("not graphql {") is None
    assert not is_mutation("not graphql {")
    assert name_of("fragment F on Shop { name }") is None


def test_inventory_writes_carry_an_idempotency_key():
    # Required by Shopify since 2026-04 for inventorySetQuantities.
    assert "@idempotent(key: $idempotencyKey)" in operation("InventorySetQuantities")
