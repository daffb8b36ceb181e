"""Every workbench operation, once: the HTML pages and the JSON API both call these.

Each method takes the acting user, checks their role on the programme
(:func:`access.require`: no role -> ``NotFound``, too low -> ``Forbidden``),
does its work in one transaction and writes one audit entry.  Library work is
delegated: reading and validating files (:mod:`.inputs`), the scheme
(:func:`buddymatch.config.validate_scheme`), running (:mod:`.worker`), and
reading results (:func:`buddymatch.io.writers.read_results`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from buddymatch.config import validate_scheme
from buddymatch.errors import ConfigError, InputError, Issue
from buddymatch.io.readers import ReadLimits
from buddymatch.io.writers import read_results

from . import access, inputs, schemestate
from .access import Actor, NotFound
from .database import Database
from .models import AuditEntry, DataFile, Programme, Role, Run, SchemeVersion, User, now
from .settings import Settings
from .worker import Runner

KINDS = ("mentoring", "peer", "cohorts")
PURPOSES = ("profiles", "scheme", "template")


class Invalid(Exception):
    """The request cannot be done as asked; ``issues`` say why and how to fix it."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class ProgrammeView:
    id: int
    name: str
    kind: str
    role: str


@dataclass(frozen=True)
class RunResult:
    run: Run
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]


def plain(text: str, limit: int) -> str:
    """One line of printable text: control characters dropped, spaces collapsed, cut to limit.

    (PostgreSQL refuses NUL in text; no stored label needs any control character.)
    """
    kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(kept.split())[:limit]


