"""Profile tables + a scheme -> an encoded :class:`~buddymatch.model.Problem`.

This is where the scheme's column mapping meets messy spreadsheets: headings
are matched ignoring case and spacing, values are normalised ("north west " is
"North West"), and every problem of every row is collected before one
:class:`InputError` is raised.  Messages name file, row and column; they quote
category values (e.g. an off-scale band) but never ids, names or e-mails.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import scheme_hash
from ..errors import InputError, Issue
from ..model import (
    BOTH,
    FEEDBACK_OUTCOMES,
    MAX_MAGNITUDE,
    MENTEE,
    MENTOR,
    NO_ROLE,
    AttributeData,
    AttributeSpec,
    Feedback,
    History,
    Problem,
    Scheme,
    criterion_name,
    text_key,
)
from ..schemes import get_scheme
from .inputs import side_file_path
from .names import NameIndex, encode_requests
from .readers import Table, looks_like_data, read_table
from .slots import encode_slots, is_slot_attribute
from .writers import unneutralise

MAX_ISSUES_PER_COLUMN = 20


_key = text_key  # the one normal form for comparing user text (model.text_key)


def _keys(series: pd.Series) -> pd.Series:
    """``_key`` of every value, computed once per distinct value."""
    codes, distinct = pd.factorize(series.astype(str))
    keys = np.array([_key(v) for v in distinct] + [""], dtype=object)
    return pd.Series(keys[codes], index=series.index, dtype=object)


class _Collector:
    """Collects issues, capping repeats of one problem in one column."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self._counts: dict[tuple[str | None, str | None], int] = {}

    def add(self, issue: Issue) -> None:
        k = (issue.file, issue.column)
        self._counts[k] = self._counts.get(k, 0) + 1
        if self._counts[k] <= MAX_ISSUES_PER_COLUMN:
            self.issues.append(issue)
        elif self._counts[k] == MAX_ISSUES_PER_COLUMN + 1:
            self.issues.append(
                Issue(
                    "more problems like the above in this column",
                    file=issue.file,
                    column=issue.column,
                )
            )


def build_problem(
    tables: Sequence[Table], scheme: Scheme, *, base_dir: Path | None = None
) -> Problem:
    """Map the scheme's columns onto the tables and encode every participant.

    Every problem of every stage is collected; one InputError lists them all
    (stages that depend on an earlier one run only when it was clean).
    """
    issues = _Collector()
    data = _stack(tables, scheme, issues)
    files = tuple(t.file for t in tables)
    file_index = data["__file"].to_numpy(dtype=np.int64)
    rows = data["__row"].to_numpy(dtype=np.int64)

    def where(mask: np.ndarray) -> list[tuple[str, int]]:
        return [(files[int(f)], int(r)) for f, r in zip(file_index[mask], rows[mask], strict=True)]

    spec = scheme.participants
    ids = _read_ids(data, spec.id, where, issues)
    role = _read_roles(data, scheme, files, file_index, where, issues)
    capacity = _read_count(data, "capacity", scheme, where, issues)
    wants = _read_count(data, "wants", scheme, where, issues)
    attributes = _encode_attributes(data, scheme, ids, where, issues)
    _raise_if(issues)
    lookup = {_key(v): i for i, v in enumerate(ids)}
    rules = _rule_inputs(scheme, attributes, lookup, base_dir, issues)
    directed = get_scheme(scheme.scheme).directed
    if directed:
        _check_lock_roles(rules.locked, role, files, file_index, rows, issues)
    history = _read_history(scheme, lookup, base_dir, issues)
    feedback = _read_feedback(scheme, lookup, base_dir, issues)
    outcomes = zip(feedback.pairs.tolist(), feedback.outcome, strict=True)
    rules.forbidden += [(a, b) for (a, b), o in outcomes if o == "did-not-work"]
    history = _with_ended(history, feedback)
    favoured = _read_priority(scheme, attributes, lookup, base_dir, issues)
    pairwise = {
        criterion_name(c): _unit_scaled(_read_pairwise(c.file, len(ids), lookup, base_dir, issues))
        for c in scheme.criteria
        if c.kind == "pairwise"
    }
    _raise_if(issues)
    return Problem(
        scheme=scheme,
        ids=tuple(ids),
        role=role,
        capacity=capacity,
        wants=wants,
        attributes=attributes,
        files=files,
        file_index=file_index,
        rows=rows,
        forbidden=_pair_array(rules.forbidden),
        locked=_pair_array(rules.locked),
        excluded=rules.excluded,
        history=history,
        feedback=feedback,
        placed=rules.placed,
        together=tuple(rules.together),
        apart=tuple(rules.apart),
        carry=_carry(data, spec.carry),
        pairwise=pairwise,
        favoured=favoured,
        input_hash=_hash_frames(tables),
        config_hash=scheme_hash(scheme),
        directed=directed,
    )


def _raise_if(issues: _Collector) -> None:
    if issues.issues:
        raise InputError(issues=issues.issues)


def _stack(tables: Sequence[Table], scheme: Scheme, issues: _Collector) -> pd.DataFrame:
    """The scheme's columns of every table, one frame, with each record's file and row."""
    frames = []
    optional = _side_columns(tables, scheme)
    for fi, table in enumerate(tables):
        frame = _resolve_columns(table, scheme, issues, optional)
        frame["__file"] = fi
        frame["__row"] = table.rows
        frames.append(frame)
    _raise_if(issues)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(data) == 0:
        raise InputError(
            issues=[
                Issue(
                    "no participants in the profile files", fix="check the files are the right ones"
                )
            ]
        )
    return data


