"""Fuzz targets for the profile readers: CSV bytes and XLSX workbooks (zip and XML mutations)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from buddymatch.config import load_scheme
from buddymatch.io.profiles import build_problem
from buddymatch.io.readers import read_table

from .base import PROFILES, SCHEME, workbook
from .common import FUZZ, Counter, inputs, mutated, only_buddymatch_errors

__all__ = ["inputs"]  # the fixture, re-exported for pytest

_SCHEME = load_scheme({**__import__("yaml").safe_load(SCHEME)})[0]


def _read_and_build(path: Path) -> None:
    build_problem([read_table(path)], _SCHEME)


@FUZZ
@given(data=mutated(PROFILES.encode("utf-8"), extra=[b"pii.0001@example.test"]))
def test_csv_bytes(data: bytes, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    path = tmp_path / "profiles.csv"
    path.write_bytes(data)
    only_buddymatch_errors(lambda: _read_and_build(path))


@FUZZ
@given(data=st.sampled_from(["utf-16", "cp1252", "utf-8-sig"]).map(PROFILES.encode))
def test_csv_encodings(data: bytes, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    path = tmp_path / "profiles.csv"
    path.write_bytes(data)
    only_buddymatch_errors(lambda: _read_and_build(path))


_BOOKS = {False: workbook(), True: workbook(shared_strings=True)}
_PART_EDITS = [b'r="999999999"', b'r="XFD1"', b'r="A0"', b"<c/>" * 50, b't="s"', b"<v>99</v>"]
_PART_EDITS += [b"<row>", b"</row>", b"<!DOCTYPE x>", b'<c r="B2" t="s"><v>-1</v></c>']


@st.composite
def workbooks(draw: Any) -> bytes:
    """A workbook with one part mutated, dropped or added, or the zip itself mutated."""
    base = _BOOKS[draw(st.booleans())]
    if draw(st.integers(0, 9)) == 0:
        return draw(mutated(base))
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    name = draw(st.sampled_from(sorted(parts)))
    if draw(st.integers(0, 9)) == 0:
        del parts[name]
    else:
        parts[name] = draw(mutated(parts[name], extra=_PART_EDITS))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, payload in parts.items():
            zf.writestr(part, payload)
    return out.getvalue()


@FUZZ
@given(data=workbooks())
def test_xlsx_workbooks(data: bytes, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    path = tmp_path / "profiles.xlsx"
    path.write_bytes(data)
    only_buddymatch_errors(lambda: _read_and_build(path))
