"""Money arithmetic: ``Decimal`` amounts in a currency's minor unit, split exactly.

``allocate`` is the largest-remainder method: the parts always sum exactly to
the whole, and each part is as close to its exact proportion as a minor unit
allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from math import floor

ZERO = Decimal("0")
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL_CURRENCIES = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


class MoneyError(ValueError):
    """An amount that cannot be split as asked (a float, a negative weight...)."""


def minor_digits(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


def to_decimal(value: str | int | Decimal) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("money must not be a float")
    try:
        result = Decimal(value)
    except ArithmeticError as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return result


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` over ``weights`` by the largest-remainder method.

    1. Express the total in whole minor units (it must already be rounded to them).
    2. Give each part the floor of its exact quota ``units * weight / sum(weights)``.
    3. Hand the units left over, one each, to the parts with the largest remainders
       (ties to the earlier part, so the result is deterministic).
    All-zero weights split evenly. A negative total is split as its opposite, negated.
    """
    if not weights:
        if total != 0:
            raise MoneyError("cannot allocate a non-zero amount over no parts")
        return []
    if any(w < 0 for w in weights):
        raise MoneyError("allocation weights must not be negative")
    step = quantum(currency)
    units = total / step
    if units != units.to_integral_value():
        raise MoneyError(f"{total} is not a whole number of {currency} minor units")
    sign = -1 if units < 0 else 1
    units_int = abs(int(units))
    exact = [Fraction(w) for w in weights] if any(weights) else [Fraction(1)] * len(weights)
    whole = sum(exact)
    quotas = [units_int * w / whole for w in exact]
    parts = [floor(q) for q in quotas]
    leftover = units_int - sum(parts)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [sign * p * step for p in parts]
