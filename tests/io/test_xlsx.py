"""The streaming XLSX reader: same values as openpyxl on real workbooks, and every
limit checked before anything is stored (huge row numbers, the last column,
millions of unused shared strings, missing parts, oversized cells)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buddymatch.errors import InputError
from buddymatch.io.readers import ReadLimits, read_table

from .test_readers import SAVE_AS, lines_of, write_xlsx

SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
    '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData>'
    "</worksheet>"
)
HEADING = '<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>'


def with_parts(path: Path, parts: dict[str, bytes | str], drop: tuple[str, ...] = ()) -> Path:
    """Rewrite the workbook at ``path`` with some parts replaced, added or dropped."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist() if i.filename not in drop}
    members.update({k: v.encode() if isinstance(v, str) else v for k, v in parts.items()})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def book(tmp_path: Path, name: str = "book.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [["Email", "Band"], ["a@x", "Band 5"]])


def sheet(tmp_path: Path, rows: str) -> Path:
    return with_parts(book(tmp_path), {"xl/worksheets/sheet1.xml": SHEET.format(HEADING + rows)})


def test_row_number_beyond_excel_is_refused_at_once(tmp_path: Path) -> None:
    path = sheet(tmp_path, '<row r="999999999"><c t="inlineStr"><is><t>x</t></is></c></row>')
    assert lines_of(path) == [
        f"{path}: declares row 999,999,999, beyond Excel's last row (1,048,576) — {SAVE_AS}"
    ]


def test_rows_out_of_order_are_damage(tmp_path: Path) -> None:
    path = sheet(
        tmp_path, '<row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c></row><row r="2"/>'
    )
    assert lines_of(path)[0].startswith(f"{path}: is damaged: row 2 comes after row 3")


def test_a_stray_cell_in_the_last_column_costs_one_column(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>p{i}</t></is></c>'
        f'<c r="XFD{i}" t="inlineStr"><is><t>z</t></is></c></row>'
        for i in range(2, 3000)
    )
    path = sheet(tmp_path, rows)
    assert lines_of(path) == [
        f"{path} row 1: column XFD has values but no heading — add a heading in row 1, or "
        "delete the column"
    ]


def test_cells_beyond_the_last_column_are_refused(tmp_path: Path) -> None:
    path = sheet(tmp_path, '<row r="2">' + "<c/>" * 16_385 + "</row>")
    assert lines_of(path) == [
        f"{path}: row 2: has cells beyond Excel's last column (XFD) — {SAVE_AS}"
    ]
    path = sheet(tmp_path, '<row r="2"><c r="XFE2"/></row>')
    assert "beyond Excel's last column" in lines_of(path)[0]


def test_cell_budget(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, 50))
    path = sheet(tmp_path, rows)
    assert lines_of(path, limits=ReadLimits(max_cells=20)) == [
        f"{path}: has more than 20 non-blank cells — split it into several files, or raise "
        "ReadLimits.max_cells"
    ]
    diagonal = "".join(
        f'<row r="{i}"><c r="{chr(64 + i)}{i}"><v>1</v></c></row>' for i in range(2, 20)
    )
    path = sheet(tmp_path, diagonal)
    assert lines_of(path, limits=ReadLimits(max_cells=100))[0].endswith(
        "more than 100 cells — split it into several files, or raise ReadLimits.max_cells"
    )


def with_shared_strings(tmp_path: Path, strings: list[str], rows: str) -> Path:
    """A workbook whose sheet uses a sharedStrings part (openpyxl writes inline strings)."""
    path = sheet(tmp_path, rows)
    with zipfile.ZipFile(path) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rel = (
        '<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/sharedStrings"/>'
    )
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    parts = {
        "xl/_rels/workbook.xml.rels": rels.replace("</Relationships>", rel + "</Relationships>"),
        "xl/sharedStrings.xml": sst,
    }
    return with_parts(path, parts)


def test_unused_shared_strings_are_never_read(tmp_path: Path) -> None:
    rows = '<row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    path = with_shared_strings(tmp_path, ["first", "a@x", *["unused"] * 300_000], rows)
    assert read_table(path).frame.to_dict("list") == {"Email": ["a@x"]}


def test_shared_string_index_limits(tmp_path: Path) -> None:
    rows = '<row r="2"><c r="A2" t="s"><v>9999999</v></c></row>'
    far = with_shared_strings(tmp_path, ["a"], rows)
    assert lines_of(far) == [
        f"{far}: refers to shared string 9,999,999, over the limit of 5,000,000 — save it as "
        "CSV, or raise ReadLimits.max_shared_strings"
    ]
    near = with_shared_strings(tmp_path, ["a"], '<row r="2"><c r="A2" t="s"><v>500</v></c></row>')
    assert lines_of(near) == [
        f"{near}: is damaged: a cell refers to a shared string that does not exist — {SAVE_AS}"
    ]


