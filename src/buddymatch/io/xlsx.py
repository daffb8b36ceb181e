"""One worksheet of an XLSX workbook -> sparse text records, streamed and bounded.

Why not openpyxl's reader: a workbook is a zip of XML parts, and openpyxl (even
read-only) loads every shared string, parses every sheet's XML once at load
time, fills every missing row up to the highest row number (a row numbered near
10⁹ runs for minutes) and pads every row to its last column (cells in column
XFD cost 16,384 values per row).  Here each XML part is streamed through expat
and every limit is checked before anything is stored:

* row numbers at most 1,048,576 and columns at most XFD (Excel's own limits),
  rows in increasing order, at most 16,384 cells per row;
* at most ``ReadLimits.max_cells`` non-blank cells and ``max_rows`` rows;
* at most 32,767 characters per cell (Excel's limit);
* shared strings: only those the sheet uses are kept, and the strings part is
  read no further than the highest index used (millions of unused strings cost
  nothing); an index beyond ``max_shared_strings`` is refused;
* any DTD or entity declaration is refused (no entity expansion, no external
  fetch), behind the zip-level checks in :mod:`buddymatch.io.readers`.

Callers may rely on: :func:`read_sheet` returns ``[(row_number, {column: text})]``
for the non-blank rows in order (columns 0-based, text as a user would type it:
``3.0`` -> ``"3"``, dates ISO 8601, booleans ``TRUE``/``FALSE``), or raises
:class:`~buddymatch.errors.InputError` naming the file and what is wrong, never
quoting a cell.  Formulas give the value Excel last saved with the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from ..errors import InputError, Issue
from .limits import ReadLimits

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
EXCEL_MAX_TEXT = 32_767
MAX_STYLES = 65_536

SAVE_AS = "open it in Excel (or Google Sheets) and save it as .xlsx or CSV"
_REL_OFFICE = "/officeDocument"
_REL_STRINGS = "/sharedStrings"
_REL_STYLES = "/styles"
_REL_CHART = "/chartsheet"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{0,7})")
_CHUNK = 1 << 16

Records = list[tuple[int, dict[int, str]]]
ZIP_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,  # a corrupt deflate stream (found by the fuzz suite)
    EOFError,
    NotImplementedError,
)
"""What reading a damaged zip member can raise: each means "not a readable workbook"."""
_Row = dict[int, "Value"]


def _fail(label: str, message: str, fix: str | None = SAVE_AS) -> InputError:
    return InputError(issues=[Issue(message, label, fix=fix)])


# --------------------------------------------------------------------------- streaming XML


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _refuse_dtd(label: str) -> Callable[..., None]:
    def handler(*_: Any) -> None:
        raise _fail(label, "contains unsafe XML (entities or a DTD)")

    return handler


def stream_part(
    zf: zipfile.ZipFile,
    part: str,
    label: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Feed one zip member through expat in chunks; element names lose their prefix."""
    parser = expat.ParserCreate()
    refuse = _refuse_dtd(label)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = lambda name, attrs: start(_local(name), attrs)
    if end is not None:
        parser.EndElementHandler = lambda name: end(_local(name))
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        with zf.open(part) as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        raise _fail(label, "is damaged: a part of the workbook is not well-formed XML") from None
    except (KeyError, OSError, *ZIP_DAMAGE):
        raise _fail(label, "is damaged: not a readable Excel workbook") from None


def _attr(attrs: dict[str, str], name: str) -> str | None:
    """An attribute by local name (``r:id`` and ``id`` alike)."""
    if name in attrs:
        return attrs[name]
    for key, value in attrs.items():
        if _local(key) == name:
            return value
    return None


# --------------------------------------------------------------------------- workbook parts


@dataclass
class _Workbook:
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, relationship id)
    date1904: bool = False
    rels: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, part)


def _relationships(zf: zipfile.ZipFile, source: str, label: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, absolute part name) for ``source``'s ``_rels`` part."""
    folder, name = posixpath.split(source)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    out: dict[str, tuple[str, str]] = {}
    if rels_part not in zf.NameToInfo:
        return out

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and len(out) < MAX_STYLES:
            target = attrs.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(part))

    stream_part(zf, rels_part, label, start)
    return out


