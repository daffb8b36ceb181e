"""Migrations: an empty database (SQLite file, real PostgreSQL) migrates to the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from buddymatch.web.database import Database, engine_url, make_engine, migrate
from buddymatch.web.models import Base


def test_empty_database_migrates_to_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "head")
    migrate(engine, "head")  # idempotent: a restart runs it again
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {
        "users",
        "secrets",
        "programmes",
        "roles",
        "files",
        "scheme_versions",
        "runs",
        "audit",
    } <= tables
    engine.dispose()


def test_downgrade_to_empty_and_up_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    from alembic import command
    from alembic.config import Config

    from buddymatch.web.database import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    engine.dispose()
    Database(url).dispose()  # opening migrates up again


def test_postgres_urls_use_psycopg3() -> None:
    assert engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("sqlite:///x") == "sqlite:///x"
