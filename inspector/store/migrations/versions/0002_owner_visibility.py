"""Run owners' display names and visibility (team or private).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner_name", sa.String(255), nullable=False,
                                   server_default="local"))
        batch.add_column(sa.Column("visibility", sa.String(16), nullable=False,
                                   server_default="team"))
        batch.create_index("ix_runs_visibility", ["visibility"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_visibility")
        batch.drop_column("visibility")
        batch.drop_column("owner_name")
