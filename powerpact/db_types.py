"""Column types that keep PowerPact's rules at the database edge.

- ``UTCDateTime``: timezone-aware UTC in Python on every backend (SQLite drops
  the offset; PostgreSQL keeps it), and a naive datetime is refused on write.
- ``EncryptedText``: Fernet ciphertext in the column, plaintext only in memory.
  The keys come from ``TOKEN_ENCRYPTION_KEYS``: the first encrypts, all decrypt,
  so a key can be rotated by putting the new one first and re-saving rows.
- ``Money``: NUMERIC with four decimals, ``Decimal`` in Python (no currency in
  use has more than three minor digits).
- ``JSONDocument``: JSONB on PostgreSQL, JSON elsewhere.

And ``time_slot``, which of a row of consecutive periods a stored time falls in, with
``edge_parameters`` and ``edge_values`` to build a statement over N periods once and run
it with any N + 1 edges.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import (
    JSON,
    BindParameter,
    ColumnElement,
    DateTime,
    Dialect,
    Integer,
    Numeric,
    SQLColumnExpression,
    Text,
    bindparam,
    case,
    literal,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

EXTENSION_KEY = "powerpact.token_cipher"

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def time_slot(
    column: SQLColumnExpression[datetime],
    edges: Sequence[datetime] | Sequence[BindParameter[datetime]],
) -> ColumnElement[int]:
    """Which period between consecutive ``edges`` (aware, ascending) a stored time falls in:
    0 from ``edges[0]`` up to ``edges[1]``, 1 up to ``edges[2]``, and so on.

    A CASE, so the same SQL runs on PostgreSQL and on the demo's SQLite, and the periods
    may be of any length: a shop's day across a change of clocks (23 or 25 hours), an hour
    of a zone half an hour off UTC's. Times outside ``edges[0]`` to ``edges[-1]`` are the
    caller's to leave out (they read as the last period).
    """
    whens = [(column < edge, slot) for slot, edge in enumerate(edges[1:-1])]
    last = len(edges) - 2
    return case(*whens, else_=last) if whens else literal(last, Integer)


def edge_parameters(count: int) -> list[BindParameter[datetime]]:
    """``count`` bound parameters (``edge_0`` ...) to give ``time_slot`` and the window's
    bounds in place of the edges themselves: a statement over a window of ``count`` edges
    is then built and compiled once (SQLAlchemy caches by its shape) and run with
    ``edge_values``. Building one with 31 CASE branches cost about a millisecond a page."""
    return [bindparam(f"edge_{i}", type_=UTCDateTime()) for i in range(count)]


def edge_values(edges: Sequence[datetime]) -> dict[str, datetime]:
    """The values of ``edge_parameters(len(edges))``."""
    return {f"edge_{i}": edge for i, edge in enumerate(edges)}


def build_cipher(keys: tuple[str, ...] | list[str]) -> MultiFernet:
    """MultiFernet over the configured keys, newest (first) encrypting."""
    if not keys:
        raise ValueError("TOKEN_ENCRYPTION_KEYS is empty: no key to encrypt tokens with")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def token_cipher() -> MultiFernet:
    return current_app.extensions[EXTENSION_KEY]


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where a UTC time is stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return token_cipher().encrypt(value.encode()).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt(token_cipher(), value)


@functools.lru_cache(maxsize=1024)
def decrypt(cipher: MultiFernet, ciphertext: str) -> str:
    """The plaintext of a stored token, remembered for as long as its row is read again.

    A partner's row is read for every order sent to it, and a Fernet decryption
    (HMAC check and AES) was a twentieth of a send's CPU. The cache is keyed by
    the cipher too, so rotated keys take effect at once; it lives in this
    process's memory only, where the pooled connections hold the tokens anyway.
    """
    try:
        return cipher.decrypt(ciphertext.encode("ascii")).decode()
    except InvalidToken as exc:
        raise InvalidToken(
            "a stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS "
            "(was a key removed before its rows were re-encrypted?)"
        ) from exc


class Money(TypeDecorator[Decimal]):
    impl = Numeric(18, 4, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
