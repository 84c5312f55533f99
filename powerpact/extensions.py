"""Extensions created unbound; ``create_app`` binds them to an app."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CursorResult, MetaData, Result, Table
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model maps one table (none maps a join or a select), so Core statements
        # can take ``Model.__table__`` where SQLAlchemy declares a general FromClause.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The models' base class. At run time it is ``db.Model``, the subclass of ``Base`` that
# Flask-SQLAlchemy builds; a type checker cannot take an instance's attribute as a base class
# (mypy issue 8603), so to it a model is a ``Base``.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate(compare_type=True, render_as_batch=True)


class HasIntegerId(Protocol):
    """A model class whose primary key is an integer ``id``."""

    id: ClassVar[InstrumentedAttribute[int]]


def insert_or_ignore(
    model: type[HasIntegerId], values: dict[str, Any], conflict: list[str]
) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if it existed.

    Concurrent callers are safe: exactly one of them creates the row.
    """
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(model.id)
    )
    return db.session.execute(statement).scalar_one_or_none()


def insert_or_ignore_key(model: type[Base], values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on the table's primary key (one row per key)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


def upsert_key(model: type[Base], values: dict[str, Any], update: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE: the ``update`` columns take the new
    values when the row exists."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    keys = [column.name for column in model.__table__.primary_key]
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    )


def rows_matched(result: Result[Any]) -> int:
    """How many rows the UPDATE or DELETE that gave ``result`` matched.

    ``Session.execute`` returns a ``CursorResult`` for an UPDATE or DELETE without
    RETURNING but is typed as returning a plain ``Result`` (SQLAlchemy 2.0.44's changelog
    says to cast it), so the cast lives here once.
    """
    return cast(CursorResult[Any], result).rowcount


def after_commit(callback: Any) -> None:
    """Run ``callback`` once the current transaction commits (dropped if it rolls back).

    Used to enqueue tasks only when the rows they read are visible to other workers.
    """
    db.session().info.setdefault("after_commit", []).append(callback)


def _mark_committed(session: Any) -> None:
    session.info["after_commit_ready"] = session.info.pop("after_commit", [])


def _run_committed(session: Any, transaction: Any) -> None:
    """Run the callbacks of a committed root transaction once it has fully ended.

    (In ``after_commit`` itself the session may not emit SQL; a task run inline,
    as Huey's immediate mode does, needs to.)
    """
    if transaction.parent is not None:
        return
    for callback in session.info.pop("after_commit_ready", []):
        callback()


def _drop_after_commit(session: Any, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop("after_commit", None)


def install_session_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _mark_committed):
        event.listen(Session, "after_commit", _mark_committed)
        event.listen(Session, "after_transaction_end", _run_committed)
        event.listen(Session, "after_soft_rollback", _drop_after_commit)
