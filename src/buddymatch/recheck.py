"""The output tables re-checked against the raw input: the scheme as written, the cells as read.

Why: :mod:`buddymatch.check` verifies a result against the parsed
:class:`~buddymatch.model.Problem`.  A mistake made while *parsing* (a forbid
file's first pair taken for a heading, an id matched in its spreadsheet-escaped
form, a scale value mapped to the wrong step, a duplicated key resolved the
wrong way) would be in the problem and so pass that check.  This module reads
the rules from the scheme mapping as the user gave it (top-level overrides
applied), the profile cells as text and the forbid, lock and history files
afresh, and checks the tables that are about to be written or shown (ids as
they appear there).  It shares no interpretation code with ``io/profiles.py``
or ``config.py``: only the cell reader (:func:`~buddymatch.io.readers.read_tables`),
the id normalisation (:func:`~buddymatch.model.text_key`) and the inverse of the
writers' formula neutralising.

What it checks (each where the scheme uses it): ``different``, ``same`` and
``gap`` on attributes read from one ``column``; ``forbid`` and ``lock`` (files
and ``pairs``); ``exclude`` (ids and attribute values); capacity and wants
(mentoring); the history cooldown (``matches.csv``/``history.csv``/``groups.csv``
layouts); cohorts' group sizes, ``at_least``/``at_most``/``exactly``/``not_alone``
and ``keep_together``/``keep_apart`` sets.  Forms it cannot read independently
(availability grids, requests by name, feedback files) are left to
:mod:`buddymatch.check`.  A cell it cannot interpret is not verified rather than
reported, so it never refuses a valid result; any break it finds is a bug and
raises :class:`~buddymatch.errors.SolverError` (nothing is written).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import SolverError
from .io.readers import read_tables
from .io.writers import unneutralise
from .model import RULE_TOLERANCE, RawInputs, text_key

MAX_REPORTED = 20
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
Unit = tuple[int, tuple[str, ...]]  # (round, ids); mentoring pairs are (mentor, mentee)


def recheck(raw: RawInputs | None, tables: Mapping[str, pd.DataFrame], directed: bool) -> None:
    """Raise :class:`SolverError` if the tables break a rule read from the raw input."""
    if raw is None:
        return
    units = _units(tables)
    if units is None:
        return
    grouped = "groups" in tables
    checker = _Raw(raw)
    problems = checker.rules(units, directed, grouped)
    problems += checker.side_pairs(units, directed, grouped)
    problems += checker.counts(units, directed, grouped)
    if problems:
        shown = problems[:MAX_REPORTED]
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise SolverError(
            "internal check against the raw input failed — the result breaks the scheme's "
            "rules as written and was not written; please report this as a bug:\n"
            + "\n".join(shown)
            + more
        )


def _units(tables: Mapping[str, pd.DataFrame]) -> list[Unit] | None:
    """Each round's pairs, trios or groups as written (ids as text)."""
    if "groups" in tables:
        g = tables["groups"]
        keys = ["round", *(["part"] if "part" in g.columns else []), "group"]
        return [
            (int(str(key[0])), tuple(str(x) for x in members["participant_id"]))
            for key, members in g.groupby(keys, sort=True)
        ]
    m = tables.get("matches")
    if m is None:
        return None
    cols = [c for c in ("mentor_id", "mentee_id", "member_a", "member_b", "member_c") if c in m]
    return [
        (int(row[0]), tuple(str(x) for x in row[1:] if isinstance(x, str) and x))
        for row in m[["round", *cols]].itertuples(index=False)
    ]


