"""Data safety with a real server process: kill it during a run, a re-match and an upload.

The server is ``buddymatch serve`` in its own process (SQLite file or the
test PostgreSQL server); it is killed with SIGKILL — no shutdown code runs —
and started again on the same database and data folder.  The programme must
reopen exactly as it was: same files, same scheme, the killed run marked
interrupted with nothing of it kept, and no half-stored upload.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, SAMPLE, wait_run
from .live import Server

COHORTS = (
    (ROOT / "constraints" / "cohorts.yaml")
    .read_text()
    .replace("iterations: 30", "iterations: 5000")
)


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    s = Server(db_url, tmp_path / "data")
    s.start()
    yield s
    s.stop()


def _state(api: httpx.Client, pid: int) -> tuple[object, ...]:
    files = api.get(f"/api/programmes/{pid}/files").json()
    scheme = api.get(f"/api/programmes/{pid}/scheme").json()
    runs = [(r["number"], r["status"]) for r in api.get(f"/api/programmes/{pid}/runs").json()]
    return files, scheme["version"], scheme["yaml"], runs


def _programme(api: httpx.Client) -> int:
    pid = int(api.post("/api/programmes", json={"name": "Safety", "kind": "cohorts"}).json()["id"])
    api.post(f"/api/programmes/{pid}/files", files={"file": ("profiles.csv", SAMPLE.read_bytes())})
    import yaml

    api.put(f"/api/programmes/{pid}/scheme", json={"scheme": yaml.safe_load(COHORTS)})
    return pid


def test_kill_during_a_run(server: Server) -> None:
    api = server.api()
    pid = _programme(api)
    api.post(f"/api/programmes/{pid}/runs", json={"seed": 1})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the search itself reports progress
        if api.get(f"/api/programmes/{pid}/runs/1").json()["message"].startswith("searching"):
            break
        time.sleep(0.2)
    assert api.get(f"/api/programmes/{pid}/runs/1").json()["status"] == "running"
    files, version, text, _ = _state(api, pid)
    server.kill()
    time.sleep(2.5)  # the orphaned run process notices and exits
    server.start()
    api = server.api()
    files2, version2, text2, runs2 = _state(api, pid)
    assert (files2, version2, text2) == (files, version, text)
    run = api.get(f"/api/programmes/{pid}/runs/1").json()
    assert runs2 == [(1, "interrupted")] and "server stopped" in run["message"]
    assert not any((server.data_dir / "runs").glob(f"{pid}-1-*"))
    time.sleep(1.5)
    assert not any((server.data_dir / "runs").glob(f"{pid}-1-*/result"))
    scheme = api.get(f"/api/programmes/{pid}/scheme").json()["scheme"]
    scheme["solver"]["iterations"] = 1
    api.put(f"/api/programmes/{pid}/scheme", json={"scheme": scheme})
    api.post(f"/api/programmes/{pid}/runs", json={"seed": 1})
    assert wait_run(lambda: api.get(f"/api/programmes/{pid}/runs/2").json())["status"] == "done"


def test_kill_during_a_rematch(server: Server) -> None:
    """Killed while a re-match runs: it is marked interrupted with nothing kept, the
    published round is still the current one, and a re-match of it can be started again
    (one that runs to the end after a restart: ``test_kill_during_a_run``)."""
    import yaml

    api = server.api()
    pid = int(api.post("/api/programmes", json={"name": "R", "kind": "mentoring"}).json()["id"])
    api.post(f"/api/programmes/{pid}/files", files={"file": ("profiles.csv", SAMPLE.read_bytes())})
    scheme = yaml.safe_load((ROOT / "constraints" / "mentoring.yaml").read_text())
    scheme["rules"] = [r for r in scheme["rules"] if "forbid" not in r]
    api.put(f"/api/programmes/{pid}/scheme", json={"scheme": scheme})
    api.post(f"/api/programmes/{pid}/runs", json={"seed": 1})
    assert wait_run(lambda: api.get(f"/api/programmes/{pid}/runs/1").json())["status"] == "done"
    api.post(f"/api/programmes/{pid}/runs/1/publish").raise_for_status()
    later = (ROOT / "sample_data" / "profiles_later.csv").read_bytes()
    api.post(f"/api/programmes/{pid}/intake", files={"files": ("later.csv", later)})
    before = _state(api, pid)
    api.post(f"/api/programmes/{pid}/rematch", json={"max_changes": 2}).raise_for_status()
    deadline = time.monotonic() + 60
    while api.get(f"/api/programmes/{pid}/runs/2").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()  # the re-match's own process is still starting: it cannot have finished
    time.sleep(2.5)  # the orphaned run process notices and exits
    server.start()
    api = server.api()
    files, version, text, runs = _state(api, pid)
    assert (files, version, text) == before[:3]
    assert runs == [(2, "interrupted"), (1, "done")]
    assert not any((server.data_dir / "runs").glob(f"{pid}-2-*"))
    current = [r for r in api.get(f"/api/programmes/{pid}/runs").json() if r["published"]]
    assert [r["number"] for r in current] == [1]
    assert api.get(f"/api/programmes/{pid}/runs/2/changes").status_code == 404
    again = api.post(f"/api/programmes/{pid}/rematch", json={}).json()
    assert again["base_run"] == 1 and again["status"] == "queued"  # re-matching works again


def test_kill_during_an_upload(server: Server) -> None:
    api = server.api()
    pid = _programme(api)
    before = _state(api, pid)
    token = api.headers["Authorization"]
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="late.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = head + SAMPLE.read_bytes() * 20
    port = int(server.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            (
                f"POST /api/programmes/{pid}/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {token}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body) + 100}\r\n\r\n"
            ).encode()
            + body[: len(body) // 2]
        )
        time.sleep(0.5)
        server.kill()
    server.start()
    api = server.api()
    assert _state(api, pid) == before
    assert [f["name"] for f in api.get(f"/api/programmes/{pid}/files").json()] == ["profiles.csv"]
