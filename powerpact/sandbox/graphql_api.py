"""The Admin GraphQL endpoint: validate against the real schema, charge cost, execute.

Documents are validated and executed by graphql-core against Shopify's own
2026-07 schema (``powerpact.shopify.schema``), so response shapes are the
schema's. Root fields dispatch to ``resolvers``; nested fields read the shaped
dicts of ``shapes``. A selected field the sandbox does not model resolves to
null and is logged per shop.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    execute_sync,
    get_named_type,
    is_abstract_type,
    is_enum_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
    validate,
    value_from_ast_untyped,
)

from powerpact.sandbox.core import CallRecord, Sandbox
from powerpact.sandbox.cost import MAX_QUERY_COST, CostCalculator
from powerpact.sandbox.resolvers import MUTATIONS, QUERIES, Context
from powerpact.sandbox.scopes import missing_scope
from powerpact.sandbox.shopify_errors import invalid_variable, shopify_error, syntax_error
from powerpact.sandbox.store import Shop
from powerpact.shopify.schema import admin_schema

log = logging.getLogger(__name__)
SCALAR_PLACEHOLDERS = {"Int": 0, "Float": 0.0, "Boolean": False, "Decimal": "0.0", "Money": "0.0"}
ROOT = object()
MISSING = object()
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"


def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Root fields go to their resolver; nested fields are read from the shaped dicts."""
    ctx: Context = info.context
    if source is ROOT:
        ctx.executed = True
        return resolve_root(ctx, info, args)
    if isinstance(source, dict):
        value = source.get(info.field_name, MISSING)
        if value is MISSING:
            return unmodelled(ctx, info)
        value = value(**args) if callable(value) else value
        return checked_enum(ctx, info, value)
    return None


def checked_enum(ctx: Context, info: GraphQLResolveInfo, value: Any) -> Any:
    """A value outside its enum (a user-error code the schema lacks) is logged and nulled."""
    named = get_named_type(info.return_type)
    if isinstance(value, str) and is_enum_type(named) and value not in named.values:
        ctx.unmodelled.add(f"{info.parent_type.name}.{info.field_name}={value}")
        return placeholder(info.return_type)
    return value


def unmodelled(ctx: Context, info: GraphQLResolveInfo) -> Any:
    """Log a field the sandbox does not model and answer null.

    A non-null field gets the emptiest value of its type instead (``[]``, ``""``,
    ``0``, ``false``, an object whose own fields are unmodelled), so that one gap
    does not null the whole response.
    """
    ctx.unmodelled.add(f"{info.parent_type.name}.{info.field_name}")
    return placeholder(info.return_type)


def placeholder(field_type: Any) -> Any:
    if not is_non_null_type(field_type):
        return None
    inner = field_type.of_type
    if is_list_type(inner):
        return []
    if is_enum_type(inner):
        return next(iter(inner.values))
    if is_abstract_type(inner):
        return {"__typename": admin_schema().get_possible_types(inner)[0].name}
    if is_object_type(inner):
        return {"__typename": inner.name}
    return SCALAR_PLACEHOLDERS.get(inner.name, "")


def resolve_root(ctx: Context, info: GraphQLResolveInfo, args: dict[str, Any]) -> Any:
    is_mutation = info.operation.operation.value == "mutation"
    handler = (MUTATIONS if is_mutation else QUERIES).get(info.field_name)
    if handler is None:
        return unmodelled(ctx, info)
    if ctx.sandbox.config.enforce_scopes and (needed := missing_scope(info.field_name, ctx.scopes)):
        raise GraphQLError(
            f"Access denied for {info.field_name} field. Required access: `{needed}` access scope.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
            },
        )
    ctx.idempotency_key = idempotency_key(info)
    return handler(ctx, args, info)


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
    """The ``key`` of an ``@idempotent(key:)`` directive on the field, variables resolved."""
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value != "idempotent":
            continue
        for argument in directive.arguments or ():
            if argument.name.value == "key":
                values = info.variable_values.coerced
                return str(value_from_ast_untyped(argument.value, values))
    return None


def error_body(
    message: str, code: str, cost_extension: dict[str, Any], **extensions: Any
) -> dict[str, Any]:
    """A refused request: Shopify's error with its code, and the cost block."""
    return {
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}],
        "extensions": {"cost": cost_extension},
    }


def pick_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not name:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


