"""Availability answers -> one multi-valued attribute of time slots.

Forms ask about time in two layouts that the plain ``multi`` attribute cannot read:

- a **grid**: one multi-select column per day ("Which times are you unavailable?
  [Monday]", "[Tuesday]", ...) with the same tick boxes in each.  ``columns:
  {Mon: "... [Monday]", Tue: ...}`` combines them into values ``"Mon 9-11"``;
- an **unavailable** question: ``unavailable: true`` turns the ticked answers
  into every other slot, so "cannot meet Mon 9-11" becomes "can meet at every
  other time".  The slots are those listed in ``slots:`` or, without it, every
  answer seen in any of the columns, crossed with every day.  A blank cell then
  means available at every slot of that day.

Messages name file, row and column; they never quote a cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..errors import Issue
from ..model import AttributeData, AttributeSpec, text_key

Where = Callable[[np.ndarray], list[tuple[str, int]]]


def is_slot_attribute(spec: AttributeSpec) -> bool:
    """Whether the attribute needs this module (a grid, fixed slots or inverted answers)."""
    return spec.columns is not None or spec.slots is not None or spec.unavailable


def encode_slots(
    name: str,
    spec: AttributeSpec,
    cells: Mapping[str, pd.Series],
    where: Where,
    add: Callable[[Issue], None],
) -> AttributeData:
    """The attribute as a (rows × days·slots) boolean matrix with labels ``"Day slot"``.

    ``cells`` maps each day label (``""`` for a single column) to its raw column.
    Slots are ordered as listed in ``slots:``, else alphabetically; days as in
    ``columns:``.  With ``slots:`` an answer that is none of them is an input error.
    """
    assert spec.multi is not None  # AttributeSpec requires it for slot attributes
    aliases = {text_key(k): v for k, v in spec.aliases.items()}
    items = {day: _items(series, spec.multi, aliases) for day, series in cells.items()}
    slots = _slot_labels(spec, items)
    index = {text_key(s): k for k, s in enumerate(slots)}
    n = len(next(iter(cells.values()))) if cells else 0
    values = np.zeros((n, len(cells) * len(slots)), dtype=bool)
    headings = spec.headings
    for d, (day, found) in enumerate(items.items()):
        code = found.map(lambda v: index.get(text_key(v), -1)).to_numpy(dtype=np.int64)
        rows = found.index.to_numpy(dtype=np.int64)
        values[rows[code >= 0], d * len(slots) + code[code >= 0]] = True
        unknown = np.zeros(n, dtype=bool)
        unknown[rows[code < 0]] = True
        for f, r in where(unknown):
            add(
                Issue(
                    "an answer is not one of the slots listed in the scheme",
                    file=f,
                    row=r,
                    column=headings[day],
                    fix="slots: " + ", ".join(slots) + " (or add an alias)",
                )
            )
    if spec.unavailable:
        values = ~values
    labels = tuple(f"{day} {slot}" if day else slot for day in items for slot in slots)
    return AttributeData(name, "multi", values, labels)


def _items(series: pd.Series, sep: str, aliases: dict[str, str]) -> pd.Series:
    """Every ticked answer, trimmed and aliased, indexed by row position; blanks dropped."""
    parts = series.reset_index(drop=True).astype(str).str.split(re.escape(sep), regex=True)
    items = parts.explode().str.strip()
    if aliases:
        items = items.map(lambda v: aliases.get(text_key(v), v))
    return items[items.map(text_key) != ""]


def _slot_labels(spec: AttributeSpec, items: Mapping[str, pd.Series]) -> list[str]:
    """The slots: as listed in the scheme, or every answer seen (first spelling, sorted)."""
    first: dict[str, str] = {}
    if spec.slots is not None:
        for v in spec.slots:
            first.setdefault(text_key(v), v)
        return list(first.values())
    for found in items.values():
        for v in found.tolist():
            first.setdefault(text_key(v), v)
    return [first[k] for k in sorted(first)]
