"""The pages after the first round: new intake, re-match review, feedback, introductions.

Same conventions as :mod:`.pages`: a session cookie, the CSRF token on every
POST, POST → 303 → GET, one :class:`~.lifecycle.Lifecycle` or
:class:`~.introductions.Introductions` call per handler.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from buddymatch.errors import Issue

from . import schemestate
from .access import Actor, NotFound
from .api import MAX_ID, Id
from .introductions import Introductions, LetterOptions, letter_rows
from .lifecycle import MAX_CHANGES, Lifecycle
from .pages import back, csrf_actor, overview, page_actor, render
from .service import Invalid, Workbench

router = APIRouter(include_in_schema=False)
LETTERS_PAGE = 10


def _lc(request: Request) -> Lifecycle:
    lc: Lifecycle = request.app.state.lifecycle
    return lc


def _intro(request: Request) -> Introductions:
    intro: Introductions = request.app.state.introductions
    return intro


def _wb(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


def _number(text: str, *, low: float, high: float) -> float | None:
    """A form's optional number: None when blank; Invalid when not a number in range."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise Invalid([Issue(f"give a number from {low:g} to {high:g}, or leave it blank")])
    return value


def _programme_422(request: Request, actor: Actor, pid: int, **issues: Any) -> Response:
    ctx = overview(request, actor, pid, **issues)
    return render(request, "programme.html", actor, 422, **ctx)


# ---------------------------------------------------------------------- new intake


