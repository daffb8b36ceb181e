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
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _journey(server: _Server, profiles: Path, scheme: Path, side: Path | None) -> dict[str, float]:
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
    return t


def _case(label: str, profiles: Path, scheme: Path, side: Path | None, work: Path) -> str:
    server = _Server(work / label.replace(" ", "-"))
    try:
        web = _journey(server, profiles, scheme, side)
    finally:
        server.stop()
    out = work / f"cli-{label.replace(' ', '-')}"
    cli = _cli(
        "match", str(profiles), "-c", str(scheme), "-o", str(out), "--seed", str(SEED), "--quiet"
    )
    import json

    summary = json.loads((out / "summary.json").read_text())
    same = all(summary[k] == web["summary"][k] for k in ("status", "matched", "units"))
    return (
        f"| {label} | {web['upload and check']:.1f} | {web['upload to results']:.1f} | "
        f"{web['review page']:.2f} | {cli:.1f} | {web['upload to results'] / cli:.2f} | "
        f"{summary['matched']} of {summary['participants']} | {'yes' if same else 'NO'} |"
    )


def run(quick: bool) -> str:
    size = 1000 if quick else 5000
    work = Path(tempfile.mkdtemp(prefix="buddymatch-bench-web-"))
    try:
        _cli(
            "sample",
            "--scheme",
            "mentoring",
            "--size",
            str(size),
            "--seed",
            "7",
            "-o",
            str(work / "intake"),
        )
        rows = [
            _case(
                "150 (sample_data)",
                ROOT / "sample_data" / "profiles.csv",
                ROOT / "constraints" / "mentoring.yaml",
                ROOT / "constraints" / "conflicts.csv",
                work,
            ),
            _case(
                f"{size:,} (sampler)",
                work / "intake" / "profiles.csv",
                work / "intake" / "scheme.yaml",
                None,
                work,
            ),
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
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
