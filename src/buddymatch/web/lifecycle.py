"""After the first round: a new intake, re-matching with review, and feedback.

The operations a coordinator uses once a round is published, each calling the
library and nothing else for the matching work:

- **a new intake** replaces the programme's sign-up sheets (earlier runs keep
  the files they used: a run records its file ids);
- **a re-match** is a run of :func:`buddymatch.rematch` on the current round's
  result folder, the current sheets and scheme (same worker, progress, cancel
  and restart safety as a run).  It is a *proposal*: the coordinator reviews
  its ``changes.csv`` and ``rematch`` summary, then **accepts** it (it becomes
  the current round, published) or **rejects** it (its folder is removed);
- **feedback** is a CSV the library validates (file, row, column); once valid
  it is stored like any file the scheme names and becomes the scheme's
  ``feedback: {file: ...}``, in one transaction.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from buddymatch.errors import Issue

from . import inputs
from .access import Actor, NotFound
from .models import DataFile, Programme, Run, SchemeVersion, now
from .service import Invalid, Workbench, audit

MAX_CHANGES = 10_000
"""The largest ``max_changes`` a form or the API accepts."""


class Lifecycle:
    """The lifecycle operations over one :class:`Workbench` (roles and audit as there)."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb

    # ---------------------------------------------------------------------- intake

    def upload_intake(
        self, actor: Actor, pid: int, files: Sequence[tuple[str, bytes]]
    ) -> tuple[list[DataFile], list[Issue]]:
        """Store a new intake: these sheets replace every active sign-up sheet.

        Returns the stored files and every problem reading them or, once they
        read, validating them against the scheme (kept even with problems, as
        an upload is, so the page can show them; a re-match refuses to start
        until they are fixed).
        """
        wb = self.wb
        wb.programme(actor, pid, "coordinator")
        if not files:
            raise Invalid([Issue("choose the new sign-up sheet", fix="pick a CSV or XLSX file")])
        if len(files) > wb.settings.max_files_per_programme:
            raise Invalid([Issue("too many files at once", fix="upload the sheets of one intake")])
        named = [(inputs.safe_name(n), c) for n, c in files]
        for name, content in named:
            if len(content) > wb.settings.max_upload_bytes:
                raise Invalid([Issue("file is larger than the upload limit", file=name)])
            if not content:
                raise Invalid([Issue("file is empty", file=name, fix="choose the exported sheet")])
        stored = [inputs.StoredFile(n, "profiles", c) for n, c in named]
        issues = list(inputs.check_sheets(stored, wb.limits).issues)
        with wb.db.session() as s:
            old = s.scalars(
                select(DataFile).where(
                    DataFile.programme_id == pid,
                    DataFile.purpose == "profiles",
                    DataFile.active.is_(True),
                )
            ).all()
            for f in old:
                f.active = False
            intake = wb.latest_intake(s, pid) + 1
            rows = [wb.store_file(s, actor, pid, n, c, "profiles", intake) for n, c in named]
            audit(s, actor, pid, "new intake", intake=intake, files=len(rows), replaced=len(old))
        if not issues:  # readable: check it against the scheme as `buddymatch validate` does
            check = wb.check(actor, pid)
            issues = list(check.issues) if check is not None else []
        return rows, issues

    # --------------------------------------------------------------------- re-match

    def start_rematch(
        self, actor: Actor, pid: int, max_changes: int = 0, seed: int | None = None
    ) -> Run:
        """Queue a re-match of the current round with the current sheets and scheme."""
        wb = self.wb
        wb.programme(actor, pid, "coordinator")
        if not 0 <= max_changes <= MAX_CHANGES:
            raise Invalid(
                [Issue(f"the number of changes allowed must be from 0 to {MAX_CHANGES:,}")]
            )
        base = wb.current_round(actor, pid)
        if base is None:
            raise Invalid(
                [Issue("there is no published round to re-match", fix="publish a run first")]
            )
        if seed is None:
            seed = base.seed
        return wb.new_run(actor, pid, seed, base=base, max_changes=max_changes)

    def proposal(self, actor: Actor, pid: int, number: int) -> Run:
        """A finished re-match not yet accepted or rejected (else Invalid/NotFound)."""
        run = self.wb.run(actor, pid, number)
        if run.kind != "rematch":
            raise NotFound()
        if run.status != "done" or run.published_at is not None:
            raise Invalid([Issue(f"re-match {number} is not waiting for a decision")])
        return run

    def accept(self, actor: Actor, pid: int, number: int) -> Run:
        """Make a reviewed re-match the current round (published), if it repairs the current one."""
        wb = self.wb
        wb.programme(actor, pid, "coordinator")
        run = self.proposal(actor, pid, number)
        block = _rematch_block(wb, actor, pid, number)
        with wb.db.session() as s:
            # One accept at a time per programme (a row lock on PostgreSQL), checked inside it.
            s.execute(select(Programme.id).where(Programme.id == pid).with_for_update())
            current = wb.current_in(s, pid)
            if current is None or current.id != run.base_run_id:
                raise Invalid([_stale(current)])
            row = s.get(Run, run.id)
            assert row is not None
            row.published_at = now()
            audit(s, actor, pid, "accept re-match", run=number, of_run=current.number, **block)
            return row

    def reject(self, actor: Actor, pid: int, number: int) -> Run:
        """Discard a proposed re-match: marked rejected, its folder removed."""
        wb = self.wb
        wb.programme(actor, pid, "coordinator")
        run = self.proposal(actor, pid, number)
        with wb.db.session() as s:
            row = s.get(Run, run.id)
            assert row is not None
            row.status, row.message = (
                "rejected",
                "rejected by the coordinator; nothing of it is kept",
            )
            row.summary_json = ""
            audit(s, actor, pid, "reject re-match", run=number)
        shutil.rmtree(wb.settings.data_dir / run.folder, ignore_errors=True)
        return row

    # --------------------------------------------------------------------- feedback

    def upload_feedback(
        self,
        actor: Actor,
        pid: int,
        name: str,
        content: bytes,
        *,
        continuing_bonus: float | None = None,
        rating_points: float | None = None,
    ) -> SchemeVersion:
        """Validate a feedback CSV with the library, then make it the scheme's ``feedback``.

        Nothing is stored when the library finds a problem: ``Invalid`` lists
        every one (file, row, column, fix).  Bonus and points not given keep the
        scheme's current values.
        """
        wb = self.wb
        programme = wb.programme(actor, pid, "coordinator")
        name = inputs.safe_name(name)
        wb.check_upload(actor, pid, name, content, "scheme")
        data = wb.scheme_data(actor, pid)
        if data is None:
            raise Invalid([Issue("this programme has no scheme yet", fix="build one first")])
        changed = with_feedback(data, name, continuing_bonus, rating_points)
        wb.check_scheme(programme.kind, changed)
        files = [f for f in wb.stored(actor, pid) if f.name != name]
        if not any(f.purpose == "profiles" for f in files):
            raise Invalid([Issue("upload the sign-up sheet first: feedback names its people")])
        files.append(inputs.StoredFile(name, "scheme", content))
        check = inputs.validate(files, _yaml(changed), wb.limits)
        if not check.ok:
            raise Invalid(list(check.issues))
        with wb.db.session() as s:
            wb.store_file(s, actor, pid, name, content, "scheme")
            audit(s, actor, pid, "upload feedback", file=name, **check.summary.get("feedback", {}))
            return wb.store_version(s, actor, pid, changed, f"feedback from {name}")

    def remove_feedback(self, actor: Actor, pid: int) -> SchemeVersion:
        """Take ``feedback`` out of the scheme (its file is removed from the programme)."""
        wb = self.wb
        wb.programme(actor, pid, "coordinator")
        data = wb.scheme_data(actor, pid)
        if not data or not isinstance(data.get("feedback"), dict):
            raise Invalid([Issue("the scheme has no feedback to remove")])
        changed = copy.deepcopy(data)
        file = str(changed.pop("feedback").get("file", ""))
        with wb.db.session() as s:
            for f in s.scalars(
                select(DataFile).where(
                    DataFile.programme_id == pid,
                    DataFile.name == file,
                    DataFile.purpose == "scheme",
                    DataFile.active.is_(True),
                )
            ):
                f.active = False
            audit(s, actor, pid, "remove feedback", file=file)
            return wb.store_version(s, actor, pid, changed, "feedback removed")


