"""Markup rules: a partner's price becomes the retail price. Pure, ``Decimal`` only.

A rule adds a percentage or a fixed amount, then rounds *up* to a price ending
(none, .99, .95 or a whole unit), so rounding only ever raises a price and a
minimum margin that holds before rounding still holds after it. The minimum
margin is the gross margin on the retail price, ``(retail - partner) / retail``.

Limits: a percentage markup is at most 1000%, a fixed one at most
``MAX_FIXED_MARKUP`` (1,000,000,000 in the shop's currency, above any real price in
any currency), the minimum margin at most ``MAX_MIN_MARGIN`` (99.99%: the price times
10,000). Anything larger is a typo, and within them every price is computed exactly
(a fixed markup of ``1e309`` is a finite ``Decimal`` that no price can be rounded to).
A rule saved before these limits is read with ``saved_rule``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

from powerpact.money import minor_digits, quantum

HUNDRED = Decimal(100)
MAX_PERCENTAGE_MARKUP = Decimal(1000)
MAX_FIXED_MARKUP = Decimal(1_000_000_000)
MAX_MIN_MARGIN = Decimal("99.99")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
SAVED_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:E[+-]?[0-9]+)?")


class MarkupKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class Rounding(StrEnum):
    NONE = "none"
    TO_99 = "99"
    TO_95 = "95"
    WHOLE = "whole"


class InvalidRule(ValueError):
    """A markup rule a person typed that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class MarkupRule:
    kind: MarkupKind = MarkupKind.PERCENTAGE
    value: Decimal = Decimal(30)
    rounding: Rounding = Rounding.NONE
    keep_compare_at: bool = True
    min_margin_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.value < 0:
            raise InvalidRule("The markup cannot be negative.")
        if self.kind == MarkupKind.PERCENTAGE and self.value > MAX_PERCENTAGE_MARKUP:
            raise InvalidRule("A percentage markup above 1000% is almost certainly a typo.")
        if self.kind == MarkupKind.FIXED and self.value > MAX_FIXED_MARKUP:
            raise InvalidRule("A fixed markup above 1,000,000,000 is almost certainly a typo.")
        if not Decimal(0) <= self.min_margin_percent <= MAX_MIN_MARGIN:
            raise InvalidRule(
                "The minimum margin must be at least 0% and below 100% (99.99% at most)."
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, saved: bool = False) -> MarkupRule:
        """Build a rule from a submitted form (or, with ``saved``, from stored JSON); refuse
        what cannot be read. Rules stored before typed numbers had to be plain may hold
        ``str(Decimal)``'s exponent notation (``1E-7``), so stored JSON may use it."""
        data = data or {}
        try:
            return cls(
                kind=MarkupKind(data.get("kind", MarkupKind.PERCENTAGE)),
                value=_decimal(data.get("value", "30"), "markup", saved),
                rounding=Rounding(str(data.get("rounding", Rounding.NONE))),
                keep_compare_at=_flag(data.get("keep_compare_at", True)),
                min_margin_percent=_decimal(
                    data.get("min_margin_percent", "0"), "minimum margin", saved
                ),
            )
        except ValueError as exc:
            if isinstance(exc, InvalidRule):
                raise
            raise InvalidRule(f"Unknown choice: {exc}.") from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "value": f"{self.value:f}",
            "rounding": self.rounding.value,
            "keep_compare_at": self.keep_compare_at,
            "min_margin_percent": f"{self.min_margin_percent:f}",
        }

    def describe(self) -> str:
        amount = (
            f"{self.value.normalize():f}%"
            if self.kind == MarkupKind.PERCENTAGE
            else f"+{self.value}"
        )
        parts = [amount]
        if self.rounding != Rounding.NONE:
            parts.append(
                {"99": "ending .99", "95": "ending .95", "whole": "whole units"}[self.rounding]
            )
        if self.min_margin_percent:
            parts.append(f"at least {self.min_margin_percent.normalize():f}% margin")
        return ", ".join(parts)


def saved_rule(data: dict[str, Any] | None) -> tuple[MarkupRule, str | None]:
    """A rule read back from the database, or the default rule and why the saved one
    cannot be used (saved before today's limits, or by hand): a page shows the reason
    instead of failing."""
    try:
        return MarkupRule.from_dict(data, saved=True), None
    except InvalidRule as exc:
        return MarkupRule(), f"The saved markup cannot be used: {exc}"


def _decimal(value: Any, name: str, saved: bool = False) -> Decimal:
    """A number as a person writes it: digits, at most one point, an optional sign and
    ``%``. ``Decimal`` alone would also read ``1e3`` (1000), ``nan``, ``inf`` and ``1_000``."""
    if isinstance(value, float):
        raise InvalidRule(f"The {name} must be given as text or a Decimal, not a float.")
    if isinstance(value, Decimal) and value.is_finite():
        return value
    text = str(value).strip().removesuffix("%").strip()
    if saved and SAVED_NUMBER.fullmatch(text):
        return Decimal(text)
    if not PLAIN_NUMBER.fullmatch(text):
        raise InvalidRule(
            f"The {name} must be a number, written plainly like 30 or 12.5 (got {value!r})."
        )
    return Decimal(text)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true", "on", "yes", "keep"}
    return bool(value)


@dataclass(frozen=True)
class RetailPrice:
    price: Decimal
    compare_at: Decimal | None


def _round_up_to_ending(amount: Decimal, rounding: Rounding, currency: str) -> Decimal:
    step = quantum(currency)
    amount = amount.quantize(step, rounding=ROUND_CEILING)
    if rounding == Rounding.NONE:
        return amount
    whole = amount.to_integral_value(rounding=ROUND_CEILING)
    if rounding == Rounding.WHOLE or minor_digits(currency) == 0:
        return whole
    ending = Decimal("0.99") if rounding == Rounding.TO_99 else Decimal("0.95")
    candidate = whole - 1 + ending
    return candidate if candidate >= amount else whole + ending


def marked_up(partner_price: Decimal, rule: MarkupRule, currency: str) -> Decimal:
    """The raw marked-up price, lifted to the minimum margin, before rounding."""
    if rule.kind == MarkupKind.PERCENTAGE:
        raw = partner_price * (1 + rule.value / HUNDRED)
    else:
        raw = partner_price + rule.value
    if rule.min_margin_percent:
        floor = partner_price / (1 - rule.min_margin_percent / HUNDRED)
        raw = max(raw, floor)
    return raw


def retail_price(
    partner_price: Decimal,
    rule: MarkupRule,
    currency: str,
    partner_compare_at: Decimal | None = None,
) -> RetailPrice:
    """The retail price (and compare-at) a partner price becomes under ``rule``."""
    if partner_price < 0:
        raise InvalidRule("A partner price cannot be negative.")
    price = _round_up_to_ending(marked_up(partner_price, rule, currency), rule.rounding, currency)
    compare_at = None
    if (
        rule.keep_compare_at
        and partner_compare_at is not None
        and partner_compare_at > partner_price
    ):
        candidate = _round_up_to_ending(
            marked_up(partner_compare_at, rule, currency), rule.rounding, currency
        )
        compare_at = candidate if candidate > price else None
    return RetailPrice(price, compare_at)