def _pairs(ids: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    for x in range(len(ids)):
        for y in range(x + 1, len(ids)):
            yield ids[x], ids[y]


def _settings(item: Any) -> tuple[str, Any]:
    """(kind, settings) of a ``- kind: settings`` list item as written."""
    if isinstance(item, Mapping) and len(item) == 1:
        ((kind, settings),) = item.items()
        return str(kind), settings
    return "", None


def _attribute_of(settings: Any) -> str | None:
    if isinstance(settings, str):
        return settings
    if isinstance(settings, Mapping) and isinstance(settings.get("attribute"), str):
        return str(settings["attribute"])
    return None


@dataclass(frozen=True)
class _AttributeAsWritten:
    """One attribute of ``participants.attributes`` as written, read once."""

    column: str
    aliases: dict[str, str]  # answer key -> canonical answer
    multi: str | None  # the separator
    steps: dict[str, int] | None  # scale value key -> step
    numeric: bool

    @classmethod
    def read(cls, written: Any) -> _AttributeAsWritten | None:
        """None for forms this module does not read (grids, requests by name)."""
        if isinstance(written, str):
            written = {"column": written}
        if not isinstance(written, Mapping) or "column" not in written or written.get("names"):
            return None
        scale = written.get("scale")
        return cls(
            column=str(written["column"]),
            aliases={text_key(k): str(v) for k, v in (written.get("aliases") or {}).items()},
            multi=None if not written.get("multi") else str(written["multi"]),
            steps=None if scale is None else {text_key(v): k for k, v in enumerate(scale)},
            numeric=bool(written.get("numeric")),
        )


class _Raw:
    """The raw scheme mapping, each person's cells (by id key) and side files."""

    def __init__(self, raw: RawInputs) -> None:
        self.scheme = raw.scheme
        self.base = raw.base_dir
        people = self.scheme.get("participants") or {}
        self.attrs: Mapping[str, Any] = people.get("attributes") or {}
        self.rows: dict[str, dict[str, str]] = {}
        id_col = people.get("id")
        for record in raw.cells.to_dict("records"):
            cells = {str(k): str(v) for k, v in record.items()}
            self.rows[text_key(cells.get(str(id_col), ""))] = cells
        self.items = [_settings(item) for item in self.scheme.get("rules") or ()]
        self.specs = {
            name: spec
            for name, written in self.attrs.items()
            if (spec := _AttributeAsWritten.read(written)) is not None
        }

    # --- values as written -------------------------------------------------------------

    def value(self, attribute: str, person: str, *, step: bool = True) -> Any:
        """A person's value: a set for multi-valued, a number for numeric (and, with
        ``step``, the scale step), else the value's key; ``None`` for a blank and ``...``
        when this module cannot read the attribute or the cell."""
        spec = self.specs.get(attribute)
        row = self.rows.get(text_key(person))
        if spec is None or row is None:
            return ...
        text = str(row.get(spec.column, "")).strip()
        if spec.multi is not None:
            parts = [p.strip() for p in text.split(spec.multi)]
            return {text_key(spec.aliases.get(text_key(p), p)) for p in parts if p} or None
        if not text:
            return None
        key = text_key(spec.aliases.get(text_key(text), text))
        if spec.steps is not None and step:
            return spec.steps.get(key, ...)
        if spec.numeric:
            return _number(spec.aliases.get(text_key(text), text))
        return key

    # --- pair rules ----------------------------------------------------------------------

    def rules(self, units: list[Unit], directed: bool, grouped: bool) -> list[str]:
        out: list[str] = []
        if grouped:
            return out
        for r, ids in units:
            for a, b in _pairs(ids):
                for kind, settings in self.items:
                    broken = self._pair_rule(kind, settings, a, b, directed)
                    if broken:
                        out.append(f"round {r}: a pair breaks {broken}")
        return out

    def _pair_rule(self, kind: str, settings: Any, a: str, b: str, directed: bool) -> str | None:
        attribute = _attribute_of(settings)
        if kind not in ("different", "same", "gap") or attribute is None:
            return None
        x, y = self.value(attribute, a), self.value(attribute, b)
        if x is ... or y is ...:
            return None
        if kind == "gap":
            return _gap_break(settings, x, y, directed, attribute)
        shared = _shared(x, y)
        if kind == "different" and shared:
            return f"different {attribute}"
        if kind == "same" and not shared:
            return f"same {attribute}"
        return None

    # --- forbid, lock, exclude, history --------------------------------------------------

    def side_pairs(self, units: list[Unit], directed: bool, grouped: bool) -> list[str]:
        together = {
            frozenset((text_key(a), text_key(b))) for _, ids in units for a, b in _pairs(ids)
        }
        made = {(text_key(ids[0]), text_key(ids[1])) for r, ids in units if len(ids) == 2}
        placed = {text_key(x) for _, ids in units for x in ids}
        out: list[str] = []
        for kind, settings in self.items:
            if not isinstance(settings, Mapping):
                continue
            if kind == "forbid":
                met = [p for p in self._listed(settings) if frozenset(p) in together]
                out += [f"a forbidden pair ({kind} as written) was made"] * len(met)
            elif kind == "lock" and not grouped:
                for p in self._listed(settings):
                    ok = p in made if directed else frozenset(p) in together
                    if not ok:
                        out.append("a locked pair (lock as written) is missing")
            elif kind == "exclude":
                out += ["an excluded person was placed"] * len(self._excluded(settings) & placed)
        out += self._cooldown(together)
        return out

    def _listed(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        pairs = [(text_key(a), text_key(b)) for a, b in settings.get("pairs") or ()]
        if isinstance(settings.get("file"), str):
            frame = self._file(settings["file"])
            pairs += [
                (text_key(unneutralise(a)), text_key(unneutralise(b)))
                for a, b in frame.iloc[:, :2].itertuples(index=False)
                if a.strip() and b.strip()
            ]
        return pairs

    def _excluded(self, settings: Mapping[str, Any]) -> set[str]:
        out = {text_key(x) for x in settings.get("ids") or ()}
        attribute = _attribute_of(settings)
        values = {text_key(v) for v in settings.get("values") or ()}
        if attribute is not None and values:
            for person in self.rows:
                v = self.value(attribute, person)
                if v is not ... and v is not None and _shared(v, values):
                    out.add(person)
        return out

    def _cooldown(self, together: set[frozenset[str]]) -> list[str]:
        history = self.scheme.get("history")
        if not isinstance(history, Mapping) or not isinstance(history.get("file"), str):
            return []
        cooldown = int(history.get("cooldown", 1))
        frame = self._file(history["file"])
        cols = {text_key(c): c for c in frame.columns}
        if {"round", "group", "participant_id"} <= cols.keys():
            keys = [cols[k] for k in ("round", "part", "group") if k in cols]
            rows = [
                (members[cols["round"]].iloc[0], tuple(members[cols["participant_id"]]))
                for _, members in frame.groupby(keys, sort=False)
            ]
        else:
            id_cols = [cols[k] for k in ("mentor_id", "mentee_id", "member_a", "member_b",
                                         "member_c") if k in cols]  # fmt: skip
            rows = [(row[0], tuple(row[1:])) for row in
                    frame[[cols["round"], *id_cols]].itertuples(index=False)]  # fmt: skip
        rounds = [_number(str(r)) for r, _ in rows]
        latest = max((r for r in rounds if r is not None), default=0)
        out = []
        for (_, ids), r in zip(rows, rounds, strict=True):
            if r is None or latest - r + 1 > cooldown:
                continue
            for a, b in _pairs(tuple(text_key(unneutralise(x)) for x in ids if x.strip())):
                if frozenset((a, b)) in together:
                    out.append(f"a pair met within the history cooldown of {cooldown}")
        return out

    def _file(self, name: str) -> pd.DataFrame:
        path = Path(name)
        if not path.is_absolute() and self.base is not None:
            path = self.base / path
        return read_tables([path])[0].frame

    # --- capacities and cohort counts ----------------------------------------------------

    def counts(self, units: list[Unit], directed: bool, grouped: bool) -> list[str]:
        if grouped:
            return self._groups(units)
        if not directed:
            return []
        people = self.scheme.get("participants") or {}
        out = self._both_roles(units, people.get("role") or {})
        for side, key in ((0, "capacity"), (1, "wants")):
            per = Counter((r, text_key(ids[side])) for r, ids in units)
            for (r, person), k in sorted(per.items()):
                most = self._count(people.get(key), person)
                if most is not None and k > most:
                    out.append(f"round {r}: someone has {k} partners; {key} as written is {most}")
        return out

    def _both_roles(self, units: list[Unit], role: Any) -> list[str]:
        """Mentoring: no a→b with b→a unless ``reciprocal``; one role with ``one_role``."""
        if not isinstance(role, Mapping):
            return []
        out = []
        for r in sorted({r for r, _ in units}):
            made = {(text_key(ids[0]), text_key(ids[1])) for q, ids in units if q == r}
            if not role.get("reciprocal") and any((b, a) in made for a, b in made):
                out.append(f"round {r}: two people mentor each other (reciprocal as written)")
            if role.get("one_role") and {a for a, _ in made} & {b for _, b in made}:
                out.append(f"round {r}: someone is mentor and mentee (one_role as written)")
        return out

    def _count(self, spec: Any, person: str) -> int | None:
        if not isinstance(spec, Mapping):
            return 1 if spec is None else None
        default = int(spec.get("default", 1))
        column = spec.get("column")
        if column is None:
            return default
        text = str(self.rows.get(person, {}).get(column, "")).strip()
        number = _number(text) if text else default
        return None if number is None else int(number)

    def _groups(self, units: list[Unit]) -> list[str]:
        groups = self.scheme.get("groups") or {}
        size = groups.get("size") if isinstance(groups, Mapping) else None
        out = []
        for r, ids in units:
            if isinstance(size, Mapping) and not (
                size.get("min", 0) <= len(ids) <= size.get("max", len(ids))
            ):
                out.append(f"round {r}: a group of {len(ids)} is outside the sizes as written")
            for kind, settings in self.items:
                broken = self._group_rule(kind, settings, ids)
                if broken:
                    out.append(f"round {r}: a group breaks {kind} {broken}")
        return out

    def _group_rule(self, kind: str, settings: Any, ids: tuple[str, ...]) -> str | None:
        if kind in ("keep_together", "keep_apart") and isinstance(settings, Mapping):
            members = {text_key(x) for x in ids}
            for s in settings.get("sets") or ():
                inside = len({text_key(x) for x in s} & members)
                if kind == "keep_apart" and inside > 1:
                    return "(a set shares a group)"
                if kind == "keep_together" and 0 < inside < len(set(map(text_key, s))):
                    return "(a set is split)"
            return None
        attribute = _attribute_of(settings)
        if kind not in ("at_least", "at_most", "exactly", "not_alone") or attribute is None:
            return None
        values = [self.value(attribute, x, step=False) for x in ids]
        if any(v is ... for v in values):
            return None
        return _count_break(kind, settings, values, attribute)


def _count_break(kind: str, settings: Any, values: Sequence[Any], attribute: str) -> str | None:
    wanted = settings.get("value") if isinstance(settings, Mapping) else None
    count = int(settings.get("count", 0)) if isinstance(settings, Mapping) else 0
    least = int(settings.get("min", 2)) if isinstance(settings, Mapping) else 2
    tally: Counter[Any] = Counter()
    for v in values:
        for label in v if isinstance(v, set) else ([] if v is None else [v]):
            tally[label] += 1
    if wanted is not None:
        key = text_key(wanted)
        tally = Counter({key: sum(c for k, c in tally.items() if str(k) == key)})
    present = list(tally.values()) or [0]
    if kind == "at_least" and min(present) < count:
        return f"on {attribute}"
    if kind == "exactly" and present != [count]:
        return f"on {attribute}"
    if kind == "at_most" and max(present) > count:
        return f"on {attribute}"
    if kind == "not_alone" and 0 < min(present) < least:
        return f"on {attribute}"
    return None


def _shared(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return False
    xs = x if isinstance(x, set) else {x}
    ys = y if isinstance(y, set) else {y}
    return bool(xs & ys)


def _gap_break(settings: Any, x: Any, y: Any, directed: bool, attribute: str) -> str | None:
    if not isinstance(settings, Mapping) or isinstance(x, set) or isinstance(y, set):
        return None
    if x is None or y is None:
        return f"gap on {attribute} (blank value)"
    d = (x - y) if directed else abs(x - y)
    lo, hi = settings.get("min"), settings.get("max")
    if (lo is not None and d < float(lo) - RULE_TOLERANCE) or (
        hi is not None and d > float(hi) + RULE_TOLERANCE
    ):
        return f"gap on {attribute} (difference {d:g})"
    return None


def _number(text: str) -> float | None:
    """A number as a form might give it ("1,000" a thousand, "3,5" a decimal comma)."""
    text = text.strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def raw_cells(frames: Sequence[pd.DataFrame], scheme: Mapping[str, Any]) -> pd.DataFrame:
    """The profile cells the raw re-check reads: the id column and the columns the
    scheme's participants section names (one frame, text)."""
    people = scheme.get("participants") or {}
    wanted: set[str] = set()
    for value in _strings(people):
        wanted.add(value)
    columns = [c for c in dict.fromkeys(c for f in frames for c in f.columns) if c in wanted]
    return pd.concat([f.reindex(columns=columns, fill_value="") for f in frames], ignore_index=True)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