def _workbook(zf: zipfile.ZipFile, label: str) -> tuple[str, _Workbook]:
    package = _relationships(zf, "", label)
    part = next((p for t, p in package.values() if t.endswith(_REL_OFFICE)), "xl/workbook.xml")
    if part not in zf.NameToInfo:
        raise _fail(label, "is a zip file but not an Excel workbook")
    book = _Workbook()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet" and len(book.sheets) < MAX_STYLES:
            book.sheets.append((attrs.get("name", ""), _attr(attrs, "id") or ""))
        elif tag == "workbookPr":
            book.date1904 = attrs.get("date1904", "0").lower() in ("1", "true")

    stream_part(zf, part, label, start)
    book.rels = _relationships(zf, part, label)
    return part, book


def _choose_sheet(book: _Workbook, sheet: str | None, label: str) -> str:
    """The part name of the requested (or first) worksheet."""
    names = [name for name, _ in book.sheets]
    if not names:
        raise _fail(label, "the workbook has no sheets")
    if sheet is not None and sheet not in names:
        listed = ", ".join(f'"{n}"' for n in names)
        raise _fail(
            label,
            f'has no sheet "{sheet}"; its sheets are {listed}',
            "give one of these sheet names",
        )
    _, rel = book.sheets[names.index(sheet) if sheet is not None else 0]
    kind, part = book.rels.get(rel, ("", ""))
    if kind.endswith(_REL_CHART):
        raise _fail(label, "the chosen sheet is a chart, not a table")
    return part


@dataclass
class _Styles:
    dates: set[int] = field(default_factory=set)
    durations: set[int] = field(default_factory=set)


def _styles(zf: zipfile.ZipFile, part: str | None, label: str) -> _Styles:
    """Which cell style indices format numbers as dates or durations."""
    from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format

    styles = _Styles()
    if part is None or part not in zf.NameToInfo:
        return styles
    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt" and len(custom) < MAX_STYLES:
            custom[_int(attrs.get("numFmtId"), label)] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            depth["cellXfs"] += 1
        elif tag == "xf" and depth["cellXfs"] and len(formats) < MAX_STYLES:
            formats.append(_int(attrs.get("numFmtId", "0"), label))

    def end(tag: str) -> None:
        if tag == "cellXfs":
            depth["cellXfs"] -= 1

    stream_part(zf, part, label, start, end)
    for index, number in enumerate(formats):
        code = custom.get(number) or builtin_format_code(number) or ""
        if is_date_format(code):
            styles.dates.add(index)
        if is_timedelta_format(code):
            styles.durations.add(index)
    return styles


def _int(text: str | None, label: str) -> int:
    try:
        return int(text or "0")
    except ValueError:
        raise _fail(label, "is damaged: a number in the workbook's XML is not a number") from None


# --------------------------------------------------------------------------- the sheet


@dataclass
class _Cell:
    column: int
    kind: str
    style: int
    text: list[str] = field(default_factory=list)
    size: int = 0


