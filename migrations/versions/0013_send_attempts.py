"""send attempts: a partner order's send began (outlives a crash before its commit)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'send_attempts',
        sa.Column('identifier', sa.String(length=255), nullable=False),
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('first_started_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('previous_started_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_started_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('identifier'),
    )


def downgrade():
    op.drop_table('send_attempts')
