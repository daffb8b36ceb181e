"""Sending a letters folder through SMTP: resumable, and nobody is sent a message twice.

What callers may rely on:

* **State, written atomically around every message.**  ``send-state.json`` in
  the letters folder records each message: ``sending`` is written (atomically)
  before the message is handed to the server, ``sent`` or ``failed`` after
  the server's answer.  A message recorded ``sent`` is never sent again.  A
  message still ``sending`` — the program stopped or the connection broke
  after handing it over but before the answer — may or may not have been
  delivered: it is reported ``unknown`` and sent again only when named in
  ``resend`` (the coordinator checks first).  ``failed`` means the server
  refused it (a 4xx/5xx reply): it is tried again on the next run.  So running
  the same command again after any failure sends exactly the messages not yet
  delivered.
* **No personal data in logs.**  The log (``send-log.csv`` and the
  ``buddymatch.mailer`` logger) names the message file (``0007.eml``), its
  status, the SMTP reply code and the error's class — never an address, a
  name, a subject or a body, and never the server's reply text (servers echo
  addresses in it).  Who a message went to is in the ``.eml`` file itself,
  which the coordinator already holds.
* **Settings from options or the environment, never from a template.**  The
  password only from ``BUDDYMATCH_SMTP_PASSWORD``; credentials only over TLS
  (``starttls`` or ``ssl``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError, Issue
from .io.writers import write_json

STATE = "send-state.json"
LOG = "send-log.csv"
SECURITY = ("starttls", "ssl", "none")
log = logging.getLogger("buddymatch.mailer")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send.  ``password`` never appears in ``repr``."""

    host: str
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise ConfigError(issues=[Issue(f"SMTP security must be one of {', '.join(SECURITY)}")])
        if self.user and self.security == "none":
            raise ConfigError(
                issues=[
                    Issue(
                        "SMTP credentials would be sent unencrypted",
                        fix="use --smtp-security starttls or ssl",
                    )
                ]
            )
        if self.user and not self.password:
            raise ConfigError(
                issues=[Issue("an SMTP user needs BUDDYMATCH_SMTP_PASSWORD in the environment")]
            )


@dataclass
class SendReport:
    """What one run did, by message file name."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    not_tried: list[str] = field(default_factory=list)
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        """Every message is delivered (sent now or before)."""
        return not (self.failed or self.unknown or self.not_tried)

    def text(self) -> str:
        parts = [
            f"sent {len(self.sent)}",
            f"already sent {len(self.already_sent)}",
            f"failed {len(self.failed)}",
            f"unknown {len(self.unknown)}",
            f"not tried {len(self.not_tried)}",
        ]
        tail = f"; stopped: {self.stopped}" if self.stopped else ""
        return ", ".join(parts) + tail


class _Connection:
    """One SMTP session, opened on first use."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.smtp is None:
            s = self.settings
            context = ssl.create_default_context()
            if s.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    self.smtp.starttls(context=context)
            if s.user:
                self.smtp.login(s.user, s.password or "")
        return self.smtp

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


def _state(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / STATE
    if not path.is_file():
        return {}
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data.get("messages", {}))


def sent_count(folder: Path) -> int:
    """How many messages of a letters folder are recorded as sent (or possibly sent)."""
    return sum(1 for v in _state(folder).values() if v.get("status") in ("sent", "sending"))


STATUSES = ("sent", "failed", "unknown", "not sent")


def message_statuses(folder: str | Path) -> dict[str, str]:
    """Each message file of a letters folder -> ``sent``, ``failed``, ``unknown`` or ``not sent``.

    ``unknown``: handed to the server but no answer recorded (cut off mid-send);
    it is sent again only when named in ``resend``.  What a page or a report
    shows of a send; read from ``send-state.json``.
    """
    root = Path(folder)
    state = _state(root) if root.is_dir() else {}
    names = sorted(p.name for p in root.glob("*.eml") if not p.name.startswith("."))
    words = {"sent": "sent", "failed": "failed", "sending": "unknown"}
    return {n: words.get(str(state.get(n, {}).get("status")), "not sent") for n in names}


def _save(folder: Path, state: dict[str, dict[str, Any]]) -> None:
    write_json(folder / STATE, {"messages": state})


