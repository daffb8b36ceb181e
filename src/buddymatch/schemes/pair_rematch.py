"""The re-match of a pair scheme (mentoring, peer): keep, end with a reason, place the rest.

Order of the work, the same for every pair scheme:

1. the repaired round's units are read back and mapped onto today's
   participants (a member who is not in the profiles dropped out; a trio that
   lost one member is kept as a pair when the pair still holds);
2. each unit is **kept** when everyone in it is still in and every pair in it
   still passes every rule, in this order of reasons: dropped out, excluded,
   feedback (did-not-work, ended), roles, the rules and ``min_score``; then the
   scheme trims what the capacities or a lock no longer allow
   (:meth:`PairScheme.rematch_trim`);
3. the scheme's solver places everyone else by the objective, with the kept
   units fixed (``max_changes`` 0) or breakable up to K
   (:meth:`PairScheme.rematch_place`); pairs of the previous result that were
   not kept are never made again;
4. the independent checker re-verifies every unit, including that no ended
   pair was made again; then the tables: matches (with ``kept``), unmatched,
   history (the previous history plus the new units) and ``changes``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pandas as pd

from ..check import check_pairs
from ..model import Pairs, Problem, Unit, text_key
from ..scoring import pair_scores
from .base import RoundOutcome, SchemeRun
from .common import (
    HISTORY_COLUMNS,
    UNMATCHED_COLUMNS,
    excluded_reason,
    not_allowed,
    unit_pairs,
    unit_scores,
)
from .rematch import Previous, change_rows, dropped_out, index_of, joined, rematch_summary

Ending = tuple[Unit, str, str]
"""A previous unit (today's indices of those still in) that ended: (unit, category, reason)."""


@dataclass(frozen=True)
class Old:
    """A unit of the repaired round: ids as written, today's index of each (None: left)."""

    ids: tuple[str, ...]
    members: tuple[int | None, ...]


@dataclass(frozen=True)
class Placement:
    """What a pair scheme's re-match solve returns (:meth:`PairScheme.rematch_place`)."""

    new: list[Unit]
    broken: list[Unit]
    outcome: RoundOutcome
    trade_off: list[dict[str, Any]]


class PairKind(Protocol):
    """What a pair scheme offers a re-match (``schemes.pairs.PairScheme`` implements it)."""

    directed: ClassVar[bool]
    id_columns: ClassVar[tuple[str, ...]]

    def explain_guard(self, problem: Problem, a: int, b: int) -> str | None: ...
    def rematch_trim(
        self, problem: Problem, kept: list[Unit]
    ) -> tuple[list[Unit], list[Ending]]: ...
    def rematch_place(
        self,
        problem: Problem,
        kept: list[Unit],
        not_again: set[frozenset[int]],
        *,
        max_changes: int,
    ) -> Placement: ...
    def rematch_order(self, problem: Problem, units: list[Unit]) -> list[Unit]: ...
    def matches_table(
        self, problem: Problem, rounds: list[list[Unit]], scores: list[list[float]]
    ) -> pd.DataFrame: ...
    def unmatched_rows(
        self, problem: Problem, rounds: list[list[Unit]]
    ) -> list[tuple[Any, ...]]: ...
    def extra_summary(
        self, problem: Problem, rounds: list[list[Unit]], scores: list[list[float]]
    ) -> dict[str, Any]: ...
    def explain(
        self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str
    ) -> str: ...


def previous_units(kind: PairKind, problem: Problem, previous: Previous) -> list[Old]:
    """The repaired round's units, in the order written."""
    lookup = index_of(problem)
    out = []
    for rec in previous.latest().to_dict(orient="records"):
        ids = tuple(str(rec[c]) for c in kind.id_columns if isinstance(rec.get(c), str) and rec[c])
        out.append(Old(ids, tuple(lookup.get(text_key(v)) for v in ids)))
    return out


def met_before(kind: PairKind, problem: Problem, previous: Previous) -> set[frozenset[int]]:
    """Every pair of today's participants that met in the previous result (any round)."""
    lookup = index_of(problem)
    met: set[frozenset[int]] = set()
    for rec in previous.main.to_dict(orient="records"):
        members = [
            lookup.get(text_key(rec[c]))
            for c in kind.id_columns
            if isinstance(rec.get(c), str) and rec[c]
        ]
        known = [m for m in members if m is not None]
        met |= {frozenset(p) for p in unit_pairs(tuple(known))}
    return met


@dataclass(frozen=True)
class _Facts:
    """What the verdicts look up, computed once: pair scores and feedback outcomes."""

    scores: dict[tuple[int, int], float]
    feedback: dict[frozenset[int], str]

    @classmethod
    def of(cls, problem: Problem, olds: list[Old]) -> _Facts:
        pairs = sorted({p for old in olds for p in unit_pairs(_present(problem, old))})
        values = pair_scores(problem, Pairs.of(pairs)).tolist() if pairs else []
        outcomes = zip(problem.feedback.pairs.tolist(), problem.feedback.outcome, strict=True)
        return cls(
            dict(zip(pairs, values, strict=True)),
            {frozenset((a, b)): o for (a, b), o in outcomes},
        )


def _present(problem: Problem, old: Old) -> Unit:
    """The members still in, as a unit: (mentor, mentee), or sorted in a pool."""
    present = tuple(m for m in old.members if m is not None)
    return present if problem.directed else tuple(sorted(present))


def verdict(
    kind: PairKind, problem: Problem, old: Old, facts: _Facts
) -> tuple[Unit, str | None, str]:
    """(members still in, category, reason) — category None: the unit is kept."""
    unit = _present(problem, old)
    gone = [v for v, m in zip(old.ids, old.members, strict=True) if m is None]
    if gone and len(unit) < 2:
        return unit, "dropped out", f"{'; '.join(gone)} dropped out"
    for a, b in unit_pairs(unit):
        found = _pair_problem(kind, problem, a, b, facts.scores[(a, b)], facts)
        if found is not None:
            return unit, *found
    return unit, None, ""


def _pair_problem(
    kind: PairKind, problem: Problem, a: int, b: int, score: float, facts: _Facts
) -> tuple[str, str] | None:
    """(category, reason) when the pair (a, b) can no longer be kept."""
    for person in (a, b):
        if problem.excluded[person]:
            return "excluded", f"{problem.ids[person]} {excluded_reason(problem, person)}"
    outcome = facts.feedback.get(frozenset((a, b)))
    if outcome in ("did-not-work", "ended"):
        return f"feedback: {outcome}", f"feedback says the pair {outcome.replace('-', ' ')}"
    if kind.explain_guard(problem, a, b):
        return "role changed", "roles changed: they are not a mentor and a mentee now"
    why = not_allowed(problem, a, b, score)
    if why:
        return "rule now fails", "rule now fails: " + "; ".join(why)
    return None


def rematch_pairs(
    kind: PairKind, problem: Problem, previous: Previous, *, max_changes: int
) -> SchemeRun:
    """The whole re-match of a pair scheme (module docstring)."""
    olds = previous_units(kind, problem, previous)
    facts = _Facts.of(problem, olds)
    kept: list[Unit] = []
    ended: list[Ending] = []
    for old in olds:
        unit, category, reason = verdict(kind, problem, old, facts)
        if category is None:
            kept.append(unit)
        else:
            ended.append((unit, category, reason))
    kept, trimmed = kind.rematch_trim(problem, kept)
    ended += trimmed
    met = met_before(kind, problem, previous)
    not_again = met - {frozenset(p) for u in kept for p in unit_pairs(u)}
    placed = kind.rematch_place(problem, kept, not_again, max_changes=max_changes)
    broken = set(placed.broken)
    ended += [(u, "changed by max-changes", _broken_reason(problem, u)) for u in placed.broken]
    kept = [u for u in kept if u not in broken]
    units = kind.rematch_order(problem, [*kept, *placed.new])
    scores = unit_scores(problem, units)
    check_pairs(problem, [units], scores=[scores], not_again=not_again)
    return _tables(kind, problem, previous, olds, units, set(kept), ended, placed, max_changes)


def _broken_reason(problem: Problem, unit: Unit) -> str:
    return "broken by the optimiser (--max-changes) to place more people or raise the objective"


def _tables(
    kind: PairKind,
    problem: Problem,
    previous: Previous,
    olds: list[Old],
    units: list[Unit],
    kept: set[Unit],
    ended: list[Ending],
    placed: Placement,
    max_changes: int,
) -> SchemeRun:
    matches = kind.matches_table(problem, [units], [unit_scores(problem, units)])
    matches.insert(list(matches.columns).index("explanation"), "kept", [u in kept for u in units])
    unmatched = pd.DataFrame(kind.unmatched_rows(problem, [units]), columns=UNMATCHED_COLUMNS)
    new_units = [u for u in units if u not in kept]
    tables = {
        "matches": matches,
        "unmatched": unmatched,
        "history": _history(kind, problem, previous, new_units),
        "changes": _changes(problem, previous, olds, units, ended, unmatched),
    }
    by_reason = Counter(category for _, category, _ in ended)
    extra = rematch_summary(
        previous,
        kept=len(kept),
        ended=dict(by_reason),
        new=len(new_units),
        left=len(dropped_out(problem, previous)),
        joined_count=len(joined(problem, previous)),
        max_changes=max_changes,
        changes_used=len(placed.broken),
        trade_off=placed.trade_off,
    )
    extra.update(kind.extra_summary(problem, [units], [unit_scores(problem, units)]))
    return SchemeRun(
        tables,
        [placed.outcome],
        lambda a, b: kind.explain(problem, tables, a, b),
        extra,
    )


def _history(
    kind: PairKind, problem: Problem, previous: Previous, new_units: list[Unit]
) -> pd.DataFrame:
    """The previous history (every meeting so far) plus the units the re-match made."""
    old = previous.tables.get("history")
    if old is None:  # an xlsx result or a hand-made folder: its own rounds are the history
        old = _as_history(kind, previous.main)
    round_number = previous.round
    rows = [
        {
            "round": str(round_number),
            **{slot: problem.ids[m] for slot, m in zip(HISTORY_COLUMNS[1:], unit, strict=False)},
        }
        for unit in new_units
    ]
    frame = pd.concat([old, pd.DataFrame(rows, columns=HISTORY_COLUMNS)], ignore_index=True)
    frame = frame.reindex(columns=HISTORY_COLUMNS).astype(object)
    return frame.where(frame.notna(), "").astype(str)


def _as_history(kind: PairKind, main: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"round": main["round"].astype(str)})
    for slot, column in zip(HISTORY_COLUMNS[1:], kind.id_columns, strict=False):
        out[slot] = main[column] if column in main.columns else ""
    return out


