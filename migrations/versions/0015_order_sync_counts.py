"""order sync counts: OrderSyncs per partner, UTC hour (and day) and status, kept by triggers;
indexes for the OrderSyncs that need attention and for the search by order name

Revision ID: 0015
Revises: 0024 (numbered 0015 when it was planned; it runs after 0024)
Create Date: 2026-12-06 12:00:00.000000

The two tables count OrderSyncs per (partner, the UTC hour or day of ``created_at``,
status). Triggers on ``order_syncs`` keep them in the transaction of every change,
whichever code makes it (the ORM, a Core UPDATE, a foreign key's cascade, plain SQL):
see ``powerpact/orders/rollup.py``. The upgrade counts the existing rows once.

On PostgreSQL an insert or a delete statement adds its rows' counts in one upsert (a
statement trigger over its transition table, so deleting a partner with its orders is one
statement, not one per order); an update adds -1 and +1 per row, only when the status,
the partner or ``created_at`` changed. SQLite (the demo) has row triggers only.
"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0024'
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    'pending', 'ready_for_sync', 'synced', 'fulfilled', 'failed', 'cancelled',
    name='orderstatus', native_enum=False, length=32,
)

POSTGRESQL = [
    # Adds each (partner, created_at, status, delta) to its hour's and its day's row: the
    # keys summed first, then upserted in key order, so two changes lock them in one order.
    # PL/pgSQL keeps its statements' plans for the session (an SQL function plans each call).
    """
    CREATE FUNCTION order_sync_counts_add(
        partners text[], created timestamptz[], statuses text[], deltas integer[]
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO order_sync_hour_counts AS c (partner_shop_domain, hour, status, orders)
        SELECT p, date_trunc('hour', t, 'UTC'), s, sum(d)
        FROM unnest(partners, created, statuses, deltas) AS u(p, t, s, d)
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (partner_shop_domain, hour, status)
        DO UPDATE SET orders = c.orders + excluded.orders;
        INSERT INTO order_sync_day_counts AS c (partner_shop_domain, day, status, orders)
        SELECT p, (t AT TIME ZONE 'UTC')::date, s, sum(d)
        FROM unnest(partners, created, statuses, deltas) AS u(p, t, s, d)
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (partner_shop_domain, day, status)
        DO UPDATE SET orders = c.orders + excluded.orders;
    END $$
    """,
    """
    CREATE FUNCTION order_syncs_counted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM order_sync_counts_add(array_agg(partner_shop_domain), array_agg(created_at),
                array_agg(status::text), array_agg(1)) FROM added;
        ELSE
            PERFORM order_sync_counts_add(array_agg(partner_shop_domain), array_agg(created_at),
                array_agg(status::text), array_agg(-1)) FROM removed;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION order_syncs_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM order_sync_counts_add(
            ARRAY[OLD.partner_shop_domain, NEW.partner_shop_domain],
            ARRAY[OLD.created_at, NEW.created_at],
            ARRAY[OLD.status::text, NEW.status::text],
            ARRAY[-1, 1]);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION order_syncs_counted_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM order_sync_hour_counts;
        DELETE FROM order_sync_day_counts;
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
    AFTER UPDATE OF status, partner_shop_domain, created_at ON order_syncs
    FOR EACH ROW WHEN (
        OLD.status IS DISTINCT FROM NEW.status
        OR OLD.partner_shop_domain IS DISTINCT FROM NEW.partner_shop_domain
        OR OLD.created_at IS DISTINCT FROM NEW.created_at
    ) EXECUTE FUNCTION order_syncs_counted_update()
    """,
    """
    CREATE TRIGGER order_syncs_counted_truncate AFTER TRUNCATE ON order_syncs
    FOR EACH STATEMENT EXECUTE FUNCTION order_syncs_counted_truncate()
    """,
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS order_syncs_counted_truncate ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_update ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_delete ON order_syncs",
    "DROP TRIGGER IF EXISTS order_syncs_counted_insert ON order_syncs",
    "DROP FUNCTION IF EXISTS order_syncs_counted_truncate()",
    "DROP FUNCTION IF EXISTS order_syncs_counted_update()",
    "DROP FUNCTION IF EXISTS order_syncs_counted_rows()",
    "DROP FUNCTION IF EXISTS order_sync_counts_add(text[], timestamptz[], text[], integer[])",
]

# SQLite stores a time as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (the UTCDateTime type), and a
# date as 'YYYY-MM-DD'; an hour's row is keyed by its start in the same format.
SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {row}.created_at)"
SQLITE_DAY = "date({row}.created_at)"


def sqlite_add(row: str, delta: int) -> str:
    return f"""
        INSERT INTO order_sync_hour_counts (partner_shop_domain, hour, status, orders)
        VALUES ({row}.partner_shop_domain, {SQLITE_HOUR.format(row=row)}, {row}.status, {delta})
        ON CONFLICT (partner_shop_domain, hour, status) DO UPDATE SET orders = orders + {delta};
        INSERT INTO order_sync_day_counts (partner_shop_domain, day, status, orders)
        VALUES ({row}.partner_shop_domain, {SQLITE_DAY.format(row=row)}, {row}.status, {delta})
        ON CONFLICT (partner_shop_domain, day, status) DO UPDATE SET orders = orders + {delta};
    """


SQLITE = [
    f"CREATE TRIGGER order_syncs_counted_insert AFTER INSERT ON order_syncs BEGIN"
    f" {sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER order_syncs_counted_delete AFTER DELETE ON order_syncs BEGIN"
    f" {sqlite_add('OLD', -1)} END",
    f"""CREATE TRIGGER order_syncs_counted_update
    AFTER UPDATE OF status, partner_shop_domain, created_at ON order_syncs
    WHEN OLD.status IS NOT NEW.status OR OLD.partner_shop_domain IS NOT NEW.partner_shop_domain
        OR OLD.created_at IS NOT NEW.created_at
    BEGIN {sqlite_add('OLD', -1)} {sqlite_add('NEW', 1)} END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS order_syncs_counted_update",
    "DROP TRIGGER IF EXISTS order_syncs_counted_delete",
    "DROP TRIGGER IF EXISTS order_syncs_counted_insert",
]

