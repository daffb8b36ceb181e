"""Server settings: one frozen value built by ``buddymatch serve`` (or a test).

Why a dataclass and not environment parsing: every knob is an explicit
``serve`` option, so a test builds exactly the server it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from buddymatch.mailer import SmtpSettings

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What the app needs to start.

    ``db_url`` is an SQLAlchemy URL (``sqlite:///...`` or ``postgresql://...``);
    ``data_dir`` holds run folders (inputs and results, written atomically) and,
    by default, the SQLite file.  ``team`` turns on password accounts; without
    it the only way in is the one-time link printed by ``serve``.  ``smtp``
    is where introductions are sent (``serve --smtp-*`` or the
    ``BUDDYMATCH_SMTP_*`` environment, the password only from the environment);
    None: the workbench previews and downloads introductions but cannot send.
    Nothing a page submits ever changes it.
    """

    db_url: str
    data_dir: Path
    team: bool = False
    secure_cookies: bool = False
    max_upload_bytes: int = 20 * MB
    max_files_per_programme: int = 20
    login_attempts: int = 5
    login_window_s: float = 300.0
    session_hours: float = 12.0
    run_workers: int = 2
    smtp: SmtpSettings | None = None


def default_db_url(data_dir: Path) -> str:
    """The embedded default: an SQLite file inside the data folder."""
    return f"sqlite:///{(data_dir / 'buddymatch.sqlite3').resolve()}"
