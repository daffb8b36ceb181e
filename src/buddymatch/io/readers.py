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
import io
import itertools
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from buddymatch.errors import InputError, Issue

from ..files import open_regular, regular_file_issue
from .limits import DEFAULT_LIMITS, ReadLimits
from .xlsx import ZIP_DAMAGE, read_sheet

_TEXT_EXT = {".csv", ".tsv", ".txt"}
_BOOK_EXT = {".xlsx", ".xlsm"}
_OTHER_SHEETS = {".xls", ".ods", ".numbers", ".xlsb"}
_DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MB = 1024**2
_RATIO_FLOOR = 8 * _MB  # small workbooks may compress very well; only big ones are guarded
_MAX_LISTED = 20  # at most this many ragged-row issues per file, then a summary
_GIVE = "give a .csv or .xlsx file"
_SAVE_AS = "open it in Excel (or Google Sheets) and save it as .xlsx or CSV"


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
    path: str | Path,
    *,
    sheet: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    allow_empty: bool = False,
) -> Table:
    """Read one CSV or XLSX file; raise one ``InputError`` listing all its problems.

    ``sheet`` names the worksheet of an XLSX file (default: the first); CSV files
    ignore it.  Formulas give the value Excel last saved with the file.  With
    ``allow_empty`` a file of headings and no rows is a table with no records
    (side files such as an empty forbid list), else it is an error.
    """
    try:
        return _read(path, sheet, limits, allow_empty)
    except _Failed as failed:
        raise InputError(issues=failed.issues) from None


