"""Introductions of a finished run: preview, download, and send through SMTP.

Rendering is :func:`buddymatch.introduce` (Jinja2 in the library's sandbox,
unknown fields are errors naming their line) on the run's results folder,
with the scheme's shipped template or one the coordinator uploaded (stored
as a programme file of purpose ``template``).  Sending is
:func:`buddymatch.send_letters` on the run's letters folder
(``<run folder>/letters``), whose send state — kept by :mod:`buddymatch.mailer`,
written before and after every message — is what guarantees nobody is sent a
message twice: a later send resumes, a message cut off mid-send stays
*unknown* until the coordinator asks for it again.

The first send fixes what is sent (a :class:`~.models.Mailing` row: template,
sender, only new pairs); later sends of the run resume that folder.  The SMTP
server is the server's setting (``serve --smtp-*`` / environment), never a
page's; without one, introductions can be previewed and downloaded only.
Sends run in a background thread (one per run at a time); what each message
became is read back from the send state, so a reload, or a restart after a
crash, shows it.
"""

from __future__ import annotations

import io
import logging
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

import buddymatch
from buddymatch.errors import BuddymatchError, Issue
from buddymatch.letters import Letters
from buddymatch.mailer import message_statuses

from . import inputs
from .access import Actor, NotFound
from .models import DataFile, Mailing, Run
from .service import Invalid, Workbench, audit

log = logging.getLogger("buddymatch.web")
LETTERS = "letters"
DOWNLOADS = {
    "eml": ("application/zip", "introductions-eml.zip"),
    "mailmerge": ("text/csv; charset=utf-8", "introductions-mailmerge.csv"),
}


@dataclass(frozen=True)
class LetterOptions:
    """What a coordinator chooses: template (a stored file id, 0 = the scheme's own),
    the sender (``Name <address>``), only the pairs a re-match made new, and the
    carried columns holding names and addresses (empty: the library's defaults)."""

    template: int = 0
    sender: str = ""
    only_new: bool = False
    name_column: str = ""
    email_column: str = ""


@dataclass
class SendJob:
    """A send in progress in this server process."""

    running: bool = True
    outcome: str = ""


@dataclass(frozen=True)
class SendView:
    """What the page shows of a run's sending."""

    configured: bool
    mailing: Mailing | None
    running: bool
    outcome: str
    statuses: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)


