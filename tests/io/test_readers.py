"""Readers: every supported shape reads to the same string table; every bad file is named.

Bad inputs live in tests/data/malformed/ (small committed files) or are built
here (zip bombs, XML entity payloads, files over the limits).  Messages are
asserted exactly, because users read them and the CLI prints them verbatim.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buddymatch.errors import InputError
from buddymatch.io.readers import ReadLimits, Table, read_table, read_tables
from buddymatch.sample import COLUMNS, sample_profiles

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = ROOT / "tests" / "data" / "malformed"
SAMPLE_DATA = ROOT / "sample_data"
SAVE_AS = "open it in Excel (or Google Sheets) and save it as .xlsx or CSV"


def lines_of(path: str | Path, **kwargs: object) -> list[str]:
    """The issue lines read_table raises for ``path`` (fails the test if it reads fine)."""
    with pytest.raises(InputError) as caught:
        read_table(path, **kwargs)  # type: ignore[arg-type]
    return caught.value.lines


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], title: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def rewrite_zip(path: Path, replace: dict[str, bytes]) -> None:
    """Replace members of a zip (an xlsx) in place."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members.update(replace)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture
def in_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(MALFORMED)


# --------------------------------------------------------------------------- failures


MALFORMED_CASES = {
    "empty.csv": ["empty.csv: file is empty (0 bytes) — export the sheet again"],
    "blank_lines_only.csv": [
        "blank_lines_only.csv: file is empty (no headings) — export the sheet again"
    ],
    "header_only.csv": [
        "header_only.csv: has headings but no rows of data — add at least one person"
    ],
    "header_and_blank_rows.csv": [
        "header_and_blank_rows.csv: has headings but no rows of data — add at least one person"
    ],
    "ragged.csv": [
        "ragged.csv row 3: has 4 values but there are 3 headings — a value probably contains an "
        "unquoted comma: put it in double quotes, or add the missing heading",
        "ragged.csv row 5: has 4 values but there are 3 headings — a value probably contains an "
        "unquoted comma: put it in double quotes, or add the missing heading",
    ],
    "duplicate_headers.csv": [
        'duplicate_headers.csv row 1, column "Band": the same heading is used by columns '
        "B, D and F — rename or delete all but one of them"
    ],
    "blank_header_with_values.csv": [
        "blank_header_with_values.csv row 1: column B has values but no heading — add a heading "
        "in row 1, or delete the column"
    ],
    "unclosed_quote.csv": [
        "unclosed_quote.csv row 3: a quoted value starting on this row is never closed — check "
        'for a stray double quote (")'
    ],
    "undecodable.csv": [
        "undecodable.csv: cannot be decoded as UTF-8 or Windows-1252 (first bad byte on line 3) "
        '— save it again as "CSV UTF-8"'
    ],
    "nul_bytes.csv": [
        "nul_bytes.csv: contains binary data, not text — export the sheet as CSV UTF-8"
    ],
    "text_named.xlsx": [
        "text_named.xlsx: is a text file, not an Excel workbook — rename it to .csv if it is "
        "CSV text"
    ],
    "binary_named.xlsx": [f"binary_named.xlsx: is not an Excel workbook — {SAVE_AS}"],
    "old_excel.xls": [
        f"old_excel.xls: is an old Excel 97-2003 workbook, which buddymatch cannot read — {SAVE_AS}"
    ],
    "old_excel_renamed.xlsx": [
        "old_excel_renamed.xlsx: is an old Excel 97-2003 (.xls) or password-protected workbook, "
        f"not .xlsx — remove any password, then {SAVE_AS}"
    ],
    "old_excel_renamed.csv": [
        f"old_excel_renamed.csv: is an old Excel (.xls) workbook, not CSV text — {SAVE_AS}"
    ],
    "profiles.json": [
        'profiles.json: unsupported file type ".json" — give a .csv or .xlsx file '
        "(CSV: comma, semicolon or tab separated)"
    ],
    "spreadsheet.ods": [
        f"spreadsheet.ods: is a .ods spreadsheet, which buddymatch cannot read — {SAVE_AS}"
    ],
}


