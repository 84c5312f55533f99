"""counts lock order: a statement's trigger refreshes the retail orders' firsts (and their
hour's count) before it adds to the partners' counts

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 11:50:00.000000

0025's statement trigger added to the partners' hour and day counts, then refreshed the
retail orders' firsts, which may upsert the hour's row of ``retail_order_hour_counts``.
Two captures in one hour, each recording two partners in opposite order, then deadlocked:
the first held the hour's retail row and waited for the second partner's count row, which
the second capture held while it waited for the hour's retail row (seen in the
reliability suite: ``DeadlockDetected ... while inserting index tuple in relation
"retail_order_hour_counts"``; the delivery's retry then recorded it). Refreshing first
makes the hour's retail row the first lock of every statement that moves a first, so a
capture waiting for it holds no partner's row yet. PostgreSQL only: SQLite has one writer.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def reason(row: str) -> str:
    """The reason key of an OrderSync: its failure reason when failed, '' otherwise."""
    return (
        f"CASE WHEN {row}.status = 'failed'"
        f" THEN coalesce({row}.last_order_failure_reason, '') ELSE '' END"
    )


REFRESH = "PERFORM retail_order_firsts_refresh(array_agg(bubbly_order_id)) FROM {table};"
ADD = (
    "PERFORM order_sync_counts_add(array_agg(partner_shop_domain), array_agg(created_at),"
    " array_agg(status::text), array_agg(REASON), array_agg({sign})) FROM {table};"
)


def function(refresh_first: bool) -> str:
    """The statement trigger's function, refreshing first (this revision) or adding first
    (0025's, for the downgrade)."""
    add_added = ADD.replace("REASON", reason("added"))
    add_removed = ADD.replace("REASON", reason("removed"))
    if refresh_first:
        insert = (REFRESH.format(table="added"), add_added.format(table="added", sign="1"))
        delete = (REFRESH.format(table="removed"), add_removed.format(table="removed", sign="-1"))
    else:
        insert = (add_added.format(table="added", sign="1"), REFRESH.format(table="added"))
        delete = (add_removed.format(table="removed", sign="-1"), REFRESH.format(table="removed"))
    return f"""
    CREATE OR REPLACE FUNCTION order_syncs_counted_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {insert[0]}
            {insert[1]}
        ELSE
            {delete[0]}
            {delete[1]}
        END IF;
        RETURN NULL;
    END $$
    """


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function(refresh_first=True))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function(refresh_first=False))
