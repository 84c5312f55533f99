"""What the security tests search: every table of the database, and every log line.

The database is read through the test's own connection, so rows that the test's
transaction has not committed are seen too; tables are listed from PostgreSQL's
catalogue, not from the models, so a table the models forgot is dumped as well.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session


def table_names(session: Session) -> list[str]:
    return list(
        session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        )
    )


def table_rows(session: Session) -> dict[str, list[str]]:
    """Every row of every table as PostgreSQL prints it, sorted so two dumps compare."""
    session.flush()
    return {name: list(session.scalars(rows_of(name))) for name in table_names(session)}


def rows_of(table: str) -> TextClause:
    """The table's rows as text; ``table`` comes from ``pg_tables``, never from input."""
    return text(f'SELECT t::text FROM "{table}" t ORDER BY 1')  # noqa: S608


def database_dump(session: Session) -> str:
    return "\n".join(f"{name}: {row}" for name, rows in table_rows(session).items() for row in rows)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every record any logger emits, as raw text (message, arguments and traceback),
    before the app's redacting filter runs: a token here was logged by some code path."""
    collector = _Collector()
    collector.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.handlers.insert(0, collector)  # ahead of the app's handler, which masks in place
    root.setLevel(logging.DEBUG)
    try:
        yield collector.lines
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)
