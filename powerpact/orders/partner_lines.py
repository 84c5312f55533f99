"""A partner order's lines: one per (partner variant, unit price), and who put what in them.

A daily batch of 30 retail orders of one bag is one partner line of quantity 30, not 30
lines. Each partner line keeps its *shares*: which retail line (of which OrderSync) put
how many units in it, stored as ``PartnerLineShare`` rows, so that a shipment of the
partner's line finds its way back to the right retail orders.

The money rules (issue #20, bug 9):

- a retail line owes the partner its partner price times its quantity, less its share
  of the retail discount (``split.py``), in whole minor units of the currency: that is
  what the desk shows as the OrderSync's lines, and what the partner order charges;
- a line's units are priced at that amount divided by its quantity. When the division
  leaves a remainder (29.00 for 3 units), the remainder's units are priced one minor
  unit higher (2 at 9.67 and 1 at 9.66): every unit price is a whole amount and the
  line's units still add up to what it owes, to the cent;
- units of one partner variant at one unit price become one partner line; a variant
  at two prices (a discount, or a partner price changed between two orders) becomes
  two lines, never one line at an average price. So the partner order's lines add up
  exactly to what its retail orders owe for them, and with their shipping and tax
  shares the order's total is the sum of the OrderSyncs' totals.

Which retail orders a shipment reaches (``allocate``): the shares of the shipped partner
line (its variant and unit price, which the fulfilment names; by variant alone when no
share has that price), oldest retail order first (the OrderSync captured first), each up
to what it put in less what was already shipped of it. A partial shipment of a 30-unit
line of 30 retail orders fulfils the oldest ones; the next shipment goes on where it
stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import insert, select

from powerpact.extensions import db
from powerpact.models import OrderSync, OrderSyncLine, PartnerLineShare
from powerpact.money import quantum, round_money


class UnmappedLine(ValueError):
    """A retail line that no partner variant stands for: it cannot go on a partner order."""

    def __init__(self, line: OrderSyncLine) -> None:
        super().__init__(f"“{line.title}” is not mapped to a product of this partner.")
        self.line = line


@dataclass(frozen=True)
class Share:
    """Units one retail line put into one partner line."""

    order_sync_id: int
    retail_line_id: str  # the retail order's line item gid
    retail_order_name: str
    quantity: int


@dataclass
class PartnerLine:
    """One line of a partner order: a variant, a unit price and the shares that fill it."""

    variant_id: str
    unit_price: Decimal
    shares: list[Share] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(share.quantity for share in self.shares)

    @property
    def retail_orders(self) -> str:
        """The retail orders in the line, with their units when more than one: ``#1001 (2)``."""
        units: dict[str, int] = {}
        for share in self.shares:
            units[share.retail_order_name] = units.get(share.retail_order_name, 0) + share.quantity
        return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in units.items())


def owed(line: OrderSyncLine, currency: str) -> Decimal:
    """What a retail line owes the partner: its units at the partner's price, less its discount."""
    return round_money(line.partner_unit_price * line.quantity - line.discount, currency)


def unit_prices(line: OrderSyncLine, currency: str) -> list[tuple[Decimal, int]]:
    """The line's units as (unit price, units): one price, or two a minor unit apart.

    ``owed(line)`` in minor units is ``base * quantity + rest``: ``rest`` units cost a
    minor unit more than the others. Every price is a whole amount; the prices times
    their units add up to ``owed(line)`` exactly.
    """
    if line.quantity <= 0:
        return []
    step = quantum(currency)
    minor = int(owed(line, currency) / step)
    base, rest = divmod(minor, line.quantity)
    prices = [((base + 1) * step, rest), (base * step, line.quantity - rest)]
    return [(price, units) for price, units in prices if units > 0]


def consolidate(members: Sequence[OrderSync]) -> list[PartnerLine]:
    """The partner order's lines for ``members`` (in the order given, oldest first).

    One line per (partner variant, unit price), in the order each first appears; each
    keeps the shares of the retail lines in it. Raises ``UnmappedLine`` for a retail
    line with no partner variant.
    """
    lines: dict[tuple[str, Decimal], PartnerLine] = {}
    for order in members:
        for retail_line in order.lines:
            variant = retail_line.partner_variant_id
            if not variant:
                raise UnmappedLine(retail_line)
            for price, units in unit_prices(retail_line, order.currency):
                line = lines.setdefault((variant, price), PartnerLine(variant, price))
                line.shares.append(
                    Share(
                        order.id,
                        retail_line.bubbly_line_item_id,
                        order.bubbly_order_name or order.bubbly_order_id,
                        units,
                    )
                )
    return list(lines.values())


