"""Every GraphQL document PowerPact sends, as named operations in ``operations/*.graphql``.

One file per operation, named after it; a test validates each against Shopify's
2026-07 schema, so a typo fails the suite rather than production.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

OPERATIONS_DIR = Path(__file__).with_name("operations")
NAME_RE = re.compile(r"^\s*(query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


class UnknownOperation(KeyError):
    pass


@cache
def operation(name: str) -> str:
    path = OPERATIONS_DIR / f"{name}.graphql"
    if not path.is_file():
        raise UnknownOperation(f"no GraphQL operation named {name!r} in {OPERATIONS_DIR}")
    return path.read_text()


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))


def is_mutation(document: str) -> bool:
    match = NAME_RE.search(document)
    return bool(match and match.group(1) == "mutation")


def name_of(document: str) -> str | None:
    match = NAME_RE.search(document)
    return match.group(2) if match else None
