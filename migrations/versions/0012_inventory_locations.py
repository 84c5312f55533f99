"""a partner's stock counts at every location until the admin chooses one

Install used to store a partner's first location in partner_stores.location_id, which
nothing read. It now means "count stock only at this location", so the location nobody
chose is cleared: None counts every location, as the inventory sync did until now.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE partner_stores SET location_id = NULL")


def downgrade():
    """Nothing to restore: before this revision no code read a partner's location_id."""