def record_shares(partner_domain: str, partner_order_id: str, lines: Sequence[PartnerLine]) -> None:
    """Store what each retail line put into each of the partner order's ``lines``, in one
    Core statement (sending is PowerPact's hot path). Shares of one retail line at one
    price (a weekly master order may put two prices on one line) are stored as one."""
    quantities: dict[tuple[str, Decimal, int, str], int] = {}
    for line in lines:
        for share in line.shares:
            key = (line.variant_id, line.unit_price, share.order_sync_id, share.retail_line_id)
            quantities[key] = quantities.get(key, 0) + share.quantity
    rows = [
        {
            "partner_shop_domain": partner_domain,
            "partner_order_id": partner_order_id,
            "partner_variant_id": variant_id,
            "unit_price": unit_price,
            "order_sync_id": order_sync_id,
            "bubbly_line_item_id": retail_line_id,
            "quantity": quantity,
            "fulfilled_quantity": 0,
        }
        for (variant_id, unit_price, order_sync_id, retail_line_id), quantity in quantities.items()
    ]
    if rows:
        db.session.connection().execute(insert(PartnerLineShare.__table__), rows)


def shares_of(partner_domain: str, partner_order_id: str) -> list[PartnerLineShare]:
    """The partner order's shares, oldest retail order first (the allocation order)."""
    return list(
        db.session.scalars(
            select(PartnerLineShare)
            .where(
                PartnerLineShare.partner_shop_domain == partner_domain,
                PartnerLineShare.partner_order_id == partner_order_id,
            )
            .order_by(PartnerLineShare.order_sync_id, PartnerLineShare.id)
        )
    )


@dataclass(frozen=True)
class Shipped:
    """Units of one partner line in a partner fulfilment: its variant and unit price."""

    variant_id: str | None
    unit_price: Decimal | None
    quantity: int


@dataclass
class Slot:
    """Room a shipment can fill: units of one retail line in one partner line (a share),
    or, for an order sent before shares were kept, the retail line itself."""

    order_sync_id: int
    retail_line_id: str
    variant_id: str | None
    unit_price: Decimal | None
    room: int
    share: PartnerLineShare | None = None


def slots_of(shares: Sequence[PartnerLineShare], orders: Sequence[OrderSync]) -> list[Slot]:
    """Where a shipment of the partner order can go, oldest retail order first.

    The shares when the order has them; else (a partner order sent before they were
    kept) each retail line's unfulfilled units, found by variant as before.
    """
    if shares:
        return [
            Slot(
                s.order_sync_id,
                s.bubbly_line_item_id,
                s.partner_variant_id,
                s.unit_price,
                s.quantity - s.fulfilled_quantity,
                s,
            )
            for s in shares
        ]
    return [
        Slot(
            order.id,
            line.bubbly_line_item_id,
            line.partner_variant_id,
            None,
            line.quantity - (line.removed_quantity or 0) - line.fulfilled_quantity,
        )
        for order in sorted(orders, key=lambda o: o.id)
        for line in order.lines
    ]


def slots_for(slots: Sequence[Slot], item: Shipped) -> list[Slot]:
    """The slots a shipped item fills: those of its partner line (variant and unit price);
    when none is known at that price (a line Shopify priced, or a shipment that names no
    price), every slot of its variant."""
    of_variant = [
        s for s in slots if item.variant_id is not None and s.variant_id == item.variant_id
    ]
    if item.unit_price is None:
        return of_variant
    of_line = [s for s in of_variant if s.unit_price == item.unit_price]
    return of_line or of_variant


def allocate(slots: Sequence[Slot], shipped: Sequence[Shipped]) -> dict[int, dict[str, int]]:
    """Spread a shipment over ``slots`` (oldest retail order first); per OrderSync id,
    the units to fulfil per retail line item id. A share's ``fulfilled_quantity`` grows
    by what it takes, so the next shipment of the line goes on where this one stopped.
    """
    plan: dict[int, dict[str, int]] = {}
    for item in shipped:
        left = item.quantity
        for slot in slots_for(slots, item):
            take = min(slot.room, left)
            if take <= 0:
                continue
            slot.room -= take
            left -= take
            if slot.share is not None:
                slot.share.fulfilled_quantity += take
            lines = plan.setdefault(slot.order_sync_id, {})
            lines[slot.retail_line_id] = lines.get(slot.retail_line_id, 0) + take
    return plan
