"""Every GraphQL document PowerPact sends, as named operations in ``operations/*.graphql``.

One file per operation, named after it; a test validates each against Shopify's
2026-07 schema, so a typo fails the suite rather than production.

A selection two operations share (an order's line item, a mailing address, a money
bag, a product's summary) is one fragment in ``operations/fragments/<Name>.graphql``:
an operation spreads it (``...OrderLineItem``) and ``operation`` appends the text of
every fragment it reaches, so the first page of an order's lines and the next ones
cannot drift apart.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from graphql import (
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    visit,
)

OPERATIONS_DIR = Path(__file__).with_name("operations")
FRAGMENTS_DIR = OPERATIONS_DIR / "fragments"


class UnknownOperation(KeyError):
    pass


@cache
def operation(name: str) -> str:
    """The text of the named operation in ``operations/<name>.graphql``."""
    path = OPERATIONS_DIR / f"{name}.graphql"
    if not name.isidentifier() or not path.is_file():
        raise UnknownOperation(f"no GraphQL operation named {name!r} in {OPERATIONS_DIR}")
    text = path.read_text()
    return "\n".join([text, *(fragment(f) for f in fragments_reached(text))])


@cache
def fragment(name: str) -> str:
    """The text of the named fragment in ``operations/fragments/<name>.graphql``."""
    path = FRAGMENTS_DIR / f"{name}.graphql"
    if not name.isidentifier() or not path.is_file():
        raise UnknownOperation(f"no GraphQL fragment named {name!r} in {FRAGMENTS_DIR}")
    return path.read_text()


def fragment_names() -> list[str]:
    return sorted(p.stem for p in FRAGMENTS_DIR.glob("*.graphql"))


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def spread_names(text: str) -> set[str]:
    spreads = _Spreads()
    visit(parse(text), spreads)
    return spreads.names


def fragments_reached(text: str) -> list[str]:
    """The fragments ``text`` spreads, and those they spread in turn, sorted by name."""
    reached: set[str] = set()
    waiting = spread_names(text)
    while waiting:
        name = waiting.pop()
        if name not in reached:
            reached.add(name)
            waiting |= spread_names(fragment(name))
    return sorted(reached)


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