BACKFILL = {
    "postgresql": [
        """
        INSERT INTO order_sync_hour_counts (partner_shop_domain, hour, status, orders)
        SELECT partner_shop_domain, date_trunc('hour', created_at, 'UTC'), status, count(*)
        FROM order_syncs GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO order_sync_day_counts (partner_shop_domain, day, status, orders)
        SELECT partner_shop_domain, (created_at AT TIME ZONE 'UTC')::date, status, count(*)
        FROM order_syncs GROUP BY 1, 2, 3
        """,
    ],
    "sqlite": [
        f"""
        INSERT INTO order_sync_hour_counts (partner_shop_domain, hour, status, orders)
        SELECT partner_shop_domain, {SQLITE_HOUR.format(row='order_syncs')}, status, count(*)
        FROM order_syncs GROUP BY 1, 2, 3
        """,
        f"""
        INSERT INTO order_sync_day_counts (partner_shop_domain, day, status, orders)
        SELECT partner_shop_domain, {SQLITE_DAY.format(row='order_syncs')}, status, count(*)
        FROM order_syncs GROUP BY 1, 2, 3
        """,
    ],
}


def upgrade():
    op.create_table(
        'order_sync_hour_counts',
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('hour', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', STATUS, nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('partner_shop_domain', 'hour', 'status'),
    )
    op.create_index(
        'ix_order_sync_hour_counts_hour', 'order_sync_hour_counts', ['hour'], unique=False,
        postgresql_include=['status', 'partner_shop_domain', 'orders'],
    )
    op.create_table(
        'order_sync_day_counts',
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', STATUS, nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('partner_shop_domain', 'day', 'status'),
    )
    op.create_index(
        'ix_order_sync_day_counts_day', 'order_sync_day_counts', ['day'], unique=False,
        postgresql_include=['status', 'partner_shop_domain', 'orders'],
    )
    op.create_index(
        'ix_order_syncs_needs_attention', 'order_syncs', ['id'], unique=False,
        postgresql_where=sa.text('needs_attention IS true'),
        sqlite_where=sa.text('needs_attention IS true'),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # pg_trgm ships with PostgreSQL and is a trusted extension (13 and later): the
        # database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            'ix_order_syncs_name_trigrams', 'order_syncs', ['bubbly_order_name'], unique=False,
            postgresql_using='gin', postgresql_ops={'bubbly_order_name': 'gin_trgm_ops'},
        )
    # The triggers first: creating one locks order_syncs against writes until this
    # migration commits, so the backfill counts every row and no change slips between.
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)
    for statement in BACKFILL[dialect]:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    if dialect == "postgresql":
        op.drop_index('ix_order_syncs_name_trigrams', table_name='order_syncs')
    op.drop_index('ix_order_syncs_needs_attention', table_name='order_syncs')
    op.drop_index('ix_order_sync_day_counts_day', table_name='order_sync_day_counts')
    op.drop_table('order_sync_day_counts')
    op.drop_index('ix_order_sync_hour_counts_hour', table_name='order_sync_hour_counts')
    op.drop_table('order_sync_hour_counts')
