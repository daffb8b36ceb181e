"""Valid inputs the fuzz targets start from, with personal data replaced by markers."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from ..conftest import PROFILES_CSV, SCHEME_YAML
from .common import EMAILS, NAMES

_IDS = [
    "m1@example.test",
    "m2@example.test",
    "e1@example.test",
    "e2@example.test",
    "e3@example.test",
    "b1@example.test",
]
_PEOPLE = ["Ann One", "Bob Two", "Cat Three", "Dan Four", "Eve Five", "Fay Six"]


def profiles_text() -> str:
    text = PROFILES_CSV
    for old, new in zip(_IDS + _PEOPLE, EMAILS[:6] + NAMES[:6], strict=True):
        text = text.replace(old, new)
    return text


PROFILES = profiles_text()
SCHEME = SCHEME_YAML
FORBID = f"person_a,person_b\n{EMAILS[0]},{EMAILS[2]}\n{EMAILS[1]},{EMAILS[3]}\n"
HISTORY = (
    f"round,member_a,member_b,member_c\n1,{EMAILS[0]},{EMAILS[2]},\n2,'{EMAILS[1]},{EMAILS[3]},\n"
)


def workbook(shared_strings: bool = False) -> bytes:
    """The profiles as an XLSX workbook (inline strings, or a sharedStrings part)."""
    rows = [line.split(",") for line in PROFILES.splitlines()]
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for row in rows:
        ws.append([int(c) if c.isdigit() else c for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    return _with_shared_strings(data, rows) if shared_strings else data


def _with_shared_strings(data: bytes, rows: list[list[str]]) -> bytes:
    strings = sorted({c for row in rows for c in row if c and not c.isdigit()})
    index = {s: i for i, s in enumerate(strings)}
    cells = []
    for r, row in enumerate(rows, start=1):
        parts = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if value.isdigit():
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value:
                parts.append(f'<c r="{ref}" t="s"><v>{index[value]}</v></c>')
        cells.append(f'<row r="{r}">{"".join(parts)}</row>')
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = f'<worksheet xmlns="{ns}"><sheetData>{"".join(cells)}</sheetData></worksheet>'
    sst = f'<sst xmlns="{ns}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>"
    rel = (
        '<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = sst.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode().replace("</Relationships>", rel)
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in parts.items():
            zf.writestr(name, payload)
    return out.getvalue()
