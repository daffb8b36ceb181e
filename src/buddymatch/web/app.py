"""The ASGI application: security headers, body limits, error pages, routers.

``create_app(settings)`` opens (and migrates) the database, recovers runs a
stopped server left behind, and mounts the HTML pages (:mod:`.pages`, cookie
sessions with CSRF tokens) and the JSON API (:mod:`.api`, bearer tokens only —
the API never reads the session cookie, so a forged cross-site request has no
credentials).  Access logs carry method, path without query and status only:
query strings may hold a searched name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._version import __version__
from . import access
from .database import Database
from .service import Invalid, Workbench
from .settings import Settings
from .worker import Runner

HERE = Path(__file__).parent
log = logging.getLogger("buddymatch.web")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (413), declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body is larger than the upload limit"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, text: str, issues: list[Any] | None = None) -> Response:
    if _is_api(request):
        detail: dict[str, Any] = {"detail": text}
        if issues is not None:
            detail["issues"] = [_issue_json(i) for i in issues]
        return JSONResponse(detail, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    ctx = {
        "request": request,
        "status": status,
        "text": text,
        "issues": issues or [],
        "actor": None,
    }
    return templates.TemplateResponse(request, "error.html", ctx, status_code=status)


def _issue_json(issue: Any) -> dict[str, Any]:
    keys = ("message", "file", "row", "column", "fix")
    return {k: getattr(issue, k, None) for k in keys} | {"text": str(issue)}


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(access.NotFound)
    async def not_found(request: Request, _exc: Exception) -> Response:
        return _error(request, 404, "Not found.")

    @app.exception_handler(access.Forbidden)
    async def forbidden(request: Request, _exc: Exception) -> Response:
        return _error(request, 403, "Your role on this programme does not allow this.")

    from .pages import LoginRequired

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Invalid)
        return _error(request, 422, "The request could not be done.", exc.issues)


def _middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        log.info(
            "%s %s %d %.0fms",
            request.method,
            request.url.path,
            response.status_code,
            1000 * (time.perf_counter() - started),
        )
        return response


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """The workbench app.  The database is opened and migrated here."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = database or Database(settings.db_url)
    runner = Runner(db, settings.data_dir, settings.run_workers)
    runner.recover()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        runner.shutdown()

    app = FastAPI(
        title="buddymatch workbench API",
        version=__version__,
        description="The coordinator workbench's operations as JSON (bearer token auth).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.workbench = Workbench(settings, db, runner)
    from .introductions import Introductions
    from .lifecycle import Lifecycle

    app.state.lifecycle = Lifecycle(app.state.workbench)
    app.state.introductions = Introductions(app.state.workbench)
    app.state.limiter = access.RateLimiter(settings.login_attempts, settings.login_window_s)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True
    )
    app.state.templates = Jinja2Templates(env=env)
    app.state.templates.env.globals["app_version"] = __version__
    _handlers(app)
    _middleware(app)
    from . import api, lifecycle_api, lifecycle_pages, pages

    app.include_router(api.router)
    app.include_router(lifecycle_api.router)
    app.include_router(pages.router)
    app.include_router(lifecycle_pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)
    return app


def html_response(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
