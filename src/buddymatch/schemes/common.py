"""Pieces every scheme's orchestration shares: ids, exclusions, history, locks, reasons."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..check import pair_violations
from ..errors import InputError, Issue
from ..model import BOTH, MENTEE, MENTOR, Pairs, Problem, Unit, criterion_name, text_key
from ..scoring import pair_layers, pair_scores, total_weight
from ..weights import NOT_ALLOWED, PairWeights
from .base import round_numbers

ROLE_WORDS = {MENTOR: "mentor", MENTEE: "mentee", BOTH: "both"}


def role_word(problem: Problem, i: int) -> str:
    """How person i's role is written in outputs (``member`` in pool schemes)."""
    return ROLE_WORDS.get(int(problem.role[i]), "member")


def id_lookup(problem: Problem) -> dict[str, int]:
    """Normalised id -> participant index (case and spacing ignored)."""
    return {text_key(v): i for i, v in enumerate(problem.ids)}


def lookup_id(problem: Problem, value: str, lookup: dict[str, int] | None = None) -> int:
    """Index of a user-supplied id (case and spacing ignored)."""
    found = (lookup if lookup is not None else id_lookup(problem)).get(text_key(value))
    if found is not None:
        return found
    raise InputError(
        issues=[Issue("an id given is not in the profiles", fix="check the spelling of the id")]
    )


def excluded_reason(problem: Problem, i: int) -> str:
    """Which exclude rule took person i out."""
    key = text_key(problem.ids[i])
    for rule in problem.scheme.rules:
        if rule.kind == "exclude" and key in {text_key(v) for v in rule.ids}:
            return "excluded by the coordinator (exclude: ids)"
    for rule in problem.scheme.rules:
        if rule.kind == "exclude" and rule.attribute is not None:
            att = problem.attributes[rule.attribute]
            shown = att.display(i)
            wanted = {text_key(v) for v in rule.values}
            values = {v.strip().casefold() for v in shown.split(";")} if shown else set()
            if values & wanted:
                return f"excluded by rule: {rule.attribute} is {shown}"
    return "excluded from matching"


def excluded_rows(problem: Problem, role: str | None = None) -> list[tuple[int, str, str, str]]:
    """unmatched.csv rows (first round) for everyone an exclude rule took out."""
    first = round_numbers(problem)[0]
    return [
        (first, problem.ids[i], role or role_word(problem, i), excluded_reason(problem, i))
        for i in np.flatnonzero(problem.excluded).tolist()
    ]


UNMATCHED_COLUMNS = ["round", "participant_id", "role", "reason"]
HISTORY_COLUMNS = ["round", "member_a", "member_b", "member_c"]


