"""The programme lifecycle: re-match runs (kind, base run, budget) and mailings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="match"))
        batch.add_column(sa.Column("base_run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_changes", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            "fk_runs_base_run_id", "runs", ["base_run_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "mailings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "programme_id",
            sa.Integer(),
            sa.ForeignKey("programmes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("template_file_id", sa.Integer(), sa.ForeignKey("files.id"), nullable=True),
        sa.Column("template_name", sa.String(200), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("only_new", sa.Boolean(), nullable=False),
        sa.Column("name_column", sa.String(200), nullable=False),
        sa.Column("email_column", sa.String(200), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mailings")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_base_run_id", type_="foreignkey")
        batch.drop_column("max_changes")
        batch.drop_column("base_run_id")
        batch.drop_column("kind")
