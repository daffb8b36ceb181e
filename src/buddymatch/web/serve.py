"""``buddymatch serve``: start the workbench on 127.0.0.1 and print a one-time sign-in link.

The link (like a notebook server's) holds a random token that works once and
for 24 hours; it signs in the local ``admin`` account.  In team mode that
account creates the others (Account page), who sign in with a password.
``--demo`` loads ``sample_data/profiles.csv`` with each example scheme in
``constraints/`` as three programmes (once: a second start finds them).
"""

from __future__ import annotations

import logging
import socket
import webbrowser
from pathlib import Path
from typing import Any

import click
import uvicorn
from sqlalchemy import select

from buddymatch.mailer import SmtpSettings

from .access import Actor, ensure_user, issue_secret
from .app import create_app
from .models import Programme
from .service import Workbench
from .settings import Settings, default_db_url

HOST = "127.0.0.1"
ADMIN = "admin"
DEMO = (
    ("Mentoring (demo)", "mentoring", "mentoring.yaml"),
    ("Peer buddies (demo)", "peer", "peer.yaml"),
    ("Network cohorts (demo)", "cohorts", "cohorts.yaml"),
)


def _examples_root() -> Path | None:
    """The folder holding sample_data/ and constraints/ (the working folder or the repo)."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / "sample_data" / "profiles.csv").is_file() and (root / "constraints").is_dir():
            return root
    return None


def load_demo(wb: Workbench, actor: Actor) -> int:
    """Create the demo programmes that do not exist yet; return how many were created."""
    root = _examples_root()
    if root is None:
        raise click.ClickException(
            "--demo needs sample_data/ and constraints/: run it from the repository"
        )
    existing = {p.name for p in wb.programmes(actor)}
    made = 0
    for name, kind, scheme in DEMO:
        if name in existing:
            continue
        p = wb.create_programme(actor, name, kind)
        wb.upload(actor, p.id, "profiles.csv", (root / "sample_data" / "profiles.csv").read_bytes())
        wb.upload(
            actor,
            p.id,
            "conflicts.csv",
            (root / "constraints" / "conflicts.csv").read_bytes(),
            "scheme",
        )
        wb.upload_scheme(actor, p.id, scheme, (root / "constraints" / scheme).read_bytes())
        made += 1
    return made


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def build(settings: Settings, *, demo: bool) -> tuple[Any, str]:
    """The app and a fresh one-time sign-in token for the admin account."""
    app = create_app(settings)
    wb: Workbench = app.state.workbench
    with wb.db.session() as s:
        user = ensure_user(s, ADMIN, admin=True)
        token = issue_secret(s, user, "link", hours=24)
        actor = Actor(user.id, user.username, True)
        orphans = s.scalars(select(Programme.id)).all()
    if demo:
        load_demo(wb, actor)
    del orphans
    return app, token


def serve(
    port: int,
    data_dir: Path,
    db: str | None,
    demo: bool,
    team: bool,
    secure_cookies: bool,
    max_upload_mb: int,
    open_browser: bool,
    smtp: SmtpSettings | None = None,
) -> None:
    settings = Settings(
        db_url=db or default_db_url(data_dir),
        data_dir=data_dir.resolve(),
        team=team,
        secure_cookies=secure_cookies,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        smtp=smtp,
    )
    port = port or free_port()
    app, token = build(settings, demo=demo)
    link = f"http://{HOST}:{port}/login?token={token}"
    click.echo(f"buddymatch workbench: http://{HOST}:{port}/ (data in {settings.data_dir})")
    if smtp is not None:
        click.echo(f"Introductions are sent through {smtp.host}:{smtp.port} ({smtp.security}).")
    click.echo("Open this one-time link to sign in (it works once, for 24 hours):")
    click.echo(f"    {link}", nl=True)
    click.echo("Press Ctrl+C to stop.")
    if open_browser:
        webbrowser.open(link)
    logging.getLogger("buddymatch.web").setLevel(logging.INFO)
    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="warning")