class Introductions:
    """Preview, download and send the introductions of a run."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._jobs: dict[int, SendJob] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------------- templates

    def templates(self, actor: Actor, pid: int) -> list[DataFile]:
        return [f for f in self.wb.files(actor, pid) if f.purpose == "template"]

    def upload_template(self, actor: Actor, pid: int, name: str, content: bytes) -> DataFile:
        """Store a template (UTF-8 text); it is checked when the introductions render."""
        name = inputs.safe_name(name)
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid([Issue("is not UTF-8 text", file=name)]) from None
        row, _ = self.wb.upload(actor, pid, name, content, "template")
        return row

    def _template(self, actor: Actor, pid: int, fid: int) -> DataFile | None:
        if not fid:
            return None
        found = [f for f in self.templates(actor, pid) if f.id == fid]
        if not found:
            with self.wb.db.session() as s:  # an older, replaced template a mailing used
                row = s.get(DataFile, fid)
                if row is None or row.programme_id != pid or row.purpose != "template":
                    raise Invalid([Issue("no such template", fix="choose one from the list")])
                return row
        return found[0]

    # ---------------------------------------------------------------------- render

    def render(self, actor: Actor, pid: int, number: int, options: LetterOptions) -> Letters:
        """Every message of the run, rendered by the library (nothing written or sent)."""
        programme = self.wb.programme(actor, pid)
        result = self.wb.result(actor, pid, number)
        if not options.sender.strip():
            raise Invalid(
                [Issue("give the sender", fix='e.g. "Mentoring team <mentoring@example.org>"')]
            )
        template = self._template(actor, pid, options.template)
        with inputs.workspace() as folder:
            path = None
            if template is not None:
                path = folder / template.name
                path.write_bytes(template.content)
            try:
                return buddymatch.introduce(
                    self.wb.result_folder(result.run),
                    path,
                    programme=programme.name,
                    sender=options.sender.strip(),
                    name_column=options.name_column or None,
                    email_column=options.email_column or None,
                    only_new=options.only_new,
                )
            except BuddymatchError as exc:
                raise Invalid(inputs.issues_of(exc, folder)) from None

    def download(
        self, actor: Actor, pid: int, number: int, options: LetterOptions, what: str
    ) -> tuple[bytes, str, str]:
        """(bytes, media type, file name): the .eml files as a zip, or the mail-merge CSV."""
        if what not in DOWNLOADS:
            raise NotFound()
        files = self.render(actor, pid, number, options).files()
        media, name = DOWNLOADS[what]
        name = f"run-{number}-{name}"
        if what == "mailmerge":
            return files["mailmerge.csv"], media, name
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for file, data in sorted(files.items()):
                if file.endswith(".eml"):
                    zf.writestr(file, data)
        return buffer.getvalue(), media, name

    # ------------------------------------------------------------------------ send

    def mailing(self, actor: Actor, pid: int, number: int) -> Mailing | None:
        run = self.wb.run(actor, pid, number)
        with self.wb.db.session() as s:
            return s.scalar(select(Mailing).where(Mailing.run_id == run.id))

    def mailing_options(self, mailing: Mailing) -> LetterOptions:
        return LetterOptions(
            mailing.template_file_id or 0,
            mailing.sender,
            mailing.only_new,
            mailing.name_column,
            mailing.email_column,
        )

    def folder(self, run: Run) -> Path:
        return self.wb.settings.data_dir / run.folder / LETTERS

    def view(self, actor: Actor, pid: int, number: int) -> SendView:
        run = self.wb.run(actor, pid, number)
        mailing = self.mailing(actor, pid, number)
        with self._lock:
            job = self._jobs.get(run.id)
        statuses = message_statuses(self.folder(run)) if mailing is not None else {}
        return SendView(
            self.wb.settings.smtp is not None,
            mailing,
            bool(job and job.running),
            job.outcome if job else "",
            statuses,
        )

    def send(
        self,
        actor: Actor,
        pid: int,
        number: int,
        options: LetterOptions,
        resend: tuple[str, ...] = (),
    ) -> Mailing:
        """Start sending (or resume) in the background; returns the mailing being sent.

        The first send writes the letters folder with ``options``; afterwards the
        stored mailing's options are used whatever is passed, so a resume sends
        exactly the messages not yet delivered.
        """
        self.wb.programme(actor, pid, "coordinator")
        settings = self.wb.settings.smtp
        if settings is None:
            raise Invalid([Issue("sending is not configured on this server", fix=_NO_SMTP)])
        run = self.wb.result(actor, pid, number).run
        if run.published_at is None:
            raise Invalid([Issue("this run is not the published round", fix=_PUBLISH_FIRST)])
        with self._lock:
            job = self._jobs.get(run.id)
            if job is not None and job.running:
                raise Invalid([Issue("these introductions are being sent now")])
            self._jobs[run.id] = SendJob()
        try:
            mailing = self._prepare(actor, pid, number, run, options)
        except BaseException:
            with self._lock:
                self._jobs.pop(run.id, None)
            raise
        folder = self.folder(run)
        unknown = {n for n, st in message_statuses(folder).items() if st == "unknown"}
        chosen = tuple(sorted(set(resend) & unknown))
        with self.wb.db.session() as s:
            audit(s, actor, pid, "send introductions", run=number, resend=len(chosen))
        thread = threading.Thread(
            target=self._send,
            args=(actor, pid, number, run.id, folder, chosen),
            name=f"send-{run.id}",
            daemon=True,
        )
        thread.start()
        return mailing

    def _prepare(
        self, actor: Actor, pid: int, number: int, run: Run, options: LetterOptions
    ) -> Mailing:
        """The run's mailing; the first time, render and write the letters folder."""
        existing = self.mailing(actor, pid, number)
        if existing is not None:
            return existing
        letters = self.render(actor, pid, number, options)
        template = self._template(actor, pid, options.template)
        try:
            letters.write(self.folder(run), force=True)
        except BuddymatchError as exc:
            raise Invalid(list(exc.issues) or [Issue(str(exc))]) from None
        with self.wb.db.session() as s:
            mailing = Mailing(
                programme_id=pid,
                run_id=run.id,
                template_file_id=template.id if template else None,
                template_name=template.name if template else "",
                sender=options.sender.strip()[:320],
                only_new=options.only_new,
                name_column=options.name_column[:200],
                email_column=options.email_column[:200],
                messages=len(letters.letters),
                created_by=actor.id,
            )
            s.add(mailing)
            s.flush()
            audit(s, actor, pid, "write introductions", run=number, messages=mailing.messages)
            return mailing

    def _send(
        self,
        actor: Actor,
        pid: int,
        number: int,
        run_id: int,
        folder: Path,
        resend: tuple[str, ...],
    ) -> None:
        settings = self.wb.settings.smtp
        assert settings is not None
        outcome = ""
        try:
            report = buddymatch.send_letters(folder, settings, resend=resend)
            outcome = report.text()
            counts = {
                k: len(getattr(report, k))
                for k in ("sent", "already_sent", "failed", "unknown", "not_tried")
            }
            with self.wb.db.session() as s:
                audit(s, actor, pid, "introductions sent", run=number, **counts)
        except BuddymatchError as exc:
            outcome = "; ".join(exc.lines)
        except Exception as exc:  # never lose the outcome; no personal data in it
            outcome = f"internal error ({type(exc).__name__})"
            log.error("send for run %d failed (%s)", run_id, type(exc).__name__)
        finally:
            with self._lock:
                self._jobs[run_id] = SendJob(running=False, outcome=outcome)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for every send in progress (tests; shutting down)."""
        for thread in threading.enumerate():
            if thread.name.startswith("send-"):
                thread.join(timeout)


_PUBLISH_FIRST = "publish it (or accept the re-match) before sending its introductions"
_NO_SMTP = (
    "start the server with --smtp-host (or BUDDYMATCH_SMTP_HOST; the password in "
    "BUDDYMATCH_SMTP_PASSWORD), or download the messages and send them yourself"
)


def letter_rows(letters: Letters, start: int, size: int) -> list[dict[str, Any]]:
    """One page of messages as the page shows them: file, recipients, subject, body."""
    out = []
    for letter in letters.letters[start : start + size]:
        out.append(
            {
                "name": letter.name,
                "to": [f"{n} <{e}>" if n else e for n, e in letter.to],
                "subject": letter.subject,
                "body": letter.body,
                "unit": letter.unit,
                "round": letter.round,
            }
        )
    return out
