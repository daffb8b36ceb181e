"""The JSON API: the workbench's operations for other systems (bearer tokens).

Every route calls the same :class:`~.service.Workbench` method as its page;
errors are JSON: 401 without a valid token, 404 for a programme the token's
user has no role on (or that does not exist), 403 when the role is too low,
422 with ``issues`` (message, file, row, column, fix) for bad input.  The
OpenAPI description is served at ``/api/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from . import access, results, schemestate
from .access import Actor
from .service import Invalid, Workbench

router = APIRouter(prefix="/api", tags=["workbench"])
MAX_ID = 2**31 - 1  # database integers are 32-bit on PostgreSQL
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid token"},
    403: {"description": "Role too low for this action"},
    404: {"description": "Not found, or no role on this programme"},
    422: {"description": "Invalid input; `issues` lists every problem"},
}


def _wb(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


def api_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        with _wb(request).db.session() as s:
            actor = access.actor_for(s, token.strip(), "api")
        if actor is not None:
            return actor
    raise HTTPException(401, "a valid API token is needed", {"WWW-Authenticate": "Bearer"})


class ProgrammeIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, examples=["Autumn mentoring"])
    kind: Literal["mentoring", "peer", "cohorts"]


class ProgrammeOut(BaseModel):
    id: int
    name: str
    kind: str
    role: str


class FileOut(BaseModel):
    id: int
    name: str
    purpose: str
    size: int
    sha256: str


class IssueOut(BaseModel):
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None
    text: str


class UploadOut(BaseModel):
    file: FileOut
    issues: list[IssueOut]


class SchemeIn(BaseModel):
    scheme: dict[str, Any] = Field(description="The scheme as a scheme file holds it")


class SchemeOut(BaseModel):
    version: int
    note: str
    yaml: str
    scheme: dict[str, Any]


class CheckOut(BaseModel):
    ok: bool
    text: str
    issues: list[IssueOut]


class RunIn(BaseModel):
    seed: int | None = Field(None, ge=0, le=MAX_ID)


class RunOut(BaseModel):
    number: int
    kind: str = Field(description="match, or rematch (a proposal until accepted or rejected)")
    status: str
    progress: float
    message: str
    seed: int
    published: bool
    max_changes: int = 0
    base_run: int | None = Field(None, description="A re-match: the run (number) it repairs")
    summary: dict[str, Any] | None = None


class DecisionIn(BaseModel):
    kind: Literal["lock", "forbid", "exclude", "place"]
    ids: list[str] = Field(
        min_length=1, max_length=2, examples=[["p00045@example.nhs.uk", "p00001@example.nhs.uk"]]
    )
    group: int | None = Field(None, ge=1, le=100_000)
    remove: bool = False


class DecisionOut(BaseModel):
    kind: str
    ids: list[str]
    group: int | None


class ExplainOut(BaseModel):
    text: str


def _issue(i: Any) -> IssueOut:
    return IssueOut(
        message=i.message, file=i.file, row=i.row, column=i.column, fix=i.fix, text=str(i)
    )


def _file(f: Any) -> FileOut:
    return FileOut(id=f.id, name=f.name, purpose=f.purpose, size=f.size, sha256=f.sha256)


def _run(run: Any, request: Request | None = None) -> RunOut:
    import json

    base = None
    if run.base_run_id is not None and request is not None:
        base = _wb(request).run_number(run.base_run_id)

    summary = json.loads(run.summary_json) if run.summary_json else None
    return RunOut(
        number=run.number,
        kind=run.kind,
        max_changes=run.max_changes,
        base_run=base,
        status=run.status,
        progress=run.progress,
        message=run.message,
        seed=run.seed,
        published=run.published_at is not None,
        summary=summary,
    )


@router.get("/programmes", responses=ERRORS)
def list_programmes(request: Request, actor: Actor = Depends(api_actor)) -> list[ProgrammeOut]:
    return [ProgrammeOut(**p.__dict__) for p in _wb(request).programmes(actor)]


@router.post("/programmes", status_code=201, responses=ERRORS)
def create_programme(
    request: Request, body: ProgrammeIn, actor: Actor = Depends(api_actor)
) -> ProgrammeOut:
    return ProgrammeOut(**_wb(request).create_programme(actor, body.name, body.kind).__dict__)


@router.get("/programmes/{pid}", responses=ERRORS)
def get_programme(request: Request, pid: Id, actor: Actor = Depends(api_actor)) -> ProgrammeOut:
    return ProgrammeOut(**_wb(request).programme(actor, pid).__dict__)


@router.get("/programmes/{pid}/files", responses=ERRORS)
def list_files(request: Request, pid: Id, actor: Actor = Depends(api_actor)) -> list[FileOut]:
    return [_file(f) for f in _wb(request).files(actor, pid)]


@router.post("/programmes/{pid}/files", status_code=201, responses=ERRORS)
async def upload_file(
    request: Request,
    pid: Id,
    file: UploadFile = File(...),
    purpose: Literal["profiles", "scheme", "template"] = Form("profiles"),
    actor: Actor = Depends(api_actor),
) -> UploadOut:
    row, issues = _wb(request).upload(
        actor, pid, file.filename or "upload", await file.read(), purpose
    )
    return UploadOut(file=_file(row), issues=[_issue(i) for i in issues])


@router.delete("/programmes/{pid}/files/{fid}", status_code=204, responses=ERRORS)
def delete_file(request: Request, pid: Id, fid: Id, actor: Actor = Depends(api_actor)) -> Response:
    _wb(request).remove_file(actor, pid, fid)
    return Response(status_code=204)


@router.get("/programmes/{pid}/scheme", responses=ERRORS)
def get_scheme(request: Request, pid: Id, actor: Actor = Depends(api_actor)) -> SchemeOut:
    version = _wb(request).scheme(actor, pid)
    if version is None:
        raise access.NotFound()
    data = schemestate.from_yaml(version.yaml_text)
    return SchemeOut(version=version.number, note=version.note, yaml=version.yaml_text, scheme=data)


@router.put("/programmes/{pid}/scheme", responses=ERRORS)
def put_scheme(
    request: Request, pid: Id, body: SchemeIn, actor: Actor = Depends(api_actor)
) -> SchemeOut:
    version = _wb(request).save_scheme(actor, pid, body.scheme, "saved through the API")
    data = schemestate.from_yaml(version.yaml_text)
    return SchemeOut(version=version.number, note=version.note, yaml=version.yaml_text, scheme=data)


@router.post("/programmes/{pid}/scheme/file", responses=ERRORS)
async def upload_scheme(
    request: Request, pid: Id, file: UploadFile = File(...), actor: Actor = Depends(api_actor)
) -> SchemeOut:
    """A scheme file (YAML or TOML), read by the library's safe reader and validated."""
    content = await file.read()
    version = _wb(request).upload_scheme(actor, pid, file.filename or "scheme.yaml", content)
    data = schemestate.from_yaml(version.yaml_text)
    return SchemeOut(version=version.number, note=version.note, yaml=version.yaml_text, scheme=data)


