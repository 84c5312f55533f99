"""the reconciliation: retail orders seen and each reconciliation's watermark

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'retail_orders_seen',
        sa.Column('order_gid', sa.String(length=255), nullable=False),
        sa.Column('updated_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('captured_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('order_gid'),
    )
    op.create_table(
        'reconciliations',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('watermark', powerpact.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_run_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('reconciliations')
    op.drop_table('retail_orders_seen')