def history_table(problem: Problem, matches: pd.DataFrame, id_columns: list[str]) -> pd.DataFrame:
    """Past meetings plus this run's, in the form ``history: {file: ...}`` reads.

    Rows of the old history are kept as they were (people who have left
    included), this run's rounds are appended with their continued numbers.
    """
    new = pd.DataFrame({"round": matches["round"].astype(int).astype(str)})
    for slot, column in zip(HISTORY_COLUMNS[1:], id_columns, strict=False):
        new[slot] = matches[column].astype(str) if column in matches else ""
    old = problem.history.table
    frames = [f for f in (old, new) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    out = pd.concat(frames, ignore_index=True).reindex(columns=HISTORY_COLUMNS)
    out = out.astype(object).where(out.notna(), "")
    return out.astype(str)


def cooldown_block(problem: Problem, a: int, b: int) -> str | None:
    """Why history forbids (a, b) now, if it does."""
    spec = problem.scheme.history_rules
    if spec is None or not len(problem.history.pairs):
        return None
    key = (min(a, b), max(a, b))
    hits = [
        int(ago)
        for (x, y), ago in zip(
            problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
        )
        if (x, y) == key and ago <= spec.cooldown
    ]
    if not hits:
        return None
    ago = min(hits)
    return (
        f"they met {ago} round{'s' if ago > 1 else ''} ago, within the history cooldown "
        f"of {spec.cooldown}"
    )


def score_breakdown(problem: Problem, a: int, b: int) -> tuple[float, list[str]]:
    """The pair's score and one line per criterion (value × weight = points).

    ``(a, b)`` as in :class:`~buddymatch.model.Pairs`: mentoring a = mentor.
    """
    pair = Pairs(np.array([a]), np.array([b]))
    score = float(pair_scores(problem, pair)[0])
    layers = pair_layers(problem, pair)
    total = total_weight(problem)
    lines = [f"Score {score:.2f} of 100:"]
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        value = float(layers[name][0])
        points = 100 * crit.weight * value / total if total else 0.0
        lines.append(f"  {name}: {value:.3f} × weight {crit.weight:g} = {points:.2f} points")
    return score, lines


def not_allowed(problem: Problem, a: int, b: int, score: float) -> list[str]:
    """Every reason the pair (a, b) may not be made (mentoring: a = mentor)."""
    why = pair_violations(problem, a, b)
    recent = cooldown_block(problem, a, b)
    if recent:
        why.append(recent)
    if problem.excluded[a] or problem.excluded[b]:
        why.append("one of them is excluded from matching")
    if problem.scheme.min_score is not None and score < problem.scheme.min_score:
        why.append(f"score is below the minimum score {problem.scheme.min_score:g}")
    return why


def local_locks(
    problem: Problem, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray | PairWeights
) -> np.ndarray | None:
    """Locked pairs as (row, column) positions of the weight matrix.

    Rows are mentees in a directed scheme (the weight-matrix layout); a pool
    scheme's locks are unordered.  A lock that cannot be honoured (someone
    excluded, a rule or ``min_score`` against it) is an input error naming its
    rows and the reason.  That a directed lock is (mentor, mentee) is checked
    when the lock file is read (``io/profiles.py``).
    """
    if not len(problem.locked):
        return None
    pos_r = {int(x): k for k, x in enumerate(rows)}
    pos_c = {int(x): k for k, x in enumerate(cols)}
    issues, local = [], []
    for a, b in problem.locked.tolist():
        row_person, col_person = (b, a) if problem.directed else (a, b)
        i, j = pos_r.get(row_person), pos_c.get(col_person)
        who = f"locked pair ({problem.where(a)}, {problem.where(b)})"
        if i is None or j is None:
            issues.append(Issue(f"{who} involves someone excluded from matching"))
        elif weights[i, j] == NOT_ALLOWED:
            why = not_allowed(problem, a, b, 100.0) or ["is below the minimum score"]
            issues.append(Issue(f"{who} {'; '.join(why)}", fix="unlock it or relax the rule"))
        else:
            local.append((i, j))
    issues += _locks_over_capacity(problem)
    if issues:
        raise InputError(issues=issues)
    return np.asarray(local, dtype=np.int64).reshape(-1, 2)


def _locks_over_capacity(problem: Problem) -> list[Issue]:
    """People locked into more pairs than they may have (capacity, wants, one partner)."""
    locked = problem.locked.tolist()
    if problem.directed:
        sides = [
            (Counter(a for a, _ in locked), problem.capacity, "a capacity of", "mentee(s)"),
            (Counter(b for _, b in locked), problem.wants, "wanting", "mentor(s)"),
        ]
    else:
        one = np.ones(problem.n, dtype=np.int64)
        sides = [(Counter(x for pair in locked for x in pair), one, "room for", "partner")]
    return [
        Issue(
            f"{problem.where(person)} is in {count} locked pairs but has {what} {most[person]} "
            f"{unit}",
            fix="unlock a pair or raise the number",
        )
        for counts, most, what, unit in sides
        for person, count in sorted(counts.items())
        if count > most[person]
    ]


def unit_pairs(unit: Unit) -> list[tuple[int, int]]:
    """Every pair inside a unit, in the unit's order (a trio has three)."""
    return [(unit[i], unit[j]) for i in range(len(unit)) for j in range(i + 1, len(unit))]


def flat_pairs(units: list[Unit]) -> tuple[np.ndarray, Pairs]:
    """Every pair inside the units, with the index of the unit each belongs to."""
    owner = [k for k, u in enumerate(units) for _ in unit_pairs(u)]
    flat = [p for u in units for p in unit_pairs(u)]
    return np.asarray(owner, dtype=np.int64), Pairs.of(flat)


def unit_scores(problem: Problem, units: list[Unit]) -> list[float]:
    """A pair's score; a trio's is the mean of its three pair scores."""
    if not units:
        return []
    owner, pairs = flat_pairs(units)
    sums = np.bincount(owner, weights=pair_scores(problem, pairs), minlength=len(units))
    return (sums / np.bincount(owner, minlength=len(units))).tolist()