@functools.lru_cache(maxsize=512)
def parse_and_validate(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """The document and its validation errors, once per distinct query text.

    Validation against the full Admin schema is most of a request's CPU; a client
    sends the same few documents over and over, so, like any GraphQL server, the
    sandbox checks each text once. Nothing downstream mutates the document.
    """
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, (exc,)
    return document, tuple(validate(admin_schema(), document))


def check_document(payload: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """Parse, validate and pick the operation; an error body when any step refuses.

    Variables are coerced by the execution itself (``run_graphql`` answers its refusal).
    """
    document, errors = parse_and_validate(payload.get("query") or "")
    if document is None:
        return None, {"errors": [syntax_error(errors[0])]}
    operation = pick_operation(document, payload.get("operationName"))
    label = "anonymous query"
    if operation is not None:
        kind = operation.operation.value
        label = operation.name.value if operation.name else f"anonymous {kind}"
    if errors:
        return None, {"errors": [shopify_error(e, label) for e in errors]}
    if operation is None:
        name = payload.get("operationName")
        message = (
            f'No operation named "{name}"'
            if name
            else "An operation name is required when sending multiple operations."
        )
        return None, {"errors": [{"message": message}]}
    return (document, operation), None


def run_graphql(
    sandbox: Sandbox, shop: Shop, scopes: list[str], payload: dict[str, Any]
) -> dict[str, Any]:
    """Validate, charge and execute one request; always a Shopify-shaped JSON body."""
    checked, refusal = check_document(payload)
    if refusal is not None:
        return refusal
    document, operation = checked
    variables = payload.get("variables") or {}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    calculator = CostCalculator(admin_schema(), fragments, variables)
    requested = calculator.operation_cost(operation)
    bucket = sandbox.buckets[shop.domain]
    name = operation.name.value if operation.name else "anonymous"
    refused = refuse_on_cost(sandbox, shop, name, requested)
    if refused is not None:
        return refused
    ctx = Context(sandbox, shop, scopes)
    with sandbox.lock:
        result = execute_sync(
            admin_schema(),
            document,
            root_value=ROOT,
            context_value=ctx,
            variable_values=variables,
            operation_name=payload.get("operationName"),
            field_resolver=field_resolver,
        )
    if result.errors and not ctx.executed:  # the variables were refused: nothing ran or is charged
        bucket.refund(requested)
        return {"errors": [invalid_variable(e) for e in result.errors]}
    for error in result.errors or []:
        if error.original_error is not None:
            log.warning("sandbox resolver failed: %s", error, exc_info=error.original_error)
    is_mutation = operation.operation.value == "mutation"
    actual = (
        calculator.operation_cost(operation, result.data)
        if result.data is not None and not is_mutation
        else requested
    )
    bucket.refund(requested - actual)
    sandbox.record_call(
        shop.domain,
        CallRecord(name, requested, actual, False, 200, unmodelled=sorted(ctx.unmodelled)),
    )
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    body["extensions"] = {"cost": cost_extension(requested, actual, sandbox, shop)}
    return body


def cost_extension(
    requested: int, actual: int | None, sandbox: Sandbox, shop: Shop
) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": sandbox.buckets[shop.domain].status().as_dict(),
    }


def refuse_on_cost(
    sandbox: Sandbox, shop: Shop, name: str, requested: int
) -> dict[str, Any] | None:
    """``MAX_COST_EXCEEDED`` over 1000 points, ``THROTTLED`` when the bucket is short."""
    if requested > MAX_QUERY_COST:
        sandbox.record_call(shop.domain, CallRecord(name, requested, 0, False, 200))
        return error_body(
            f"Query cost is {requested}, which exceeds the single query max cost limit"
            f" ({MAX_QUERY_COST}).\n\nSee {RATE_LIMITS_DOC} for more information on how the\n"
            "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits,"
            " bulk operations should be used instead.",
            "MAX_COST_EXCEEDED",
            cost_extension(requested, None, sandbox, shop),
            cost=requested,
            maxCost=MAX_QUERY_COST,
        )
    if not sandbox.buckets[shop.domain].take(requested):
        sandbox.record_call(shop.domain, CallRecord(name, requested, 0, True, 200))
        return error_body(
            "Throttled",
            "THROTTLED",
            cost_extension(requested, None, sandbox, shop),
            documentation=RATE_LIMITS_DOC,
        )
    return None
