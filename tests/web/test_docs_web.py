"""The workbench's documented commands run: ``buddymatch serve ...`` and every HTTP API example.

``$ buddymatch serve`` lines (README, docs/workbench.md) are started exactly as
written — plus a free ``--port`` and with ``BROWSER=true`` so no browser opens —
in a copy of sample_data/ and constraints/; the printed link must sign in and
the demo programmes must be there.  The ``$ curl`` / ``$ until`` lines of
docs/http-api.md run in order with bash against a fresh ``serve --demo``, with
``BASE`` and ``TOKEN`` set; each must exit 0 and print the lines shown under it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_docs import PAGES, parse

from .conftest import ROOT

DOCS = ROOT / "docs"


def _serve_lines() -> list[tuple[str, str]]:
    """(page, command) of every ``$ buddymatch serve`` line, environment assignments first
    allowed (``$ BUDDYMATCH_SMTP_PASSWORD=... buddymatch serve ...``)."""
    out = []
    for page in PAGES:
        for block in parse(page).blocks:
            if block.lang == "console":
                out += [
                    (page.name, ln[2:])
                    for ln in block.lines
                    if ln.startswith("$ ") and _split(ln[2:])[1][:2] == ["buddymatch", "serve"]
                ]
    return out


def _split(line: str) -> tuple[dict[str, str], list[str]]:
    """A shell line as (leading VAR=value assignments, the command's words)."""
    words = shlex.split(line)
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    return env, words


def _shell_examples(page: Path) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for block in parse(page).blocks:
        if block.lang != "console":
            continue
        for line in block.lines:
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out and line.strip() and line.strip() != "...":
                out[-1][1].append(line.rstrip())
    return out


def _start(
    args: list[str], cwd: Path, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str, Path]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = cwd / f"serve-{port}.log"
    cmd = [
        sys.executable,
        "-c",
        "from buddymatch.cli import cli; cli()",
        *args,
        "--port",
        str(port),
    ]
    env = {**os.environ, "BROWSER": "true", **(extra or {})}
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)", log.read_text())
        if found:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                return proc, found.group(1), log
            except httpx.TransportError:
                pass
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)
    proc.terminate()
    raise AssertionError("serve did not start: " + log.read_text())


@pytest.fixture
def workdir_copy(tmp_path: Path) -> Path:
    for folder in ("sample_data", "constraints"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_docs_show_serve() -> None:
    pages = {page for page, _ in _serve_lines()}
    assert {"README.md", "workbench.md"} <= pages


@pytest.mark.parametrize(("page", "line"), _serve_lines())
def test_documented_serve_commands_start_and_sign_in(
    page: str, line: str, workdir_copy: Path
) -> None:
    extra, words = _split(line)
    args = words[1:]
    proc, link, log = _start(args, workdir_copy, extra)
    try:
        with httpx.Client(timeout=30) as client:
            assert client.get(link).status_code == 303
            home = client.get(link.split("/login")[0] + "/").text
            if "--demo" in args:
                for name in ("Mentoring (demo)", "Peer buddies (demo)", "Network cohorts (demo)"):
                    assert name in home
            assert client.get(link).status_code == 400  # the link works once
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    printed = log.read_text()
    assert "@example.nhs.uk" not in printed  # no e-mails in the server log
    if "--smtp-host" in args:
        host = args[args.index("--smtp-host") + 1]
        assert f"Introductions are sent through {host}:" in printed
    for secret in extra.values():
        assert secret not in printed  # the SMTP password is never printed


def _token(base: str, link: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as browser:
        assert browser.get(link).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/account").text).group(1)  # type: ignore[union-attr]
        page = browser.post("/account/tokens", data={"csrf": csrf, "label": "docs"}).text
        return re.search(r'id="new-token">([^<]+)<', page).group(1)  # type: ignore[union-attr]


def test_http_api_examples_run(workdir_copy: Path) -> None:
    examples = _shell_examples(DOCS / "http-api.md")
    assert len(examples) >= 10
    proc, link, log = _start(
        ["serve", "--demo", "--no-browser", "--data-dir", "data"], workdir_copy
    )
    base = link.split("/login")[0]
    env = {**os.environ, "BASE": base, "TOKEN": _token(base, link)}
    try:
        for command, shown in examples:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=workdir_copy,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            printed = [x.rstrip() for x in done.stdout.splitlines()]
            for want in shown:
                assert want in printed, f"{command}\nmissing: {want}\n{done.stdout}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "@example.nhs.uk" not in log.read_text()
