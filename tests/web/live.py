"""A real ``buddymatch serve`` process for tests that need one (safety, browser, docs)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


class Server:
    """``buddymatch serve`` in a subprocess, with its printed sign-in link."""

    def __init__(self, db_url: str, data_dir: Path) -> None:
        self.db_url, self.data_dir = db_url, data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""
        self.link = ""

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [
            sys.executable,
            "-c",
            "from buddymatch.cli import cli; cli()",
            "serve",
            "--port",
            str(port),
        ]
        cmd += ["--db", self.db_url, "--data-dir", str(self.data_dir), "--no-browser"]
        self.log = self.data_dir.parent / f"serve-{port}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        self.base, self.link = f"http://127.0.0.1:{port}", ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)", self.log.read_text())
            try:
                if found and httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    self.link = found.group(1)
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.2)
        raise AssertionError("server did not start: " + self.log.read_text())

    def api(self) -> httpx.Client:
        """An API client: sign in with the link, create a token on the Account page."""
        browser = httpx.Client(base_url=self.base, timeout=30)
        assert browser.get(self.link).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/account").text).group(1)  # type: ignore[union-attr]
        page = browser.post("/account/tokens", data={"csrf": csrf, "label": "test"}).text
        token = re.search(r'id="new-token">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        return httpx.Client(
            base_url=self.base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