class _SheetReader:
    """expat handlers for one worksheet; every limit is checked before a cell is stored."""

    def __init__(self, label: str, limits: ReadLimits, styles: _Styles, date1904: bool) -> None:
        self.label = label
        self.limits = limits
        self.styles = styles
        self.date1904 = date1904
        self.records: list[tuple[int, _Row]] = []
        self.row: _Row = {}
        self.row_number = 0
        self.cells_in_row = 0
        self.column = -1
        self.cell: _Cell | None = None
        self.collect = False  # inside <v>, or a <t> of an inline string (not phonetic)
        self.phonetic = 0
        self.stored = 0
        self.string_refs: list[tuple[_Row, int, int]] = []  # (row, column, string index)

    # --- handlers

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            self._start_row(attrs)
        elif tag == "c":
            self._start_cell(attrs)
        elif self.cell is not None:
            if tag == "rPh":
                self.phonetic += 1
            elif tag == "v" or (tag == "t" and not self.phonetic):
                self.collect = True

    def end(self, tag: str) -> None:
        if tag in ("v", "t"):
            self.collect = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            self._end_cell()
        elif tag == "row":
            self._end_row()

    def text(self, data: str) -> None:
        if self.collect and self.cell is not None:
            self.cell.size += len(data)
            if self.cell.size > EXCEL_MAX_TEXT:
                raise _fail(
                    self.label,
                    f"row {self.row_number}: a cell holds more than {EXCEL_MAX_TEXT:,} "
                    "characters (Excel's limit)",
                )
            self.cell.text.append(data)

    # --- rows and cells

    def _start_row(self, attrs: dict[str, str]) -> None:
        given = attrs.get("r")
        number = _int(given, self.label) if given else self.row_number + 1
        if not self.row_number < number <= EXCEL_MAX_ROW:
            raise _fail(self.label, _bad_row(number, self.row_number))
        self.row_number, self.row, self.cells_in_row, self.column = number, {}, 0, -1

    def _end_row(self) -> None:
        if not self.row:
            return
        self.records.append((self.row_number, self.row))
        if len(self.records) - 1 > self.limits.max_rows:
            raise _fail(
                self.label,
                f"has more than {self.limits.max_rows:,} rows",
                "split it into several files, or raise ReadLimits.max_rows",
            )

    def _start_cell(self, attrs: dict[str, str]) -> None:
        self.cells_in_row += 1
        column = _column(attrs.get("r"), self.column + 1, self.label)
        if self.cells_in_row > EXCEL_MAX_COLUMN or column >= EXCEL_MAX_COLUMN:
            raise _fail(
                self.label,
                f"row {self.row_number}: has cells beyond Excel's last column (XFD)",
            )
        if self.row_number == 0:  # a cell outside any <row>
            raise _fail(self.label, "is damaged: a cell lies outside any row")
        self.column = column
        self.cell = _Cell(column, attrs.get("t", "n"), _int(attrs.get("s", "0"), self.label))

    def _end_cell(self) -> None:
        cell, self.cell = self.cell, None
        if cell is None or not cell.text:
            return
        self.stored += 1
        if self.stored > self.limits.max_cells:
            raise _fail(
                self.label,
                f"has more than {self.limits.max_cells:,} non-blank cells",
                "split it into several files, or raise ReadLimits.max_cells",
            )
        raw = "".join(cell.text)
        if cell.kind == "s":  # resolved once the sheet is read: see _shared_strings
            self.row[cell.column] = ""
            self.string_refs.append((self.row, cell.column, _int(raw.strip(), self.label)))
            return
        value = _value(raw, cell.kind, cell.style, self.styles, self.date1904)
        if value is not None and value != "":
            self.row[cell.column] = value


def _bad_row(number: int, previous: int) -> str:
    if number > EXCEL_MAX_ROW:
        return f"declares row {number:,}, beyond Excel's last row ({EXCEL_MAX_ROW:,})"
    return f"is damaged: row {number:,} comes after row {previous:,} (rows must increase)"


def _column(ref: str | None, default: int, label: str) -> int:
    """0-based column of a cell reference such as ``B5`` (``default`` when absent)."""
    if not ref:
        return default
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        raise _fail(label, "is damaged: a cell reference is not like A1")
    index = 0
    for letter in match.group(1).upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


# --------------------------------------------------------------------------- shared strings


def _shared_strings(
    zf: zipfile.ZipFile, part: str | None, wanted: set[int], label: str, limits: ReadLimits
) -> dict[int, str]:
    """The shared strings whose index is in ``wanted``; the part is read only that far."""
    if not wanted:
        return {}
    last = max(wanted)
    if last >= limits.max_shared_strings:
        raise _fail(
            label,
            f"refers to shared string {last:,}, over the limit of {limits.max_shared_strings:,}",
            "save it as CSV, or raise ReadLimits.max_shared_strings",
        )
    reader = _StringReader(wanted, last)
    if part is not None and part in zf.NameToInfo:
        with contextlib.suppress(_Done):
            stream_part(zf, part, label, reader.start, reader.end, reader.text)
    if len(reader.found) < len(wanted):
        raise _fail(label, "is damaged: a cell refers to a shared string that does not exist")
    return reader.found


