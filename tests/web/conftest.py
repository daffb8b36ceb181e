"""Fixtures for the workbench tests: real SQLite files and a real PostgreSQL server.

PostgreSQL: a throwaway cluster is created with ``initdb`` in a temporary
folder and started with ``pg_ctl`` on a free port, as the ``postgres`` user
(the server refuses to run as root), once per test process; it is stopped at
the end of the session.  Where that cannot be done the PostgreSQL variants
skip with one line — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from buddymatch.web.access import Actor, ensure_user, issue_secret, set_password
from buddymatch.web.app import create_app
from buddymatch.web.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "profiles.csv"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_postgres(args: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, capture_output=True, text=True, timeout=120, check=False)


@dataclass
class PgServer:
    folder: Path
    port: int
    bin: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        done = _as_postgres(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ]
        )
        assert done.returncode == 0, done.stderr
        return self.url(name)


def _start_pg() -> PgServer:
    pg = _pg_bin()
    if pg is None:
        raise RuntimeError("PostgreSQL's initdb is not installed")
    folder = Path(tempfile.mkdtemp(prefix="buddymatch-pg-"))
    os.chmod(folder, 0o777)
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    init = _as_postgres(
        [str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr.strip()[:200]}")
    port = _free_port()
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _as_postgres(
        [str(pg / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"]
    )
    if start.returncode != 0:
        raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()[:200]}")
    return PgServer(folder, port, pg)


def _stop_pg(server: PgServer) -> None:
    _as_postgres(
        [str(server.bin / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "immediate", "stop"]
    )
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = _start_pg()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL server not available here ({exc}); PostgreSQL variants skipped")
    try:
        yield server
    finally:
        _stop_pg(server)


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new, empty database of each kind (the module's tests share it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'workbench.sqlite3'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


@dataclass
class Env:
    """A running app (in-process) with helpers to make users and clients."""

    client: TestClient
    settings: Settings

    @property
    def wb(self):  # type: ignore[no-untyped-def]
        return self.client.app.state.workbench  # type: ignore[attr-defined]

    def user(
        self, name: str | None = None, *, admin: bool = False, password: str | None = None
    ) -> Actor:
        name = name or "u" + uuid.uuid4().hex[:8]
        with self.wb.db.session() as s:
            user = ensure_user(s, name, admin=admin)
            if password:
                set_password(user, password)
            return Actor(user.id, user.username, user.is_admin)

    def token(self, actor: Actor) -> dict[str, str]:
        with self.wb.db.session() as s:
            from buddymatch.web.models import User

            user = s.get(User, actor.id)
            return {"Authorization": f"Bearer {issue_secret(s, user, 'api', hours=None)}"}

    def browser(self, actor: Actor) -> tuple[TestClient, str]:
        """A client signed in as ``actor`` through a one-time link; and its CSRF token."""
        with self.wb.db.session() as s:
            from buddymatch.web.models import User

            link = issue_secret(s, s.get(User, actor.id), "link", hours=1)
        client = TestClient(self.client.app, base_url="http://127.0.0.1")
        response = client.get(f"/login?token={link}", follow_redirects=False)
        assert response.status_code == 303
        with self.wb.db.session() as s:
            from buddymatch.web.access import actor_for

            csrf = actor_for(s, client.cookies.get("bm_session"), "session").csrf  # type: ignore[arg-type,union-attr]
        return client, csrf


@pytest.fixture(scope="module")
def env(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings = Settings(
        db_url=db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        team=True,
        max_upload_bytes=2 * 1024 * 1024,
        login_attempts=3,
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Env(client, settings)
    app.state.db.dispose()


def wait_run(get, timeout: float = 120.0) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Poll a run (a callable returning its JSON) until it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        state = get()
        if state["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return state
        time.sleep(0.3)