@dataclass
class _RuleInputs:
    """What the rules name, as participant indices (see :class:`Problem`)."""

    excluded: np.ndarray
    forbidden: list[tuple[int, int]] = field(default_factory=list)
    locked: list[tuple[int, int]] = field(default_factory=list)
    placed: np.ndarray | None = None
    together: list[np.ndarray] = field(default_factory=list)
    apart: list[np.ndarray] = field(default_factory=list)


def _rule_inputs(  # type: ignore[no-untyped-def]
    scheme: Scheme, attributes, lookup: dict[str, int], base_dir, issues: _Collector
) -> _RuleInputs:
    out = _RuleInputs(excluded=np.zeros(len(lookup), dtype=bool))
    for i, rule in enumerate(scheme.rules):
        path = f"rules[{i}].{rule.kind}"
        if rule.kind == "exclude":
            if rule.attribute is not None:
                out.excluded |= _matches_values(attributes[rule.attribute], rule.values)
            out.excluded[_ids_to_index(rule.ids, f"{path}.ids", lookup, issues)] = True
        elif rule.kind in ("forbid", "lock"):
            pairs = _read_pairs(rule, path, lookup, base_dir, issues)
            pairs += _requested_pairs(attributes, getattr(rule, "attribute", None), lookup)
            (out.forbidden if rule.kind == "forbid" else out.locked).extend(pairs)
        elif rule.kind in ("keep_together", "keep_apart"):
            sets = _keep_sets(rule, path, attributes, lookup, issues)
            (out.together if rule.kind == "keep_together" else out.apart).extend(sets)
        elif rule.kind == "place":
            out.placed = _placed(rule, path, lookup, issues)
    return out


def _keep_sets(rule, path: str, attributes, lookup: dict[str, int], issues) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """The sets a keep rule lists, plus the pairs its name-request attribute asks for."""
    sets = [
        _ids_to_index(members, f"{path}.sets[{j}]", lookup, issues)
        for j, members in enumerate(rule.sets)
    ]
    requested = _requested_pairs(attributes, rule.attribute, lookup)
    return sets + [np.asarray(p, np.int64) for p in requested]


def _placed(rule, path: str, lookup: dict[str, int], issues: _Collector) -> np.ndarray:  # type: ignore[no-untyped-def]
    placed = np.full(len(lookup), -1, dtype=np.int64)
    for k, (member, group) in enumerate(rule.members.items()):
        idx = _ids_to_index([member], f"{path}.members", lookup, issues, first=k + 1)
        if len(idx) and group < 1:
            issues.add(Issue(f'key "{path}.members": item {k + 1}: group numbers start at 1'))
        elif len(idx):
            placed[idx[0]] = group - 1
    return placed


def _check_lock_roles(
    locked: list[tuple[int, int]],
    role: np.ndarray,
    files: tuple[str, ...],
    file_index: np.ndarray,
    rows: np.ndarray,
    issues: _Collector,
) -> None:
    """Directed schemes: a locked pair is (mentor, mentee), named by file and row."""

    def where(i: int) -> str:
        return f"{files[int(file_index[i])]} row {int(rows[i])}"

    for a, b in locked:
        if role[a] not in (MENTOR, BOTH) or role[b] not in (MENTEE, BOTH):
            issues.add(
                Issue(
                    f"locked pair ({where(a)}, {where(b)}) is not (mentor, mentee)",
                    fix="list the mentor's id first, the mentee's second",
                )
            )