def _partners(unit_ids: tuple[str, ...], into: dict[str, list[str]]) -> None:
    for person in unit_ids:
        into.setdefault(person, []).extend(x for x in unit_ids if x != person)


def _changes(
    problem: Problem,
    previous: Previous,
    olds: list[Old],
    units: list[Unit],
    ended: list[Ending],
    unmatched: pd.DataFrame,
) -> pd.DataFrame:
    """changes.csv rows: partners before and after, with the reason a unit ended."""
    key_to_now = {text_key(v): v for v in problem.ids}
    before: dict[str, list[str]] = {}
    for old in olds:  # today's spelling of each id (as written before for those who left)
        shown = tuple(key_to_now.get(text_key(v), v) for v in old.ids)
        _partners(shown, before)
    after: dict[str, list[str]] = {}
    for unit in units:
        _partners(tuple(problem.ids[m] for m in unit), after)
    why: dict[str, list[str]] = {}
    for unit, _, reason in ended:
        for m in unit:
            why.setdefault(problem.ids[m], []).append(reason)
    for old in olds:  # a member who stayed while a partner left
        gone = [v for v, m in zip(old.ids, old.members, strict=True) if m is None]
        for person in (m for m in old.members if m is not None and gone):
            if not why.get(problem.ids[person]):
                why.setdefault(problem.ids[person], []).append(f"{'; '.join(gone)} dropped out")
    last = unmatched.drop_duplicates("participant_id", keep="last")
    return change_rows(
        {k: "; ".join(sorted(v)) for k, v in before.items()},
        {k: "; ".join(sorted(v)) for k, v in after.items()},
        ended={k: "; ".join(dict.fromkeys(v)) for k, v in why.items()},
        left=dropped_out(problem, previous),
        new=[problem.ids[i] for i in joined(problem, previous)],
        unplaced=dict(zip(last["participant_id"], last["reason"], strict=True)),
    )


def kept_note(tables: Any, problem: Problem, pa: int, pb: int, made: bool) -> str | None:
    """For a re-match result: whether a made pair was kept, or how an old pair ended."""
    matches = tables.get("matches")
    if matches is None or "kept" not in matches.columns:
        return None
    a, b = problem.ids[pa], problem.ids[pb]
    if made:
        for rec in matches.to_dict(orient="records"):
            members = {text_key(str(rec.get(c))) for c in HISTORY_ID_SOURCES if rec.get(c)}
            if {text_key(a), text_key(b)} <= members:
                return (
                    "Kept from before the re-match."
                    if bool(rec["kept"])
                    else "New in the re-match."
                )
        return None
    changes = tables.get("changes")
    if changes is None or not len(changes):
        return None
    for rec in changes.to_dict(orient="records"):
        if text_key(str(rec["participant_id"])) not in (text_key(a), text_key(b)):
            continue
        other = b if text_key(str(rec["participant_id"])) == text_key(a) else a
        before = {text_key(x) for x in str(rec.get("before") or "").split("; ") if x}
        if text_key(other) in before:
            return f"Paired before the re-match; that ended: {rec['why']}."
    return None


HISTORY_ID_SOURCES = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c")
