"""The workbench's journey time: upload → results through a real ``buddymatch serve``.

What a coordinator waits for in the browser, measured over HTTP against a
real server process (SQLite, in a temporary folder): upload the sign-up
sheet (and the file the scheme names), upload the scheme, start the run,
poll until it is done, fetch the matches, and render the review page (with
its charts).  Side by side, the same inputs and seed through the CLI
(``buddymatch match`` in a fresh process, which includes its start-up), and
the results compared (matched, pairs, status must be equal).

Inputs: the 150-person ``sample_data/profiles.csv`` with
``constraints/mentoring.yaml``, and a 5,000-person intake from
``buddymatch sample --scheme mentoring --size 5000`` (quick mode: 1,000).

Then the lifecycle's wait: the first run is published, the later intake
uploaded and a re-match proposed; timed from the upload of the later sheet to
the proposed changes shown (upload, re-match in the background worker, poll,
the changes fetched and the review page rendered).  Later intakes:
``sample_data/profiles_later.csv`` (8 left, 8 joined, 2 changed) and, for the
sampler intake, 10 % left, 5 % joined, 3 % changed band
(:func:`benchmarks.scenario_rematch.make_scenario`).  Side by side: ``buddymatch
rematch`` of the CLI's first result on the same files in a fresh process; the
kept / ended / new counts must be equal.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 7


def _cli(*args: str, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from buddymatch.cli import cli; cli()", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


class _Server:
    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "serve.log"
        cmd = [sys.executable, "-c", "from buddymatch.cli import cli; cli()", "serve"]
        cmd += ["--port", str(self.port), "--data-dir", str(folder / "data"), "--no-browser"]
        cmd += ["--max-upload-mb", "200"]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        link = ""
        while not link:
            found = re.search(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)", self.log.read_text())
            link = found.group(1) if found else ""
            time.sleep(0.1)
        while True:
            try:
                httpx.get(self.base + "/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        self.browser = httpx.Client(base_url=self.base, timeout=600)
        self.browser.get(link)
        csrf = re.search(r'name="csrf" value="([^"]+)"', self.browser.get("/account").text)
        page = self.browser.post("/account/tokens", data={"csrf": csrf.group(1) if csrf else ""})
        token = re.search(r'id="new-token">([^<]+)<', page.text)
        headers = {"Authorization": f"Bearer {token.group(1) if token else ''}"}
        self.api = httpx.Client(base_url=self.base, timeout=600, headers=headers)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def _journey(server: _Server, profiles: Path, scheme: Path, side: Path | None) -> dict[str, Any]:
    api, t = server.api, {}
    started = time.perf_counter()
    pid = api.post("/api/programmes", json={"name": "bench", "kind": "mentoring"}).json()["id"]
    api.post(
        f"/api/programmes/{pid}/files", files={"file": ("profiles.csv", profiles.read_bytes())}
    )
    if side is not None:
        api.post(
            f"/api/programmes/{pid}/files",
            files={"file": (side.name, side.read_bytes())},
            data={"purpose": "scheme"},
        )
    api.post(
        f"/api/programmes/{pid}/scheme/file", files={"file": (scheme.name, scheme.read_bytes())}
    )
    t["upload and check"] = time.perf_counter() - started
    api.post(f"/api/programmes/{pid}/runs", json={"seed": SEED})
    while (run := api.get(f"/api/programmes/{pid}/runs/1").json())["status"] in (
        "queued",
        "running",
    ):
        time.sleep(0.1)
    api.get(f"/api/programmes/{pid}/runs/1/tables/matches").raise_for_status()
    t["upload to results"] = time.perf_counter() - started
    page = time.perf_counter()
    server.browser.get(f"/programmes/{pid}/runs/1").raise_for_status()
    t["review page"] = time.perf_counter() - page
    t["summary"] = run["summary"]
    t["pid"] = pid
    return t


def _rematch(server: _Server, pid: int, later: Path) -> dict[str, Any]:
    """Publish run 1, upload the later intake, propose a re-match, wait for the changes."""
    api, t = server.api, {}
    api.post(f"/api/programmes/{pid}/runs/1/publish").raise_for_status()
    started = time.perf_counter()
    r = api.post(f"/api/programmes/{pid}/intake", files={"files": (later.name, later.read_bytes())})
    r.raise_for_status()
    assert r.json()["issues"] == [], r.json()["issues"][:3]
    number = api.post(f"/api/programmes/{pid}/rematch", json={"seed": SEED}).json()["number"]
    while (run := api.get(f"/api/programmes/{pid}/runs/{number}").json())["status"] in (
        "queued",
        "running",
    ):
        time.sleep(0.1)
    assert run["status"] == "done", run["message"]
    changes = api.get(f"/api/programmes/{pid}/runs/{number}/changes").json()
    server.browser.get(f"/programmes/{pid}/runs/{number}").raise_for_status()
    t["later intake to proposed changes"] = time.perf_counter() - started
    t["rematch"] = changes["rematch"]
    t["changes"] = len(changes["changes"])
    return t


def _case(
    label: str, profiles: Path, scheme: Path, side: Path | None, later: Path, work: Path
) -> tuple[str, str]:
    server = _Server(work / label.replace(" ", "-"))
    try:
        web = _journey(server, profiles, scheme, side)
        again = _rematch(server, int(web["pid"]), later)
    finally:
        server.stop()
    out = work / f"cli-{label.replace(' ', '-')}"
    cli = _cli(
        "match", str(profiles), "-c", str(scheme), "-o", str(out), "--seed", str(SEED), "--quiet"
    )
    summary = json.loads((out / "summary.json").read_text())
    same = all(summary[k] == web["summary"][k] for k in ("status", "matched", "units"))
    first = (
        f"| {label} | {web['upload and check']:.1f} | {web['upload to results']:.1f} | "
        f"{web['review page']:.2f} | {cli:.1f} | {web['upload to results'] / cli:.2f} | "
        f"{summary['matched']} of {summary['participants']} | {'yes' if same else 'NO'} |"
    )
    cli_re = _cli(
        "rematch", str(out), str(later), "-c", str(scheme), "-o", str(work / f"{out.name}-re"),
        "--seed", str(SEED), "--quiet",
    )  # fmt: skip
    block = json.loads((work / f"{out.name}-re" / "summary.json").read_text())["rematch"]
    keys = ("kept", "ended", "new")
    same_re = all(block[k] == again["rematch"][k] for k in keys)
    wait = float(again["later intake to proposed changes"])
    second = (
        f"| {label} | {wait:.1f} | {cli_re:.1f} | {wait / cli_re:.2f} | "
        + " / ".join(str(block[k]) for k in keys)
        + f" | {again['changes']} | {'yes' if same_re else 'NO'} |"
    )
    return first, second


def run(quick: bool) -> str:
    from benchmarks.scenario_rematch import make_scenario

    size = 1000 if quick else 5000
    work = Path(tempfile.mkdtemp(prefix="buddymatch-bench-web-"))
    try:
        first, scheme, later = make_scenario(size, work / "intake")
        rows = [
            _case(
                "150 (sample_data)",
                ROOT / "sample_data" / "profiles.csv",
                ROOT / "constraints" / "mentoring.yaml",
                ROOT / "constraints" / "conflicts.csv",
                ROOT / "sample_data" / "profiles_later.csv",
                work,
            ),
            _case(f"{size:,} (sampler)", first, scheme, None, later, work),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return (
        "## Workbench: upload → results through a real server\n\n"
        "`buddymatch serve` (SQLite) driven over HTTP: upload the sheet and scheme, run, poll "
        "until done, fetch the matches; then render the review page. Baseline: `buddymatch "
        "match` on the same inputs and seed in a fresh process (start-up included). "
        "Seconds.\n\n"
        "| intake | upload (sheet read, scheme validated) | upload → results | review page "
        "| CLI match | ratio web/CLI | matched | same result |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(r[0] for r in rows)
        + "\n\nThen run 1 is published and the later intake uploaded (150: "
        "`sample_data/profiles_later.csv`; sampler: 10 % left, 5 % joined, 3 % changed band): "
        "from that upload to the proposed changes shown (the re-match in the background "
        "worker, polling, the changes and the review page). Baseline: `buddymatch rematch` of "
        "the CLI's first result on the same files in a fresh process. Seconds.\n\n"
        "| intake | later intake → proposed changes | CLI rematch | ratio web/CLI "
        "| kept / ended / new | people in changes.csv | same proposal |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(r[1] for r in rows) + "\n"
    )
