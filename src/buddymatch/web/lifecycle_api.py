"""The JSON API of the lifecycle: new intake, re-match review, feedback, introductions.

Same conventions as :mod:`.api` (bearer tokens; 401/403/404/422 with
``issues``); each route calls one :class:`~.lifecycle.Lifecycle` or
:class:`~.introductions.Introductions` method, as its page does.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .access import Actor
from .api import ERRORS, MAX_ID, FileOut, Id, IssueOut, RunOut, SchemeOut, _file, _issue, _run
from .api import api_actor as _api_actor
from .introductions import Introductions, LetterOptions, letter_rows
from .lifecycle import MAX_CHANGES, Lifecycle
from .schemestate import from_yaml
from .service import Workbench

router = APIRouter(prefix="/api", tags=["lifecycle"])


def _lc(request: Request) -> Lifecycle:
    lc: Lifecycle = request.app.state.lifecycle
    return lc


def _intro(request: Request) -> Introductions:
    intro: Introductions = request.app.state.introductions
    return intro


def _wb(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


class IntakeOut(BaseModel):
    files: list[FileOut]
    issues: list[IssueOut]


class RematchIn(BaseModel):
    max_changes: int = Field(
        0, ge=0, le=MAX_CHANGES, description="Kept pairs (cohorts: people) it may break or move"
    )
    seed: int | None = Field(None, ge=0, le=MAX_ID)


class ChangesOut(BaseModel):
    rematch: dict[str, Any] = Field(
        description="summary.json's rematch block: kept, ended (by reason), new, trade_off, ..."
    )
    changes: list[dict[str, Any]] = Field(description="changes.csv: one row per person")
    base_run: int | None
    accepted: bool


class LettersIn(BaseModel):
    sender: str = Field(
        min_length=3, max_length=320, examples=["Mentoring team <mentoring@example.nhs.uk>"]
    )
    template: int = Field(0, ge=0, le=MAX_ID, description="A template file's id; 0: the default")
    only_new: bool = False
    name_column: str = Field("", max_length=200)
    email_column: str = Field("", max_length=200)
    resend: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="Messages left 'unknown' to send again (checked they did not arrive)",
    )


class MessageOut(BaseModel):
    name: str
    round: int
    unit: str
    to: list[str]
    subject: str
    body: str


class LettersOut(BaseModel):
    count: int
    messages: list[MessageOut]


class SendOut(BaseModel):
    configured: bool
    sending: bool
    outcome: str
    sender: str | None = None
    template: int | None = None
    only_new: bool | None = None
    statuses: dict[str, str] = Field(
        description="message file -> sent, failed, unknown (cut off mid-send) or not sent"
    )


def _scheme(version: Any) -> SchemeOut:
    data = from_yaml(version.yaml_text)
    return SchemeOut(version=version.number, note=version.note, yaml=version.yaml_text, scheme=data)


@router.post("/programmes/{pid}/intake", status_code=201, responses=ERRORS)
async def upload_intake(
    request: Request,
    pid: Id,
    files: list[UploadFile] = File(..., description="The new sign-up sheet(s)"),
    actor: Actor = Depends(_api_actor),
) -> IntakeOut:
    """A new intake: these sheets replace the programme's sign-up sheets."""
    content = [(f.filename or "upload", await f.read()) for f in files]
    rows, issues = _lc(request).upload_intake(actor, pid, content)
    return IntakeOut(files=[_file(r) for r in rows], issues=[_issue(i) for i in issues])


@router.post("/programmes/{pid}/rematch", status_code=202, responses=ERRORS)
def start_rematch(
    request: Request, pid: Id, body: RematchIn, actor: Actor = Depends(_api_actor)
) -> RunOut:
    """Re-match the current round with the current sheets and scheme (a proposal to review)."""
    return _run(_lc(request).start_rematch(actor, pid, body.max_changes, body.seed), request)


@router.get("/programmes/{pid}/runs/{number}/changes", responses=ERRORS)
def changes(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(_api_actor)
) -> ChangesOut:
    """A re-match's proposed changes: the summary block and changes.csv."""
    wb = _wb(request)
    result = wb.result(actor, pid, number)
    block = result.summary.get("rematch")
    if result.run.kind != "rematch" or not isinstance(block, dict):
        from .access import NotFound

        raise NotFound()
    frame = result.tables["changes"]
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    base = next((r.number for r in wb.runs(actor, pid) if r.id == result.run.base_run_id), None)
    return ChangesOut(
        rematch=block,
        changes=[{str(k): v for k, v in r.items()} for r in rows],
        base_run=base,
        accepted=result.run.published_at is not None,
    )


