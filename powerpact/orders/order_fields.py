"""Reading the fields of Shopify's order answer, each checked, or a clear ``InvalidOrder``.

Shopify's answer is trusted to be JSON, not to be sane: a field may be missing,
of another type, negative, huge, or carry a NUL byte that PostgreSQL refuses.
Each reader names the field it refused (``order.lineItems.nodes[2].quantity``),
so the failed delivery says what was wrong instead of ``KeyError: 'quantity'``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from powerpact.money import ZERO, MoneyError, to_decimal
from powerpact.orders.split import InvalidOrder

MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal(10) ** 12  # the Money columns hold 14 digits before the point
CURRENCY = re.compile(r"[A-Z]{3}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidOrder(f"{where} is not an object ({_shown(value)})")
    return value


def optional_obj(value: Any, where: str) -> dict[str, Any] | None:
    return None if value is None else obj(value, where)


def field(bag: Any, key: str, where: str) -> Any:
    if key not in obj(bag, where):
        raise InvalidOrder(f"{where}.{key} is missing")
    return bag[key]


def items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidOrder(f"{where} is not a list ({_shown(value)})")
    return value


def text(value: Any, where: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidOrder(f"{where} is not a text ({_shown(value)})")
    if "\x00" in value:
        raise InvalidOrder(f"{where} contains a NUL character")
    if max_length is not None and len(value) > max_length:
        raise InvalidOrder(f"{where} is longer than {max_length} characters")
    return value


def optional_text(value: Any, where: str, *, max_length: int | None = None) -> str | None:
    return None if value is None or value == "" else text(value, where, max_length=max_length)


def count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOrder(f"{where} is not a whole number ({_shown(value)})")
    if not 0 <= value <= MAX_QUANTITY:
        raise InvalidOrder(f"{where} is out of range ({value})")
    return value


def currency(value: Any, where: str) -> str:
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise InvalidOrder(f"{where} is not a currency code ({_shown(value)})")
    return value


def amount(bag: Any, where: str) -> Decimal:
    """A ``MoneyBag``'s shop amount; a missing (null) bag is zero."""
    if bag is None:
        return ZERO
    raw = field(field(bag, "shopMoney", where), "amount", f"{where}.shopMoney")
    where = f"{where}.shopMoney.amount"
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidOrder(f"{where} is not an amount ({_shown(raw)})")
    try:
        value = to_decimal(raw)
    except MoneyError:
        raise InvalidOrder(f"{where} is not an amount ({_shown(raw)})") from None
    if not ZERO <= value < MAX_AMOUNT:
        raise InvalidOrder(f"{where} is out of range ({_shown(raw)})")
    return value


def address(value: Any, where: str) -> dict[str, Any] | None:
    """An address as stored on the OrderSync: every value text (or null), nothing hostile."""
    bag = optional_obj(value, where)
    if bag is None:
        return None
    for key, part in bag.items():
        if "\x00" in key or (part is not None and not isinstance(part, str)):
            raise InvalidOrder(f"{where}.{key!s:.40} is not a text ({_shown(part)})")
        if part and ("\x00" in part or len(part) > 255):
            raise InvalidOrder(f"{where}.{key} holds a NUL character or is over 255 characters")
    return bag


def moment(value: Any, where: str) -> datetime:
    """An ISO 8601 ``DateTime`` with its offset (Shopify's), as an aware UTC datetime."""
    shown = text(value, where, max_length=64)
    try:
        parsed = datetime.fromisoformat(shown.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidOrder(f"{where} is not a date and time ({_shown(value)})") from None
    if parsed.tzinfo is None:
        raise InvalidOrder(f"{where} has no time zone ({_shown(value)})")
    return parsed.astimezone(UTC)


RISK_LEVELS = frozenset({"LOW", "MEDIUM", "HIGH", "NONE", "PENDING"})
MAX_RISK_FACTS = 5


def risk_assessments(value: Any, where: str) -> tuple[bool, tuple[str, ...]]:
    """(whether a final assessment exists, the negative facts of the final ones).

    ``PENDING`` is "the risk assessment is still pending"; any other level is final.
    Facts are the providers' own words, kept short for the hold reason.
    """
    final = False
    negative: list[str] = []
    for index, assessment in enumerate(items(value, where)):
        here = f"{where}[{index}]"
        level = text(field(assessment, "riskLevel", here), f"{here}.riskLevel", max_length=16)
        if level not in RISK_LEVELS:
            raise InvalidOrder(f"{here}.riskLevel is not a risk level ({_shown(level)})")
        if level == "PENDING":
            continue
        final = True
        for f_index, fact in enumerate(items(assessment.get("facts") or [], f"{here}.facts")):
            fact_where = f"{here}.facts[{f_index}]"
            obj(fact, fact_where)
            if fact.get("sentiment") == "NEGATIVE" and len(negative) < MAX_RISK_FACTS:
                negative.append(
                    text(fact.get("description"), f"{fact_where}.description", max_length=256)
                )
    return final, tuple(negative)