def _log(folder: Path, name: str, status: str, code: str = "", error: str = "") -> None:
    """Append one line to send-log.csv: time, message file, status, SMTP code, error class."""
    path = folder / LOG
    new = not path.exists()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if new:
        writer.writerow(["time", "message", "status", "smtp_code", "error"])
    writer.writerow([_now(), name, status, code, error])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
    log.info("message %s: %s%s", name, status, f" ({code} {error})" if code or error else "")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _envelope(data: bytes) -> tuple[EmailMessage, str, list[str]]:
    msg = message_from_bytes(data, policy=SMTP)
    assert isinstance(msg, EmailMessage)
    sender = msg["From"].addresses[0].addr_spec
    to = [a.addr_spec for a in msg["To"].addresses]
    return msg, sender, to


def send_folder(
    folder: str | Path,
    settings: SmtpSettings,
    *,
    resend: Sequence[str] = (),
    progress: Callable[[str, str], None] | None = None,
) -> SendReport:
    """Send every message of a letters folder not yet delivered (module docstring)."""
    root = Path(folder)
    files = sorted(p for p in root.glob("*.eml") if not p.name.startswith("."))
    if not files:
        raise InputError(issues=[Issue("no .eml messages in the folder", file=str(folder))])
    state = _state(root)
    report = SendReport()
    connection = _Connection(settings)
    try:
        for k, path in enumerate(files):
            status = state.get(path.name, {}).get("status")
            if status == "sent" and path.name not in resend:
                report.already_sent.append(path.name)
                continue
            if status == "sending" and path.name not in resend:
                report.unknown.append(path.name)
                continue
            stop = _send_one(root, path, state, connection, report)
            if progress is not None:
                progress(path.name, state.get(path.name, {}).get("status", "not tried"))
            if stop:
                report.stopped = stop
                report.not_tried += [p.name for p in files[k + 1 :]]
                break
    finally:
        connection.close()
    return report


def _send_one(
    root: Path,
    path: Path,
    state: dict[str, dict[str, Any]],
    connection: _Connection,
    report: SendReport,
) -> str | None:
    """Send one message, recording it; the reason to stop the run, if any."""
    msg, sender, to = _envelope(path.read_bytes())
    try:
        smtp = connection.open()
    except (smtplib.SMTPException, OSError) as exc:  # nothing handed over: retry next run
        report.not_tried.append(path.name)
        _log(root, path.name, "not tried", _code(exc), type(exc).__name__)
        return f"could not connect to the SMTP server ({type(exc).__name__})"
    state[path.name] = {"status": "sending", "message_id": msg["Message-ID"], "at": _now()}
    _save(root, state)
    try:
        refused = smtp.send_message(msg, from_addr=sender, to_addrs=to)
    except smtplib.SMTPResponseException as exc:  # the server answered: not delivered
        _failed(root, path, state, report, str(exc.smtp_code), type(exc).__name__)
        return None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        _failed(root, path, state, report, "/".join(codes), type(exc).__name__)
        return None
    except (smtplib.SMTPException, OSError) as exc:  # connection lost: delivery unknown
        report.unknown.append(path.name)
        _log(root, path.name, "unknown", "", type(exc).__name__)
        connection.smtp = None
        return f"the connection was lost ({type(exc).__name__})"
    state[path.name] = {
        "status": "sent",
        "message_id": msg["Message-ID"],
        "at": _now(),
        "refused_recipients": len(refused),
    }
    _save(root, state)
    report.sent.append(path.name)
    _log(root, path.name, "sent")
    return None


def _failed(
    root: Path,
    path: Path,
    state: dict[str, dict[str, Any]],
    report: SendReport,
    code: str,
    error: str,
) -> None:
    state[path.name] = {"status": "failed", "at": _now(), "smtp_code": code}
    _save(root, state)
    report.failed.append(path.name)
    _log(root, path.name, "failed", code, error)


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "smtp_code", "") or "")


__all__ = [
    "LOG",
    "SECURITY",
    "STATE",
    "STATUSES",
    "SendReport",
    "SmtpSettings",
    "message_statuses",
    "send_folder",
    "sent_count",
]
