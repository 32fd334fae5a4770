"""Runs and their tags.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255)),
        sa.Column("function", sa.String(255), nullable=False),
        sa.Column("source_label", sa.String(512), nullable=False),
        sa.Column("source_text", sa.Text, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("limits", sa.JSON, nullable=False),
        sa.Column("modes", sa.JSON, nullable=False),
        sa.Column("tensorflow", sa.String(32)),
        sa.Column("device", sa.String(128)),
        sa.Column("executor", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("report_sha", sa.String(64)),
        sa.Column("graphs", sa.JSON),
        sa.Column("post_nodes", sa.JSON),
        sa.Column("error_type", sa.String(64)),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
    )
    for column in ("status", "owner", "function", "tensorflow", "created_at"):
        op.create_index(f"ix_runs_{column}", "runs", [column])
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(16), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
    )
    op.create_index("ix_run_tags_tag", "run_tags", ["tag"])


def downgrade() -> None:
    op.drop_table("run_tags")
    op.drop_table("runs")