def audit(s: Session, actor: Actor, pid: int | None, action: str, **detail: Any) -> None:
    s.add(
        AuditEntry(
            user_id=actor.id,
            programme_id=pid,
            action=action,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


class Workbench:
    """The service object an app holds (one per server)."""

    def __init__(self, settings: Settings, db: Database, runner: Runner) -> None:
        self.settings, self.db, self.runner = settings, db, runner
        self.limits = ReadLimits(max_bytes=settings.max_upload_bytes)

    # ------------------------------------------------------------------ programmes

    def programmes(self, actor: Actor) -> list[ProgrammeView]:
        with self.db.session() as s:
            rows = s.execute(
                select(Programme, Role.role)
                .join(Role, Role.programme_id == Programme.id)
                .where(Role.user_id == actor.id)
                .order_by(Programme.id)
            ).all()
            return [ProgrammeView(p.id, p.name, p.kind, r) for p, r in rows]

    def create_programme(self, actor: Actor, name: str, kind: str) -> ProgrammeView:
        name = plain(name, 120)
        issues = []
        if not name:
            issues.append(Issue("a programme needs a name", fix="type a name"))
        if kind not in KINDS:
            issues.append(Issue(f"kind must be one of {', '.join(KINDS)}"))
        if issues:
            raise Invalid(issues)
        with self.db.session() as s:
            p = Programme(name=name, kind=kind)
            s.add(p)
            s.flush()
            access.grant(s, actor.id, p.id, "coordinator")
            audit(s, actor, p.id, "create programme", kind=kind)
            return ProgrammeView(p.id, p.name, p.kind, "coordinator")

    def programme(self, actor: Actor, pid: int, need: str = "viewer") -> ProgrammeView:
        with self.db.session() as s:
            role = access.require(s, actor, pid, need)
            p = s.get(Programme, pid)
            if p is None:
                raise NotFound()
            return ProgrammeView(p.id, p.name, p.kind, role)

    # ----------------------------------------------------------------------- files

    def files(self, actor: Actor, pid: int) -> list[DataFile]:
        with self.db.session() as s:
            access.require(s, actor, pid)
            return list(
                s.scalars(
                    select(DataFile)
                    .where(DataFile.programme_id == pid, DataFile.active.is_(True))
                    .order_by(DataFile.purpose, DataFile.name)
                )
            )

    def stored(self, actor: Actor, pid: int, purpose: str | None = None) -> list[inputs.StoredFile]:
        return [
            inputs.StoredFile(f.name, f.purpose, f.content)
            for f in self.files(actor, pid)
            if purpose is None or f.purpose == purpose
        ]

    def upload(
        self, actor: Actor, pid: int, name: str, content: bytes, purpose: str = "profiles"
    ) -> tuple[DataFile, list[Issue]]:
        """Store a file (replacing an active one of the same name); return its read problems.

        A sign-up sheet is kept even when it has problems, so the page can show
        them next to the file; runs refuse to start until they are fixed.
        """
        name = inputs.safe_name(name)
        self.check_upload(actor, pid, name, content, purpose)
        issues: list[Issue] = []
        if purpose == "profiles":
            check = inputs.check_sheets([inputs.StoredFile(name, purpose, content)], self.limits)
            issues = list(check.issues)
        with self.db.session() as s:
            row = self.store_file(s, actor, pid, name, content, purpose)
            return row, issues

    def store_file(
        self,
        s: Session,
        actor: Actor,
        pid: int,
        name: str,
        content: bytes,
        purpose: str,
        intake: int | None = None,
    ) -> DataFile:
        """Add a file in session ``s``, deactivating an active one of the same name; audited.

        ``intake`` numbers the sign-up round a sheet belongs to (default: the latest).
        """
        old = s.scalars(
            select(DataFile).where(
                DataFile.programme_id == pid, DataFile.name == name, DataFile.active.is_(True)
            )
        ).all()
        for f in old:
            f.active = False
        if intake is None:
            intake = self.latest_intake(s, pid)
        row = DataFile(
            programme_id=pid,
            intake=intake,
            purpose=purpose,
            name=name,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by=actor.id,
        )
        s.add(row)
        s.flush()
        audit(s, actor, pid, "upload file", file=name, purpose=purpose, replaced=len(old))
        return row

    @staticmethod
    def latest_intake(s: Session, pid: int) -> int:
        found = s.scalar(select(func.max(DataFile.intake)).where(DataFile.programme_id == pid))
        return int(found or 1)

    def check_upload(self, actor: Actor, pid: int, name: str, content: bytes, purpose: str) -> None:
        self.programme(actor, pid, "coordinator")
        if purpose not in PURPOSES:
            raise Invalid([Issue(f"purpose must be one of {', '.join(PURPOSES)}")])
        if len(content) > self.settings.max_upload_bytes:
            raise Invalid([Issue("file is larger than the upload limit", file=name)])
        if not content:
            raise Invalid([Issue("file is empty", file=name, fix="choose the exported sheet")])
        active = [f for f in self.files(actor, pid) if f.name != name]
        if len(active) >= self.settings.max_files_per_programme:
            raise Invalid([Issue("too many files in this programme", fix="remove one first")])

    def remove_file(self, actor: Actor, pid: int, fid: int) -> None:
        with self.db.session() as s:
            access.require(s, actor, pid, "coordinator")
            f = s.get(DataFile, fid)
            if f is None or f.programme_id != pid or not f.active:
                raise NotFound()
            f.active = False
            audit(s, actor, pid, "remove file", file=f.name)

    def sheet_check(self, actor: Actor, pid: int) -> inputs.SheetCheck:
        return inputs.check_sheets(self.stored(actor, pid, "profiles"), self.limits)

    # ---------------------------------------------------------------------- scheme

    def scheme(self, actor: Actor, pid: int) -> SchemeVersion | None:
        with self.db.session() as s:
            access.require(s, actor, pid)
            return s.scalar(
                select(SchemeVersion)
                .where(SchemeVersion.programme_id == pid)
                .order_by(SchemeVersion.number.desc())
                .limit(1)
            )

    def scheme_data(self, actor: Actor, pid: int) -> dict[str, Any] | None:
        version = self.scheme(actor, pid)
        return None if version is None else schemestate.from_yaml(version.yaml_text)

    def save_scheme(self, actor: Actor, pid: int, data: dict[str, Any], note: str) -> SchemeVersion:
        """Validate with the library and store as the programme's new current scheme."""
        programme = self.programme(actor, pid, "coordinator")
        self.check_scheme(programme.kind, data)
        with self.db.session() as s:
            return self.store_version(s, actor, pid, data, note)

    @staticmethod
    def check_scheme(kind: str, data: dict[str, Any]) -> None:
        """The library's validation of a scheme mapping for a programme of ``kind``."""
        if data.get("scheme") != kind:
            said = data.get("scheme")
            raise Invalid([Issue(f'this programme is {kind}; the scheme says "{said}"')])
        try:
            validate_scheme(data, label="scheme")
        except ConfigError as exc:
            raise Invalid(list(exc.issues) or [Issue(str(exc))]) from None

    def store_version(
        self, s: Session, actor: Actor, pid: int, data: dict[str, Any], note: str
    ) -> SchemeVersion:
        """Add ``data`` (validated by the caller) as the current scheme, in session ``s``."""
        number = (
            s.scalar(
                select(func.max(SchemeVersion.number)).where(SchemeVersion.programme_id == pid)
            )
            or 0
        ) + 1
        version = SchemeVersion(
            programme_id=pid,
            number=number,
            yaml_text=schemestate.to_yaml(data),
            note=note[:200],
            created_by=actor.id,
        )
        s.add(version)
        audit(s, actor, pid, "save scheme", version=number, note=note[:200])
        s.flush()
        return version

    def upload_scheme(self, actor: Actor, pid: int, name: str, content: bytes) -> SchemeVersion:
        self.programme(actor, pid, "coordinator")
        try:
            data = inputs.parse_scheme_upload(name, content)
        except (ConfigError, InputError) as exc:
            raise Invalid(list(exc.issues)) from None
        return self.save_scheme(actor, pid, data, f"uploaded {inputs.safe_name(name)}")

    def decide(
        self, actor: Actor, pid: int, decision: schemestate.Decision, *, remove: bool = False
    ) -> SchemeVersion:
        """Lock, forbid, exclude or place (or undo one) as a rule in the programme's scheme."""
        self.programme(actor, pid, "coordinator")
        data = self.scheme_data(actor, pid)
        if data is None:
            raise Invalid([Issue("this programme has no scheme yet", fix="build one first")])
        try:
            changed = schemestate.apply(data, decision, remove=remove)
        except (ValueError, TypeError) as exc:
            raise Invalid([Issue(str(exc))]) from None
        verb = f"{'undo ' if remove else ''}{decision.kind}"
        what = " / ".join(decision.ids) + (f" -> group {decision.group}" if decision.group else "")
        return self.save_scheme(actor, pid, changed, f"{verb} {what}")

    def check(self, actor: Actor, pid: int) -> inputs.Validation | None:
        version = self.scheme(actor, pid)
        files = self.stored(actor, pid)
        if version is None or not any(f.purpose == "profiles" for f in files):
            return None
        return inputs.validate(files, version.yaml_text, self.limits)

    # ------------------------------------------------------------------------ runs

    def start_run(self, actor: Actor, pid: int, seed: int | None = None) -> Run:
        """Queue a match of the current sign-up sheets with the current scheme."""
        return self.new_run(actor, pid, seed)

    def new_run(
        self,
        actor: Actor,
        pid: int,
        seed: int | None,
        *,
        base: Run | None = None,
        max_changes: int = 0,
    ) -> Run:
        """Queue a run (a re-match of ``base`` when given) once the inputs validate."""
        self.programme(actor, pid, "coordinator")
        version = self.scheme(actor, pid)
        files = self.files(actor, pid)
        check = self.check(actor, pid)
        if version is None or check is None:
            raise Invalid([Issue("upload a sign-up sheet and build a scheme first")])
        if not check.ok:
            raise Invalid(list(check.issues))
        scheme = schemestate.from_yaml(version.yaml_text)
        if seed is None:
            seed = int((scheme.get("solver") or {}).get("seed", 0))
        with self.db.session() as s:
            number = (
                s.scalar(select(func.max(Run.number)).where(Run.programme_id == pid)) or 0
            ) + 1
            run = Run(
                programme_id=pid,
                number=number,
                scheme_version_id=version.id,
                file_ids=",".join(str(f.id) for f in files),
                seed=seed,
                folder=f"runs/{pid}-{number}-{secrets.token_hex(4)}",
                created_by=actor.id,
                message="waiting for a worker",
                kind="match" if base is None else "rematch",
                base_run_id=None if base is None else base.id,
                max_changes=max_changes,
            )
            s.add(run)
            s.flush()
            what = {"run": number, "scheme_version": version.number, "seed": seed}
            if base is None:
                audit(s, actor, pid, "start run", **what)
            else:
                audit(
                    s,
                    actor,
                    pid,
                    "start re-match",
                    of_run=base.number,
                    max_changes=max_changes,
                    **what,
                )
        self.runner.submit(run.id)
        return run

    def runs(self, actor: Actor, pid: int) -> list[Run]:
        with self.db.session() as s:
            access.require(s, actor, pid)
            return list(
                s.scalars(select(Run).where(Run.programme_id == pid).order_by(Run.number.desc()))
            )

    def run(self, actor: Actor, pid: int, number: int) -> Run:
        with self.db.session() as s:
            access.require(s, actor, pid)
            run = s.scalar(select(Run).where(Run.programme_id == pid, Run.number == number))
            if run is None:
                raise NotFound()
            return run

    def run_number(self, run_id: int) -> int | None:
        """The number of a run by its id (within the programme the caller already checked)."""
        with self.db.session() as s:
            run = s.get(Run, run_id)
            return None if run is None else run.number

    def cancel_run(self, actor: Actor, pid: int, number: int) -> Run:
        self.programme(actor, pid, "coordinator")
        run = self.run(actor, pid, number)
        if run.status in ("queued", "running"):
            self.runner.cancel(run.id)
            with self.db.session() as s:
                audit(s, actor, pid, "cancel run", run=number)
        return run

    def result(self, actor: Actor, pid: int, number: int) -> RunResult:
        run = self.run(actor, pid, number)
        if run.status != "done":
            raise NotFound()
        tables, summary = read_results(self.settings.data_dir / run.folder / "result")
        return RunResult(run, tables, summary)

    def result_folder(self, run: Run) -> Path:
        return self.settings.data_dir / run.folder / "result"

    def scheme_version(self, actor: Actor, pid: int, version_id: int) -> SchemeVersion:
        with self.db.session() as s:
            access.require(s, actor, pid)
            v = s.get(SchemeVersion, version_id)
            if v is None or v.programme_id != pid:
                raise NotFound()
            return v

    def publish(self, actor: Actor, pid: int, number: int) -> Run:
        """Freeze a finished run as the programme's published round (its current round).

        A re-match is not published directly: it is accepted (:mod:`.lifecycle`),
        which checks it still repairs the current round.
        """
        self.programme(actor, pid, "coordinator")
        with self.db.session() as s:
            run = s.scalar(select(Run).where(Run.programme_id == pid, Run.number == number))
            if run is None:
                raise NotFound()
            if run.status != "done":
                raise Invalid([Issue("only a finished run can be published")])
            if run.kind == "rematch" and run.published_at is None:
                raise Invalid([Issue("a re-match is accepted or rejected, not published")])
            if run.published_at is None:
                run.published_at = now()
                audit(s, actor, pid, "publish run", run=number)
            return run

    def current_round(self, actor: Actor, pid: int) -> Run | None:
        """The programme's current round: its most recently published (or accepted) run."""
        with self.db.session() as s:
            access.require(s, actor, pid)
            return self.current_in(s, pid)

    @staticmethod
    def current_in(s: Session, pid: int) -> Run | None:
        """The current round as seen in session ``s`` (the latest published run)."""
        return s.scalar(
            select(Run)
            .where(Run.programme_id == pid, Run.published_at.is_not(None))
            .order_by(Run.published_at.desc(), Run.number.desc())
            .limit(1)
        )

    # ------------------------------------------------------------------ members, audit

    def members(self, actor: Actor, pid: int) -> list[tuple[str, str]]:
        with self.db.session() as s:
            access.require(s, actor, pid)
            rows = s.execute(
                select(User.username, Role.role)
                .join(Role, Role.user_id == User.id)
                .where(Role.programme_id == pid)
                .order_by(User.username)
            ).all()
            return [(u, r) for u, r in rows]

    def add_member(self, actor: Actor, pid: int, username: str, role: str) -> None:
        self.programme(actor, pid, "coordinator")
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.username == username.strip()))
            if user is None or role not in access.ROLES:
                raise Invalid([Issue("no such user, or an unknown role", fix="check both")])
            if user.id == actor.id:
                raise Invalid([Issue("you cannot change your own role")])
            access.grant(s, user.id, pid, role)
            audit(s, actor, pid, "grant role", user=user.username, role=role)

    def audit(self, actor: Actor, pid: int, limit: int = 200) -> list[tuple[AuditEntry, str]]:
        with self.db.session() as s:
            access.require(s, actor, pid)
            rows = s.execute(
                select(AuditEntry, User.username)
                .join(User, User.id == AuditEntry.user_id, isouter=True)
                .where(AuditEntry.programme_id == pid)
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            ).all()
            return [(a, u or "") for a, u in rows]

    # -------------------------------------------------------------------- accounts

    def create_user(self, actor: Actor, username: str, password: str) -> None:
        if not actor.is_admin:
            raise access.Forbidden()
        if plain(username, 81) != username.strip() or not username.strip() or len(username) > 80:
            raise Invalid([Issue("a user name of 1–80 printable characters is needed")])
        with self.db.session() as s:
            username = username.strip()
            if s.scalar(select(User).where(User.username == username)) is not None:
                raise Invalid([Issue("that user name is taken")])
            user = User(username=username)
            try:
                access.set_password(user, password)
            except ValueError as exc:
                raise Invalid([Issue(str(exc))]) from None
            s.add(user)
            audit(s, actor, None, "create user", user=username)

    def users(self, actor: Actor) -> list[str]:
        if not actor.is_admin:
            raise access.Forbidden()
        with self.db.session() as s:
            return list(s.scalars(select(User.username).order_by(User.username)))
