"""Every CSV PowerPact writes goes through ``csv_writer``: no cell opens as a formula.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, so text from a shopper (a city) or a partner (a product title) could
run ``=HYPERLINK(...)`` on the machine of whoever opens the export. Following OWASP
(https://owasp.org/www-community/attacks/CSV_Injection):

- a text cell that starts with one of those characters gets a single quote in front,
  which spreadsheets read as "this is text";
- every text cell is wrapped in double quotes (a double quote inside is doubled), so a
  comma or quote in the text cannot close the cell and start a new one with a formula.

Numbers PowerPact itself writes (``int`` and ``Decimal`` values, such as a ``-5.00``
refund) are left bare and unquoted, so they stay numbers in the spreadsheet; they are
ours, not someone's text. Text that merely looks like a number (``"-5.00"``) is text
and is neutralised like any other.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TextOut(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralised(cell: object) -> str | int | Decimal:
    """The cell as it may go into a CSV: numbers as they are, any other value as safe text."""
    if isinstance(cell, int | Decimal) and not isinstance(cell, bool):
        return cell
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """``csv.writer`` with every cell ``neutralised`` and every text cell quoted."""

    def __init__(self, out: TextOut) -> None:
        # QUOTE_NONNUMERIC quotes every cell but numbers (int, Decimal), which stay numbers.
        self._writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, cells: Iterable[object]) -> None:
        self._writer.writerow([neutralised(cell) for cell in cells])


def csv_writer(out: TextOut) -> SafeCsvWriter:
    """The one way PowerPact writes a CSV (see the module docstring)."""
    return SafeCsvWriter(out)