@pytest.mark.parametrize("name", sorted(MALFORMED_CASES))
def test_malformed_file_is_reported_exactly(name: str, in_malformed: None) -> None:
    assert lines_of(name) == MALFORMED_CASES[name]


def test_every_committed_malformed_file_has_a_case() -> None:
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(MALFORMED_CASES)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert lines_of(tmp_path / "nope.csv") == [
        f"{tmp_path / 'nope.csv'}: file not found — check the folder and file name"
    ]
    assert lines_of(tmp_path) == [
        f"{tmp_path}: is a folder, not a file — give a .csv or .xlsx file"
    ]


def test_no_extension(tmp_path: Path) -> None:
    (tmp_path / "profiles").write_text("Email\nx\n")
    assert lines_of(tmp_path / "profiles") == [
        f"{tmp_path / 'profiles'}: unsupported file type (no extension) — give a .csv or .xlsx "
        "file (CSV: comma, semicolon or tab separated)"
    ]


def test_csv_that_is_an_xlsx(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", [["Email"], ["x"]])
    fake = tmp_path / "profiles.csv"
    fake.write_bytes(book.read_bytes())
    assert lines_of(fake) == [
        f"{fake}: is an Excel workbook (a zip file), not CSV text — rename it to .xlsx, or "
        "export the sheet as CSV"
    ]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert lines_of(path) == [f"{path}: is a zip file but not an Excel workbook — {SAVE_AS}"]


def test_truncated_workbook_is_damaged(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", [["Email"], ["x"]])
    data = book.read_bytes()
    book.write_bytes(data[: len(data) // 2])
    assert lines_of(book) == [f"{book}: is damaged: not a readable Excel workbook — {SAVE_AS}"]


def test_over_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Email\n" + "x\n" * 600_000)
    assert lines_of(path, limits=ReadLimits(max_bytes=1024**2)) == [
        f"{path}: file is 1.1 MB, over the limit of 1.0 MB — split it into several files, "
        "or raise ReadLimits.max_bytes"
    ]


def test_over_max_rows_csv_and_xlsx(tmp_path: Path) -> None:
    limits = ReadLimits(max_rows=3)
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("Email\n" + "".join(f"p{i}\n" for i in range(4)))
    xlsx_path = write_xlsx(tmp_path / "rows.xlsx", [["Email"], *[[f"p{i}"] for i in range(4)]])
    fix = "split it into several files, or raise ReadLimits.max_rows"
    assert lines_of(csv_path, limits=limits) == [f"{csv_path}: has more than 3 rows — {fix}"]
    assert lines_of(xlsx_path, limits=limits) == [f"{xlsx_path}: has more than 3 rows — {fix}"]
    assert len(read_table(csv_path, limits=ReadLimits(max_rows=4)).frame) == 4


def test_xlsx_over_uncompressed_limit(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", [["Email"], *[[f"p{i}"] for i in range(2000)]])
    assert lines_of(book, limits=ReadLimits(max_xlsx_uncompressed=10_000)) == [
        f"{book}: would unpack to 0 MB, over the limit of 0 MB — split the sheet into several "
        "files, or save it as CSV"
    ]


def test_xlsx_zip_bomb_ratio(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "bomb.xlsx", [["Email"], ["x"]])
    # 20 MB of padding that deflates ~1000x: a classic bomb shape.
    rewrite_zip(book, {"xl/media/padding.bin": b"\0" * (20 * 1024**2)})
    (line,) = lines_of(book)
    assert line.startswith(f"{book}: is compressed ")
    assert line.endswith(f"times (limit 200); refusing it as a possible zip bomb — {SAVE_AS}")


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol4;</t></is></c></row>
</sheetData></worksheet>"""


@pytest.fixture
def entity_bomb(tmp_path: Path) -> Path:
    book = write_xlsx(tmp_path / "laughs.xlsx", [["Email"], ["x"]])
    rewrite_zip(book, {"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    return book


def test_xml_entity_payload_is_refused(entity_bomb: Path) -> None:
    assert lines_of(entity_bomb) == [
        f"{entity_bomb}: contains an XML document type declaration, which Excel never writes; "
        f"refusing it as unsafe — {SAVE_AS}"
    ]


def test_openpyxl_itself_parses_with_defusedxml(entity_bomb: Path) -> None:
    """Second line of defence: even past our DTD check, openpyxl refuses entities."""
    import defusedxml
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML
    with pytest.raises(ValueError) as caught:  # openpyxl wraps the parser's error
        openpyxl.load_workbook(entity_bomb, read_only=True, data_only=True)
    assert isinstance(caught.value.__cause__, defusedxml.DefusedXmlException)


def test_dtd_hidden_past_our_prefix_scan_is_still_refused(tmp_path: Path) -> None:
    """A DTD after 70 kB of comments escapes the cheap scan; defusedxml still stops it."""
    book = write_xlsx(tmp_path / "hidden.xlsx", [["Email"], ["x"]])
    declaration, rest = BILLION_LAUGHS.split(b"?>", 1)
    padded = declaration + b"?><!--" + b" " * 70_000 + b"-->" + rest
    rewrite_zip(book, {"xl/worksheets/sheet1.xml": padded})
    assert lines_of(book) == [f"{book}: contains unsafe XML (entities or a DTD) — {SAVE_AS}"]


def test_empty_sheet(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "blank.xlsx", [])
    assert lines_of(book) == [f"{book}: the sheet is empty (no headings)"]


def test_unknown_sheet_lists_sheets(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", [["Email"], ["x"]], title="Responses")
    assert lines_of(book, sheet="Form1") == [
        f'{book}: has no sheet "Form1"; its sheets are "Responses" — give one of these sheet names'
    ]


def test_blank_heading_row_and_many_ragged_rows(tmp_path: Path) -> None:
    blank = tmp_path / "blank.csv"
    blank.write_text(",\n,\n")
    assert lines_of(blank) == [f"{blank} row 1: the heading row is blank — add headings in row 1"]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Email;Band\n" + "a;b;c\n" * 25)
    issues = lines_of(ragged)
    assert len(issues) == 21
    assert issues[0] == (
        f"{ragged} row 2: has 3 values but there are 2 headings — a value probably contains an "
        "unquoted semicolon: put it in double quotes, or add the missing heading"
    )
    assert issues[-1] == f"{ragged}: 5 more rows have more values than headings"


def test_ragged_and_duplicate_headings_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("Email,Email\na,b\na,b,c\n")
    assert lines_of(path) == [
        f'{path} row 1, column "Email": the same heading is used by columns A and B — rename '
        "or delete all but one of them",
        f"{path} row 3: has 3 values but there are 2 headings — a value probably contains an "
        "unquoted comma: put it in double quotes, or add the missing heading",
    ]


def test_read_tables_collects_every_file(tmp_path: Path, in_malformed: None) -> None:
    good = tmp_path / "good.csv"
    good.write_text("Email\nx\n")
    with pytest.raises(InputError) as caught:
        read_tables(["empty.csv", good, "ragged.csv", "profiles.json"])
    lines = caught.value.lines
    assert [line.split(":")[0].split(" row")[0] for line in lines] == [
        "empty.csv",
        "ragged.csv",
        "ragged.csv",
        "profiles.json",
    ]
    assert str(caught.value) == "\n".join(lines)
    assert len(read_tables([good, good])) == 2


SECRET = "Zebedee Quux-Secretname"


@pytest.mark.parametrize(
    "content",
    [
        f"Email,Name\np1,{SECRET},extra\n",
        f"Email,,Name\np1,{SECRET},x\n",
        f'Email,Name\np1,"{SECRET}\n',
        f"Email,Name\np1,{SECRET}\n".encode("cp1252") + b"\x81",
    ],
)
def test_messages_never_quote_cells(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "people.csv"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    text = "\n".join(lines_of(path))
    assert SECRET not in text and "Zebedee" not in text and "p1" not in text


# --------------------------------------------------------------------------- CSV shapes


PEOPLE = pd.DataFrame(
    {
        "Email": ["a@x.nhs.uk", "b@x.nhs.uk", "c@x.nhs.uk"],
        "Full name": ["Zoë O'Brien", "José Núñez", "Ann £5 ‘quoted’"],
        "Band": ["Band 5", "NA", "None"],
        "Areas": ["Finance; Digital", "", "Research"],
    }
).astype("str")


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("utf-16", ";"),
        ("utf-16-be", "\t"),
        ("cp1252", ";"),
        ("utf-8", "\t"),
        ("utf-8", "|"),
    ],
)
def test_csv_encodings_and_delimiters(tmp_path: Path, encoding: str, sep: str) -> None:
    path = tmp_path / "people.csv"
    text = PEOPLE.to_csv(index=False, sep=sep, lineterminator="\r\n")
    if encoding == "utf-16-be":
        path.write_bytes(b"\xfe\xff" + text.encode(encoding))
    else:
        path.write_bytes(text.encode(encoding))
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, PEOPLE)
    assert table.rows.tolist() == [2, 3, 4]
    assert table.file == str(path)


def test_google_forms_shape_multiline_blank_rows_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "form.csv"
    path.write_text(
        '"Timestamp","  Email  ","Why do you want\na mentor?\n",,\n'
        '"2026/09/14 10:32:05 am GMT+1","a@x","Line one\nline two, with comma",,\n'
        ",,,,\n"
        '"2026/09/14 10:40:00 am GMT+1","b@x","""Quoted"" answer",,\n'
    )
    table = read_table(path)
    assert list(table.frame.columns) == ["Timestamp", "Email", "Why do you want\na mentor?"]
    assert table.frame["Why do you want\na mentor?"].tolist() == [
        "Line one\nline two, with comma",
        '"Quoted" answer',
    ]
    assert table.rows.tolist() == [2, 4]


def test_semicolon_file_with_commas_in_text(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("Email;Notes, free text;Band\na;x, y, z;Band 5\nb;p, q;Band 6\n")
    assert list(read_table(path).frame.columns) == ["Email", "Notes, free text", "Band"]


def test_leading_blank_lines_shift_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "lead.csv"
    path.write_text("\n\nEmail,Band\na,Band 5\n")
    assert read_table(path).rows.tolist() == [4]


def test_single_column_and_short_rows(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("Email\na\nb\n")
    assert read_table(one).frame["Email"].tolist() == ["a", "b"]
    short = tmp_path / "short.csv"
    short.write_text("Email,Band,Region\na,Band 5\n")
    assert read_table(short).frame.iloc[0].tolist() == ["a", "Band 5", ""]


# --------------------------------------------------------------------------- XLSX shapes


def test_xlsx_values_become_text(tmp_path: Path) -> None:
    book = write_xlsx(
        tmp_path / "values.xlsx",
        [
            ["Email ", "Capacity", "Years", "Joined", "Start time", "Ok", "Empty"],
            [
                "a@x",
                3.0,
                2.5,
                dt.date(2026, 9, 14),
                dt.datetime(2026, 9, 14, 10, 32, 5),
                True,
                None,
            ],
            ["b@x", 4, 1e-05, dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 2, 0, 0, 1), False, ""],
        ],
    )
    frame = read_table(book).frame
    assert list(frame.columns) == [
        "Email",
        "Capacity",
        "Years",
        "Joined",
        "Start time",
        "Ok",
        "Empty",
    ]
    assert frame.iloc[0].tolist() == [
        "a@x",
        "3",
        "2.5",
        "2026-09-14",
        "2026-09-14T10:32:05",
        "TRUE",
        "",
    ]
    assert frame.iloc[1].tolist() == [
        "b@x",
        "4",
        "1e-05",
        "2026-01-02",
        "2026-01-02T00:00:01",
        "FALSE",
        "",
    ]
    assert all(pd.api.types.is_string_dtype(t) for t in frame.dtypes)  # pandas 2 and 3


def test_microsoft_forms_export(tmp_path: Path) -> None:
    start = dt.datetime(2026, 9, 14, 10, 30, 0)
    rows: list[list[object]] = [
        ["ID", "Start time", "Completion time", "Email", "Name", "Band", "I want to be a"],
        [1, start, start + dt.timedelta(minutes=4), "anonymous", "", "Band 7", "Mentor"],
        [2, start, start + dt.timedelta(minutes=9), "anonymous", "", "Band 5", "Mentee"],
    ]
    book = write_xlsx(tmp_path / "Mentoring sign-up(1-2).xlsx", rows, title="Sheet1")
    table = read_table(book, sheet="Sheet1")
    assert table.frame["ID"].tolist() == ["1", "2"]
    assert table.frame["Completion time"].tolist() == ["2026-09-14T10:34:00", "2026-09-14T10:39:00"]
    assert table.frame["I want to be a"].tolist() == ["Mentor", "Mentee"]


def test_xlsx_stale_dimension_blank_rows_and_second_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["not this one"])
    ws = book.create_sheet("People")
    ws.append(["Email", "Band"])
    ws.append(["a@x", "Band 5"])
    ws.append([None, None])
    ws.append(["c@x", "Band 7", None, None])
    path = tmp_path / "two.xlsx"
    book.save(path)
    # Some tools write a wrong <dimension>; the reader must not trust it.
    with zipfile.ZipFile(path) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet2.xml")
    rewrite_zip(path, {"xl/worksheets/sheet2.xml": sheet_xml.replace(b'ref="A1:B4"', b'ref="A1"')})
    table = read_table(path, sheet="People")
    assert table.frame.to_dict("list") == {"Email": ["a@x", "c@x"], "Band": ["Band 5", "Band 7"]}
    assert table.rows.tolist() == [2, 4]
    assert lines_of(path) == [f"{path}: has headings but no rows of data — add at least one person"]


def test_xlsx_header_only_and_duplicates(tmp_path: Path) -> None:
    only = write_xlsx(tmp_path / "only.xlsx", [["Email", "Band"]])
    assert lines_of(only) == [f"{only}: has headings but no rows of data — add at least one person"]
    dup = write_xlsx(
        tmp_path / "dup.xlsx", [["Email", "Band", None, "Email"], ["a", "b", "c", "d"]]
    )
    assert lines_of(dup) == [
        f"{dup} row 1: column C has values but no heading — add a heading in row 1, or delete "
        "the column",
        f'{dup} row 1, column "Email": the same heading is used by columns A and D — rename or '
        "delete all but one of them",
    ]


# --------------------------------------------------------------------------- sample_data


@pytest.mark.parametrize("name", ["profiles.csv", "profiles.xlsx", "google_form_export.csv"])
def test_sample_data_reads(name: str) -> None:
    table = read_table(SAMPLE_DATA / name)
    assert isinstance(table, Table)
    assert set(COLUMNS) <= set(table.frame.columns)
    assert table.frame["Email"].is_unique
    assert np.array_equal(table.rows, np.arange(2, len(table.frame) + 2))


def test_every_sample_data_table_reads() -> None:
    files = sorted(p for p in SAMPLE_DATA.iterdir() if p.suffix in {".csv", ".xlsx"})
    assert len(files) >= 3
    csv_frame = read_table(SAMPLE_DATA / "profiles.csv").frame
    xlsx_frame = read_table(SAMPLE_DATA / "profiles.xlsx").frame
    pd.testing.assert_frame_equal(csv_frame, xlsx_frame)
    for path in files:
        assert len(read_table(path).frame) > 0


# --------------------------------------------------------------------------- round trips


round_trip = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@round_trip
@given(
    scheme=st.sampled_from(["mentoring", "peer", "cohorts"]),
    size=st.integers(1, 60),
    seed=st.integers(0, 2**32),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_sampler_tables_round_trip_through_csv(
    tmp_path: Path, scheme: str, size: int, seed: int, sep: str, encoding: str
) -> None:
    frame = sample_profiles(scheme, size, seed)
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, sep=sep, encoding=encoding)
    path = tmp_path / f"rt{size}_{seed}.csv"
    path.write_bytes(buffer.getvalue())
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, frame)
    assert table.rows.tolist() == list(range(2, size + 2))


@round_trip
@given(
    scheme=st.sampled_from(["mentoring", "cohorts"]),
    size=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_sampler_tables_round_trip_through_xlsx(
    tmp_path: Path, scheme: str, size: int, seed: int
) -> None:
    frame = sample_profiles(scheme, size, seed)
    path = tmp_path / f"rt{size}_{seed}.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, frame)
    assert table.rows.tolist() == list(range(2, size + 2))


# --------------------------------------------------------------------------- hardening


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("Email,Band,Region\na@x,Band 5,North\nb@x,Band 6", 3),  # cut mid-row, no newline
        ("Email,Band,Region\na@x,Band 5,North\nb@x", 3),
        ('Email,Band,Region\na@x,"Band\n5",North\nb@x,', 3),  # after a multi-line value
    ],
)
def test_last_row_cut_mid_line_is_an_error(tmp_path: Path, text: str, row: int) -> None:
    path = tmp_path / "cut.csv"
    path.write_text(text)
    (line,) = lines_of(path)
    assert line.startswith(f"{path} row {row}: the last row has ")
    assert line.endswith(
        "values and the file ends mid-line: it looks cut off — export or copy the file again, "
        "complete"
    )


def test_complete_files_without_final_newline_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('Email,Band\na@x,"Band\n5"\nb@x,Band 6')  # Google Sheets omits it
    assert read_table(path).frame["Band"].tolist() == ["Band\n5", "Band 6"]
    short = tmp_path / "short.csv"
    short.write_text("Email,Band,Region\na@x,Band 5\nb@x,Band 6,North")  # short rows inside
    assert len(read_table(short).frame) == 2


def test_unclosed_quote_at_end_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('Email,Band\na@x,Band 5\nb@x,"Band 6')
    assert lines_of(path) == [
        f"{path} row 3: a quoted value starting on this row is never closed — check for a "
        'stray double quote (")'
    ]


def test_wide_heading_times_many_lines_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"h{i}" for i in range(5000)) + "\n" + "x\n" * 5000)
    assert lines_of(path, limits=ReadLimits(max_cells=1_000_000)) == [
        f"{path}: has 5,000 headings and 5,002 lines: more than 1,000,000 cells — split it "
        "into several files, or raise ReadLimits.max_cells"
    ]


def test_a_first_row_of_data_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "nohead.csv"
    path.write_text("ann@example.test,Ann,Org A,Org A\nbob@example.test,Bob,Org B,Org B\n")
    assert lines_of(path) == [
        f"{path} row 1: row 1 does not look like a heading row (it holds e-mail addresses or "
        "numbers) — add a row of column headings above the data"
    ]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes")
def test_fifo_profiles_are_refused(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "profiles.csv"
    os.mkfifo(fifo)
    assert lines_of(fifo) == [
        f"{fifo}: is a named pipe (FIFO), not a regular file — give a .csv or .xlsx file"
    ]


def test_huge_field_in_a_ragged_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    path.write_text("Email,Band\n" + '"' + "x" * 200_000 + '",b,c\n')
    assert lines_of(path) == [
        f"{path} row 2: a value is over 131,072 characters long, or its quotes are broken — "
        'check for a stray double quote (")'
    ]
