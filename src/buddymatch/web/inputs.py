"""Files in, library calls out: the only place the workbench touches the file system
for inputs.

Uploaded files live in the database; the library reads paths.  So before any
library call the files are written ("materialised") into a folder with their
upload names — ``profiles/<name>`` for sign-up sheets, ``scheme/scheme.yaml``
plus the files the scheme names beside it — and every message the library
returns is stripped of that folder, so a coordinator reads ``profiles.csv row
14``, exactly as on the command line.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import buddymatch
from buddymatch.config import read_scheme_file
from buddymatch.errors import BuddymatchError, Issue
from buddymatch.io.readers import ReadLimits, read_tables

_SAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")
PREVIEW_VALUES = 8


@dataclass(frozen=True)
class StoredFile:
    """What materialising needs of a stored file (no ORM object crosses threads)."""

    name: str
    purpose: str
    content: bytes


def safe_name(name: str) -> str:
    """A plain file name: no folders, no control or shell characters, not hidden."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = _SAFE.sub("_", base).lstrip(".") or "upload"
    return base[:120]


def materialise(folder: Path, files: Iterable[StoredFile], scheme_yaml: str | None) -> list[Path]:
    """Write files under ``folder``; return the profile paths (relative to folder)."""
    (folder / "profiles").mkdir(parents=True, exist_ok=True)
    (folder / "scheme").mkdir(parents=True, exist_ok=True)
    profiles: list[Path] = []
    for f in files:
        sub = "profiles" if f.purpose == "profiles" else "scheme"
        (folder / sub / f.name).write_bytes(f.content)
        if sub == "profiles":
            profiles.append(Path(sub) / f.name)
    if scheme_yaml is not None:
        (folder / "scheme" / "scheme.yaml").write_text(scheme_yaml, encoding="utf-8")
    return sorted(profiles)


def clean(issue: Issue, folder: Path) -> Issue:
    """The issue with the materialising folder removed from file names and text."""
    prefixes = [f"{folder}/{sub}/" for sub in ("profiles", "scheme")] + [f"{folder}/"]

    def strip(text: str | None) -> str | None:
        if text is None:
            return None
        for p in prefixes:
            text = text.replace(p, "")
        return text

    return Issue(
        strip(issue.message) or "", strip(issue.file), issue.row, issue.column, strip(issue.fix)
    )


def issues_of(exc: BuddymatchError, folder: Path) -> list[Issue]:
    found = list(exc.issues) or [Issue(line) for line in exc.lines]
    return [clean(i, folder) for i in found]


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="buddymatch-web-") as tmp:
        yield Path(tmp)


@dataclass(frozen=True)
class Column:
    """One heading of the uploaded sheets with a preview of its values."""

    heading: str
    distinct: int
    blanks: int
    values: tuple[str, ...]
    multi_hint: bool


@dataclass(frozen=True)
class SheetCheck:
    rows: int
    columns: tuple[Column, ...]
    issues: tuple[Issue, ...]


def _column(heading: str, cells: Sequence[str]) -> Column:
    seen: dict[str, int] = {}
    blanks = 0
    for cell in cells:
        text = " ".join(str(cell).split())
        if not text:
            blanks += 1
            continue
        seen[text] = seen.get(text, 0) + 1
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    multi = sum(1 for v in seen if ";" in v) > max(1, len(seen) // 10)
    return Column(heading, len(seen), blanks, tuple(v for v, _ in ranked[:PREVIEW_VALUES]), multi)


def check_sheets(files: Sequence[StoredFile], limits: ReadLimits) -> SheetCheck:
    """Read every sign-up sheet with the library's readers: headings, previews, problems."""
    with workspace() as folder:
        paths = [folder / p for p in materialise(folder, files, None)]
        try:
            tables = read_tables(paths, limits=limits)
        except BuddymatchError as exc:
            return SheetCheck(0, (), tuple(issues_of(exc, folder)))
    headings: list[str] = []
    for t in tables:
        headings += [c for c in t.frame.columns if c not in headings]
    columns = []
    for h in headings:
        cells: list[str] = []
        for t in tables:
            if h in t.frame.columns:
                cells += t.frame[h].tolist()
        columns.append(_column(h, cells))
    return SheetCheck(sum(len(t.frame) for t in tables), tuple(columns), ())


def parse_scheme_upload(name: str, content: bytes) -> dict[str, Any]:
    """A scheme file's mapping, read by the library's own reader (safe YAML / TOML)."""
    with workspace() as folder:
        path = folder / safe_name(name)
        path.write_bytes(content)
        try:
            return read_scheme_file(path)
        except BuddymatchError as exc:
            raise type(exc)(issues=issues_of(exc, folder)) from None


@dataclass(frozen=True)
class Validation:
    """``buddymatch validate``'s answer: the summary (text and counts) or every problem."""

    ok: bool
    text: str
    issues: tuple[Issue, ...]
    summary: dict[str, Any] = field(default_factory=dict)


def validate(files: Sequence[StoredFile], scheme_yaml: str, limits: ReadLimits) -> Validation:
    """``buddymatch validate`` on the stored files and scheme: every problem at once."""
    with workspace() as folder:
        paths = [folder / p for p in materialise(folder, files, scheme_yaml)]
        try:
            result = buddymatch.validate(paths, folder / "scheme" / "scheme.yaml", limits=limits)
        except BuddymatchError as exc:
            return Validation(False, "", tuple(issues_of(exc, folder)))
    return Validation(True, result.text(), (), dict(result.summary))