def read_tables(
    paths: Sequence[str | Path], *, sheet: str | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> list[Table]:
    """Read every file; if any fails, raise one ``InputError`` with the issues of all files."""
    tables: list[Table] = []
    issues: list[Issue] = []
    for path in paths:
        try:
            tables.append(_read(path, sheet, limits, False))
        except _Failed as failed:
            issues.extend(failed.issues)
    if issues:
        raise InputError(issues=issues)
    return tables


# --------------------------------------------------------------------------- dispatch


def _read(path: str | Path, sheet: str | None, limits: ReadLimits, allow_empty: bool) -> Table:
    label = os.fspath(path)
    p = Path(path)
    issue = regular_file_issue(p, label, _GIVE)  # before open(): a FIFO would block
    if issue is not None:
        raise _Failed([issue])
    ext = _extension(p, label)
    try:
        with open_regular(p, label, fix=_GIVE) as handle:
            size = os.fstat(handle.fileno()).st_size
            _check_size(size, label, limits)
            if ext in _BOOK_EXT:
                header, body, rows = _read_xlsx(handle, label, sheet, limits)
            else:
                header, body, rows = _read_csv(handle.read(limits.max_bytes + 1), label, limits)
    except InputError as exc:
        raise _Failed(list(exc.issues)) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _Failed([Issue(f"cannot be read ({reason})", label)]) from None
    return _finish(header, body, rows, label, allow_empty)


def _extension(p: Path, label: str) -> str:
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
    return ext


def _check_size(size: int, label: str, limits: ReadLimits) -> None:
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


# --------------------------------------------------------------------------- CSV

_Parsed = tuple[list[str], pd.DataFrame, np.ndarray]


def _read_csv(data: bytes, label: str, limits: ReadLimits) -> _Parsed:
    _check_size(len(data), label, limits)  # the file may have grown since fstat
    _refuse_binary_formats(data[:8], label)
    payload = _to_utf8(data, label)
    del data
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
    width = _heading_width(payload, delimiter)
    _check_cells(payload, width, label, limits)
    raw = _parse_csv(payload, delimiter, label, skipped, limits)
    if len(raw) - 1 > limits.max_rows:
        raise _Failed([_too_many_rows(label, limits)])
    header = [str(h) for h in raw.iloc[0].tolist()]
    body = raw.iloc[1:].reset_index(drop=True)
    rows = np.arange(skipped + 2, skipped + 2 + len(body), dtype=np.int64)
    _check_last_row(payload, delimiter, len(header), rows, label)
    return header, body, rows


def _refuse_binary_formats(head: bytes, label: str) -> None:
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


def _parse_csv(
    payload: bytes, delimiter: str, label: str, skipped: int, limits: ReadLimits
) -> pd.DataFrame:
    try:
        return pd.read_csv(
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


def _heading_width(payload: bytes, delimiter: str) -> int:
    """Fields in the heading record (its first line, however long)."""
    end = min((i for i in (payload.find(b"\n"), payload.find(b"\r")) if i >= 0), default=-1)
    line = payload[: end if end >= 0 else len(payload)].decode("utf-8", errors="ignore")
    try:
        first = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        return 1
    return max(1, len(first))


def _check_cells(payload: bytes, width: int, label: str, limits: ReadLimits) -> None:
    """Refuse before parsing a file whose lines × headings exceed ``max_cells``.

    The parser pads short rows to the heading's width, so a 1 MB file of a very
    wide heading and many one-value lines would otherwise allocate billions of cells.
    """
    lines = payload.count(b"\n") + (payload.count(b"\r") if b"\n" not in payload else 0) + 1
    if lines * width > limits.max_cells:
        raise _Failed(
            [
                Issue(
                    f"has {width:,} headings and {lines:,} lines: more than "
                    f"{limits.max_cells:,} cells",
                    label,
                    fix="split it into several files, or raise ReadLimits.max_cells",
                )
            ]
        )


def _check_last_row(
    payload: bytes, delimiter: str, width: int, rows: np.ndarray, label: str
) -> None:
    """A last record cut short (fewer values, no final line break) means a truncated file."""
    if not len(rows) or payload.endswith((b"\n", b"\r")):
        return
    start = _last_record_start(payload)
    text = payload[start:].decode("utf-8", errors="replace")
    try:
        record = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return  # pandas read it; the csv module's field limit is not a reason to refuse
    if len(record) < width and any(v.strip() for v in record):
        raise _Failed(
            [
                Issue(
                    f"the last row has {len(record)} of {width} values and the file ends "
                    "mid-line: it looks cut off",
                    label,
                    row=int(rows[-1]),
                    fix="export or copy the file again, complete",
                )
            ]
        )


def _last_record_start(payload: bytes) -> int:
    """Offset of the last record: the last line start outside a quoted value."""
    end = len(payload)
    quotes_after = 0
    total = payload.count(b'"')
    while True:
        start = max(payload.rfind(b"\n", 0, end), payload.rfind(b"\r", 0, end)) + 1
        quotes_after += payload.count(b'"', start, end)
        if start == 0 or (total - quotes_after) % 2 == 0:
            return start
        end = start - 1


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
    issues = _ragged_rows(text, delimiter, label, skipped)
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


def _ragged_rows(text: str, delimiter: str, label: str, skipped: int) -> list[Issue]:
    """Duplicate headings and rows with more values than headings (at most _MAX_LISTED)."""
    issues: list[Issue] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = extra = 0
    number = skipped
    try:
        for number, record in enumerate(reader, start=skipped + 1):
            if number == skipped + 1:
                width = len(record)
                issues.extend(_duplicate_headings([h.strip() for h in record], label))
            elif len(record) > width and len(issues) < _MAX_LISTED:
                issues.append(_too_many_values(len(record), width, delimiter, label, number))
            elif len(record) > width:
                extra += 1
    except csv.Error:  # e.g. a value over the csv module's 128 KiB field limit
        issues.append(
            Issue(
                "a value is over 131,072 characters long, or its quotes are broken",
                label,
                row=number + 1,
                fix='check for a stray double quote (")',
            )
        )
    if extra:
        issues.append(Issue(f"{extra} more rows have more values than headings", label))
    return issues


def _too_many_values(count: int, width: int, delimiter: str, label: str, row: int) -> Issue:
    return Issue(
        f"has {count} values but there are {width} headings",
        label,
        row=row,
        fix="a value probably contains an unquoted "
        f"{_delimiter_name(delimiter)}: put it in double quotes, "
        "or add the missing heading",
    )


def _delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[d]


def _too_many_rows(label: str, limits: ReadLimits) -> Issue:
    return Issue(
        f"has more than {limits.max_rows:,} rows",
        label,
        fix="split it into several files, or raise ReadLimits.max_rows",
    )


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(handle: BinaryIO, label: str, sheet: str | None, limits: ReadLimits) -> _Parsed:
    head = handle.read(4096)
    handle.seek(0)
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
        looks_text = _looks_like_text(head)
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
    try:
        with zipfile.ZipFile(handle) as zf:
            guard_zip(zf, label, limits)
            records = read_sheet(zf, label, sheet, limits)
    except ZIP_DAMAGE:
        raise _Failed(
            [Issue("is damaged: not a readable Excel workbook", label, fix=_SAVE_AS)]
        ) from None
    if not records:
        raise _Failed([Issue("the sheet is empty (no headings)", label)])
    return _sparse_table(records, label, limits)


def _sparse_table(
    records: list[tuple[int, dict[int, str]]], label: str, limits: ReadLimits
) -> _Parsed:
    """Header, body and row numbers from sparse rows; only columns holding a value are built.

    A stray cell in column XFD adds one column, not 16,384.  Columns keep their
    spreadsheet letter in messages through the frame's integer column labels.
    """
    columns = sorted({c for _, cells in records for c in cells})
    if len(records) * len(columns) > limits.max_cells:
        raise _Failed(
            [
                Issue(
                    f"has {len(records):,} rows × {len(columns):,} columns: more than "
                    f"{limits.max_cells:,} cells",
                    label,
                    fix="split it into several files, or raise ReadLimits.max_cells",
                )
            ]
        )
    header = [records[0][1].get(c, "") for c in columns]
    data = {c: [cells.get(c, "") for _, cells in records[1:]] for c in columns}
    body = pd.DataFrame(data, columns=columns, dtype="str")
    numbers = np.asarray([n for n, _ in records[1:]], dtype=np.int64)
    return header, body, numbers


def guard_zip(zf: zipfile.ZipFile, label: str, limits: ReadLimits) -> None:
    """Refuse zip bombs and XML DTDs before anything big is decompressed (InputError)."""
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise InputError(
            issues=[Issue("is a zip file but not an Excel workbook", label, fix=_SAVE_AS)]
        )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_xlsx_uncompressed:
        raise InputError(
            issues=[
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
        raise InputError(
            issues=[
                Issue(
                    f"is compressed {ratio:.0f} times (limit {limits.max_xlsx_ratio:.0f}); "
                    "refusing it as a possible zip bomb",
                    label,
                    fix=_SAVE_AS,
                )
            ]
        )
    if any(i.filename.endswith((".xml", ".rels")) and _has_dtd(zf, i) for i in infos):
        raise InputError(
            issues=[
                Issue(
                    "contains an XML document type declaration, which Excel never "
                    "writes; refusing it as unsafe",
                    label,
                    fix=_SAVE_AS,
                )
            ]
        )


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


def _looks_like_text(start: bytes) -> bool:
    if b"\x00" in start and not start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start > len(start) - 4  # a character cut at the end of the sample
    return True


# --------------------------------------------------------------------------- common


def _finish(
    header: list[str], body: pd.DataFrame, rows: np.ndarray, label: str, allow_empty: bool = False
) -> Table:
    """Check headings, drop blank columns/rows, and build the Table (or fail with all issues).

    ``body``'s column labels are the 0-based spreadsheet column of each column
    (messages name them by letter).
    """
    issues: list[Issue] = []
    names = [h.strip().lstrip("\ufeff").strip() for h in header]
    letters = [_letter(int(c)) for c in body.columns]
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
                    f"column {letters[i]} has values but no heading",
                    label,
                    row=1,
                    fix="add a heading in row 1, or delete the column",
                )
            )
    issues.extend(_duplicate_headings(names, label, letters))
    if issues and any(looks_like_data(n) for n in names):
        issues = [_no_heading_row(label)]  # never echo what is probably a person's row
    if not keep:
        issues.append(Issue("the heading row is blank", label, row=1, fix="add headings in row 1"))
    elif not issues and not allow_empty and not (~blank_row).any():
        issues.append(
            Issue("has headings but no rows of data", label, fix="add at least one person")
        )
    if issues:
        raise _Failed(issues)
    frame = body.iloc[~blank_row, keep].copy()
    frame.columns = pd.Index([names[i] for i in keep], dtype="str")
    frame = frame.reset_index(drop=True).astype("str")
    return Table(frame=frame, file=label, rows=np.asarray(rows, dtype=np.int64)[~blank_row])


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def looks_like_data(text: str) -> bool:
    """Whether a heading holds an e-mail address or is a number: then it is not echoed.

    Row 1 of a file without headings is a person's row; messages that would list
    the file's headings leave such cells out.
    """
    return bool(_EMAIL.search(text) or _NUMBER_TEXT.fullmatch(text.strip()))


def _no_heading_row(label: str) -> Issue:
    return Issue(
        "row 1 does not look like a heading row (it holds e-mail addresses or numbers)",
        label,
        row=1,
        fix="add a row of column headings above the data",
    )


def _duplicate_headings(
    names: list[str], label: str, letters: Sequence[str] | None = None
) -> list[Issue]:
    """One issue per heading text used by more than one column, naming every position."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name:
            positions.setdefault(name, []).append(i)
    issues = []
    for name, where in positions.items():
        if len(where) > 1:
            shown = [letters[i] if letters is not None else _letter(i) for i in where]
            listed = ", ".join(shown[:-1]) + " and " + shown[-1]
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
