"""Read profile sheets (CSV, XLSX, Google/Microsoft Forms exports) into string tables.

Why: coordinators bring whatever their form tool exported — UTF-8 or
Windows-1252, commas or semicolons, quoted multi-line answers, Excel
workbooks with dates and numbers.  This module turns each file into a
:class:`Table` of plain strings with the spreadsheet row number of every
record, or reports *every* problem it finds as :class:`~buddymatch.errors.Issue`
objects (file, row, column, fix) in one :class:`~buddymatch.errors.InputError`.

Callers may rely on:
- every cell is a ``str``; blank is ``""``; ``"NA"``/``"None"`` stay text; cell
  text is otherwise as in the file (not stripped), headings are stripped;
- rows that are entirely blank are dropped, and ``Table.rows`` still gives the
  row number a spreadsheet user sees for each remaining record (heading = 1);
- messages never quote cell contents (they may be names or e-mails), only
  file names, row numbers, column letters and headings;
- files are never trusted: size, row count and (for XLSX) uncompressed size and
  compression ratio are bounded before parsing, and XML is parsed by
  ``defusedxml`` through openpyxl, behind our own refusal of any XML DTD.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from buddymatch.errors import InputError, Issue

_TEXT_EXT = {".csv", ".tsv", ".txt"}
_BOOK_EXT = {".xlsx", ".xlsm"}
_OTHER_SHEETS = {".xls", ".ods", ".numbers", ".xlsb"}
_DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MB = 1024**2
_RATIO_FLOOR = 8 * _MB  # small workbooks may compress very well; only big ones are guarded
_MAX_LISTED = 20  # at most this many ragged-row issues per file, then a summary
_SAVE_AS = "open it in Excel (or Google Sheets) and save it as .xlsx or CSV"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep a hostile or mistaken file from exhausting memory."""

    max_bytes: int = 200 * 1024**2
    max_rows: int = 2_000_000
    max_xlsx_uncompressed: int = 1024**3
    max_xlsx_ratio: float = 200.0


@dataclass(frozen=True, eq=False)
class Table:
    """One file's records as strings, with the row number of each record."""

    frame: pd.DataFrame
    file: str
    rows: np.ndarray


