"""The safety buffer: units of each imported variant held back from the retail store.

A partner has one buffer (its settings, default 0) and an imported product may have its
own instead. The retail store shows ``max(partner available - buffer, 0)``: every path that
writes a retail level (the hourly sync, the webhooks' coalesced write, Sync now, the resync
after a buffer changes, and a new variant's first level at import) takes it from
``retail_target``, so they cannot disagree.
"""

from __future__ import annotations

from powerpact.models import PartnerStore, ProductMap

MAX_BUFFER = 100_000


class InvalidBuffer(ValueError):
    """A buffer or threshold that is not a whole number from 0 to ``MAX_BUFFER``."""


def retail_target(partner_available: int | None, buffer: int) -> int:
    """What the retail store shows for a partner's ``available`` (None: the variant is gone,
    0), with ``buffer`` units held back: never negative."""
    return max((partner_available or 0) - max(buffer, 0), 0)


def buffer_of(product_map: ProductMap, partner: PartnerStore) -> int:
    """The product's own buffer, else its partner's."""
    if product_map.safety_buffer is not None:
        return product_map.safety_buffer
    return partner.safety_buffer or 0


def parse_units(typed: str | None, what: str, *, blank: int | None = None) -> int | None:
    """A count of units typed in a form (``InvalidBuffer`` says what is wrong in words);
    ``blank`` is what an empty field means (None: the product follows its partner)."""
    text = (typed or "").strip()
    if not text:
        return blank
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) > MAX_BUFFER:
        raise InvalidBuffer(f"Enter {what} as a whole number of units from 0 to {MAX_BUFFER:,}.")
    return int(text)