def with_feedback(
    scheme: dict[str, Any], file: str, bonus: float | None, points: float | None
) -> dict[str, Any]:
    """A copy of ``scheme`` whose ``feedback`` names ``file`` (other settings kept or given)."""
    data = copy.deepcopy(scheme)
    found = data.get("feedback")
    old: dict[str, Any] = found if isinstance(found, dict) else {}
    spec: dict[str, Any] = {"file": file}
    for key, value in (("continuing_bonus", bonus), ("rating_points", points)):
        chosen = value if value is not None else old.get(key)
        if chosen is not None:
            spec[key] = chosen
    data["feedback"] = spec
    return data


def _stale(current: Run | None) -> Issue:
    now_number = current.number if current else "none"
    return Issue(
        f"this re-match repairs an earlier round; the current round is run {now_number}",
        fix="re-match the current round again",
    )


def _yaml(data: dict[str, Any]) -> str:
    from .schemestate import to_yaml

    return to_yaml(data)


def _rematch_block(wb: Workbench, actor: Actor, pid: int, number: int) -> dict[str, Any]:
    """kept / ended / new of a re-match's summary, for the audit log."""
    summary = wb.result(actor, pid, number).summary.get("rematch") or {}
    return {k: summary.get(k) for k in ("kept", "ended", "new", "max_changes", "changes_used")}


_REJECTED = "rejected by the coordinator; nothing of it is kept"