@router.get("/programmes/{pid}/check", responses=ERRORS)
def check(request: Request, pid: Id, actor: Actor = Depends(api_actor)) -> CheckOut:
    result = _wb(request).check(actor, pid)
    if result is None:
        raise Invalid([access_issue("upload a sign-up sheet and save a scheme first")])
    return CheckOut(ok=result.ok, text=result.text, issues=[_issue(i) for i in result.issues])


def access_issue(text: str) -> Any:
    from buddymatch.errors import Issue

    return Issue(text)


@router.get("/programmes/{pid}/decisions", responses=ERRORS)
def list_decisions(
    request: Request, pid: Id, actor: Actor = Depends(api_actor)
) -> list[DecisionOut]:
    data = _wb(request).scheme_data(actor, pid) or {}
    return [
        DecisionOut(kind=d.kind, ids=list(d.ids), group=d.group)
        for d in schemestate.decisions(data)
    ]


@router.post("/programmes/{pid}/decisions", responses=ERRORS)
def decide(
    request: Request, pid: Id, body: DecisionIn, actor: Actor = Depends(api_actor)
) -> SchemeOut:
    wanted = 2 if body.kind in ("lock", "forbid") else 1
    if len(body.ids) != wanted:
        raise Invalid([access_issue(f"{body.kind} takes {wanted} id(s)")])
    if body.kind == "place" and body.group is None:
        raise Invalid([access_issue("place needs a group number")])
    decision = schemestate.Decision(body.kind, tuple(body.ids), body.group)
    version = _wb(request).decide(actor, pid, decision, remove=body.remove)
    data = schemestate.from_yaml(version.yaml_text)
    return SchemeOut(version=version.number, note=version.note, yaml=version.yaml_text, scheme=data)


@router.get("/programmes/{pid}/runs", responses=ERRORS)
def list_runs(request: Request, pid: Id, actor: Actor = Depends(api_actor)) -> list[RunOut]:
    return [_run(r, request) for r in _wb(request).runs(actor, pid)]


@router.post("/programmes/{pid}/runs", status_code=202, responses=ERRORS)
def start_run(request: Request, pid: Id, body: RunIn, actor: Actor = Depends(api_actor)) -> RunOut:
    return _run(_wb(request).start_run(actor, pid, body.seed), request)


@router.get("/programmes/{pid}/runs/{number}", responses=ERRORS)
def get_run(request: Request, pid: Id, number: Id, actor: Actor = Depends(api_actor)) -> RunOut:
    return _run(_wb(request).run(actor, pid, number), request)


@router.post("/programmes/{pid}/runs/{number}/cancel", responses=ERRORS)
def cancel_run(request: Request, pid: Id, number: Id, actor: Actor = Depends(api_actor)) -> RunOut:
    return _run(_wb(request).cancel_run(actor, pid, number), request)


@router.post("/programmes/{pid}/runs/{number}/publish", responses=ERRORS)
def publish_run(request: Request, pid: Id, number: Id, actor: Actor = Depends(api_actor)) -> RunOut:
    return _run(_wb(request).publish(actor, pid, number), request)


@router.get("/programmes/{pid}/runs/{number}/tables/{name}", responses=ERRORS)
def run_table(
    request: Request,
    pid: Id,
    number: Id,
    name: Literal["matches", "groups", "group_summary", "unmatched", "changes"],
    actor: Actor = Depends(api_actor),
) -> list[dict[str, Any]]:
    result = _wb(request).result(actor, pid, number)
    if name not in result.tables:
        raise access.NotFound()
    frame = result.tables[name].astype(object).where(result.tables[name].notna(), None)
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


@router.get("/programmes/{pid}/runs/{number}/explain", responses=ERRORS)
def explain(
    request: Request, pid: Id, number: Id, a: str, b: str, actor: Actor = Depends(api_actor)
) -> ExplainOut:
    wb = _wb(request)
    run = wb.result(actor, pid, number).run
    return ExplainOut(text=results.explain(str(wb.result_folder(run)), a, b))


@router.get(
    "/programmes/{pid}/runs/{number}/download/{what}",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def download(
    request: Request,
    pid: Id,
    number: Id,
    what: Literal["csv", "xlsx", "html"],
    actor: Actor = Depends(api_actor),
) -> Response:
    data, media, name = results.download(_wb(request).result(actor, pid, number), what)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