class _StringReader:
    """expat handlers keeping only the wanted ``<si>`` items (phonetic runs left out)."""

    def __init__(self, wanted: set[int], last: int) -> None:
        self.wanted, self.last = wanted, last
        self.found: dict[int, str] = {}
        self.index = -1
        self.collect = False
        self.phonetic = 0
        self.buffer: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "si":
            self.index += 1
            self.buffer.clear()
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.collect = self.index in self.wanted

    def end(self, tag: str) -> None:
        if tag == "t":
            self.collect = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si" and self.index in self.wanted:
            self.found[self.index] = "".join(self.buffer)
            if self.index >= self.last:
                raise _Done

    def text(self, data: str) -> None:
        if self.collect:
            self.buffer.append(data)


class _Done(Exception):
    """Internal: every wanted shared string has been read."""


# --------------------------------------------------------------------------- values


Value = str | int | float | bool


def _value(raw: str, kind: str, style: int, styles: _Styles, date1904: bool) -> Value | None:
    """A cell's stored text -> its value: text, a number, a bool, or a date as ISO text."""
    if kind in ("str", "inlineStr", "e"):
        return raw
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind == "d":
        return _iso(raw)
    return _number(raw.strip(), style, styles, date1904)


def _number(raw: str, style: int, styles: _Styles, date1904: bool) -> Value | None:
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return raw
    if style in styles.dates:
        return _date_text(value, style in styles.durations, date1904)
    if "." not in raw and "e" not in raw.lower() and abs(value) < 2**63:
        return int(value) if value.is_integer() else value
    return value


def _date_text(value: float, duration: bool, date1904: bool) -> str:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    try:
        moment = from_excel(value, epoch, timedelta=duration)
    except (OverflowError, ValueError):
        return "#VALUE!"
    return cell_text(moment)


def _iso(raw: str) -> str:
    from openpyxl.utils.datetime import from_ISO8601

    try:
        return cell_text(from_ISO8601(raw.strip()))
    except (ValueError, TypeError, OverflowError):
        return raw


def as_text(value: Value) -> str:
    """A value as a user would type it: 3.0 -> "3", booleans TRUE/FALSE (profiles' form)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    return str(value)


def cell_text(value: object) -> str:
    """A date, time or duration as ISO 8601 text (midnight datetimes as dates)."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- entry point


def read_sheet(zf: zipfile.ZipFile, label: str, sheet: str | None, limits: ReadLimits) -> Records:
    """The non-blank rows of one worksheet as ``(row number, {column: text})``."""
    return [
        (number, {col: as_text(value) for col, value in cells.items()})
        for number, cells in read_sheet_values(zf, label, sheet, limits)
    ]


def read_sheet_values(
    zf: zipfile.ZipFile, label: str, sheet: str | None, limits: ReadLimits
) -> list[tuple[int, dict[int, Value]]]:
    """The non-blank rows of one worksheet with typed values (numbers, bools, text)."""
    _, book = _workbook(zf, label)
    part = _choose_sheet(book, sheet, label)
    if part not in zf.NameToInfo:
        raise _fail(label, "is damaged: the sheet's part is missing from the workbook")
    rels = book.rels
    styles_part = next((p for t, p in rels.values() if t.endswith(_REL_STYLES)), None)
    reader = _SheetReader(label, limits, _styles(zf, styles_part, label), book.date1904)
    stream_part(zf, part, label, reader.start, reader.end, reader.text)
    strings_part = next((p for t, p in rels.values() if t.endswith(_REL_STRINGS)), None)
    wanted = {index for _, _, index in reader.string_refs}
    strings = _shared_strings(zf, strings_part, wanted, label, limits)
    for row, col, index in reader.string_refs:
        row[col] = strings[index]
    out: list[tuple[int, dict[int, Value]]] = []
    for number, cells in reader.records:
        kept = {col: value for col, value in cells.items() if value != ""}
        if kept:
            out.append((number, kept))
    return out


def sheet_names(zf: zipfile.ZipFile, label: str) -> list[str]:
    """The workbook's sheet names in order."""
    return [name for name, _ in _workbook(zf, label)[1].sheets]


__all__ = [
    "EXCEL_MAX_COLUMN",
    "EXCEL_MAX_ROW",
    "EXCEL_MAX_TEXT",
    "ZIP_DAMAGE",
    "as_text",
    "cell_text",
    "read_sheet",
    "read_sheet_values",
    "sheet_names",
]
