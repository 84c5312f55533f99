"""Every GraphQL document PowerPact sends is valid against Shopify's 2026-07 schema."""

import pytest

from powerpact.shopify.operations import (
    UnknownOperation,
    is_mutation,
    name_of,
    operation,
    operation_names,
)
from powerpact.shopify.schema import validate_document


@pytest.mark.parametrize("name", operation_names())
def test_operation_is_valid_and_named_after_its_file(name):
    document = operation(name)
    assert validate_document(document) == []
    assert name_of(document) == name
    assert document.count("query ") + document.count("mutation ") == 1


def test_a_misspelled_field_is_caught():
    errors = validate_document("query ShopInfo { shop { nmae } }")
    assert "Cannot query field 'nmae'" in errors[0].message


def test_unknown_operations_are_refused():
    with pytest.raises(UnknownOperation):
        operation("NoSuchThing")
    assert is_mutation(operation("OrderCreate"))
    assert not is_mutation(operation("ShopInfo"))
