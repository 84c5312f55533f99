"""The intake's way down to libpq: text parameters, prepared statements, psycopg's errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from powerpact.shopify.delivery_store import libpq_url
from powerpact.shopify.prepared import execute, text_param


@pytest.fixture
def conn(database_url) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        yield conn


def prepared_names(conn: psycopg.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM pg_prepared_statements")}


def test_text_parameters_are_postgresql_text_and_null():
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert text_param(None, "utf-8") is None
    assert text_param("Café", "utf-8") == "Café".encode()
    assert text_param(moment, "utf-8") == b"2026-11-22T12:00:00+00:00"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("cut\x00here", "NUL"),  # libpq would silently send only "cut"
        (datetime(2026, 11, 22, 12, 0), "time zone"),  # noqa: DTZ001 (the case refused)
        ("Café", "cannot encode"),
    ],
)
def test_a_value_postgresql_would_misread_is_refused_as_a_data_error(value, reason):
    with pytest.raises(psycopg.DataError, match=reason):
        text_param(value, "ascii")


def test_a_type_with_no_text_format_is_a_programming_error():
    with pytest.raises(TypeError, match="Decimal"):
        text_param(Decimal("1.00"), "utf-8")  # type: ignore[arg-type]


def test_an_unprepared_statement_leaves_nothing_prepared(conn):
    result = execute(conn, "SELECT $1::text || $2::text", ["a", "b"])
    assert result.get_value(0, 0) == b"ab"
    assert prepared_names(conn) == set()


def test_a_named_statement_is_prepared_once_and_run_by_name(conn):
    for n in range(3):
        result = execute(conn, "SELECT $1::int + 1", [str(n)], prepared_as=b"plus_one")
        assert result.get_value(0, 0) == str(n + 1).encode()
    assert prepared_names(conn) == {"plus_one"}


def test_a_new_connection_prepares_the_statement_afresh(database_url, conn):
    execute(conn, "SELECT 1", [], prepared_as=b"one")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as other:
        assert execute(other, "SELECT 1", [], prepared_as=b"one").get_value(0, 0) == b"1"
        assert prepared_names(other) == {"one"}


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("SELECT $1::int", psycopg.errors.InvalidTextRepresentation),  # a DataError
        ("SELEC 1", psycopg.errors.SyntaxError),
    ],
)
def test_postgresql_refusing_raises_psycopgs_error_for_its_sqlstate(conn, statement, error):
    params = ["not a number"] if "$1" in statement else []
    with pytest.raises(error):
        execute(conn, statement, params)


def test_a_value_refused_by_postgresql_is_a_data_error(conn):
    with pytest.raises(psycopg.DataError):
        execute(conn, "SELECT $1::int", ["twelve"], prepared_as=b"to_int")


def test_a_connection_the_server_dropped_is_an_operational_error_and_broken(conn, database_url):
    pid = conn.info.backend_pid
    with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(psycopg.OperationalError):
        execute(conn, "SELECT 1", [], prepared_as=b"one")
    assert conn.broken


def test_a_connection_outside_a_transaction_without_autocommit_is_refused(database_url):
    with psycopg.connect(libpq_url(database_url)) as conn:
        with pytest.raises(psycopg.ProgrammingError, match="autocommit"):
            execute(conn, "SELECT 1", [])
        conn.execute("SELECT 1")  # psycopg opens the transaction
        assert execute(conn, "SELECT 2", []).get_value(0, 0) == b"2"