def _carry(data: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame | None:
    if not columns:
        return None
    carry = data[[f"carry:{c}" for c in columns]].copy()
    carry.columns = list(columns)
    carry.index = pd.RangeIndex(len(carry))
    return carry


# --- columns -----------------------------------------------------------------------


def _mapped_columns(scheme: Scheme) -> list[tuple[str, str, bool]]:
    """(internal name, heading, required) for every column the scheme names."""
    spec = scheme.participants
    cols = [("id", spec.id, True)]
    if spec.role is not None and spec.role.column is not None:
        cols.append(("role", spec.role.column, True))
    for what in ("capacity", "wants"):
        count = getattr(spec, what)
        if count.column is not None:
            cols.append((what, count.column, False))
    for n, a in spec.attributes.items():
        cols += [(_attr_key(n, label), h, True) for label, h in a.headings.items()]
    cols += [(f"carry:{c}", c, True) for c in spec.carry]
    cols += [(f"name:{k}", h, True) for k, h in enumerate(_name_columns(scheme))]
    return cols


def _attr_key(name: str, label: str) -> str:
    """Internal column of an attribute (a grid: one per labelled column)."""
    return f"attr:{name}" if label == "" else f"attr:{name}:{label}"


def _name_columns(scheme: Scheme) -> tuple[str, ...]:
    name = scheme.participants.name
    return () if name is None else ((name,) if isinstance(name, str) else tuple(name))


def _side_columns(tables: Sequence[Table], scheme: Scheme) -> set[str]:
    """Headings a file may lack when each file holds one role (mentors.csv, mentees.csv).

    A mentor form rarely asks what the mentor wants support with: with roles by file,
    an attribute or carry column present in some file is blank in the files without it.
    """
    role = scheme.participants.role
    if role is None or role.files is None or len(tables) < 2:
        return set()
    present = {_key(str(c)) for t in tables for c in t.frame.columns}
    return {
        heading
        for name, heading, _ in _mapped_columns(scheme)
        if name.startswith(("attr:", "carry:")) and _key(heading) in present
    }


def _resolve_columns(
    table: Table,
    scheme: Scheme,
    issues: _Collector,
    optional: frozenset[str] | set[str] = frozenset(),
) -> pd.DataFrame:
    headers = [str(c) for c in table.frame.columns]
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(_key(h), h)
    out = {}
    missing: list[str] = []
    found_any = False
    for name, heading, required in _mapped_columns(scheme):
        found = heading if heading in headers else by_key.get(_key(heading))
        if found is None:
            if required and heading not in optional:
                missing.append(heading)
            out[name] = pd.Series([""] * len(table.frame), dtype=object)
        else:
            found_any = True
            out[name] = table.frame[found].astype(str).reset_index(drop=True)
    _report_missing(table.file, missing, headers, found_any=found_any, issues=issues)
    return pd.DataFrame(out, index=pd.RangeIndex(len(table.frame)))


def _report_missing(
    file: str, missing: list[str], headers: list[str], *, found_any: bool, issues: _Collector
) -> None:
    """One issue per missing column, or one for the whole file when none is there.

    When no column of the scheme is found, row 1 is most likely data (names,
    e-mails), so that message shows the expected headings, never the file's.
    """
    if missing and not found_any:
        issues.add(_no_heading_row_issue(file, missing))
        return
    for heading in missing:
        issues.add(_missing_column_issue(file, heading, headers))


def _no_heading_row_issue(file: str, expected: list[str]) -> Issue:
    """None of the scheme's columns is there: most likely row 1 is data, so it is not shown."""
    shown = ", ".join(f'"{h}"' for h in expected[:6]) + (", ..." if len(expected) > 6 else "")
    return Issue(
        "none of the columns named in the scheme is in the heading row; "
        "does the file start with a heading row?",
        file=file,
        row=1,
        fix=f"row 1 must hold the headings the scheme names: {shown}",
    )


def _missing_column_issue(file: str, heading: str, all_headers: list[str]) -> Issue:
    """A scheme column not found, with the closest heading of the file if one is close.

    The file's other headings are not listed: when row 1 is damaged or missing,
    they are a person's cells (found by the fuzz suite: a stray quote in the
    heading row turned row 2 into headings).  Only a heading close to the one the
    scheme names is shown, and never one that looks like data.
    """
    import difflib

    headers = [h for h in all_headers if not looks_like_data(h)]
    close = difflib.get_close_matches(_key(heading), [_key(h) for h in headers], n=1, cutoff=0.6)
    count = f"row 1 has {len(all_headers)} heading{'' if len(all_headers) == 1 else 's'}"
    fix = f"check row 1 ({count})"
    if close:
        match = next(h for h in headers if _key(h) == close[0])
        fix = f'did you mean "{match}"? ({count})'
    return Issue(f'column "{heading}" named in the scheme is not in the file', file=file, fix=fix)


# --- fields ----------------------------------------------------------------------------


def _read_ids(data: pd.DataFrame, heading: str, where, issues: _Collector) -> list[str]:  # type: ignore[no-untyped-def]
    raw = data["id"].astype(str).str.strip()
    keys = _keys(raw)
    blank = (raw == "").to_numpy()
    for f, r in where(blank):
        issues.add(
            Issue("id is blank", file=f, row=r, column=heading, fix="every person needs an id")
        )
    dup = keys.duplicated(keep=False).to_numpy() & ~blank
    if dup.any():
        first: dict[str, tuple[str, int]] = {}
        for k, (f, r) in zip(keys[dup], where(dup), strict=True):
            if k in first:
                f0, r0 = first[k]
                issues.add(
                    Issue(
                        f"duplicate id (same as {f0} row {r0})",
                        file=f,
                        row=r,
                        column=heading,
                        fix="each person once; remove or merge the duplicate row",
                    )
                )
            else:
                first[k] = (f, r)
    return raw.tolist()


def _read_roles(  # type: ignore[no-untyped-def]
    data: pd.DataFrame,
    scheme: Scheme,
    files: tuple[str, ...],
    file_index: np.ndarray,
    where,
    issues,
) -> np.ndarray:
    n = len(data)
    spec = scheme.participants.role
    role = np.full(n, NO_ROLE, dtype=np.int8)
    if not get_scheme(scheme.scheme).directed or spec is None:
        return role
    codes = {"mentor": MENTOR, "mentee": MENTEE, "both": BOTH}
    if spec.files is not None:
        for fi, file in enumerate(files):
            name = Path(file).name.casefold()
            hit = [r for pat, r in spec.files.items() if fnmatch.fnmatch(name, pat.casefold())]
            if not hit:
                issues.add(
                    Issue(
                        "file matches none of participants.role.files",
                        file=file,
                        fix="patterns: " + ", ".join(spec.files),
                    )
                )
            else:
                role[file_index == fi] = codes[hit[0]]
        return role
    lookup = {_key(v): MENTOR for v in spec.mentor}
    lookup.update({_key(v): MENTEE for v in spec.mentee})
    lookup.update({_key(v): BOTH for v in spec.both})
    keys = _keys(data["role"])
    mapped = keys.map(lookup)
    bad = mapped.isna().to_numpy()
    role[~bad] = mapped[~bad].astype(np.int8).to_numpy()
    allowed = [*spec.mentor, *spec.mentee, *spec.both]
    for (f, r), k in zip(where(bad), keys[bad], strict=True):
        what = "role is blank" if k == "" else "role is not one of the scheme's role answers"
        issues.add(
            Issue(
                what,
                file=f,
                row=r,
                column=spec.column,
                fix="use one of: " + ", ".join(f'"{a}"' for a in allowed),
            )
        )
    return role


def _read_count(data: pd.DataFrame, what: str, scheme: Scheme, where, issues) -> np.ndarray:  # type: ignore[no-untyped-def]
    spec = getattr(scheme.participants, what)
    n = len(data)
    if spec.column is None or what not in data:
        return np.full(n, spec.default, dtype=np.int64)
    raw = data[what].astype(str).str.strip()
    blank = (raw == "").to_numpy()
    num = pd.to_numeric(raw.where(~blank, "0"), errors="coerce").to_numpy(dtype=float)
    bad = ~blank & (np.isnan(num) | (num < 0) | (num != np.floor(num)) | (num > spec.max))
    for f, r in where(bad):
        issues.add(
            Issue(
                f"{what} must be a whole number from 0 to {spec.max}",
                file=f,
                row=r,
                column=spec.column,
                fix=f"leave blank for the default ({spec.default})",
            )
        )
    # Blank and bad cells never reach the cast (inf or 1e400 would overflow int64).
    return np.where(blank, spec.default, np.where(bad, 0, num)).astype(np.int64)


def _encode_attribute(  # type: ignore[no-untyped-def]
    name: str, spec: AttributeSpec, raw: pd.Series, where, issues: _Collector
) -> AttributeData:
    raw = raw.astype(str)
    aliases = {_key(k): v for k, v in spec.aliases.items()}
    if spec.kind == "numeric":
        text = _plain_number(raw.str.strip())
        if aliases:
            text = text.map(lambda v: aliases.get(_key(v), v))
        blank = (text == "").to_numpy()
        num = pd.to_numeric(text.where(~blank, "nan"), errors="coerce").to_numpy(dtype=float)
        bad = ~blank & ~(np.abs(num) <= MAX_MAGNITUDE)  # nan, inf and 1e400 included
        huge = np.isfinite(num[bad])
        for (f, r), big in zip(where(bad), huge, strict=True):  # the cell is never quoted
            what = f"is larger than {MAX_MAGNITUDE:,.0f} in size" if big else "is not a number"
            issues.add(Issue(f"the value {what}", file=f, row=r, column=spec.column))
        return AttributeData(name, "numeric", np.where(bad, np.nan, num), ())
    # Normalise each distinct answer once, then expand to rows (a million rows
    # usually hold a few hundred distinct answers).
    row_codes, distinct = pd.factorize(raw.reset_index(drop=True))
    once = _encode_distinct(name, spec, pd.Series(distinct, dtype=object), aliases)
    if spec.kind == "ordinal":
        bad = once.bad[row_codes]
        shown = f"({spec.scale[0]} … {spec.scale[-1]})" if spec.scale else ""
        for f, r in where(bad):  # the cell itself is never quoted: it may be personal data
            issues.add(
                Issue(
                    f"the value is not on the scale {shown}",
                    file=f,
                    row=r,
                    column=spec.shown_column,
                    fix="use one of: " + ", ".join(spec.scale or ()),
                )
            )
    data = once.data
    return AttributeData(name, data.kind, data.values[row_codes], data.labels)


@dataclass(frozen=True)
class _Distinct:
    """An attribute encoded over distinct raw answers (see ``_encode_attribute``)."""

    data: AttributeData
    display: np.ndarray  # cleaned text of each distinct answer
    bad: np.ndarray  # ordinal: off the scale


def _encode_distinct(
    name: str, spec: AttributeSpec, raw: pd.Series, aliases: dict[str, str]
) -> _Distinct:
    no_bad = np.zeros(len(raw), dtype=bool)
    if spec.kind == "multi":
        return _Distinct(_encode_multi(name, spec, raw, aliases), raw.to_numpy(), no_bad)
    display = raw.str.strip()
    if aliases:
        display = display.map(lambda v: aliases.get(_key(v), v))
    keys = _keys(display)
    if spec.kind == "ordinal":
        assert spec.scale is not None
        scale = {_key(v): i for i, v in enumerate(spec.scale)}
        codes = keys.map(scale)
        blank = (keys == "").to_numpy()
        bad = codes.isna().to_numpy() & ~blank
        values = codes.fillna(-1).to_numpy(dtype=np.int32)
        data = AttributeData(name, "ordinal", values, tuple(spec.scale))
        return _Distinct(data, display.to_numpy(), bad)
    # categorical: the label of a value is the first spelling seen of its normal form
    present = (keys != "").to_numpy()
    codes_arr, uniques = pd.factorize(keys[present], sort=True)
    first = pd.Series(display[present].to_numpy()).groupby(codes_arr).first()
    labels = [str(first.iat[i]) for i in range(len(uniques))]
    values = np.full(len(raw), -1, dtype=np.int32)
    values[present] = codes_arr
    data = AttributeData(name, "categorical", values, tuple(labels))
    return _Distinct(data, display.to_numpy(), no_bad)


def _encode_attributes(  # type: ignore[no-untyped-def]
    data: pd.DataFrame, scheme: Scheme, ids: list[str], where, issues: _Collector
) -> dict[str, AttributeData]:
    """Every attribute: plain columns, slot grids (io/slots) and name requests (io/names)."""
    spec = scheme.participants
    index = None
    out = {}
    for name, a in spec.attributes.items():
        if a.names:
            if index is None:
                index = NameIndex(ids, _full_names(data, scheme))
                places = where(np.ones(len(data), dtype=bool))
            raw = data[_attr_key(name, "")]
            out[name] = encode_requests(name, a, raw, index, places, issues.add)
        elif is_slot_attribute(a):
            cells = {label: data[_attr_key(name, label)] for label in a.headings}
            out[name] = encode_slots(name, a, cells, where, issues.add)
        else:
            out[name] = _encode_attribute(name, a, data[_attr_key(name, "")], where, issues)
    return out


def _full_names(data: pd.DataFrame, scheme: Scheme) -> list[list[str]] | None:
    """Each person's name parts from ``participants.name`` (one per column), or None."""
    columns = [f"name:{k}" for k in range(len(_name_columns(scheme)))]
    if not columns:
        return None
    return [[str(v) for v in row] for row in data[columns].astype(str).itertuples(index=False)]


def _unit_scaled(matrix: np.ndarray) -> np.ndarray:
    """Pairwise values divided by their maximum (the criterion's values are in [0, 1])."""
    top = float(matrix.max()) if matrix.size else 0.0
    return matrix / top if top > 0 else matrix


def _requested_pairs(
    attributes: dict[str, AttributeData], attribute: str | None, lookup: dict[str, int]
) -> list[tuple[int, int]]:
    """(person, named person) for a names attribute (its labels are the named ids)."""
    if attribute is None:
        return []
    att = attributes[attribute]
    who, which = np.nonzero(att.values)
    named = np.array([lookup[_key(label)] for label in att.labels], dtype=np.int64)
    return [(int(i), int(named[k])) for i, k in zip(who.tolist(), which.tolist(), strict=True)]


def _plain_number(text: pd.Series) -> pd.Series:
    """ "1,000" and "1,000.5" lose their thousands separators; "3,5" is a decimal comma."""
    thousands = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
    text = text.where(~thousands, text.str.replace(",", "", regex=False))
    decimal_comma = text.str.fullmatch(r"[+-]?\d*,\d+")
    return text.where(~decimal_comma, text.str.replace(",", ".", regex=False))


def _encode_multi(
    name: str, spec: AttributeSpec, raw: pd.Series, aliases: dict[str, str]
) -> AttributeData:
    assert spec.multi is not None
    sep = re.escape(spec.multi)
    items = raw.reset_index(drop=True).str.split(sep, regex=True).explode().str.strip()
    if aliases:
        items = items.map(lambda v: aliases.get(_key(v), v))
    keys = _keys(items)
    keep = (keys != "").to_numpy()
    owner = items.index.to_numpy()[keep]
    keys = keys[keep]
    codes, uniques = pd.factorize(keys, sort=True)
    first = pd.Series(items[keep].to_numpy()).groupby(codes).first()
    labels = tuple(str(first.get(i, u)) for i, u in enumerate(uniques))
    values = np.zeros((len(raw), len(labels)), dtype=bool)
    values[owner, codes] = True
    return AttributeData(name, "multi", values, labels)


def _matches_values(att: AttributeData, values: Sequence[str]) -> np.ndarray:
    wanted = {_key(v) for v in values}
    if att.kind == "multi":
        cols = [i for i, lab in enumerate(att.labels) if _key(lab) in wanted]
        return np.asarray(att.values[:, cols].any(axis=1))
    if att.kind == "numeric":
        nums = {float(v) for v in values if _is_number(v)}
        return np.isin(att.values, list(nums))
    codes = [i for i, lab in enumerate(att.labels) if _key(lab) in wanted]
    return np.isin(att.values, codes)


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


# --- rule files ------------------------------------------------------------------------------


_resolve = side_file_path  # files a scheme names are found from the scheme's folder


_SIDE_EXPECTED = {
    "forbid": "a heading row, then one pair per row in two id columns, e.g. person_a,person_b",
    "lock": "a heading row, then one pair per row in two id columns, e.g. mentor_id,mentee_id "
    "(mentoring) or member_a,member_b (peer)",
    "pairwise": "a heading row, then id_a,id_b,value rows",
    "history": "a heading row round,member_a,member_b[,member_c] "
    "(a previous run's history.csv or matches.csv)",
    "feedback": "a heading row mentor_id,mentee_id (or member_a,member_b),outcome[,rating]",
    "priority": "a heading row, then one id per row (a previous run's unmatched.csv, a peer "
    "run's matches.csv, or a file with the column named by priority.column)",
}
_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
_HISTORY_IDS = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c")
MAX_ROUND = 1_000_000
"""Highest round number a history file may hold."""


def _read_pairs(rule, path: str, lookup: dict[str, int], base_dir, issues) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    pairs: list[tuple[int, int]] = []
    for j, (a, b) in enumerate(rule.pairs):
        idx = _ids_to_index([a, b], f"{path}.pairs[{j}]", lookup, issues)
        if len(idx) == 2:
            pairs.append((int(idx[0]), int(idx[1])))
    if rule.file is None:
        return pairs
    table = _read_side_file(_resolve(base_dir, rule.file), issues, lookup, rule.kind, 2)
    if table is None:
        return pairs
    # A conflict list outlives one intake: a forbidden pair with someone who is
    # not in these profiles can never be made anyway, so it is skipped.  A lock
    # must be honoured, so an unknown id there is an error.
    return pairs + _file_pairs(table, rule.kind == "lock", lookup, issues)


def _file_pairs(
    table: Table, strict: bool, lookup: dict[str, int], issues: _Collector
) -> list[tuple[int, int]]:
    """Pairs of a forbid or lock file, looked up per distinct id (vectorised);
    rows with something to report (or to skip) are looked at one by one."""
    first, second = table.frame.columns[:2]
    ia_all = _side_ids(table.frame[first], lookup)
    ib_all = _side_ids(table.frame[second], lookup)
    fine = (ia_all >= 0) & (ib_all >= 0) & (ia_all != ib_all)
    pairs = list(zip(ia_all[fine].tolist(), ib_all[fine].tolist(), strict=True))
    odd = ~fine
    looked = (table.frame[first][odd], table.frame[second][odd], table.rows[odd])
    for a, b, row in zip(*looked, strict=True):
        ia, ib = _side_id(a, lookup), _side_id(b, lookup)
        for value, index, col in ((a, ia, first), (b, ib, second)):
            blank = not str(value).strip()
            if index is None and (strict or blank):
                what = "id is blank" if blank else "id is not in the profiles"
                issues.add(Issue(what, file=table.file, row=int(row), column=str(col)))
        if ia is not None and ib is not None and ia == ib:
            issues.add(Issue("pairs a person with themselves", file=table.file, row=int(row)))
    return pairs


def _side_id(value: object, lookup: dict[str, int]) -> int | None:
    """The participant an id cell of a side file names, matched on the raw id.

    Files buddymatch wrote (history.csv, matches.csv) hold ids neutralised against
    formula injection (``'+44…``); :func:`~buddymatch.io.writers.unneutralise` is
    the exact inverse, so an id written by buddymatch always reads back as itself.
    """
    return lookup.get(_key(unneutralise(str(value).strip())))


def _side_ids(series: pd.Series, lookup: dict[str, int]) -> np.ndarray:
    """:func:`_side_id` of every cell (-1: unknown), computed once per distinct value."""
    codes, distinct = pd.factorize(series.astype(str))
    found = [_side_id(v, lookup) for v in distinct]
    index = np.array([-1 if i is None else i for i in found] + [-1], dtype=np.int64)
    return index[codes]


def _read_pairwise(file: str, n: int, lookup: dict[str, int], base_dir, issues) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A symmetric (n, n) matrix from a CSV of ``id_a, id_b, value`` rows (missing pairs: 0)."""
    matrix = np.zeros((n, n), dtype=np.float64)
    table = _read_side_file(_resolve(base_dir, file), issues, lookup, "pairwise", 3)
    if table is None:
        return matrix
    first, second, third = table.frame.columns[:3]
    a = table.frame[first].map(lambda v: _side_id(v, lookup)).fillna(-1).to_numpy(np.int64)
    b = table.frame[second].map(lambda v: _side_id(v, lookup)).fillna(-1).to_numpy(np.int64)
    value = pd.to_numeric(table.frame[third].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~((value >= 0) & (value <= MAX_MAGNITUDE))
    for k in np.flatnonzero(bad).tolist():
        issues.add(
            Issue(
                f"value must be a number from 0 to {MAX_MAGNITUDE:g}",
                file=table.file,
                row=int(table.rows[k]),
                column=str(third),
            )
        )
    for col, idx in ((first, a), (second, b)):
        for k in np.flatnonzero(idx < 0).tolist():
            issues.add(
                Issue(
                    "id is not in the profiles",
                    file=table.file,
                    row=int(table.rows[k]),
                    column=str(col),
                )
            )
    ok = (a >= 0) & (b >= 0) & ~bad & (a != b)
    matrix[a[ok], b[ok]] = value[ok]
    matrix[b[ok], a[ok]] = value[ok]
    return matrix


def _read_side_file(
    path: Path, issues: _Collector, lookup: dict[str, int], what: str, width: int
) -> Table | None:
    """Read a forbid/lock/history/pairwise file with the profiles' reader; headings required.

    Same limits, encodings and messages as profiles.  A file with headings and no
    rows is an empty list.  A first row that holds ids or numbers is not a heading
    row: without this check its first pair would silently become the headings.
    """
    try:
        table = read_table(path, allow_empty=True)
    except InputError as exc:
        for issue in exc.issues:
            issues.add(issue)
        return None
    if _headings_look_like_data(table, lookup):
        issues.add(
            Issue(
                "has no heading row: row 1 holds ids or numbers, not headings",
                file=table.file,
                row=1,
                fix=f"add a heading row; expected {_SIDE_EXPECTED[what]}",
            )
        )
        return None
    if table.frame.shape[1] < width:
        issues.add(
            Issue(
                f"needs at least {width} columns",
                file=table.file,
                fix=f"expected {_SIDE_EXPECTED[what]}",
            )
        )
        return None
    return table


def _headings_look_like_data(table: Table, lookup: dict[str, int]) -> bool:
    for heading in table.frame.columns:
        text = unneutralise(str(heading).strip())
        if _key(text) in lookup or _NUMBER.fullmatch(text) or looks_like_data(text):
            return True
    return False


def _ids_to_index(members, path: str, lookup: dict[str, int], issues, first: int = 1) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Indices of the ids in ``members``; unknown ids are reported by position, never quoted."""
    out = []
    for j, m in enumerate(members, start=first - 1):
        i = lookup.get(_key(m))
        if i is None:
            issues.add(Issue(f'key "{path}": item {j + 1} is not an id in the profiles'))
        else:
            out.append(i)
    return np.asarray(out, dtype=np.int64)


def _read_history(scheme: Scheme, lookup: dict[str, int], base_dir, issues) -> History:  # type: ignore[no-untyped-def]
    spec = scheme.history
    if spec is None:
        return History()
    table = _read_side_file(_resolve(base_dir, spec.file), issues, lookup, "history", 1)
    if table is None:
        return History()
    cols = {_key(c): c for c in table.frame.columns}
    if {"round", "group", "participant_id"} <= cols.keys():
        table = _groups_as_pairs(table, cols)
        cols = {_key(c): c for c in table.frame.columns}
    id_cols = [cols[k] for k in _HISTORY_IDS if k in cols]
    if "round" not in cols or len(id_cols) < 2:
        issues.add(
            Issue(
                "history needs a round column and the id columns of matches.csv",
                file=table.file,
                fix="use a previous run's matches.csv (round, member_a, member_b[, member_c])",
            )
        )
        return History()
    rounds = _history_rounds(table, cols["round"], issues)
    latest = int(np.nanmax(rounds)) if np.isfinite(rounds).any() else 0
    ids = pd.DataFrame(
        {c: table.frame[c].astype(str).str.strip().map(unneutralise) for c in id_cols}
    )
    pairs, ago = _history_pairs(ids, rounds, latest, lookup)
    # Kept as read (people who left included) so history.csv can carry it forward.
    kept = pd.DataFrame({"round": table.frame[cols["round"]].str.strip()})
    for k, c in enumerate(id_cols[:3]):
        kept[("member_a", "member_b", "member_c")[k]] = ids[c]
    return History(_pair_array(pairs), np.asarray(ago, dtype=np.int64), latest, kept)


def _groups_as_pairs(table: Table, cols: dict[str, str]) -> Table:
    """A cohorts run's groups.csv read as the pairs who shared a group (same round,
    part and group), one row per pair with the group's first row number, so the
    rest of the history reading (rounds, ids, rounds ago) is shared."""
    frame = table.frame.reset_index(drop=True)  # labels are positions in table.rows
    keys = [cols[k] for k in ("round", "part", "group") if k in cols]
    rows, rounds, first, second = [], [], [], []
    for _, members in frame.groupby(keys, sort=False):
        ids = members[cols["participant_id"]].tolist()
        where = members.index.tolist()
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                rows.append(int(table.rows[where[x]]))
                rounds.append(members[cols["round"]].iloc[0])
                first.append(ids[x])
                second.append(ids[y])
    pairs = pd.DataFrame({"round": rounds, "member_a": first, "member_b": second}, dtype=str)
    return replace(table, frame=pairs, rows=np.asarray(rows, dtype=np.int64))


def _history_rounds(table: Table, column: str, issues: _Collector) -> np.ndarray:
    """Round numbers as floats (nan where reported as not a whole number 1..MAX_ROUND)."""
    rounds = pd.to_numeric(table.frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~((rounds >= 1) & (rounds <= MAX_ROUND) & (rounds == np.floor(rounds)))
    for k in np.flatnonzero(bad).tolist():
        issues.add(
            Issue(
                f"round must be a whole number from 1 to {MAX_ROUND:,}",
                file=table.file,
                row=int(table.rows[k]),
                column=column,
            )
        )
    return np.where(bad, np.nan, rounds)


def _history_pairs(
    ids: pd.DataFrame, rounds: np.ndarray, latest: int, lookup: dict[str, int]
) -> tuple[list[tuple[int, int]], list[int]]:
    """Every pair of known people who shared a row, with how many rounds ago (1 = latest)."""
    pairs: list[tuple[int, int]] = []
    ago: list[int] = []
    for k, row in enumerate(ids.itertuples(index=False)):
        if not np.isfinite(rounds[k]):
            continue
        members = [lookup.get(_key(v)) for v in row if v]
        known = sorted(m for m in members if m is not None)  # people who left are ignored
        for x in range(len(known)):
            for y in range(x + 1, len(known)):
                pairs.append((known[x], known[y]))
                ago.append(latest - int(rounds[k]) + 1)
    return pairs, ago


# --- feedback ----------------------------------------------------------------------------------

_FEEDBACK_IDS = (("mentor_id", "mentee_id"), ("member_a", "member_b", "member_c"))
_OUTCOMES = {_key(o): o for o in FEEDBACK_OUTCOMES} | {"did not work": "did-not-work"}


def _read_feedback(scheme: Scheme, lookup: dict[str, int], base_dir, issues) -> Feedback:  # type: ignore[no-untyped-def]
    """Feedback rows -> index pairs, outcomes, ratings and weight points (``FeedbackSpec``).

    Rows naming someone no longer in the profiles are skipped (they left, as in
    history); a blank outcome means no feedback yet.  Problems are reported by
    file, row and column, never quoting a cell.
    """
    spec = scheme.feedback
    if spec is None:
        return Feedback()
    table = _read_side_file(_resolve(base_dir, spec.file), issues, lookup, "feedback", 1)
    if table is None:
        return Feedback()
    cols = {_key(c): c for c in table.frame.columns}
    ids = next(([cols[k] for k in s if k in cols] for s in _FEEDBACK_IDS if s[0] in cols), [])
    if len(ids) < 2 or "outcome" not in cols:
        issues.add(
            Issue(
                "feedback needs the id columns of matches.csv and an outcome column",
                file=table.file,
                fix="columns mentor_id, mentee_id (or member_a, member_b), outcome, "
                "optional rating",
            )
        )
        return Feedback()
    rows = _feedback_rows(table, ids, cols, lookup, issues)
    pairs = [p for p, _, _ in rows]
    outcome = tuple(o for _, o, _ in rows)
    rating = np.array([r for _, _, r in rows], dtype=np.float64)
    points = np.where(np.isnan(rating), 0.0, spec.rating_points * (rating - 3))
    points += np.array([spec.continuing_bonus * (o == "continuing") for o in outcome])
    return Feedback(_pair_array(pairs), outcome, rating, points.astype(np.float64))


def _feedback_rows(  # type: ignore[no-untyped-def]
    table: Table, ids: list[str], cols: dict[str, str], lookup: dict[str, int], issues
) -> list[tuple[tuple[int, int], str, float]]:
    """((a, b), outcome, rating or nan) per pair of every valid row; trios give three pairs."""
    frame = table.frame
    out: list[tuple[tuple[int, int], str, float]] = []
    first_row: dict[frozenset[int], int] = {}
    for k, row in enumerate(table.rows.tolist()):
        outcome = _feedback_outcome(
            str(frame[cols["outcome"]].iat[k]), table.file, row, cols, issues
        )
        rating = _feedback_rating(frame, cols, k, table.file, row, issues)
        members = _feedback_members(frame, ids, k, lookup, table.file, row, issues)
        if outcome is None or members is None or rating is None:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                key = frozenset((members[x], members[y]))
                if key in first_row:
                    issues.add(
                        Issue(
                            f"the same pair is also on row {first_row[key]}",
                            file=table.file,
                            row=row,
                            fix="one row per pair",
                        )
                    )
                    continue
                first_row[key] = row
                out.append(((members[x], members[y]), outcome, rating))
    return out


def _feedback_outcome(value: str, file: str, row: int, cols, issues) -> str | None:  # type: ignore[no-untyped-def]
    key = _key(value)
    if key == "":
        return None  # no feedback on this pair yet
    if key not in _OUTCOMES:
        issues.add(
            Issue(
                "outcome is not one of continuing, ended, did-not-work",
                file=file,
                row=row,
                column=cols["outcome"],
                fix="use continuing, ended or did-not-work (blank: no feedback yet)",
            )
        )
        return None
    return _OUTCOMES[key]


def _feedback_rating(frame, cols, k: int, file: str, row: int, issues) -> float | None:  # type: ignore[no-untyped-def]
    """The rating (nan when blank or there is no rating column); None when invalid."""
    if "rating" not in cols:
        return float("nan")
    text = str(frame[cols["rating"]].iat[k]).strip()
    if text == "":
        return float("nan")
    if text not in ("1", "2", "3", "4", "5"):
        issues.add(
            Issue(
                "rating must be a whole number from 1 to 5",
                file=file,
                row=row,
                column=cols["rating"],
                fix="leave blank for no rating",
            )
        )
        return None
    return float(text)


def _feedback_members(  # type: ignore[no-untyped-def]
    frame, ids: list[str], k: int, lookup: dict[str, int], file: str, row: int, issues
) -> list[int] | None:
    """Participant indices of the row's ids; None if a required id is blank or a person left."""
    values = [str(frame[c].iat[k]).strip() for c in ids]
    members = []
    for column, value in zip(ids, values, strict=True):
        if value == "":
            if column in ids[:2]:
                issues.add(Issue("id is blank", file=file, row=row, column=column))
                return None
            continue
        index = _side_id(value, lookup)
        if index is None:
            return None  # someone who has left: nothing to apply
        members.append(index)
    if len(set(members)) != len(members):
        issues.add(Issue("pairs a person with themselves", file=file, row=row))
        return None
    return members


def _with_ended(history: History, feedback: Feedback) -> History:
    """The history plus feedback's ended pairs, as met in the latest round (1 round ago)."""
    ended = [
        (min(a, b), max(a, b))
        for (a, b), o in zip(feedback.pairs.tolist(), feedback.outcome, strict=True)
        if o == "ended"
    ]
    if not ended:
        return history
    pairs = np.concatenate([history.pairs, _pair_array(ended)])
    ago = np.concatenate([history.rounds_ago, np.ones(len(ended), dtype=np.int64)])
    return History(pairs, ago, history.latest_round, history.table)


_PRIORITY_COLUMNS = ("participant_id", "member_c")


def _read_priority(
    scheme: Scheme,
    attributes: dict[str, AttributeData],
    lookup: dict[str, int],
    base_dir: Path | None,
    issues: _Collector,
) -> np.ndarray | None:
    """Who ``priority:`` favours (bool per participant), or None without ``priority:``.

    By attribute value, or from a file: ``column:`` names the id column;
    otherwise a previous run's unmatched.csv (``participant_id``: everyone
    listed) or matches/history file of a peer run (``member_c``: the three
    members of each trio) is recognised, else the scheme's id heading.  Only the
    latest round of a file with a ``round`` column counts ("last time"); ids not
    in these profiles (people who left) are skipped.
    """
    spec = scheme.priority
    if spec is None:
        return None
    n = len(lookup)
    if spec.attribute is not None:
        return _matches_values(attributes[spec.attribute], spec.values)
    favoured = np.zeros(n, dtype=bool)
    assert spec.file is not None
    table = _read_side_file(_resolve(base_dir, spec.file), issues, lookup, "priority", 1)
    if table is None:
        return favoured
    frame = table.frame
    cols = {_key(c): c for c in frame.columns}
    wanted = [spec.column] if spec.column else [*_PRIORITY_COLUMNS, scheme.participants.id]
    found = next((cols[_key(c)] for c in wanted if _key(c) in cols), None)
    if found is None:
        shown = ", ".join(f'"{c}"' for c in frame.columns[:15])
        what = f'column "{spec.column}"' if spec.column else "an id column"
        issues.add(
            Issue(
                f"{what} for priority: is not in the file",
                file=table.file,
                fix=f"name the id column with priority.column; the file has: {shown}",
            )
        )
        return favoured
    rows = _latest_round(table, cols, issues)
    members = [found]
    if _key(found) == "member_c":  # a trio's three members
        members = [cols[k] for k in ("member_a", "member_b", "member_c") if k in cols]
        rows &= (frame[found].astype(str).str.strip() != "").to_numpy()
    for c in members:
        index = _side_ids(frame[c][rows], lookup)
        favoured[index[index >= 0]] = True
    return favoured


def _latest_round(table: Table, cols: dict[str, str], issues: _Collector) -> np.ndarray:
    """Rows of the latest round when the file has a ``round`` column (else every row);
    round numbers are checked as in a history file."""
    frame = table.frame
    if "round" not in cols:
        return np.ones(len(frame), dtype=bool)
    rounds = _history_rounds(table, cols["round"], issues)
    if not np.isfinite(rounds).any():
        return np.zeros(len(frame), dtype=bool)
    return np.asarray(rounds == np.nanmax(rounds))


# --- misc ---------------------------------------------------------------------------------------


def _pair_array(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _hash_frames(tables: Sequence[Table]) -> str:
    h = hashlib.sha256()
    for t in tables:
        h.update(Path(t.file).name.encode())
        h.update(pd.util.hash_pandas_object(t.frame, index=False).to_numpy().tobytes())
        h.update("\x1f".join(map(str, t.frame.columns)).encode())
    return h.hexdigest()[:16]
