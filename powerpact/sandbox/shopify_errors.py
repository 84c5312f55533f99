"""graphql-core's validation messages rewritten as Shopify (graphql-ruby) words them.

Shopify answers an invalid document with HTTP 200 and ``{"errors": [...]}``
where each error has Shopify's message, ``locations`` and ``extensions.code``
(``undefinedField``, ``argumentNotAccepted``...). Messages without a known
Shopify counterpart keep graphql-core's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

Rewrite = Callable[[re.Match[str], str], tuple[str, dict[str, Any]]]


def _undefined_field(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Field '{m['field']}' doesn't exist on type '{m['type']}'",
        {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]},
    )


def _argument_not_accepted(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Field '{m['field']}' doesn't accept argument '{m['arg']}'",
        {
            "code": "argumentNotAccepted",
            "name": m["field"],
            "typeName": "Field",
            "argumentName": m["arg"],
        },
    )


def _missing_argument(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Field '{m['field']}' is missing required arguments: {m['arg']}",
        {
            "code": "missingRequiredArguments",
            "className": "Field",
            "name": m["field"],
            "arguments": m["arg"],
        },
    )


def _variable_not_used(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Variable ${m['var']} is declared by {op} but not used",
        {"code": "variableNotUsed", "variableName": m["var"]},
    )


def _variable_not_defined(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Variable ${m['var']} is used by {op} but not declared",
        {"code": "variableNotDefined", "variableName": m["var"]},
    )


def _no_selection(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"Field must have selections (field '{m['field']}' returns {m['type']} but has no"
        f" selections. Did you mean '{m['field']} {{ ... }}'?)",
        {"code": "selectionMismatch", "nodeName": f"field '{m['field']}'", "typeName": m["type"]},
    )


def _unknown_type(m: re.Match[str], op: str) -> tuple[str, dict[str, Any]]:
    return (
        f"No such type {m['type']}, so it can't be a fragment condition",
        {"code": "undefinedType", "typeName": m["type"]},
    )


REWRITES: list[tuple[re.Pattern[str], Rewrite]] = [
    (re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'"), _undefined_field),
    (
        re.compile(r"Unknown argument '(?P<arg>\w+)' on field '\w+\.(?P<field>\w+)'"),
        _argument_not_accepted,
    ),
    (
        re.compile(r"Argument '\w+\.(?P<field>\w+)\((?P<arg>\w+):\)' of type '[^']+' is required"),
        _missing_argument,
    ),
    (re.compile(r"Variable '\$(?P<var>\w+)' is never used"), _variable_not_used),
    (re.compile(r"Variable '\$(?P<var>\w+)' is not defined"), _variable_not_defined),
    (
        re.compile(r"Field '(?P<field>\w+)' of type '(?P<type>[^']+)' must have a selection"),
        _no_selection,
    ),
    (re.compile(r"Unknown type '(?P<type>\w+)'"), _unknown_type),
]


def shopify_error(error: GraphQLError, operation_name: str = "anonymous query") -> dict[str, Any]:
    """One validation error in Shopify's shape."""
    body: dict[str, Any] = {**error.formatted}
    for pattern, rewrite in REWRITES:
        match = pattern.search(error.message)
        if match:
            message, extensions = rewrite(match, operation_name)
            body = {"message": message, "locations": body.get("locations", []), "path": []}
            body["extensions"] = extensions
            return body
    return body


def syntax_error(error: GraphQLError) -> dict[str, Any]:
    """A document that does not parse, as Shopify reports it."""
    location = error.locations[0] if error.locations else None
    where = f" at [{location.line}, {location.column}]" if location else ""
    detail = error.message.removeprefix("Syntax Error: ")
    return {
        "message": f"Parse error: {detail}{where}",
        "locations": [{"line": location.line, "column": location.column}] if location else [],
    }


def invalid_variable(error: GraphQLError) -> dict[str, Any]:
    """A variable value the schema refuses: Shopify's ``INVALID_VARIABLE``."""
    name = re.search(r"Variable '\$(\w+)'", error.message)
    kind = re.search(r"type '([^']+)'", error.message)
    message = (
        f"Variable ${name.group(1)} of type {kind.group(1)} was provided invalid value"
        if name and kind
        else error.message
    )
    return {
        "message": message,
        "locations": [{"line": loc.line, "column": loc.column} for loc in error.locations or []],
        "extensions": {
            "code": "INVALID_VARIABLE",
            "value": None,
            "problems": [{"path": [], "explanation": error.message}],
        },
    }