@router.post("/programmes/{pid}/intake")
async def upload_intake(request: Request, pid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _wb(request).programme(actor, pid, "coordinator")
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    files = [(f.filename or "upload", await f.read()) for f in uploads]
    try:
        _, issues = _lc(request).upload_intake(actor, pid, files)
    except Invalid as exc:
        return _programme_422(request, actor, pid, intake_issues=exc.issues)
    if issues:
        return _programme_422(request, actor, pid, intake_issues=issues)
    return back(f"/programmes/{pid}#after")


# ------------------------------------------------------------------------ re-match


@router.post("/programmes/{pid}/rematch")
def start_rematch(
    request: Request,
    pid: Id,
    max_changes: str = Form("0"),
    seed: str = Form(""),
    actor: Actor = Depends(csrf_actor),
) -> Response:
    _wb(request).programme(actor, pid, "coordinator")
    try:
        budget = _number(max_changes, low=0, high=MAX_CHANGES)
        if budget is not None and budget != int(budget):
            raise Invalid([Issue("the number of changes allowed is a whole number")])
        chosen = _number(seed, low=0, high=MAX_ID)
        run = _lc(request).start_rematch(
            actor, pid, int(budget or 0), None if chosen is None else int(chosen)
        )
    except Invalid as exc:
        return _programme_422(request, actor, pid, rematch_issues=exc.issues)
    return back(f"/programmes/{pid}/runs/{run.number}")


@router.post("/programmes/{pid}/runs/{number}/accept")
def accept(request: Request, pid: Id, number: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _lc(request).accept(actor, pid, number)
    return back(f"/programmes/{pid}/runs/{number}")


@router.post("/programmes/{pid}/runs/{number}/reject")
def reject(request: Request, pid: Id, number: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _lc(request).reject(actor, pid, number)
    return back(f"/programmes/{pid}#after")


# ------------------------------------------------------------------------ feedback


@router.post("/programmes/{pid}/feedback")
async def upload_feedback(
    request: Request, pid: Id, actor: Actor = Depends(csrf_actor)
) -> Response:
    _wb(request).programme(actor, pid, "coordinator")
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid([Issue("choose the feedback file", fix="a CSV with an outcome column")])
        _lc(request).upload_feedback(
            actor,
            pid,
            upload.filename,
            await upload.read(),
            continuing_bonus=_number(str(form.get("continuing_bonus", "")), low=0, high=100),
            rating_points=_number(str(form.get("rating_points", "")), low=0, high=50),
        )
    except Invalid as exc:
        return _programme_422(request, actor, pid, feedback_issues=exc.issues)
    return back(f"/programmes/{pid}#after")


@router.post("/programmes/{pid}/feedback/remove")
def remove_feedback(request: Request, pid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _lc(request).remove_feedback(actor, pid)
    return back(f"/programmes/{pid}#after")


# ------------------------------------------------------------------- introductions


def _options(
    template: int, sender: str, only_new: str, name_column: str, email_column: str
) -> LetterOptions:
    return LetterOptions(template, sender.strip(), bool(only_new), name_column, email_column)


@router.get("/programmes/{pid}/runs/{number}/introductions")
def introductions_page(
    request: Request,
    pid: Id,
    number: Id,
    template: int = Query(0, ge=0, le=MAX_ID),
    sender: str = Query("", max_length=320),
    only_new: str = "",
    name_column: str = Query("", max_length=200),
    email_column: str = Query("", max_length=200),
    page: int = Query(1, ge=1, le=MAX_ID),
    actor: Actor = Depends(page_actor),
) -> Response:
    wb, intro = _wb(request), _intro(request)
    programme = wb.programme(actor, pid)
    result = wb.result(actor, pid, number)
    view = intro.view(actor, pid, number)
    options = _options(template, sender, only_new, name_column, email_column)
    if view.mailing is not None and not sender:  # show what is (being) sent
        options = intro.mailing_options(view.mailing)
    elif not request.query_params and result.run.kind == "rematch":
        options = LetterOptions(only_new=True)  # the kept pairs were introduced before
    version = wb.scheme_version(actor, pid, result.run.scheme_version_id)
    scheme = schemestate.from_yaml(version.yaml_text)
    ctx: dict[str, Any] = {
        "programme": programme,
        "run": result.run,
        "options": options,
        "templates": intro.templates(actor, pid),
        "carry": list((scheme.get("participants") or {}).get("carry") or []),
        "view": view,
        "query": _query(options),
    }
    ctx["recipients"] = {}
    if options.sender:
        try:
            ctx.update(_preview(intro.render(actor, pid, number, options), page))
        except Invalid as exc:
            ctx["render_issues"] = exc.issues
    if view.mailing is not None:
        sent = intro.render(actor, pid, number, intro.mailing_options(view.mailing))
        ctx["recipients"] = {x.name: ", ".join(e for _, e in x.to) for x in sent.letters}
    return render(request, "introductions.html", actor, **ctx)


def _preview(letters: Any, page: int) -> dict[str, Any]:
    pages = max(1, -(-len(letters.letters) // LETTERS_PAGE))
    page = min(page, pages)
    return {
        "count": len(letters.letters),
        "messages": letter_rows(letters, (page - 1) * LETTERS_PAGE, LETTERS_PAGE),
        "page": page,
        "pages": pages,
    }


def _query(options: LetterOptions) -> str:
    from urllib.parse import urlencode

    fields = {
        "template": options.template,
        "sender": options.sender,
        "only_new": "1" if options.only_new else "",
        "name_column": options.name_column,
        "email_column": options.email_column,
    }
    return urlencode({k: v for k, v in fields.items() if v})


@router.get("/programmes/{pid}/runs/{number}/introductions/download/{what}")
def download_introductions(
    request: Request,
    pid: Id,
    number: Id,
    what: str,
    template: int = Query(0, ge=0, le=MAX_ID),
    sender: str = Query("", max_length=320),
    only_new: str = "",
    name_column: str = Query("", max_length=200),
    email_column: str = Query("", max_length=200),
    actor: Actor = Depends(page_actor),
) -> Response:
    options = _options(template, sender, only_new, name_column, email_column)
    data, media, name = _intro(request).download(actor, pid, number, options, what)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/programmes/{pid}/runs/{number}/introductions/send")
async def send_introductions(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(csrf_actor)
) -> Response:
    form = await request.form()
    template = str(form.get("template", "0"))
    options = _options(
        int(template) if template.isdigit() and int(template) <= MAX_ID else 0,
        str(form.get("sender", "")),
        str(form.get("only_new", "")),
        str(form.get("name_column", "")),
        str(form.get("email_column", "")),
    )
    resend = tuple(str(v) for v in form.getlist("resend"))
    _intro(request).send(actor, pid, number, options, resend)
    return back(f"/programmes/{pid}/runs/{number}/introductions#send")


@router.get("/programmes/{pid}/runs/{number}/introductions/status")
def send_status(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(page_actor)
) -> Response:
    view = _intro(request).view(actor, pid, number)
    counts = {s: view.count(s) for s in ("sent", "failed", "unknown", "not sent")}
    status = "running" if view.running else "idle"
    return JSONResponse({"status": status, "progress": _share(counts), "message": _said(counts)})


def _share(counts: dict[str, int]) -> float:
    total = sum(counts.values())
    return counts["sent"] / total if total else 0.0


def _said(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items())


@router.post("/programmes/{pid}/templates")
async def upload_template(
    request: Request, pid: Id, actor: Actor = Depends(csrf_actor)
) -> Response:
    _wb(request).programme(actor, pid, "coordinator")
    form = await request.form()
    upload = form.get("file")
    number = str(form.get("run", ""))
    if not number.isdigit() or not 1 <= int(number) <= MAX_ID:
        raise NotFound()
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid([Issue("choose a template file", fix="a text file: Subject: line, body")])
    row = _intro(request).upload_template(actor, pid, upload.filename, await upload.read())
    target = f"/programmes/{pid}/runs/{number}/introductions?template={row.id}"
    sender = str(form.get("sender", "")).strip()
    if sender:
        from urllib.parse import quote

        target += f"&sender={quote(sender)}"
    return back(target + "#preview")
