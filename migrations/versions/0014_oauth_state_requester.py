"""oauth states: who asked for each (a keyed hash of the address), for the install rate limit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ix_oauth_states_requested_by_created_at', ['requested_by', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.drop_index('ix_oauth_states_requested_by_created_at')
        batch_op.drop_column('requested_by')