class _Failed(Exception):
    """Internal: the file cannot be read further; carries its issues."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__()
        self.issues = issues


def read_table(
    path: str | Path, *, sheet: str | None = None, limits: ReadLimits = ReadLimits()
) -> Table:
    """Read one CSV or XLSX file; raise one ``InputError`` listing all its problems.

    ``sheet`` names the worksheet of an XLSX file (default: the first); CSV files
    ignore it.  Formulas give the value Excel last saved with the file.
    """
    try:
        return _read(path, sheet, limits)
    except _Failed as failed:
        raise InputError(issues=failed.issues) from None


def read_tables(
    paths: Sequence[str | Path], *, sheet: str | None = None, limits: ReadLimits = ReadLimits()
) -> list[Table]:
    """Read every file; if any fails, raise one ``InputError`` with the issues of all files."""
    tables: list[Table] = []
    issues: list[Issue] = []
    for path in paths:
        try:
            tables.append(_read(path, sheet, limits))
        except _Failed as failed:
            issues.extend(failed.issues)
    if issues:
        raise InputError(issues=issues)
    return tables


# --------------------------------------------------------------------------- dispatch


def _read(path: str | Path, sheet: str | None, limits: ReadLimits) -> Table:
    label = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise _Failed([Issue("file not found", label, fix="check the folder and file name")])
    if p.is_dir():
        raise _Failed([Issue("is a folder, not a file", label, fix="give a .csv or .xlsx file")])
    ext = p.suffix.lower()
    if ext in _OTHER_SHEETS:
        kind = "an old Excel 97-2003 workbook" if ext == ".xls" else f"a {ext} spreadsheet"
        raise _Failed([Issue(f"is {kind}, which buddymatch cannot read", label, fix=_SAVE_AS)])
    if ext not in _TEXT_EXT | _BOOK_EXT:
        shown = f'"{ext}"' if ext else "(no extension)"
        raise _Failed(
            [
                Issue(
                    f"unsupported file type {shown}",
                    label,
                    fix="give a .csv or .xlsx file (CSV: comma, semicolon or tab separated)",
                )
            ]
        )
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise _Failed([Issue(f"cannot be opened ({e.strerror})", label)]) from None
    if size == 0:
        raise _Failed([Issue("file is empty (0 bytes)", label, fix="export the sheet again")])
    if size > limits.max_bytes:
        raise _Failed(
            [
                Issue(
                    f"file is {size / _MB:.1f} MB, "
                    f"over the limit of {limits.max_bytes / _MB:.1f} MB",
                    label,
                    fix="split it into several files, or raise ReadLimits.max_bytes",
                )
            ]
        )
    if ext in _BOOK_EXT:
        return _read_xlsx(p, label, head, sheet, limits)
    return _read_csv(p, label, head, limits)


# --------------------------------------------------------------------------- CSV


def _read_csv(p: Path, label: str, head: bytes, limits: ReadLimits) -> Table:
    if head.startswith(_ZIP_MAGIC):
        raise _Failed(
            [
                Issue(
                    "is an Excel workbook (a zip file), not CSV text",
                    label,
                    fix="rename it to .xlsx, or export the sheet as CSV",
                )
            ]
        )
    if head.startswith(_OLE_MAGIC):
        raise _Failed([Issue("is an old Excel (.xls) workbook, not CSV text", label, fix=_SAVE_AS)])
    payload = _to_utf8(p.read_bytes(), label)
    if b"\x00" in payload:
        raise _Failed(
            [Issue("contains binary data, not text", label, fix="export the sheet as CSV UTF-8")]
        )
    if not re.search(rb"\S", payload):
        raise _Failed([Issue("file is empty (no headings)", label, fix="export the sheet again")])
    lead = re.match(rb"(?:[ \t]*(?:\r\n|\n|\r))*", payload)  # blank lines above the headings
    prefix = lead.group(0) if lead else b""
    skipped = len(re.findall(rb"\r\n|\n|\r", prefix))
    if prefix:
        payload = payload[len(prefix) :]
    head_text = payload[: 1 << 16].decode("utf-8", errors="ignore")
    delimiter = _sniff(head_text, truncated=len(payload) > 1 << 16)
    try:
        raw = pd.read_csv(
            io.BytesIO(payload),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            index_col=False,
            engine="c",
            encoding="utf-8",
            nrows=limits.max_rows + 2,
        )
    except pd.errors.ParserError as e:
        text = payload.decode("utf-8")
        raise _Failed(_diagnose_csv(text, delimiter, label, str(e), skipped)) from None
    except pd.errors.EmptyDataError:
        raise _Failed([Issue("file is empty (no headings)", label)]) from None
    del payload
    if len(raw) - 1 > limits.max_rows:
        raise _Failed([_too_many_rows(label, limits)])
    header = [str(h) for h in raw.iloc[0].tolist()]
    body = raw.iloc[1:].reset_index(drop=True)
    rows = np.arange(skipped + 2, skipped + 2 + len(body), dtype=np.int64)
    return _finish(header, body, rows, label)


def _to_utf8(data: bytes, label: str) -> bytes:
    """UTF-8 bytes without BOM from UTF-8 (BOM or not), UTF-16 (BOM) or Windows-1252.

    Strict, never lossy.  Plain UTF-8, the common case, is validated in chunks
    and returned as is, so a big file is not held twice in memory.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        if _is_utf8(data, 3):
            return data[3:]
        encodings = ["UTF-8"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            encodings = ["UTF-16"]
    else:
        if _is_utf8(data, 0):
            return data
        try:
            return data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError:
            encodings = ["UTF-8", "Windows-1252"]
    codec = {"UTF-8": "utf-8-sig", "UTF-16": "utf-16", "Windows-1252": "cp1252"}[encodings[-1]]
    try:
        data.decode(codec)
        bad = 0  # pragma: no cover - only reached if the codecs disagree
    except UnicodeDecodeError as e:
        bad = e.start
    line = data.count(b"\n", 0, bad) + 1
    raise _Failed(
        [
            Issue(
                f"cannot be decoded as {' or '.join(encodings)} (first bad byte on line {line})",
                label,
                fix='save it again as "CSV UTF-8"',
            )
        ]
    )


def _is_utf8(data: bytes, start: int, chunk: int = 1 << 24) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for offset in range(start, len(data), chunk):
            decoder.decode(view[offset : offset + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff(sample: str, *, truncated: bool) -> str:
    """Pick the delimiter that splits the heading into the most columns consistently.

    Score per candidate: how many of the first records have exactly as many
    fields as the heading, then the heading's width; ties go to the earlier of
    comma, semicolon, tab, pipe.  A one-column file is read as comma-separated.
    """
    best, best_score = ",", (-1, 1)
    for d in _DELIMITERS:
        try:
            records = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=d), 60))
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]
        records = [r for r in records if r]
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records[1:]), width)
        if score > best_score:
            best, best_score = d, score
    return best


