"""Splitting a retail order into one share per party, exactly to the minor unit.

A party is a partner store (its shop domain) or the retail store itself
(``RETAIL_PARTY``), which keeps the share of its own lines. Pure functions: no
database, no Shopify.

Rules (issue #7):
- each line's *value* is its retail price times its remaining quantity, less the
  discounts the retail order allocated to it; shipping is prorated by value;
- tax comes from a line's own tax lines where it has them; whatever tax the order
  carries beyond those (shipping tax, order-level tax) is prorated by value;
- prorating is the largest-remainder method, so the parties' shipping shares sum
  exactly to the order's shipping and their tax shares to the order's tax;
- a partner's lines carry the partner's own unit price; the retail discount
  travels with the line as the same fraction of the line, at the partner's price;
- lines refunded or removed before sending (remaining quantity 0) are dropped;
- every line keeps its retail side too (unit price and discount as the retail order
  has them), which the margins read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from powerpact.money import ZERO, MoneyError, allocate, round_money

RETAIL_PARTY = "__retail__"


class InvalidOrder(ValueError):
    """The order cannot be split as given; the message says why in plain words."""


@dataclass(frozen=True)
class RetailLine:
    line_id: str
    party: str
    title: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO
    tax: Decimal | None = None
    partner_unit_price: Decimal | None = None
    sku: str | None = None
    retail_variant_id: str | None = None
    partner_variant_id: str | None = None
    product_title: str | None = None

    @property
    def value(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True)
class RetailOrder:
    currency: str
    lines: Sequence[RetailLine]
    shipping: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass(frozen=True)
class PartyLine:
    line_id: str
    title: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    sku: str | None
    retail_variant_id: str | None
    partner_variant_id: str | None
    retail_unit_price: Decimal
    retail_discount: Decimal
    product_title: str | None = None


@dataclass
class PartyShare:
    party: str
    currency: str
    lines: list[PartyLine] = field(default_factory=list)
    retail_value: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), ZERO)

    @property
    def discount(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping + self.tax


def _validate(order: RetailOrder) -> list[RetailLine]:
    for amount, name in ((order.shipping, "shipping"), (order.tax, "tax")):
        if amount < 0:
            raise InvalidOrder(f"the order's {name} is negative ({amount})")
        if round_money(amount, order.currency) != amount:
            raise InvalidOrder(
                f"the order's {name} {amount} is not in whole {order.currency} units"
            )
    live = []
    for line in order.lines:
        if line.quantity < 0 or line.unit_price < 0 or line.discount < 0:
            raise InvalidOrder(f"line {line.line_id} has a negative quantity, price or discount")
        if line.value < 0:
            raise InvalidOrder(f"line {line.line_id} is discounted below zero")
        if line.tax is not None and line.tax < 0:
            raise InvalidOrder(f"line {line.line_id} has negative tax")
        if line.quantity > 0:
            live.append(line)
    return live


def _partner_line(line: RetailLine, currency: str) -> PartyLine:
    price = line.unit_price if line.partner_unit_price is None else line.partner_unit_price
    gross = line.unit_price * line.quantity
    fraction = line.discount / gross if gross else ZERO
    return PartyLine(
        line_id=line.line_id,
        title=line.title,
        quantity=line.quantity,
        unit_price=price,
        discount=round_money(price * line.quantity * fraction, currency),
        tax=line.tax or ZERO,
        sku=line.sku,
        retail_variant_id=line.retail_variant_id,
        partner_variant_id=line.partner_variant_id,
        retail_unit_price=line.unit_price,
        retail_discount=line.discount,
        product_title=line.product_title,
    )


def split_order(order: RetailOrder) -> dict[str, PartyShare]:
    """Return each party's share of ``order``, keyed by party, in first-seen order.

    1. Drop lines with nothing left to send; refuse impossible amounts.
    2. Group lines by party and total each party's retail value.
    3. Prorate shipping over the parties by value (largest remainder).
    4. Give each party its lines' own tax, then prorate the order tax those
       lines do not account for by value, so the parties' tax sums to the order's.
    """
    lines = _validate(order)
    shares: dict[str, PartyShare] = {}
    own_tax: dict[str, Decimal] = {}
    for line in lines:
        share = shares.setdefault(line.party, PartyShare(line.party, order.currency))
        share.lines.append(_partner_line(line, order.currency))
        share.retail_value += line.value
        own_tax[line.party] = own_tax.get(line.party, ZERO) + (line.tax or ZERO)
    if not shares:
        if order.shipping or order.tax:
            raise InvalidOrder("the order charges shipping or tax but has no lines left")
        return shares
    parties = list(shares.values())
    weights = [p.retail_value for p in parties]
    unexplained_tax = order.tax - sum(own_tax.values(), ZERO)
    if unexplained_tax < 0:
        raise InvalidOrder(
            f"the lines' own tax ({order.tax - unexplained_tax}) exceeds the order's tax"
            f" ({order.tax})"
        )
    try:
        shipping = allocate(order.shipping, weights, order.currency)
        tax_rest = allocate(unexplained_tax, weights, order.currency)
    except MoneyError as exc:
        raise InvalidOrder(str(exc)) from exc
    for party, ship, rest in zip(parties, shipping, tax_rest, strict=True):
        party.shipping = ship
        party.tax = own_tax[party.party] + rest
    return shares
