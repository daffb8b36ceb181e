"""Write a run's tables and summary as the output folder other tools read; read it back.

What callers may rely on:

* **Atomic.**  :func:`write_results` builds the whole folder in a hidden sibling
  (``.<name>.tmp-XXXXXXXX``), fsyncs it, then renames it into place.  Readers see
  the old folder or the complete new one, never a half-written one; on any error
  the old content is untouched and the staging folder is removed.  With ``force``
  the old folder is renamed aside, the new one renamed in, then the old deleted.
  An existing *empty* folder is kept (a shell may sit in it) and filled with the
  staged files, ``summary.json`` last.  :func:`write_csv` and :func:`write_json`
  replace single files the same way (temp file in the same folder + ``os.replace``).
* **Formula-safe.**  Every *text* cell (and heading) starting with ``= + - @``,
  tab or CR gets a leading ``'`` (OWASP CSV-injection advice).  Numbers stay
  numbers: ``-3`` in a numeric column is written as ``-3``.  XLSX text cells are
  always stored as strings, never as formulas or error codes.  Text that already
  looks neutralised (``'=x``) gets one more ``'``, so :func:`unneutralise` is the
  exact inverse, and :func:`read_results` gives back every text cell as it was.
* **Deterministic bytes.**  Same tables => byte-identical files.  CSV is plain
  UTF-8 without a BOM (Excel users: *Data > From Text/CSV* reads it correctly;
  the ``xlsx`` format is there for double-click opening), ``\\n`` line endings,
  minimal quoting, no index.  Floats use the shortest text that reads back to the
  same float, never in exponent form (``0.00001``, ``1.0``); rounding scores for
  display is the caller's job.  Bools are ``true``/``false``, missing values are
  empty cells, lists are joined with ``;`` and sets are sorted first.  XLSX
  workbooks have pinned document dates and a normalised zip (sorted entries,
  1980-01-01 entry dates, deflate level 6); identical across runs with the same
  zlib.
* **Stable layout.**  CSV form: ``<table>.csv`` per table plus ``summary.json``.
  XLSX form: one ``results.xlsx`` (a sheet per table, then a ``summary`` sheet of
  key/value rows) plus ``summary.json``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from buddymatch.errors import ConfigError, InputError, Issue

from ..files import open_regular, read_regular
from .atomic import (
    commit_folder,
    fsync_dir,
    sibling,
    write_atomic,
    write_new_file,
)
from .limits import DEFAULT_LIMITS

Cell = str | int | float | bool | None
"""A normalised cell: what both the CSV and the XLSX writer consume."""

FORMATS = ("csv", "xlsx")
XLSX_NAME = "results.xlsx"
SUMMARY_JSON = "summary.json"
SUMMARY_SHEET = "summary"
TABLE_ORDER = ("matches", "groups", "group_summary", "unmatched")
"""Known tables come first (workbook sheet order); other tables follow by name."""

_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,31}")
_ID_COLUMN = re.compile(r"(?:.*_)?id|member_[a-z]")
_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT_TEXT = re.compile(r"-?[0-9]+\.[0-9]+")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_PINNED_DATE = datetime(1980, 1, 1)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


# --------------------------------------------------------------------------- cells


def neutralise(value: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``= + - @``, tab, CR).

    Text that already looks neutralised (``'=x``, ``''+x``) gets one more ``'``, so
    :func:`unneutralise` is its exact inverse: ids written to history.csv or
    matches.csv read back as the very ids of the profiles.
    """
    return "'" + value if value.lstrip("'").startswith(_DANGEROUS_PREFIXES) else value


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise` exactly (``'=x`` -> ``=x``, ``''=x`` -> ``'=x``, ``'x`` stays).

    Used wherever buddymatch reads ids back from a file it may have written
    (history, forbid, lock and pairwise files; ``explain`` on a results folder).
    """
    if text.startswith("'") and text.lstrip("'").startswith(_DANGEROUS_PREFIXES):
        return text[1:]
    return text


def _scalar(value: Any) -> Cell:
    """One value of any column as a :data:`Cell`; text is neutralised here, once."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool | int | str):
        return neutralise(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, set | frozenset):
        return neutralise(";".join(sorted(str(v) for v in value)))
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(v) for v in value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(str(value))


def _column_cells(series: pd.Series) -> list[Cell]:
    """The cells of one column; plain numpy numeric columns take a fast path."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return list(series.tolist())
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [None if math.isnan(v) else v for v in series.tolist()]
    return [_scalar(v) for v in series.astype(object).tolist()]


def _format_float(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return np.format_float_positional(value, unique=True, trim="0")


def _cell_text(cell: Cell) -> str:
    """The CSV text of a cell (the inverse of :func:`_parse_text`)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return _format_float(cell)
    return cell


def _headings(frame: pd.DataFrame) -> list[str]:
    return [neutralise(str(c)) for c in frame.columns]


# ----------------------------------------------------------------------------- CSV


def _csv_field(text: str) -> str:
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_line(fields: Sequence[str]) -> str:
    if len(fields) == 1 and fields[0] == "":
        return '""\n'  # a lone empty field must not look like a blank line
    return ",".join(_csv_field(f) for f in fields) + "\n"


def _column_fields(series: pd.Series) -> list[str]:
    """The CSV fields of one column (cell text, quoted where needed).

    The same text as ``_cell_text`` of each of ``_column_cells``; numbers are
    formatted once per distinct value (a column of scores repeats a few hundred).
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return ["true" if v else "false" for v in series.tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return [str(v) for v in series.tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = series.to_numpy(dtype=np.float64)
        _, first, inverse = np.unique(  # by bit pattern: -0.0 and 0.0 stay apart
            values.view(np.int64), return_index=True, return_inverse=True
        )
        texts = ["" if math.isnan(v) else _format_float(v) for v in values[first].tolist()]
        return [texts[k] for k in inverse.reshape(-1).tolist()]
    cells = series.tolist()
    if all(type(v) is str for v in cells):  # the common case: plain text, neutralised
        return [_csv_field(neutralise(v)) for v in cells]
    return [_csv_field(_cell_text(c)) for c in _column_cells(series)]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The exact bytes :func:`write_csv` writes for ``frame`` (the index is not written)."""
    if len(frame.columns) == 0:
        return b""
    columns = [_column_fields(frame.iloc[:, i]) for i in range(frame.shape[1])]
    lines = [_csv_line(_headings(frame))]
    if len(columns) == 1:
        lines.extend('""\n' if v == "" else v + "\n" for v in columns[0])
    else:
        lines.extend(",".join(row) + "\n" for row in zip(*columns, strict=True))
    return "".join(lines).encode("utf-8")


# ---------------------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/inf -> None, sets sorted."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Enum):
        value = value.value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path | Decimal):
        return str(value)
    raise TypeError(f"summary value of type {type(value).__name__} cannot be written as JSON")


def json_bytes(data: Mapping[str, Any]) -> bytes:
    """The exact bytes :func:`write_json` writes: sorted keys, indent 2, trailing newline."""
    text = json.dumps(
        _jsonable(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


# ---------------------------------------------------------------------------- XLSX


def _xlsx_value(cell: Cell) -> Cell:
    if isinstance(cell, str):
        return _XLSX_ILLEGAL.sub("\ufffd", cell) or None
    if isinstance(cell, float) and not math.isfinite(cell):
        return None  # Excel has no NaN or infinity
    return cell


def _fill_sheet(ws: Any, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """Write rows so that every str lands as a string cell (never a formula or error)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    widths = [len(h) for h in header]
    bold = Font(bold=True)
    for r, row in enumerate([list(header), *rows], start=1):
        for c, raw in enumerate(row, start=1):
            value = _xlsx_value(raw)
            cell = ws.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would make "=..." a formula, "#N/A" an error
                widths[c - 1] = max(widths[c - 1], min(len(value), 60))
            if r == 1:
                cell.font = bold
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width + 2
    ws.freeze_panes = "A2"


def _summary_rows(summary: Mapping[str, Any]) -> list[tuple[Cell, Cell]]:
    rows: list[tuple[Cell, Cell]] = []
    for key, value in sorted(_jsonable(summary).items()):
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False)
        rows.append((neutralise(key), neutralise(value) if isinstance(value, str) else value))
    return rows


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with sorted entries, fixed dates and attributes, pinned core.xml dates."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in sorted(src.namelist()):
            payload = src.read(name)
            if name == "docProps/core.xml":
                payload = _CORE_DATES.sub(rb"\g<1>1980-01-01T00:00:00Z\g<3>", payload)
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, payload, compresslevel=6)
    return out.getvalue()


def xlsx_bytes(tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any]) -> bytes:
    """The exact bytes of ``results.xlsx``: a sheet per table, then a ``summary`` sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in _ordered(tables):
        columns = [_column_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
        _fill_sheet(wb.create_sheet(name), _headings(frame), zip(*columns, strict=True))
    _fill_sheet(wb.create_sheet(SUMMARY_SHEET), ["key", "value"], _summary_rows(summary))
    wb.properties.creator = "buddymatch"
    wb.properties.created = _PINNED_DATE
    wb.properties.modified = _PINNED_DATE
    buffer = io.BytesIO()
    wb.save(buffer)  # stamps "now" into core.xml and the zip; _normalise_zip pins both
    return _normalise_zip(buffer.getvalue())


# ------------------------------------------------------------------ atomic writing


def _ordered(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    """Tables in a fixed order; names must be usable as file and sheet names."""
    for name in tables:
        if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name) or name == SUMMARY_SHEET:
            raise ValueError(f"table name {name!r} must be 1-31 of [A-Za-z0-9_] and not 'summary'")
    rank = {name: i for i, name in enumerate(TABLE_ORDER)}
    names = sorted(tables, key=lambda n: (rank.get(n, len(rank)), n))
    return [(n, tables[n]) for n in names]


@contextmanager
def os_errors(action: str) -> Iterator[None]:
    """Turn file-system failures (permissions, disk full) into :class:`InputError`.

    The CLI then prints ``Error: <action>: <reason>`` instead of a traceback.
    """
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise InputError(f"{action}: {reason}") from exc


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Replace ``path`` atomically with ``frame`` as formula-safe, deterministic CSV."""
    data = csv_bytes(frame)
    with os_errors(f'Cannot write "{path}"'):
        write_atomic(Path(path), data)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` atomically with ``data`` as JSON (sorted keys, NaN -> null)."""
    payload = json_bytes(data)
    with os_errors(f'Cannot write "{path}"'):
        write_atomic(Path(path), payload)


def _must_replace(target: Path, shown: str, force: bool) -> bool:
    """Whether ``target`` holds content to replace; refuse unless ``force``."""
    if os.path.lexists(target) and not target.is_dir():
        raise InputError(f'Output folder "{shown}" is a file — choose a folder path')
    if not target.is_dir() or not any(target.iterdir()):
        return False
    if not force:
        raise InputError(
            f'Output folder "{shown}" already exists and is not empty — '
            "choose another folder or pass --force to replace it"
        )
    return True


def write_results(
    out_dir: str | Path,
    tables: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any],
    *,
    fmt: str = "csv",
    force: bool = False,
    protect: Sequence[str | Path] = (),
) -> list[Path]:
    """Write the output folder atomically; return the paths written, sorted.

    ``fmt="csv"`` writes ``<table>.csv`` per table, ``fmt="xlsx"`` one
    ``results.xlsx``; both write ``summary.json``.  A non-empty folder is replaced
    only with ``force`` (else :class:`InputError`, exit code 2), and never when
    replacing it would delete one of the ``protect`` files (the run's inputs).
    The new folder appears with one rename (see :mod:`buddymatch.io.atomic`).
    """
    if fmt not in FORMATS:
        raise ConfigError(f'Unknown output format "{fmt}" — use one of: {", ".join(FORMATS)}')
    ordered = _ordered(tables)

    def files() -> dict[str, bytes]:
        if fmt == "csv":
            out = {f"{name}.csv": csv_bytes(frame) for name, frame in ordered}
        else:
            out = {XLSX_NAME: xlsx_bytes(dict(ordered), summary)}
        out[SUMMARY_JSON] = json_bytes(summary)
        return out

    return write_folder(out_dir, files, force=force, last=SUMMARY_JSON, protect=protect)


def write_folder(
    out_dir: str | Path,
    files: Mapping[str, bytes] | Callable[[], Mapping[str, bytes]],
    *,
    force: bool = False,
    last: str | None = None,
    protect: Sequence[str | Path] = (),
) -> list[Path]:
    """Write a folder of files atomically (the contract of :func:`write_results`).

    ``files`` maps file names to bytes (or is a function giving them, called
    once the folder is known to be writable).  The complete folder appears with
    one rename; the working folder (``-o .``), if empty, is filled with ``last``
    moved in last.  A non-empty folder is replaced only with ``force``, never
    when that would delete one of the ``protect`` files.  Returns the paths
    written, sorted.
    """
    shown = str(out_dir)
    target = Path(os.path.abspath(out_dir))  # "." has a name and a parent this way
    if target.parent == target:
        raise InputError(f'Output folder "{shown}" cannot be a file-system root')
    refuse_overwriting_inputs(target, protect, shown)
    with os_errors(f'Cannot write output folder "{shown}"'):
        _must_replace(target, shown, force)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = sibling(target, "tmp")
        os.mkdir(staging)
        try:
            content = dict(files() if callable(files) else files)
            for file_name, data in content.items():
                write_new_file(staging / file_name, data)
            fsync_dir(staging)
            commit_folder(staging, target, last or "")
        except BaseException:
            if os.path.lexists(staging):
                shutil.rmtree(staging, ignore_errors=True)
            raise
    return sorted(Path(out_dir) / name for name in content)


def _overwrites_input(shown: str, path: str | Path, same: bool) -> str:
    if same:
        return (
            f'"{shown}" is the input "{path}": writing there would replace it — choose '
            "another name for the output"
        )
    return (
        f'Output folder "{shown}" holds the input "{path}": writing there could delete it — '
        "choose a new folder for the results, e.g. -o results"
    )


def refuse_overwriting_inputs(target: Path, inputs: Sequence[str | Path], shown: str) -> None:
    """Refuse an output (folder or file) whose writing would delete one of the run's inputs.

    ``-o .`` or ``-o sample_data`` with ``--force`` would otherwise delete the
    profiles, the scheme or a history file sitting inside it.  A symlinked output
    folder is replaced as a link, never deleted through, so it is never refused.
    """
    if os.path.islink(target):
        return
    real = Path(os.path.realpath(target))
    for path in inputs:
        if isinstance(path, str | Path) and os.path.lexists(path):
            inside = Path(os.path.realpath(path))
            if inside == real or real in inside.parents:
                raise InputError(_overwrites_input(shown, path, inside == real))


# ------------------------------------------------------------------------- reading


def _parse_text(text: str) -> Cell:
    """A CSV cell back to a value; only text :func:`_cell_text` would produce is parsed."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT_TEXT.fullmatch(text) and text != "-0":
        number = int(text)
        if -(2**63) <= number < 2**63:
            return number
    if text in ("inf", "-inf"):
        return float(text)
    if _FLOAT_TEXT.fullmatch(text):
        real = float(text)
        if _format_float(real) == text:
            return real
    return text


def _is_id_column(name: str) -> bool:
    return bool(_ID_COLUMN.fullmatch(name))


def _series(name: str, cells: list[Cell], *, numbers_to_float: bool) -> pd.Series:
    """One column with the narrowest dtype that holds every cell exactly.

    Text loses the ``'`` neutralising added (:func:`unneutralise` is exact), so
    ``-17`` typed as text comes back as the text ``-17`` and the number -17 as a
    number.  Id columns (``id``, ``*_id``, ``member_a`` ...) are always text, so
    ``00123`` and ``123`` stay ids and ``explain`` finds them.  A column mixing
    kinds keeps each cell's own type (object dtype), so writing it again gives
    the same bytes.
    """
    if _is_id_column(name):
        ids = [None if c is None else unneutralise(_cell_text(c)) for c in cells]
        return pd.Series(ids, dtype="str")
    cells = [unneutralise(c) if isinstance(c, str) else c for c in cells]
    present = [c for c in cells if c is not None]
    kinds = {type(c) for c in present}
    missing = len(present) < len(cells)
    if numbers_to_float and kinds == {int, float}:
        kinds, cells = {float}, [None if c is None else float(c) for c in cells]
    if not present:
        return pd.Series([math.nan] * len(cells), dtype="float64")
    if kinds == {bool}:
        return pd.Series(cells, dtype="boolean" if missing else "bool")
    if kinds == {int}:
        return pd.Series(cells, dtype="Int64" if missing else "int64")
    if kinds == {float}:
        return pd.Series([math.nan if c is None else c for c in cells], dtype="float64")
    if kinds == {str}:
        return pd.Series(cells, dtype="str")
    return pd.Series(cells, dtype=object)


def _frame(header: list[str], columns: list[list[Cell]], *, numbers_to_float: bool) -> pd.DataFrame:
    data = {
        i: _series(name, cells, numbers_to_float=numbers_to_float)
        for i, (name, cells) in enumerate(zip(header, columns, strict=True))
    }
    frame = pd.DataFrame(data)
    frame.columns = pd.Index(header)
    return frame


_MAX_SUMMARY_BYTES = 16 * 1024**2


def _csv_rows(text: str) -> list[list[str]]:
    """Non-empty CSV records; NUL characters survive (Python 3.10's csv module refuses them)."""
    import csv

    if "\x00" not in text:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    stand_in = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    rows = csv.reader(io.StringIO(text.replace("\x00", stand_in), newline=""))
    return [[cell.replace(stand_in, "\x00") for cell in row] for row in rows if row]


def _read_csv(path: Path) -> pd.DataFrame:
    import csv

    data = read_regular(path, path.name, max_bytes=DEFAULT_LIMITS.max_bytes)
    try:
        rows = _csv_rows(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(issues=[Issue("is not UTF-8 text", file=path.name)]) from None
    except csv.Error:
        raise InputError(issues=[Issue("cannot be read as CSV", file=path.name)]) from None
    if not rows:
        return pd.DataFrame()
    header = [unneutralise(h) for h in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            message = f"has {len(row)} cells but the heading row has {len(header)}"
            raise InputError(issues=[Issue(message, file=path.name, row=number)])
    columns = [[_parse_text(row[i]) for row in rows[1:]] for i in range(len(header))]
    return _frame(header, columns, numbers_to_float=False)


def _read_xlsx(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet but ``summary``, read with the bounded reader of :mod:`.xlsx`."""
    from .readers import guard_zip
    from .xlsx import ZIP_DAMAGE, read_sheet_values, sheet_names

    limits = DEFAULT_LIMITS
    try:
        with open_regular(path, path.name) as handle, zipfile.ZipFile(handle) as zf:
            guard_zip(zf, path.name, limits)
            sheets = {
                name: read_sheet_values(zf, path.name, name, limits)
                for name in sheet_names(zf, path.name)
                if name != SUMMARY_SHEET
            }
    except ZIP_DAMAGE:
        message = "is damaged: not a readable Excel workbook"
        raise InputError(issues=[Issue(message, file=path.name)]) from None
    return {name: _sheet_frame(records) for name, records in sheets.items()}


def _sheet_frame(records: list[tuple[int, dict[int, Any]]]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame()
    width = max(max(cells) for _, cells in records) + 1
    rows = [[cells.get(c) for c in range(width)] for _, cells in records]
    header = ["" if h is None else unneutralise(str(h)) for h in rows[0]]
    columns = [[row[i] for row in rows[1:]] for i in range(width)]
    return _frame(header, columns, numbers_to_float=True)


def read_results(out_dir: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Read a folder written by :func:`write_results` (CSV or XLSX form) back.

    Returns ``(tables, summary)``.  ``results.xlsx`` wins when present, else every
    ``*.csv`` is a table named after its file.  Numbers, bools and missing cells
    come back typed; text (ids included) comes back exactly as the caller gave it
    (neutralising undone).  Writing the tables read back gives the same CSV bytes.
    Only regular files are read (a FIFO named ``summary.json`` is refused, not
    waited on), within the same limits as profiles.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise InputError(f'Results folder "{out_dir}" does not exist or is not a folder')
    summary_path = folder / SUMMARY_JSON
    if not os.path.lexists(summary_path):
        raise InputError(
            f'Results folder "{out_dir}" has no {SUMMARY_JSON} — '
            "pass a folder written by `buddymatch match`"
        )
    summary = _read_summary(summary_path)
    workbook = folder / XLSX_NAME
    if os.path.lexists(workbook):
        return _read_xlsx(workbook), summary
    csv_files = sorted(p for p in folder.glob("*.csv") if not p.name.startswith("."))
    return {p.stem: _read_csv(p) for p in csv_files}, summary


def _read_summary(path: Path) -> dict[str, Any]:
    data = read_regular(path, SUMMARY_JSON, max_bytes=_MAX_SUMMARY_BYTES)
    try:
        summary = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError(issues=[Issue("is not valid JSON", file=SUMMARY_JSON)]) from None
    if not isinstance(summary, dict):
        raise InputError(issues=[Issue("must hold a JSON object", file=SUMMARY_JSON)])
    return summary


__all__ = [
    "FORMATS",
    "SUMMARY_JSON",
    "XLSX_NAME",
    "csv_bytes",
    "json_bytes",
    "neutralise",
    "os_errors",
    "read_results",
    "unneutralise",
    "write_atomic",
    "write_csv",
    "write_folder",
    "write_json",
    "write_results",
    "xlsx_bytes",
]