def _diagnose_csv(text: str, delimiter: str, label: str, detail: str, skipped: int) -> list[Issue]:
    """Explain a parse failure: list ragged rows, or an unclosed quote, by row number."""
    issues: list[Issue] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = 0
    extra = 0
    for number, record in enumerate(reader, start=skipped + 1):
        if number == skipped + 1:
            width = len(record)
            issues.extend(_duplicate_headings([h.strip() for h in record], label))
        elif len(record) > width:
            if len(issues) < _MAX_LISTED:
                issues.append(
                    Issue(
                        f"has {len(record)} values but there are {width} headings",
                        label,
                        row=number,
                        fix="a value probably contains an unquoted "
                        f"{_delimiter_name(delimiter)}: put it in double quotes, "
                        "or add the missing heading",
                    )
                )
            else:
                extra += 1
    if extra:
        issues.append(Issue(f"{extra} more rows have more values than headings", label))
    if any(i.row != 1 for i in issues):
        return issues
    quote = re.search(r"EOF inside string starting at row (\d+)", detail)
    if quote:
        return [
            *issues,
            Issue(
                "a quoted value starting on this row is never closed",
                label,
                row=int(quote.group(1)) + 1 + skipped,
                fix='check for a stray double quote (")',
            ),
        ]
    return [
        *issues,
        Issue("cannot be read as CSV", label, fix="export the sheet as CSV UTF-8 again"),
    ]


def _delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[d]


