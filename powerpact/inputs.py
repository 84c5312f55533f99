"""What PowerPact accepts from a request before any view reads it: numbers and text.

- Every ``<int:...>`` of a route is a row id, compared with an ``integer`` column, and
  PostgreSQL's ``integer`` is 32-bit signed: ``RowIdConverter`` (installed as ``int``
  for the whole app) matches ASCII digits only, up to ``INTEGER_MAX``, so a larger id
  or a Unicode digit does not match the route and the answer is 404.
- ``whole_number`` reads a query or form field by the same rule: ``"²".isdigit()`` is
  true but ``int("²")`` fails, and ``int("١٢٣")`` is 123.
- A NUL character in a query, form or path value (or name) is refused with 400:
  PostgreSQL's text types cannot hold one, and no page of the app sends one.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

INTEGER_MAX = 2**31 - 1
ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def whole_number(value: str | None, *, low: int = 1, high: int = INTEGER_MAX) -> int | None:
    """``value`` as an int if it is ASCII digits from ``low`` to ``high``, else None."""
    if value is None or not ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


class RowIdConverter(IntegerConverter):
    """``int`` in a route: ASCII digits, at most PostgreSQL's ``integer`` maximum."""

    regex = r"[0-9]+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = INTEGER_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def refuse_nul_characters() -> None:
    values: list[Any] = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    if request.mimetype in FORM_MIMETYPES:
        values += request.form.items(multi=True)
    for name, value in values:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            abort(400, f"The field {name.replace(chr(0), '')!r} holds a NUL character.")


def install_input_rules(app: Flask) -> None:
    """Bound every route's ids and refuse NUL characters (before the blueprints register)."""
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(refuse_nul_characters)
