"""Every GraphQL document PowerPact sends, as named operations in ``operations/*.graphql``.

One file per operation, named after it; a test validates each against Shopify's
2026-07 schema, so a typo fails the suite rather than production.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

OPERATIONS_DIR = Path(__file__).with_name("operations")


class UnknownOperation(KeyError):
    pass


@cache
def operation(name: str) -> str:
    """The text of the named operation in ``operations/<name>.graphql``."""
    path = OPERATIONS_DIR / f"{name}.graphql"
    if not name.isidentifier() or not path.is_file():
        raise UnknownOperation(f"no GraphQL operation named {name!r} in {OPERATIONS_DIR}")
    return path.read_text()


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))


def is_mutation(document: str) -> bool:
    kind, _ = _describe(document)
    return kind == OperationType.MUTATION


def name_of(document: str) -> str | None:
    _, name = _describe(document)
    return name


def operation_definitions(document: str) -> list[OperationDefinitionNode]:
    """Every operation defined in ``document`` (a file must hold exactly one)."""
    return [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]


@lru_cache(maxsize=512)
def _describe(document: str) -> tuple[OperationType | None, str | None]:
    """Kind and name of the document's first operation (parsed once per text)."""
    try:
        definitions = operation_definitions(document)
    except GraphQLError:
        return None, None
    if not definitions:
        return None, None
    first = definitions[0]
    return first.operation, first.name.value if first.name else None
