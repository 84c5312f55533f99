"""Shopify's search syntax, as far as PowerPact and its tests use it.

Terms are ANDed; ``OR`` between two terms ORs them. ``field:value`` filters a
field (``value*`` is a prefix, quotes keep spaces, ``>``/``<``/``>=``/``<=`` compare
dates); a bare term searches the free-text fields.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

Fields = Callable[[Any], dict[str, list[str]]]


def _terms(query: str) -> list[str]:
    try:
        return shlex.split(query)
    except ValueError:
        return query.split()


def _matches_value(candidates: list[str], wanted: str) -> bool:
    wanted = wanted.lower()
    for comparator in (">=", "<=", ">", "<"):
        if wanted.startswith(comparator):
            bound = wanted[len(comparator) :]
            return any(_compare(c.lower(), comparator, bound) for c in candidates if c)
    if wanted.endswith("*"):
        return any(c.lower().startswith(wanted[:-1]) for c in candidates if c)
    return any(c.lower() == wanted for c in candidates if c)


def _compare(value: str, comparator: str, bound: str) -> bool:
    return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[
        comparator
    ]


def _clauses(query: str | None) -> list[list[str]]:
    """The query's AND-ed clauses, each a list of OR-ed terms."""
    clauses: list[list[str]] = []
    join_next = False
    for term in _terms(query or ""):
        if term.upper() == "AND":
            continue
        if term.upper() == "OR":
            join_next = bool(clauses)
            continue
        if join_next:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    return clauses


def required_value(query: str | None, name: str) -> str | None:
    """The value that every match must have in field ``name``, if the query says so plainly.

    That is a clause of a single ``name:value`` term: not OR-ed, negated, a prefix or
    a comparison. A caller may narrow its candidates by it, then still match them.
    """
    for clause in _clauses(query):
        if len(clause) != 1 or ":" not in clause[0]:
            continue
        field, wanted = clause[0].split(":", 1)
        wanted = wanted.strip("'\"")
        if field.lower() == name and wanted and not wanted.endswith("*") and wanted[0] not in "<>":
            return wanted
    return None


def matcher(query: str | None, fields: Fields, free_text: tuple[str, ...]) -> Callable[[Any], bool]:
    """A predicate for items of a resource whose searchable fields ``fields(item)`` gives."""
    clauses = _clauses(query)

    def term_matches(item: Any, term: str) -> bool:
        values = fields(item)
        negate = term.startswith("-")
        term = term.lstrip("-")
        if ":" in term:
            name, wanted = term.split(":", 1)
            result = _matches_value(values.get(name.lower(), []), wanted.strip("'\""))
        else:
            text = term.lower().rstrip("*")
            result = any(text in v.lower() for f in free_text for v in values.get(f, []) if v)
        return not result if negate else result

    def predicate(item: Any) -> bool:
        return all(any(term_matches(item, t) for t in clause) for clause in clauses)

    return predicate
