"""The workbench's tables (SQLAlchemy 2 declarative models).

The schema is created and changed only by the Alembic migrations in
``migrations/versions``; a test compares these models with the migrated
database so the two cannot drift.  Uploaded files are stored in the database
(``DataFile.content``); a run's inputs and results live in a folder under the
data directory that ``Run.folder`` names, written atomically by the library.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> dt.datetime:
    """UTC now without microseconds (what every table stores)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Secret(Base):
    """Hashed bearer secrets: browser sessions, one-time login links, API tokens."""

    __tablename__ = "secrets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | link | api
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Programme(Base):
    __tablename__ = "programmes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # mentoring | peer | cohorts
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "programme_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # coordinator | viewer


class DataFile(Base):
    """An uploaded file: a sign-up sheet (``profiles``) or a file the scheme names
    (``scheme``: forbid/lock/history/pairwise CSVs).  Replaced, never edited."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    intake: Mapped[int] = mapped_column(Integer, default=1)
    purpose: Mapped[str] = mapped_column(String(16), default="profiles")
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class SchemeVersion(Base):
    """Every saved state of a programme's scheme (the latest is the current one)."""

    __tablename__ = "scheme_versions"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Run(Base):
    """A match (``kind`` ``match``) or a re-match of the programme's current round
    (``rematch``: ``base_run_id`` is the published run it repairs, ``max_changes``
    the budget).  A re-match is a proposal until accepted (published) or
    rejected (``status`` ``rejected``, its folder removed)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    file_ids: Mapped[str] = mapped_column(Text, default="")  # comma-separated DataFile ids
    seed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    folder: Mapped[str] = mapped_column(String(200), default="")
    summary_json: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="match", server_default="match")
    base_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )
    max_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Mailing(Base):
    """The introductions of one run as written for sending: which template and sender.

    Written when the letters folder is first written for sending; from then on
    the folder (and its send state, kept by :mod:`buddymatch.mailer`) is what
    is sent, so a later send resumes instead of starting again.
    """

    __tablename__ = "mailings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), unique=True)
    template_file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"), nullable=True)
    template_name: Mapped[str] = mapped_column(String(200), default="")
    sender: Mapped[str] = mapped_column(String(320))
    only_new: Mapped[bool] = mapped_column(Boolean, default=False)
    name_column: Mapped[str] = mapped_column(String(200), default="")
    email_column: Mapped[str] = mapped_column(String(200), default="")
    messages: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
