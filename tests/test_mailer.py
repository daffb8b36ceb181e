"""Sending through a real local SMTP server (aiosmtpd on 127.0.0.1, a free port):
a failure half-way, a resume that sends nobody twice, and logs without personal data."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

import buddymatch
from buddymatch.cli import cli
from buddymatch.errors import ConfigError
from buddymatch.mailer import SmtpSettings

ROOT = Path(__file__).resolve().parents[1]
SENDER = "Programme team <mentoring@example.nhs.uk>"
DATE = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)


class Recorder:
    """An SMTP handler that keeps every message, refuses the n-th, or drops the line."""

    def __init__(self, refuse: int | None = None, drop: int | None = None) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.seen = 0
        self.refuse, self.drop = refuse, drop

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen == self.refuse:
            return "451 4.3.0 try again later"
        if self.seen == self.drop:
            server.transport.close()  # the connection breaks before the server answers
            return "250 OK"
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 OK"

    def message_ids(self) -> list[str]:
        return [str(message_from_bytes(c, policy=default)["Message-ID"]) for _, c in self.received]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, handler: Recorder) -> None:
        self.port = _free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port)
        self.handler = handler

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def letters_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("result") / "round-1"
    result = buddymatch.match(
        ROOT / "sample_data" / "profiles.csv", ROOT / "constraints" / "cohorts.yaml", iterations=2
    )
    result.write(folder)
    return folder


@pytest.fixture
def letters(letters_source: Path, tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "letters"
    buddymatch.introduce(letters_source, programme="P", sender=SENDER, date=DATE).write(out)
    yield out


def _settings(server: Server) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", server.port, security="none", timeout=10)


def test_a_refusal_half_way_then_a_resume_sends_nobody_twice(letters: Path) -> None:
    files = sorted(p.name for p in letters.glob("*.eml"))
    with Server(Recorder(refuse=3)) as first:
        report = buddymatch.send_letters(letters, _settings(first))
    assert report.failed == [files[2]] and len(report.sent) == len(files) - 1
    assert not report.complete
    state = json.loads((letters / "send-state.json").read_text())["messages"]
    assert state[files[2]]["status"] == "failed" and state[files[2]]["smtp_code"] == "451"
    with Server(Recorder()) as second:
        again = buddymatch.send_letters(letters, _settings(second))
    assert again.sent == [files[2]] and len(again.already_sent) == len(files) - 1
    assert again.complete
    ids = first.handler.message_ids() + second.handler.message_ids()
    assert len(ids) == len(files) == len(set(ids))  # every message exactly once
    with Server(Recorder()) as third:
        assert buddymatch.send_letters(letters, _settings(third)).sent == []
        assert third.handler.received == []


def test_a_broken_connection_leaves_the_message_unknown_and_the_rest_for_later(
    letters: Path,
) -> None:
    files = sorted(p.name for p in letters.glob("*.eml"))
    with Server(Recorder(drop=2)) as first:
        report = buddymatch.send_letters(letters, _settings(first))
    assert report.sent == files[:1] and report.unknown == [files[1]]
    assert report.not_tried == files[2:] and report.stopped
    with Server(Recorder()) as second:
        again = buddymatch.send_letters(letters, _settings(second))
    assert again.sent == files[2:] and again.unknown == [files[1]]  # never resent blindly
    with Server(Recorder()) as third:
        checked = buddymatch.send_letters(letters, _settings(third), resend=[files[1]])
    assert checked.sent == [files[1]] and checked.complete
    received = [r for s in (first, second, third) for r, _ in s.handler.received]
    assert len(received) == len(files)


def test_the_cli_sends_with_settings_from_the_environment_and_logs_no_personal_data(
    letters_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sent"
    args = ["introduce", str(letters_source), "-o", str(out), "--programme", "P",
            "--sender", SENDER, "--date", "2026-09-01T09:00:00+00:00"]  # fmt: skip
    runner = CliRunner()
    dry = runner.invoke(cli, args)
    assert dry.exit_code == 0 and "dry run: nothing sent" in dry.output
    no_host = runner.invoke(cli, [*args, "--send"])
    assert no_host.exit_code == 2 and "--send needs an SMTP host" in no_host.output
    with Server(Recorder(refuse=2)) as server:
        monkeypatch.setenv("BUDDYMATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BUDDYMATCH_SMTP_PORT", str(server.port))
        monkeypatch.setenv("BUDDYMATCH_SMTP_SECURITY", "none")
        failed = runner.invoke(cli, ["-v", *args, "--send"])
        assert failed.exit_code == 1 and "failed 1" in failed.output
        resumed = runner.invoke(cli, [*args, "--send"])  # the same command, as the error says
        assert resumed.exit_code == 0 and "sent 1," in resumed.output
    assert len(server.handler.received) == len(list(out.glob("*.eml")))
    log = (out / "send-log.csv").read_text(encoding="utf-8")
    emails = [m for r, _ in server.handler.received for m in r]
    names = [
        a.display_name
        for _, c in server.handler.received
        for a in message_from_bytes(c, policy=default)["To"].addresses
    ]
    assert not any(e in log or e in failed.output for e in emails)
    assert not any(n and (n in log or n in failed.output) for n in names)
    assert "0002.eml,failed,451,SMTPDataError" in log
    replace = runner.invoke(cli, [*args, "--force"])  # a send record is never replaced
    assert replace.exit_code == 2 and "send record" in replace.output


def test_credentials_need_tls_and_a_password_from_the_environment() -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        SmtpSettings("mail.example.org", 587, security="none", user="me", password="x")
    with pytest.raises(ConfigError, match="BUDDYMATCH_SMTP_PASSWORD"):
        SmtpSettings("mail.example.org", 587, user="me")
    assert "secret" not in repr(SmtpSettings("h", 1, user="me", password="secret"))
