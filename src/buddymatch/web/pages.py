"""The HTML pages (cookie session; every form carries the session's CSRF token).

Each handler is short: check who is asking, call one :class:`Workbench`
method, render a template or redirect (POST → 303 → GET, so a reload never
repeats an action).  Templates autoescape everything; the only markup passed
through is SVG built in :mod:`.review` from escaped text.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from . import access, builder, results, review, schemestate
from .access import Actor
from .api import MAX_ID, Id
from .service import Invalid, Workbench, plain

router = APIRouter(include_in_schema=False)
COOKIE = "bm_session"
PRE_COOKIE = "bm_login"


class LoginRequired(Exception):
    pass


def _wb(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


def page_actor(request: Request) -> Actor:
    token = request.cookies.get(COOKIE)
    if token:
        with _wb(request).db.session() as s:
            actor = access.actor_for(s, token, "session")
        if actor is not None:
            return actor
    raise LoginRequired()


async def csrf_actor(request: Request) -> Actor:
    """The session's user, after checking the form's CSRF token (every POST)."""
    actor = page_actor(request)
    form = await request.form()
    sent = str(form.get("csrf", ""))
    if not actor.csrf or not hmac.compare_digest(sent.encode(), actor.csrf.encode()):
        raise access.Forbidden()
    return actor


def render(
    request: Request, name: str, actor: Actor | None, status: int = 200, **ctx: Any
) -> Response:
    templates = request.app.state.templates
    ctx.update(request=request, actor=actor, team=_wb(request).settings.team)
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _secure(request: Request) -> bool:
    return bool(_wb(request).settings.secure_cookies or request.url.scheme == "https")


def _set_session(response: Response, request: Request, token: str) -> None:
    hours = _wb(request).settings.session_hours
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


# ------------------------------------------------------------------------- sign in


@router.get("/login")
def login_page(request: Request, token: str = "") -> Response:
    wb = _wb(request)
    if token:
        with wb.db.session() as s:
            session = access.redeem_link(s, token, wb.settings.session_hours)
        if session is not None:
            redirect = back("/")
            _set_session(redirect, request, session)
            return redirect
        return render(request, "login.html", None, 400, spent=True, pre="")
    pre = secrets.token_urlsafe(16)
    response = render(request, "login.html", None, pre=pre, spent=False)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.post("/login")
def login(
    request: Request, username: str = Form(""), password: str = Form(""), pre: str = Form("")
) -> Response:
    wb = _wb(request)
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not wb.settings.team or not cookie or not hmac.compare_digest(pre.encode(), cookie.encode()):
        raise access.Forbidden()
    limiter: access.RateLimiter = request.app.state.limiter
    keys = [f"ip:{request.client.host if request.client else ''}", f"user:{username.casefold()}"]
    if any(limiter.blocked(k) for k in keys):
        return render(request, "login.html", None, 429, pre=pre, spent=False, limited=True)
    with wb.db.session() as s:
        user = access.check_password(s, username.strip(), password)
        token = (
            None
            if user is None
            else access.issue_secret(s, user, "session", hours=wb.settings.session_hours)
        )
    if token is None:
        for k in keys:
            limiter.failed(k)
        return render(request, "login.html", None, 401, pre=pre, spent=False, failed=True)
    limiter.clear(keys[1])
    response = back("/")
    _set_session(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request, actor: Actor = Depends(csrf_actor)) -> Response:
    with _wb(request).db.session() as s:
        access.revoke(s, request.cookies.get(COOKIE, ""))
    response = back("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# ---------------------------------------------------------------------- programmes


@router.get("/")
def index(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    return render(request, "index.html", actor, programmes=_wb(request).programmes(actor))


@router.post("/programmes")
def create_programme(
    request: Request,
    name: str = Form(""),
    kind: str = Form(""),
    actor: Actor = Depends(csrf_actor),
) -> Response:
    wb = _wb(request)
    try:
        p = wb.create_programme(actor, name, kind)
    except Invalid as exc:
        return render(
            request, "index.html", actor, 422, programmes=wb.programmes(actor), issues=exc.issues
        )
    return back(f"/programmes/{p.id}")


def overview(request: Request, actor: Actor, pid: Id, **extra: Any) -> dict[str, Any]:
    wb = _wb(request)
    programme = wb.programme(actor, pid)
    version = wb.scheme(actor, pid)
    data = schemestate.from_yaml(version.yaml_text) if version else None
    check = wb.check(actor, pid)
    runs = wb.runs(actor, pid)
    return {
        "programme": programme,
        "files": wb.files(actor, pid),
        "sheets": wb.sheet_check(actor, pid),
        "version": version,
        "decisions": schemestate.decisions(data) if data else [],
        "check": check,
        "runs": runs,
        "current": wb.current_round(actor, pid),
        "proposals": [
            r for r in runs if r.kind == "rematch" and r.status == "done" and not r.published_at
        ],
        "feedback": (data or {}).get("feedback"),
        "feedback_counts": (check.summary.get("feedback") if check and check.ok else None),
        **extra,
    }


@router.get("/programmes/{pid}")
def programme_page(request: Request, pid: Id, actor: Actor = Depends(page_actor)) -> Response:
    return render(request, "programme.html", actor, **overview(request, actor, pid))


@router.post("/programmes/{pid}/files")
async def upload_files(request: Request, pid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    wb = _wb(request)
    form = await request.form()
    purpose = str(form.get("purpose", "profiles"))
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    issues = []
    if not uploads:
        issues.append(builder_issue("choose at least one file"))
    for f in uploads:
        try:
            _, found = wb.upload(actor, pid, f.filename or "upload", await f.read(), purpose)
            issues += found
        except Invalid as exc:
            issues += exc.issues
    if issues:
        ctx = overview(request, actor, pid, upload_issues=issues)
        return render(request, "programme.html", actor, 422, **ctx)
    return back(f"/programmes/{pid}#files")


def builder_issue(text: str) -> Any:
    from buddymatch.errors import Issue

    return Issue(text)


@router.post("/programmes/{pid}/files/{fid}/remove")
def remove_file(request: Request, pid: Id, fid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _wb(request).remove_file(actor, pid, fid)
    return back(f"/programmes/{pid}#files")


# -------------------------------------------------------------------------- scheme


def _builder_ctx(
    request: Request, actor: Actor, pid: Id, data: dict[str, Any] | None
) -> dict[str, Any]:
    wb = _wb(request)
    programme = wb.programme(actor, pid)
    sheets = wb.sheet_check(actor, pid)
    headings = [c.heading for c in sheets.columns]
    current = wb.scheme_data(actor, pid)
    if data is None:
        data = current or builder.skeleton(programme.kind, headings)
    return {
        "programme": programme,
        "form": builder.to_form(data, headings),
        "columns": {c.heading: c for c in sheets.columns},
        "headings": headings,
        "yaml": schemestate.to_yaml(current) if current else "",
        "decisions": schemestate.decisions(current) if current else [],
        "rule_kinds": builder.FORM_RULES,
        "criterion_kinds": builder.FORM_CRITERIA,
        "attribute_kinds": builder.ATTRIBUTE_KINDS,
    }


@router.get("/programmes/{pid}/scheme")
def scheme_page(request: Request, pid: Id, actor: Actor = Depends(page_actor)) -> Response:
    return render(request, "scheme.html", actor, **_builder_ctx(request, actor, pid, None))


@router.post("/programmes/{pid}/scheme")
async def save_scheme(request: Request, pid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {k: form.get(k) for k in form if k not in ("csrf", "carry")}
    fields["carry"] = [str(v) for v in form.getlist("carry")]
    data = builder.from_form(fields)
    try:
        _wb(request).save_scheme(actor, pid, data, "saved from the scheme builder")
    except Invalid as exc:
        ctx = _builder_ctx(request, actor, pid, data)
        return render(request, "scheme.html", actor, 422, issues=exc.issues, **ctx)
    return back(f"/programmes/{pid}/scheme#saved")


@router.post("/programmes/{pid}/scheme/upload")
async def upload_scheme(request: Request, pid: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        ctx = _builder_ctx(request, actor, pid, None)
        return render(
            request,
            "scheme.html",
            actor,
            422,
            issues=[builder_issue("choose a scheme file")],
            **ctx,
        )
    try:
        _wb(request).upload_scheme(actor, pid, upload.filename, await upload.read())
    except Invalid as exc:
        ctx = _builder_ctx(request, actor, pid, None)
        return render(request, "scheme.html", actor, 422, issues=exc.issues, **ctx)
    return back(f"/programmes/{pid}/scheme")


@router.get("/programmes/{pid}/scheme.yaml")
def scheme_yaml(request: Request, pid: Id, actor: Actor = Depends(page_actor)) -> Response:
    version = _wb(request).scheme(actor, pid)
    if version is None:
        raise access.NotFound()
    return Response(
        version.yaml_text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="scheme-v{version.number}.yaml"'},
    )


@router.post("/programmes/{pid}/decisions")
def decide(
    request: Request,
    pid: Id,
    kind: str = Form(""),
    a: str = Form(""),
    b: str = Form(""),
    group: int | None = Form(None, ge=1, le=100_000),
    remove: str = Form(""),
    next_url: str = Form("", alias="next"),
    actor: Actor = Depends(csrf_actor),
) -> Response:
    ids = (a.strip(), b.strip()) if kind in ("lock", "forbid") else (a.strip(),)
    if kind not in schemestate.KINDS or not all(ids):
        raise Invalid([builder_issue("give the kind of decision and the ids it is about")])
    decision = schemestate.Decision(kind, ids, group)
    _wb(request).decide(actor, pid, decision, remove=bool(remove))
    target = next_url if next_url.startswith(f"/programmes/{pid}") else f"/programmes/{pid}"
    return back(target)


# ---------------------------------------------------------------------------- runs


@router.post("/programmes/{pid}/runs")
def start_run(
    request: Request, pid: Id, seed: str = Form(""), actor: Actor = Depends(csrf_actor)
) -> Response:
    wb = _wb(request)
    value = int(seed) if seed.strip().isdigit() and int(seed) <= MAX_ID else None
    try:
        run = wb.start_run(actor, pid, value)
    except Invalid as exc:
        ctx = overview(request, actor, pid, run_issues=exc.issues)
        return render(request, "programme.html", actor, 422, **ctx)
    return back(f"/programmes/{pid}/runs/{run.number}")


@router.get("/programmes/{pid}/runs/{number}")
def run_page(
    request: Request,
    pid: Id,
    number: Id,
    q: str = "",
    min_score: str = "",
    page: int = Query(1, ge=1, le=MAX_ID),
    a: str = "",
    b: str = "",
    actor: Actor = Depends(page_actor),
) -> Response:
    wb = _wb(request)
    programme = wb.programme(actor, pid)
    run = wb.run(actor, pid, number)
    ctx: dict[str, Any] = {"programme": programme, "run": run, "q": q, "min_score": min_score}
    if run.status == "failed":  # a decision may be why (a lock a new intake breaks): undo here
        ctx["decisions"] = schemestate.decisions(wb.scheme_data(actor, pid) or {})
    if run.status == "done":
        ctx.update(_review(request, actor, pid, number, q, min_score, page))
        if a and b:
            try:
                ctx["explanation"] = results.explain(str(wb.result_folder(run)), a, b)
            except Invalid as exc:
                ctx["explain_issues"] = exc.issues
            ctx.update(explain_a=a, explain_b=b)
    return render(request, "run.html", actor, **ctx)


def _score_filter(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def _review(
    request: Request, actor: Actor, pid: Id, number: Id, q: str, min_score: str, page: int
) -> dict[str, Any]:
    wb = _wb(request)
    result = wb.result(actor, pid, number)
    version = wb.scheme_version(actor, pid, result.run.scheme_version_id)
    scheme = schemestate.from_yaml(version.yaml_text)
    main = review.main_table(result.tables)
    labels = review.criterion_labels(scheme, main)
    unmatched = result.tables.get("unmatched")
    ids = review.id_columns(main)
    criteria = review.criterion_columns(main, labels)
    skip = {*ids, *(c for c, _ in criteria), "score", "explanation", "locked", "kept", "round"}
    return {
        "others": [c for c in main.columns if c not in skip],
        "result": result,
        "summary": result.summary,
        "scheme": scheme,
        "criteria": criteria,
        "ids": ids,
        "carry": list((scheme.get("participants") or {}).get("carry") or []),
        "rows": review.paged(review.filtered(main, q, _score_filter(min_score)), page),
        "unmatched": review.paged(review.filtered(unmatched, q), 1, 500)
        if unmatched is not None
        else None,
        "charts": _charts(request, actor, pid, result, scheme),
        "decisions": schemestate.decisions(wb.scheme_data(actor, pid) or {}),
        "published": result.run.published_at is not None,
        **_rematch(request, actor, pid, result, q),
    }


def _rematch(request: Request, actor: Actor, pid: Id, result: Any, q: str) -> dict[str, Any]:
    """What a re-match's review adds: the summary block, changes.csv, its base and the
    current round (a proposal can be accepted only while its base is current)."""
    block = result.summary.get("rematch")
    if not isinstance(block, dict):
        return {}
    wb = _wb(request)
    changes = result.tables.get("changes")
    base = next((r for r in wb.runs(actor, pid) if r.id == result.run.base_run_id), None)
    current = wb.current_round(actor, pid)
    return {
        "rematch": block,
        "changes": review.paged(review.filtered(changes, q), 1, 1000)
        if changes is not None
        else None,
        "base": base,
        "base_is_current": base is not None and current is not None and current.id == base.id,
    }


def _charts(
    request: Request, actor: Actor, pid: Id, result: Any, scheme: dict[str, Any]
) -> dict[str, Any]:
    wb = _wb(request)
    main = review.main_table(result.tables)
    scores: list[float] = []
    if "group_summary" in result.tables:
        scores = result.tables["group_summary"]["score"].astype(float).tolist()
    elif "score" in main.columns:
        scores = main["score"].astype(float).tolist()
    profiles = review.profile_frame(wb.stored(actor, pid, "profiles"), wb.limits)
    id_heading = str((scheme.get("participants") or {}).get("id", ""))
    matched = review.matched_ids(result.tables)
    unmatched = result.tables.get("unmatched")
    excluded = set()
    if unmatched is not None and "reason" in unmatched.columns:
        gone = unmatched[unmatched["reason"].astype(str).str.startswith("excluded")]
        excluded = {" ".join(str(v).split()).casefold() for v in gone["participant_id"]}
    rates = []
    for name, heading in review.chart_attributes(scheme):
        scale = review.scale_of(scheme, name)
        data = review.match_rates(profiles, id_heading, heading, matched, excluded, scale)
        if data:
            title = f"Share matched by {heading}"
            rates.append((title, review.rate_bars(data, title)))
    flow_heading = next(
        (h for n, h in review.chart_attributes(scheme) if n in ("org_type", "organisation")), None
    )
    flows = review.flows(result.tables, profiles, id_heading, flow_heading) if flow_heading else []
    title = (
        "Pair scores" if "group_summary" not in result.tables else "Group scores (mean pair score)"
    )
    return {
        "histogram": review.score_histogram(scores, title) if scores else "",
        "histogram_title": title,
        "rates": rates,
        "flows": flows[:15],
        "flow_heading": flow_heading,
    }


@router.get("/programmes/{pid}/runs/{number}/status")
def run_status(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(page_actor)
) -> Response:
    run = _wb(request).run(actor, pid, number)
    return JSONResponse({"status": run.status, "progress": run.progress, "message": run.message})


@router.post("/programmes/{pid}/runs/{number}/cancel")
def cancel_run(
    request: Request, pid: Id, number: Id, actor: Actor = Depends(csrf_actor)
) -> Response:
    _wb(request).cancel_run(actor, pid, number)
    return back(f"/programmes/{pid}/runs/{number}")


@router.post("/programmes/{pid}/runs/{number}/publish")
def publish(request: Request, pid: Id, number: Id, actor: Actor = Depends(csrf_actor)) -> Response:
    _wb(request).publish(actor, pid, number)
    return back(f"/programmes/{pid}/runs/{number}")


@router.get("/programmes/{pid}/runs/{number}/download/{what}")
def download(
    request: Request, pid: Id, number: Id, what: str, actor: Actor = Depends(page_actor)
) -> Response:
    if what not in results.DOWNLOADS:
        raise access.NotFound()
    data, media, name = results.download(_wb(request).result(actor, pid, number), what)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/programmes/{pid}/compare")
def compare(
    request: Request,
    pid: Id,
    a: int = Query(0, ge=0, le=MAX_ID),
    b: int = Query(0, ge=0, le=MAX_ID),
    actor: Actor = Depends(page_actor),
) -> Response:
    wb = _wb(request)
    programme = wb.programme(actor, pid)
    done = [r for r in wb.runs(actor, pid) if r.status == "done"]
    ctx: dict[str, Any] = {"programme": programme, "done": done, "a": a, "b": b}
    if a and b:
        ra, rb = wb.result(actor, pid, a), wb.result(actor, pid, b)
        va = wb.scheme_version(actor, pid, ra.run.scheme_version_id)
        vb = wb.scheme_version(actor, pid, rb.run.scheme_version_id)
        ctx["comparison"] = results.compare(ra, rb, va.yaml_text, vb.yaml_text)
    return render(request, "compare.html", actor, **ctx)


# ----------------------------------------------------------------- members, audit, users


@router.get("/programmes/{pid}/people")
def people(request: Request, pid: Id, actor: Actor = Depends(page_actor)) -> Response:
    wb = _wb(request)
    ctx: dict[str, Any] = {
        "programme": wb.programme(actor, pid),
        "members": wb.members(actor, pid),
        "audit": wb.audit(actor, pid),
    }
    return render(request, "people.html", actor, **ctx)


@router.post("/programmes/{pid}/people")
def add_member(
    request: Request,
    pid: Id,
    username: str = Form(""),
    role: str = Form(""),
    actor: Actor = Depends(csrf_actor),
) -> Response:
    _wb(request).add_member(actor, pid, username, role)
    return back(f"/programmes/{pid}/people")


@router.get("/account")
def account(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    wb = _wb(request)
    users = wb.users(actor) if actor.is_admin and wb.settings.team else []
    return render(request, "account.html", actor, users=users, new_token="")


@router.post("/account/tokens")
def new_token(
    request: Request, label: str = Form(""), actor: Actor = Depends(csrf_actor)
) -> Response:
    wb = _wb(request)
    with wb.db.session() as s:
        user = s.get(access.User, actor.id)
        assert user is not None
        token = access.issue_secret(s, user, "api", hours=None, label=plain(label, 80) or "api")
    users = wb.users(actor) if actor.is_admin and wb.settings.team else []
    return render(request, "account.html", actor, users=users, new_token=token)


@router.post("/account/users")
def create_user(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    actor: Actor = Depends(csrf_actor),
) -> Response:
    wb = _wb(request)
    try:
        wb.create_user(actor, username, password)
    except Invalid as exc:
        return render(
            request,
            "account.html",
            actor,
            422,
            users=wb.users(actor),
            new_token="",
            issues=exc.issues,
        )
    return back("/account")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
