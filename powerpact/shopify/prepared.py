"""A statement executed through libpq itself (``psycopg.pq``), for the webhook intake.

The webhook intake runs one statement shape per batch size, hundreds of times a
second per process. Measured on the development machine for the intake's two-row
statement, psycopg's ``Connection.execute`` (query conversion, adapters, the
prepare bookkeeping, a generator-driven wait) cost about 85 µs of the caller's CPU;
``PGconn.exec_prepared`` with text parameters, 40 µs. On the intake's own
connection the statement is prepared, once per shape (unprepared, PostgreSQL spent
about 80 µs more on each, parsing and planning it). psycopg's public ``pq``
module is the documented way down to libpq, and it releases the GIL while it waits.

Errors come back as psycopg's own exception classes (looked up by SQLSTATE), so
callers handle them as they would psycopg's: ``DataError`` for a value PostgreSQL
refuses, ``OperationalError`` for a broken connection or a cancelled statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg import errors, pq

# The shapes already prepared on each connection (its server session); a connection
# made anew starts with none.
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection, set[bytes]] = weakref.WeakKeyDictionary()


def text_param(value: str | datetime | None, encoding: str) -> bytes | None:
    """A parameter in PostgreSQL's text format (None is NULL)."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:  # libpq reads a text parameter up to its first NUL
            raise psycopg.DataError("PostgreSQL text cannot contain NUL (0x00) characters")
        try:
            return value.encode(encoding)
        except UnicodeEncodeError as exc:
            raise psycopg.DataError(f"a value the connection cannot encode: {exc}") from exc
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise psycopg.DataError(f"a timestamp without a time zone: {value!r}")
        return value.isoformat().encode()
    raise TypeError(f"no text format for {type(value).__name__}")


def execute(
    conn: psycopg.Connection,
    statement: str,
    params: Iterable[str | datetime | None],
    *,
    prepared_as: bytes | None = None,
) -> pq.abc.PGresult:
    """Run ``statement`` (``$n`` placeholders) with text parameters, through libpq.

    With ``prepared_as`` the statement is prepared under that name on first use and
    executed by name afterwards: only on a connection of the caller's own, since
    psycopg deallocates every prepared statement of the session when it sees a
    ``ROLLBACK`` or ``DROP`` on it. The connection must be in autocommit mode or inside
    a transaction already: the statement goes to libpq directly, so psycopg sends no
    ``BEGIN`` for it.
    """
    with conn.lock:
        pgconn = conn.pgconn
        if not conn.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            raise psycopg.ProgrammingError("needs autocommit or a transaction already open")
        encoding = conn.info.encoding
        values = [text_param(value, encoding) for value in params]
        if prepared_as is None:
            return _checked(pgconn, pgconn.exec_params(statement.encode(encoding), values))
        prepared = _PREPARED.setdefault(conn, set())
        if prepared_as not in prepared:
            _checked(pgconn, pgconn.prepare(prepared_as, statement.encode(encoding)))
            prepared.add(prepared_as)
        executed = pgconn.exec_prepared(
            prepared_as,
            values,  # type: ignore[arg-type]  # a None is sent as NULL; psycopg's type omits it
        )
        return _checked(pgconn, executed)


def _checked(pgconn: pq.abc.PGconn, result: pq.abc.PGresult) -> pq.abc.PGresult:
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    raise error_from(pgconn, result)


def error_from(pgconn: pq.abc.PGconn, result: pq.abc.PGresult) -> psycopg.Error:
    """psycopg's exception for a failed result: by its SQLSTATE, or ``OperationalError``
    when there is none (the connection itself failed)."""
    message = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    if not sqlstate:
        return psycopg.OperationalError(message or "the connection failed")
    try:
        error_class = errors.lookup(sqlstate.decode())
    except KeyError:
        error_class = psycopg.DatabaseError
    return error_class(message)