def _too_many_rows(label: str, limits: ReadLimits) -> Issue:
    return Issue(
        f"has more than {limits.max_rows:,} rows",
        label,
        fix="split it into several files, or raise ReadLimits.max_rows",
    )


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(p: Path, label: str, head: bytes, sheet: str | None, limits: ReadLimits) -> Table:
    if head.startswith(_OLE_MAGIC):
        raise _Failed(
            [
                Issue(
                    "is an old Excel 97-2003 (.xls) or password-protected workbook, not .xlsx",
                    label,
                    fix="remove any password, then " + _SAVE_AS,
                )
            ]
        )
    if not head.startswith(_ZIP_MAGIC):
        looks_text = _looks_like_text(p)
        raise _Failed(
            [
                Issue(
                    "is a text file, not an Excel workbook"
                    if looks_text
                    else "is not an Excel workbook",
                    label,
                    fix="rename it to .csv if it is CSV text" if looks_text else _SAVE_AS,
                )
            ]
        )
    _guard_zip(p, label, limits)
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it drops (common in Forms
        # exports); they do not affect values and would only clutter the CLI.
        warnings.simplefilter("ignore")
        records, numbers = _load_sheet(p, label, sheet, limits)
    if not records:
        raise _Failed([Issue("the sheet is empty (no headings)", label)])
    width = max(len(r) for r in records)
    padded = [r + [""] * (width - len(r)) for r in records]
    header = padded[0]
    body = pd.DataFrame(padded[1:], columns=range(width), dtype="str")
    if body.empty:
        body = pd.DataFrame({i: pd.array([], dtype="str") for i in range(width)})
    return _finish(header, body, np.asarray(numbers[1:], dtype=np.int64), label)


def _load_sheet(
    p: Path, label: str, sheet: str | None, limits: ReadLimits
) -> tuple[list[list[str]], list[int]]:
    """Open the workbook with openpyxl (read-only, cached values) and read one sheet."""
    import openpyxl  # late: only XLSX users pay for the import

    try:
        book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for damaged files
        raise _Failed([_unreadable_book(label, e)]) from None
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            listed = ", ".join(f'"{n}"' for n in names)
            raise _Failed(
                [
                    Issue(
                        f'has no sheet "{sheet}"; its sheets are {listed}',
                        label,
                        fix="give one of these sheet names",
                    )
                ]
            )
        ws = book[sheet] if sheet is not None else book[names[0]]
        if not hasattr(ws, "reset_dimensions"):
            raise _Failed([Issue("the chosen sheet is a chart, not a table", label, fix=_SAVE_AS)])
        ws.reset_dimensions()  # stored dimensions may be wrong; read every cell present
        try:
            return _sheet_records(ws, label, limits)
        except _Failed:
            raise
        except Exception as e:
            raise _Failed([_unreadable_book(label, e)]) from None
    finally:
        book.close()


def _sheet_records(ws: object, label: str, limits: ReadLimits) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows as strings from the first non-blank one (the heading), with row numbers."""
    records: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(
        ws.iter_rows(min_row=1, min_col=1, values_only=True),  # type: ignore[attr-defined]
        start=1,
    ):
        cells = [_cell_text(v) for v in values]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        records.append(cells)
        numbers.append(number)
        if len(records) - 1 > limits.max_rows:
            raise _Failed([_too_many_rows(label, limits)])
    return records, numbers


def _cell_text(value: object) -> str:
    """Excel value -> text as a user would type it: 3.0 -> "3", dates -> ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _guard_zip(p: Path, label: str, limits: ReadLimits) -> None:
    """Refuse zip bombs and XML DTDs before openpyxl decompresses anything big."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(
                n.startswith("xl/workbook") for n in names
            ):
                raise _Failed(
                    [Issue("is a zip file but not an Excel workbook", label, fix=_SAVE_AS)]
                )
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            if total > limits.max_xlsx_uncompressed:
                raise _Failed(
                    [
                        Issue(
                            f"would unpack to {total / _MB:.0f} MB, over the limit of "
                            f"{limits.max_xlsx_uncompressed / _MB:.0f} MB",
                            label,
                            fix="split the sheet into several files, or save it as CSV",
                        )
                    ]
                )
            ratio = total / max(packed, 1)
            if total > _RATIO_FLOOR and ratio > limits.max_xlsx_ratio:
                raise _Failed(
                    [
                        Issue(
                            f"is compressed {ratio:.0f} times (limit {limits.max_xlsx_ratio:.0f}); "
                            "refusing it as a possible zip bomb",
                            label,
                            fix=_SAVE_AS,
                        )
                    ]
                )
            for info in infos:
                if info.filename.endswith((".xml", ".rels")) and _has_dtd(zf, info):
                    raise _Failed(
                        [
                            Issue(
                                "contains an XML document type declaration, which Excel never "
                                "writes; refusing it as unsafe",
                                label,
                                fix=_SAVE_AS,
                            )
                        ]
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise _Failed(
            [Issue("is damaged: not a readable Excel workbook", label, fix=_SAVE_AS)]
        ) from None


def _has_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True when the part's prolog declares a DTD (entity expansion lives there)."""
    with zf.open(info) as fh:
        start = fh.read(1 << 16)
    for encoding in ("utf-8", "utf-16"):
        try:
            text = start.decode(encoding, errors="ignore")
        except LookupError:  # pragma: no cover - both codecs always exist
            continue
        if "<!doctype" in text.lower() or "<!entity" in text.lower():
            return True
    return False


def _unreadable_book(label: str, error: BaseException) -> Issue:
    """Name the failure by exception type only: openpyxl messages may quote cell text."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return Issue("contains unsafe XML (entities or a DTD)", label, fix=_SAVE_AS)
        cause = cause.__cause__ or cause.__context__
    name = type(error).__name__
    return Issue(f"cannot be read as an Excel workbook ({name})", label, fix=_SAVE_AS)


def _looks_like_text(p: Path) -> bool:
    with p.open("rb") as fh:
        start = fh.read(4096)
    if b"\x00" in start and not start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start > len(start) - 4  # a character cut at the end of the sample
    return True


# --------------------------------------------------------------------------- common


def _finish(header: list[str], body: pd.DataFrame, rows: np.ndarray, label: str) -> Table:
    """Check headings, drop blank columns/rows, and build the Table (or fail with all issues)."""
    issues: list[Issue] = []
    names = [h.strip().lstrip("\ufeff").strip() for h in header]
    keep: list[int] = []
    blank_row = np.ones(len(body), dtype=bool)
    for i, name in enumerate(names):
        col = body.iloc[:, i]
        empty = (col == "").to_numpy(dtype=bool)
        if name:
            keep.append(i)
            blank_row &= empty
        elif not empty.all():
            issues.append(
                Issue(
                    f"column {_letter(i)} has values but no heading",
                    label,
                    row=1,
                    fix="add a heading in row 1, or delete the column",
                )
            )
    issues.extend(_duplicate_headings(names, label))
    if not keep:
        issues.append(Issue("the heading row is blank", label, row=1, fix="add headings in row 1"))
    elif not issues and not (~blank_row).any():
        issues.append(
            Issue("has headings but no rows of data", label, fix="add at least one person")
        )
    if issues:
        raise _Failed(issues)
    frame = body.iloc[~blank_row, keep].copy()
    frame.columns = pd.Index([names[i] for i in keep], dtype="str")
    frame = frame.reset_index(drop=True).astype("str")
    return Table(frame=frame, file=label, rows=np.asarray(rows, dtype=np.int64)[~blank_row])


def _duplicate_headings(names: list[str], label: str) -> list[Issue]:
    """One issue per heading text used by more than one column, naming every position."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name:
            positions.setdefault(name, []).append(i)
    issues = []
    for name, where in positions.items():
        if len(where) > 1:
            letters = [_letter(i) for i in where]
            listed = ", ".join(letters[:-1]) + " and " + letters[-1]
            issues.append(
                Issue(
                    f"the same heading is used by columns {listed}",
                    label,
                    row=1,
                    column=name,
                    fix="rename or delete all but one of them",
                )
            )
    return issues


def _letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