def test_missing_parts_are_named(tmp_path: Path) -> None:
    path = with_parts(book(tmp_path), {}, drop=("xl/worksheets/sheet1.xml",))
    assert lines_of(path) == [
        f"{path}: is damaged: the sheet's part is missing from the workbook — {SAVE_AS}"
    ]
    bare = with_parts(book(tmp_path, "bare.xlsx"), {}, drop=("xl/workbook.xml",))
    assert lines_of(bare) == [f"{bare}: is a zip file but not an Excel workbook — {SAVE_AS}"]


def test_oversized_cell_and_malformed_xml(tmp_path: Path) -> None:
    big = sheet(
        tmp_path, '<row r="2"><c t="inlineStr"><is><t>' + "x" * 40_000 + "</t></is></c></row>"
    )
    assert lines_of(big) == [
        f"{big}: row 2: a cell holds more than 32,767 characters (Excel's limit) — {SAVE_AS}"
    ]
    bad = with_parts(book(tmp_path, "bad.xlsx"), {"xl/worksheets/sheet1.xml": "<worksheet><row"})
    assert lines_of(bad) == [
        f"{bad}: is damaged: a part of the workbook is not well-formed XML — {SAVE_AS}"
    ]


def test_rich_text_phonetics_booleans_errors_and_1904_dates(tmp_path: Path) -> None:
    rows = (
        '<row r="2"><c r="A2" t="inlineStr"><is><r><t>Ann</t></r><r><t xml:space="preserve"> '
        "One</t></r><rPh><t>PHONETIC</t></rPh></is></c>"
        '<c r="B2" t="b"><v>1</v></c><c r="C2" t="e"><v>#N/A</v></c>'
        '<c r="D2" s="1"><v>1</v></c><c r="E2" t="str"><f>A1</f><v>formula</v></c></row>'
    )
    heading = (
        '<row r="1">'
        + "".join(
            f'<c r="{c}1" t="inlineStr"><is><t>{c}</t></is></c>' for c in ("A", "B", "C", "D", "E")
        )
        + "</row>"
    )
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    path = with_parts(
        book(tmp_path),
        {"xl/worksheets/sheet1.xml": SHEET.format(heading + rows), "xl/styles.xml": styles},
    )
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    with_parts(
        path, {"xl/workbook.xml": workbook.replace("<workbookPr />", '<workbookPr date1904="1" />')}
    )
    assert read_table(path).frame.iloc[0].tolist() == [
        "Ann One",
        "TRUE",
        "#N/A",
        "1904-01-02",  # serial 1 in the 1904 calendar
        "formula",
    ]


CELL = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
    st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=1, max_size=6))
def test_values_match_openpyxl(tmp_path: Path, rows: list[list[object]]) -> None:
    """Any workbook openpyxl writes reads to the values openpyxl itself reads back."""
    path = write_xlsx(tmp_path / "p.xlsx", [["a", "b", "c", "d", "e"], *rows])
    expected = _openpyxl_rows(path)
    try:
        table = read_table(path)
    except InputError as exc:
        assert not expected, exc.lines  # only a sheet without data rows may fail
        return
    width = len(table.frame.columns)
    got = [list(r) for r in table.frame.itertuples(index=False)]
    assert got == [r[:width] for r in expected]


def _openpyxl_rows(path: Path) -> list[list[str]]:
    from buddymatch.io.xlsx import as_text, cell_text

    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    out = []
    for values in list(wb.active.iter_rows(values_only=True))[1:]:  # type: ignore[union-attr]
        cells = [
            "" if v is None else cell_text(v) if isinstance(v, dt.date | dt.time) else as_text(v)
            for v in values
        ]
        if any(cells):
            out.append(cells + [""] * (5 - len(cells)))
    return out


def test_corrupt_deflate_streams_are_damage_not_crashes(tmp_path: Path) -> None:
    """Found by the fuzz suite: zipfile raises zlib.error, not BadZipFile, on a bad stream."""
    data = bytearray(book(tmp_path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    outcomes = set()
    for k in range(info.compress_size):
        broken = bytearray(data)
        broken[start + k] ^= 0x5A
        path = tmp_path / "broken.xlsx"
        path.write_bytes(bytes(broken))
        try:
            read_table(path)
            outcomes.add("read")
        except InputError as exc:
            outcomes.add(exc.lines[0].split(": ", 1)[1])
    assert f"is damaged: not a readable Excel workbook — {SAVE_AS}" in outcomes
