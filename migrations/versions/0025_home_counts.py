"""home counts: a failure reason in the order sync counts' key; retail orders counted once,
at the hour of their first OrderSync, kept by triggers

Revision ID: 0025
Revises: 0022 (planned after 0015; 0022 came first)
Create Date: 2026-12-06 08:30:00.000000

``order_sync_hour_counts`` and ``order_sync_day_counts`` gain ``reason`` in their key: the
OrderSync's ``last_order_failure_reason`` when it is failed, '' otherwise (so an order's
reason changing while it stays failed moves its count, and a reason changing on an order
that is not failed moves nothing). The tables hold nothing but counts: they are rebuilt
with the new key and recounted.

``retail_order_firsts`` holds each retail order's first OrderSync time (the least
``created_at`` of its OrderSyncs), ``retail_order_hour_counts`` how many retail orders were
first seen in each UTC hour. A change of OrderSyncs refreshes the firsts of the retail
orders it touched (their OrderSyncs found by the index that begins with
``bubbly_order_id``) and moves the hour counts from the stored first to the new one: the
stored first is what the counts hold, so inserts, deletes and updates of any statement
keep them exact. See ``powerpact/orders/rollup.py``.
"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0022'
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    'pending', 'ready_for_sync', 'synced', 'fulfilled', 'failed', 'cancelled',
    name='orderstatus', native_enum=False, length=32,
)


def reason(row: str) -> str:
    """The reason key of an OrderSync: its failure reason when failed, '' otherwise."""
    return (
        f"CASE WHEN {row}.status = 'failed'"
        f" THEN coalesce({row}.last_order_failure_reason, '') ELSE '' END"
    )


POSTGRESQL_DROP_0015 = [
    "DROP TRIGGER IF EXISTS order_syncs_counted_truncate ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_update ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_delete ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_insert ON order_syncs",
    "DROP FUNCTION IF EXISTS order_syncs_counted_truncate()",
    "DROP FUNCTION IF EXISTS order_syncs_counted_update()",
    "DROP FUNCTION IF EXISTS order_syncs_counted_rows()",
    "DROP FUNCTION IF EXISTS order_sync_counts_add(text[], timestamptz[], text[], integer[])",
]

POSTGRESQL = [
    # Adds each (partner, created_at, status, reason, delta) to its hour's and its day's
    # row: the keys summed first, then upserted in key order.
    """
    CREATE FUNCTION order_sync_counts_add(
        partners text[], created timestamptz[], statuses text[], reasons text[],
        deltas integer[]
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO order_sync_hour_counts AS c
            (partner_shop_domain, hour, status, reason, orders)
        SELECT p, date_trunc('hour', t, 'UTC'), s, r, sum(d)
        FROM unnest(partners, created, statuses, reasons, deltas) AS u(p, t, s, r, d)
        GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (partner_shop_domain, hour, status, reason)
        DO UPDATE SET orders = c.orders + excluded.orders;
        INSERT INTO order_sync_day_counts AS c
            (partner_shop_domain, day, status, reason, orders)
        SELECT p, (t AT TIME ZONE 'UTC')::date, s, r, sum(d)
        FROM unnest(partners, created, statuses, reasons, deltas) AS u(p, t, s, r, d)
        GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (partner_shop_domain, day, status, reason)
        DO UPDATE SET orders = c.orders + excluded.orders;
    END $$
    """,
    # Sets the stored first of each retail order in ``orders`` to the least created_at of
    # its OrderSyncs now (none: no row), and moves the hour counts from the stored first to
    # the new one. The retail orders' rows are the locks: a placeholder ('infinity', counted
    # nowhere) for those without one, then each row locked in key order, so a second
    # transaction touching the same retail order waits, then (READ COMMITTED: each statement
    # reads what is committed by then) sees its OrderSyncs and its first. Row locks, not
    # advisory ones: a statement deleting a partner's hundred thousand orders takes no slot
    # of the shared lock table per order.
    """
    CREATE FUNCTION retail_order_firsts_refresh(orders text[]) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        ids text[];
        firsts timestamptz[];
    BEGIN
        SELECT array_agg(o ORDER BY o) INTO ids
        FROM (SELECT DISTINCT o FROM unnest(orders) AS u(o) WHERE o IS NOT NULL) AS d;
        IF ids IS NULL THEN
            RETURN;
        END IF;
        INSERT INTO retail_order_firsts (bubbly_order_id, first_at)
        SELECT o, 'infinity' FROM unnest(ids) AS u(o) ORDER BY o
        ON CONFLICT (bubbly_order_id) DO NOTHING;
        PERFORM 1 FROM retail_order_firsts WHERE bubbly_order_id = ANY(ids)
        ORDER BY bubbly_order_id FOR UPDATE;
        SELECT array_agg((SELECT min(s.created_at) FROM order_syncs s
                          WHERE s.bubbly_order_id = u.o) ORDER BY u.n)
        INTO firsts FROM unnest(ids) WITH ORDINALITY AS u(o, n);
        INSERT INTO retail_order_hour_counts AS c (hour, orders)
        SELECT h, sum(d) FROM (
            SELECT date_trunc('hour', f.first_at, 'UTC') AS h, -1 AS d
            FROM retail_order_firsts f
            WHERE f.bubbly_order_id = ANY(ids) AND f.first_at <> 'infinity'
            UNION ALL
            SELECT date_trunc('hour', t, 'UTC'), 1 FROM unnest(firsts) AS u(t)
            WHERE t IS NOT NULL
        ) AS moves
        GROUP BY h HAVING sum(d) <> 0 ORDER BY h
        ON CONFLICT (hour) DO UPDATE SET orders = c.orders + excluded.orders;
        DELETE FROM retail_order_firsts f USING unnest(ids, firsts) AS u(o, t)
        WHERE f.bubbly_order_id = u.o AND u.t IS NULL;
        INSERT INTO retail_order_firsts AS f (bubbly_order_id, first_at)
        SELECT o, t FROM unnest(ids, firsts) AS u(o, t) WHERE t IS NOT NULL
        ON CONFLICT (bubbly_order_id) DO UPDATE SET first_at = excluded.first_at
        WHERE f.first_at IS DISTINCT FROM excluded.first_at;
    END $$
    """,
    f"""
    CREATE FUNCTION order_syncs_counted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM order_sync_counts_add(array_agg(partner_shop_domain), array_agg(created_at),
                array_agg(status::text), array_agg({reason('added')}), array_agg(1)),
                retail_order_firsts_refresh(array_agg(bubbly_order_id))
            FROM added;
        ELSE
            PERFORM order_sync_counts_add(array_agg(partner_shop_domain), array_agg(created_at),
                array_agg(status::text), array_agg({reason('removed')}), array_agg(-1)),
                retail_order_firsts_refresh(array_agg(bubbly_order_id))
            FROM removed;
        END IF;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION order_syncs_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM order_sync_counts_add(
            ARRAY[OLD.partner_shop_domain, NEW.partner_shop_domain],
            ARRAY[OLD.created_at, NEW.created_at],
            ARRAY[OLD.status::text, NEW.status::text],
            ARRAY[{reason('OLD')}, {reason('NEW')}],
            ARRAY[-1, 1]);
        IF OLD.bubbly_order_id IS DISTINCT FROM NEW.bubbly_order_id
            OR OLD.created_at IS DISTINCT FROM NEW.created_at THEN
            PERFORM retail_order_firsts_refresh(ARRAY[OLD.bubbly_order_id, NEW.bubbly_order_id]);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION order_syncs_counted_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM order_sync_hour_counts;
        DELETE FROM order_sync_day_counts;
        DELETE FROM retail_order_hour_counts;
        DELETE FROM retail_order_firsts;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER order_syncs_counted_insert AFTER INSERT ON order_syncs
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION order_syncs_counted_rows()
    """,
    """
    CREATE TRIGGER order_syncs_counted_delete AFTER DELETE ON order_syncs
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION order_syncs_counted_rows()
    """,
    """
    CREATE TRIGGER order_syncs_counted_update
    AFTER UPDATE OF status, partner_shop_domain, created_at, last_order_failure_reason,
        bubbly_order_id ON order_syncs
    FOR EACH ROW WHEN (
        OLD.status IS DISTINCT FROM NEW.status
        OR OLD.partner_shop_domain IS DISTINCT FROM NEW.partner_shop_domain
        OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.last_order_failure_reason IS DISTINCT FROM NEW.last_order_failure_reason
        OR OLD.bubbly_order_id IS DISTINCT FROM NEW.bubbly_order_id
    ) EXECUTE FUNCTION order_syncs_counted_update()
    """,
    """
    CREATE TRIGGER order_syncs_counted_truncate AFTER TRUNCATE ON order_syncs
    FOR EACH STATEMENT EXECUTE FUNCTION order_syncs_counted_truncate()
    """,
]

POSTGRESQL_DROP = [
    *POSTGRESQL_DROP_0015[:7],
    "DROP FUNCTION IF EXISTS retail_order_firsts_refresh(text[])",
    "DROP FUNCTION IF EXISTS"
    " order_sync_counts_add(text[], timestamptz[], text[], text[], integer[])",
]

SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {row})"
SQLITE_DAY = "date({row}.created_at)"


def sqlite_add(row: str, delta: int) -> str:
    hour = SQLITE_HOUR.format(row=f"{row}.created_at")
    return f"""
        INSERT INTO order_sync_hour_counts (partner_shop_domain, hour, status, reason, orders)
        VALUES ({row}.partner_shop_domain, {hour}, {row}.status, {reason(row)}, {delta})
        ON CONFLICT (partner_shop_domain, hour, status, reason)
        DO UPDATE SET orders = orders + {delta};
        INSERT INTO order_sync_day_counts (partner_shop_domain, day, status, reason, orders)
        VALUES ({row}.partner_shop_domain, {SQLITE_DAY.format(row=row)}, {row}.status,
            {reason(row)}, {delta})
        ON CONFLICT (partner_shop_domain, day, status, reason)
        DO UPDATE SET orders = orders + {delta};
    """


def sqlite_refresh(order: str) -> str:
    """Row triggers: the retail order ``order`` (an expression)'s first, as on PostgreSQL."""
    first = f"(SELECT min(created_at) FROM order_syncs WHERE bubbly_order_id = {order})"
    stored_hour = SQLITE_HOUR.format(row="first_at")
    return f"""
        INSERT INTO retail_order_hour_counts (hour, orders)
        SELECT {stored_hour}, -1 FROM retail_order_firsts WHERE bubbly_order_id = {order}
        ON CONFLICT (hour) DO UPDATE SET orders = orders - 1;
        DELETE FROM retail_order_firsts WHERE bubbly_order_id = {order};
        INSERT INTO retail_order_firsts (bubbly_order_id, first_at)
        SELECT {order}, {first} WHERE {first} IS NOT NULL;
        INSERT INTO retail_order_hour_counts (hour, orders)
        SELECT {stored_hour}, 1 FROM retail_order_firsts WHERE bubbly_order_id = {order}
        ON CONFLICT (hour) DO UPDATE SET orders = orders + 1;
    """


SQLITE = [
    f"CREATE TRIGGER order_syncs_counted_insert AFTER INSERT ON order_syncs BEGIN"
    f" {sqlite_add('NEW', 1)} {sqlite_refresh('NEW.bubbly_order_id')} END",
    f"CREATE TRIGGER order_syncs_counted_delete AFTER DELETE ON order_syncs BEGIN"
    f" {sqlite_add('OLD', -1)} {sqlite_refresh('OLD.bubbly_order_id')} END",
    f"""CREATE TRIGGER order_syncs_counted_update
    AFTER UPDATE OF status, partner_shop_domain, created_at, last_order_failure_reason,
        bubbly_order_id ON order_syncs
    WHEN OLD.status IS NOT NEW.status OR OLD.partner_shop_domain IS NOT NEW.partner_shop_domain
        OR OLD.created_at IS NOT NEW.created_at
        OR OLD.last_order_failure_reason IS NOT NEW.last_order_failure_reason
        OR OLD.bubbly_order_id IS NOT NEW.bubbly_order_id
    BEGIN {sqlite_add('OLD', -1)} {sqlite_add('NEW', 1)}
        {sqlite_refresh('OLD.bubbly_order_id')} {sqlite_refresh('NEW.bubbly_order_id')} END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS order_syncs_counted_update",
    "DROP TRIGGER IF EXISTS order_syncs_counted_delete",
    "DROP TRIGGER IF EXISTS order_syncs_counted_insert",
]


def backfill(dialect: str) -> list[str]:
    if dialect == "postgresql":
        hour = "date_trunc('hour', {c}, 'UTC')"
        day = "(created_at AT TIME ZONE 'UTC')::date"
    else:
        hour = SQLITE_HOUR.format(row="{c}")
        day = SQLITE_DAY.format(row="order_syncs")
    return [
        f"""
        INSERT INTO order_sync_hour_counts (partner_shop_domain, hour, status, reason, orders)
        SELECT partner_shop_domain, {hour.format(c='created_at')}, status,
            {reason('order_syncs')}, count(*)
        FROM order_syncs GROUP BY 1, 2, 3, 4
        """,
        f"""
        INSERT INTO order_sync_day_counts (partner_shop_domain, day, status, reason, orders)
        SELECT partner_shop_domain, {day}, status, {reason('order_syncs')}, count(*)
        FROM order_syncs GROUP BY 1, 2, 3, 4
        """,
        """
        INSERT INTO retail_order_firsts (bubbly_order_id, first_at)
        SELECT bubbly_order_id, min(created_at) FROM order_syncs GROUP BY 1
        """,
        f"""
        INSERT INTO retail_order_hour_counts (hour, orders)
        SELECT {hour.format(c='first_at')}, count(*) FROM retail_order_firsts GROUP BY 1
        """,
    ]


def create_counts(with_reason: bool):
    reason_column = [sa.Column('reason', sa.String(length=32), nullable=False)]
    key = ['status', 'reason'] if with_reason else ['status']
    op.create_table(
        'order_sync_hour_counts',
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('hour', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', STATUS, nullable=False),
        *(reason_column if with_reason else []),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('partner_shop_domain', 'hour', *key),
    )
    op.create_index(
        'ix_order_sync_hour_counts_hour', 'order_sync_hour_counts', ['hour'], unique=False,
        postgresql_include=[*key, 'partner_shop_domain', 'orders'],
    )
    op.create_table(
        'order_sync_day_counts',
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', STATUS, nullable=False),
        *([sa.Column('reason', sa.String(length=32), nullable=False)] if with_reason else []),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('partner_shop_domain', 'day', *key),
    )
    op.create_index(
        'ix_order_sync_day_counts_day', 'order_sync_day_counts', ['day'], unique=False,
        postgresql_include=[*key, 'partner_shop_domain', 'orders'],
    )


def drop_counts():
    op.drop_index('ix_order_sync_day_counts_day', table_name='order_sync_day_counts')
    op.drop_table('order_sync_day_counts')
    op.drop_index('ix_order_sync_hour_counts_hour', table_name='order_sync_hour_counts')
    op.drop_table('order_sync_hour_counts')


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP_0015 if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    drop_counts()
    create_counts(with_reason=True)
    op.create_table(
        'retail_order_firsts',
        sa.Column('bubbly_order_id', sa.String(length=255), nullable=False),
        sa.Column('first_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('bubbly_order_id'),
    )
    op.create_index(
        'ix_retail_order_firsts_first_at', 'retail_order_firsts', ['first_at'], unique=False
    )
    op.create_table(
        'retail_order_hour_counts',
        sa.Column('hour', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour'),
    )
    # The triggers first: creating one locks order_syncs against writes until this
    # migration commits, so the backfill counts every row and no change slips between.
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)
    for statement in backfill(dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.drop_table('retail_order_hour_counts')
    op.drop_index('ix_retail_order_firsts_first_at', table_name='retail_order_firsts')
    op.drop_table('retail_order_firsts')
    drop_counts()
    create_counts(with_reason=False)
    # 0015's triggers and counts, as its upgrade made them.
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    path = Path(__file__).with_name("0015_order_sync_counts.py")
    spec = spec_from_file_location("migration_0015", path)
    assert spec is not None and spec.loader is not None
    previous = module_from_spec(spec)
    spec.loader.exec_module(previous)
    for statement in previous.POSTGRESQL if dialect == "postgresql" else previous.SQLITE:
        op.execute(statement)
    for statement in previous.BACKFILL[dialect]:
        op.execute(statement)
