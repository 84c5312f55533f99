"""Shopify's Admin GraphQL schema (2026-07), loaded once per process.

The introspection file ships inside the package (copied from Shopify's
``@shopify/dev-mcp`` package, ISC licence in ``LICENSE.dev-mcp``). Both the
sandbox, which executes documents against it, and the test that validates
PowerPact's own operations use this one loader.
"""

import gzip
import json
import threading
from functools import lru_cache
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_client_schema, parse, validate

API_VERSION = "2026-07"
SCHEMA_PATH = Path(__file__).with_name(f"admin-{API_VERSION}.introspection.json.gz")


_building = threading.Lock()


def admin_schema() -> GraphQLSchema:
    """The schema, built once per process however many threads ask for it first.

    Without the lock, threads that ask at the same moment each build it (about a
    second of CPU apiece): eight sandbox threads took eight times that.
    """
    with _building:
        return build_admin_schema()


@lru_cache(maxsize=1)
def build_admin_schema() -> GraphQLSchema:
    """Build the schema from the introspection result (about a second, so cached)."""
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    schema = build_client_schema(data)
    # Shopify's schema breaks one of graphql-core's strict rules about deprecated
    # interface fields; mark it checked so validation does not refuse every document.
    schema._validation_errors = []
    return schema


def validate_document(document: str) -> list[GraphQLError]:
    """Return the errors the 2026-07 schema finds in ``document`` (empty when valid)."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return [exc]
    return list(validate(admin_schema(), ast))