@router.post("/programmes/{pid}/runs/{number}/accept", responses=ERRORS)
def accept(request: Request, pid: Id, number: Id, actor: Actor = Depends(_api_actor)) -> RunOut:
    """Accept a reviewed re-match: it becomes the current round (published)."""
    return _run(_lc(request).accept(actor, pid, number), request)


@router.post("/programmes/{pid}/runs/{number}/reject", responses=ERRORS)
def reject(request: Request, pid: Id, number: Id, actor: Actor = Depends(_api_actor)) -> RunOut:
    """Reject a proposed re-match: nothing of it is kept."""
    return _run(_lc(request).reject(actor, pid, number), request)


@router.post("/programmes/{pid}/feedback", responses=ERRORS)
async def upload_feedback(
    request: Request,
    pid: Id,
    file: UploadFile = File(..., description="round, mentor_id, mentee_id, outcome, rating"),
    continuing_bonus: float | None = Form(None, ge=0, le=100),
    rating_points: float | None = Form(None, ge=0, le=50),
    actor: Actor = Depends(_api_actor),
) -> SchemeOut:
    """Feedback, validated by the library; on success it is the scheme's ``feedback`` file."""
    version = _lc(request).upload_feedback(
        actor,
        pid,
        file.filename or "feedback.csv",
        await file.read(),
        continuing_bonus=continuing_bonus,
        rating_points=rating_points,
    )
    return _scheme(version)


@router.delete("/programmes/{pid}/feedback", responses=ERRORS)
def remove_feedback(request: Request, pid: Id, actor: Actor = Depends(_api_actor)) -> SchemeOut:
    return _scheme(_lc(request).remove_feedback(actor, pid))


def _options(body: LettersIn) -> LetterOptions:
    return LetterOptions(
        body.template, body.sender, body.only_new, body.name_column, body.email_column
    )


@router.post("/programmes/{pid}/runs/{number}/introductions/preview", responses=ERRORS)
def preview(
    request: Request,
    pid: Id,
    number: Id,
    body: LettersIn,
    offset: int = Query(0, ge=0, le=MAX_ID),
    limit: int = Query(20, ge=1, le=500),
    actor: Actor = Depends(_api_actor),
) -> LettersOut:
    """Render the run's introductions (nothing written or sent)."""
    letters = _intro(request).render(actor, pid, number, _options(body))
    rows = letter_rows(letters, offset, limit)
    return LettersOut(count=len(letters.letters), messages=[MessageOut(**r) for r in rows])


@router.post(
    "/programmes/{pid}/runs/{number}/introductions/download/{what}",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def download(
    request: Request,
    pid: Id,
    number: Id,
    what: Literal["eml", "mailmerge"],
    body: LettersIn,
    actor: Actor = Depends(_api_actor),
) -> Response:
    """The .eml files as a zip, or the mail-merge CSV (formula-safe)."""
    data, media, name = _intro(request).download(actor, pid, number, _options(body), what)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post(
    "/programmes/{pid}/runs/{number}/introductions/send", status_code=202, responses=ERRORS
)
def send(
    request: Request, pid: Id, number: Id, body: LettersIn, actor: Actor = Depends(_api_actor)
) -> SendOut:
    """Send (or resume sending) through the server's SMTP settings, in the background."""
    intro = _intro(request)
    intro.send(actor, pid, number, _options(body), tuple(body.resend))
    return _send_out(intro, actor, pid, number)


@router.get("/programmes/{pid}/runs/{number}/introductions/status", responses=ERRORS)
def send_status(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(_api_actor)
) -> SendOut:
    """Whether sending is configured and going on, and every message's status."""
    return _send_out(_intro(request), actor, pid, number)


def _send_out(intro: Introductions, actor: Actor, pid: int, number: int) -> SendOut:
    view = intro.view(actor, pid, number)
    m = view.mailing
    return SendOut(
        configured=view.configured,
        sending=view.running,
        outcome=view.outcome,
        sender=m.sender if m else None,
        template=(m.template_file_id or 0) if m else None,
        only_new=m.only_new if m else None,
        statuses=view.statuses,
    )
