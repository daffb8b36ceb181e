"""Initial workbench schema: users, secrets, programmes, roles, files, schemes, runs, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, cascade: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(target, ondelete="CASCADE" if cascade else None),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "secrets",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        _fk("user_id", "users.id"),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "programmes",
        _id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "roles",
        _id(),
        _fk("user_id", "users.id"),
        _fk("programme_id", "programmes.id"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.UniqueConstraint("user_id", "programme_id"),
    )
    op.create_table(
        "files",
        _id(),
        _fk("programme_id", "programmes.id"),
        sa.Column("intake", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        _fk("uploaded_by", "users.id", nullable=True, cascade=False),
    )
    op.create_table(
        "scheme_versions",
        _id(),
        _fk("programme_id", "programmes.id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("created_by", "users.id", nullable=True, cascade=False),
        sa.UniqueConstraint("programme_id", "number"),
    )
    op.create_table(
        "runs",
        _id(),
        _fk("programme_id", "programmes.id"),
        sa.Column("number", sa.Integer(), nullable=False),
        _fk("scheme_version_id", "scheme_versions.id", cascade=False),
        sa.Column("file_ids", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        _fk("created_by", "users.id", nullable=True, cascade=False),
        sa.UniqueConstraint("programme_id", "number"),
    )
    op.create_table(
        "audit",
        _id(),
        sa.Column("at", sa.DateTime(), nullable=False),
        _fk("user_id", "users.id", nullable=True, cascade=False),
        _fk("programme_id", "programmes.id", nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit",
        "runs",
        "scheme_versions",
        "files",
        "roles",
        "programmes",
        "secrets",
        "users",
    ):
        op.drop_table(table)
