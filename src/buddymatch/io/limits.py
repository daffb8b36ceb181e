"""The bounds every data file is read within (profiles, side files, results workbooks).

Why a module of its own: the CSV reader, the XLSX reader and the results reader
all check these, and none of them should import another just for the numbers.
docs/security.md lists every limit and how to change it (``ReadLimits(...)``
passed to :func:`buddymatch.load_problem`, ``validate``, ``match`` or ``score``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep a hostile or mistaken file from exhausting memory or time."""

    max_bytes: int = 200 * 1024**2
    """Size of one file on disk."""
    max_rows: int = 2_000_000
    """Data rows in one file."""
    max_cells: int = 20_000_000
    """Rows × columns of one table (CSV: lines × headings, checked before parsing)."""
    max_xlsx_uncompressed: int = 1024**3
    """Total unpacked size of an XLSX workbook's parts."""
    max_xlsx_ratio: float = 200.0
    """Unpacked / packed size of a workbook over 8 MB unpacked (zip bombs)."""
    max_shared_strings: int = 5_000_000
    """Highest XLSX shared-string index a sheet may use."""


DEFAULT_LIMITS = ReadLimits()

__all__ = ["DEFAULT_LIMITS", "ReadLimits"]
