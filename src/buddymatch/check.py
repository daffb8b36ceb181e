"""Independent re-check of a result against the problem, after every solve.

Deliberately written with plain per-pair / per-group Python logic, sharing no
code with ``candidates.py`` or the solvers: a bug there must not hide itself
here.  Any violation is a bug in buddymatch, so :func:`check_pairs` and
:func:`check_groups` raise :class:`SolverError` and nothing is written.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from .errors import SolverError
from .model import (
    BOTH,
    MENTEE,
    MENTOR,
    RULE_TOLERANCE,
    SCORE_TOLERANCE,
    AttributeData,
    Problem,
    text_key,
)

MAX_REPORTED = 20


def _value(att: AttributeData, i: int) -> object:
    """One participant's raw encoded value: code, float, or frozenset of labels."""
    v = att.values[i]
    if att.kind == "multi":
        return frozenset(int(k) for k in np.flatnonzero(v))
    if att.kind == "numeric":
        return None if math.isnan(float(v)) else float(v)
    return None if int(v) < 0 else int(v)


def _number(att: AttributeData, i: int) -> float | None:
    v = _value(att, i)
    return None if v is None else float(v)  # type: ignore[arg-type]


def pair_violations(problem: Problem, a: int, b: int) -> list[str]:
    """Every hard rule the pair (a, b) breaks; mentoring: a = mentor, b = mentee."""
    out = []
    mentoring = problem.directed
    if a == b:
        out.append("pairs a person with themselves")
    for rule in problem.scheme.rules:
        if rule.kind in ("different", "same"):
            att = problem.attributes[rule.attribute]
            x, y = _value(att, a), _value(att, b)
            if att.kind == "multi":
                shared = bool(x and y and (x & y))  # type: ignore[operator]
                both = bool(x) and bool(y)
            else:
                both = x is not None and y is not None
                shared = both and x == y
            if rule.kind == "different" and shared:
                out.append(f"breaks rule different {rule.attribute}")
            if rule.kind == "same" and not shared:
                out.append(f"breaks rule same {rule.attribute}")
        elif rule.kind == "gap":
            att = problem.attributes[rule.attribute]
            x, y = _number(att, a), _number(att, b)
            if x is None or y is None:
                out.append(f"gap on {rule.attribute} cannot be checked (blank value)")
                continue
            d = (x - y) if mentoring else abs(x - y)
            if (rule.min is not None and d < rule.min - RULE_TOLERANCE) or (
                rule.max is not None and d > rule.max + RULE_TOLERANCE
            ):
                out.append(f"breaks rule gap on {rule.attribute} (difference {d:g})")
    for f, g in problem.forbidden.tolist():
        if {f, g} == {a, b}:
            out.append("is a forbidden pair")
    return out


def check_pairs(
    problem: Problem,
    rounds: Sequence[Sequence[tuple[int, ...]]],
    *,
    scores: Sequence[Sequence[float]] | None = None,
    allowed_repeats: set[frozenset[int]] | None = None,
) -> None:
    """Verify pairs (mentoring: (mentor, mentee); peer: 2- or 3-person groups) per round.

    Checks roles, exclusions, capacities, every hard rule on every pair inside
    each unit, forbidden pairs, locks (first round), min_score, history
    cooldown and repeats across rounds (except ``allowed_repeats``, which the
    solver reported as unavoidable).
    """
    problems: list[str] = []
    mentoring = problem.directed
    who = problem.where
    met: set[frozenset[int]] = set()
    allowed_repeats = allowed_repeats or set()
    spec = problem.scheme.history
    recent = set()
    if spec is not None:
        for (x, y), ago in zip(
            problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
        ):
            if ago <= spec.cooldown:
                recent.add(frozenset((x, y)))
    for r, units in enumerate(rounds, start=1):
        seen_in_round: Counter[int] = Counter()
        as_mentor: Counter[int] = Counter()
        as_mentee: Counter[int] = Counter()
        pairs_in_round: set[tuple[int, int]] = set()
        for k, unit in enumerate(units):
            members = [int(m) for m in unit]
            for m in members:
                if m < 0 or m >= problem.n:
                    problems.append(f"round {r}: unknown participant index {m}")
                    continue
                if problem.excluded[m]:
                    problems.append(f"round {r}: {who(m)} is excluded but was matched")
            if mentoring:
                if len(members) != 2:
                    problems.append(f"round {r}: a mentoring unit must be a pair")
                    continue
                mentor, mentee = members
                if problem.role[mentor] not in (MENTOR, BOTH):
                    problems.append(f"round {r}: {who(mentor)} is not a mentor")
                if problem.role[mentee] not in (MENTEE, BOTH):
                    problems.append(f"round {r}: {who(mentee)} is not a mentee")
                as_mentor[mentor] += 1
                as_mentee[mentee] += 1
                if (mentor, mentee) in pairs_in_round:
                    problems.append(f"round {r}: pair ({who(mentor)}, {who(mentee)}) made twice")
                pairs_in_round.add((mentor, mentee))
            else:
                if len(members) not in (2, 3) or len(set(members)) != len(members):
                    problems.append(f"round {r}: a peer unit must be 2 or 3 different people")
                for m in members:
                    seen_in_round[m] += 1
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    a, b = members[i], members[j]
                    for v in pair_violations(problem, a, b):
                        problems.append(f"round {r}: ({who(a)}, {who(b)}) {v}")
                    key = frozenset((a, b))
                    if key in recent:
                        problems.append(f"round {r}: ({who(a)}, {who(b)}) met within the cooldown")
                    if key in met and key not in allowed_repeats:
                        problems.append(f"round {r}: ({who(a)}, {who(b)}) meet again")
            if scores is not None and problem.scheme.min_score is not None:
                s = scores[r - 1][k]
                if s < problem.scheme.min_score - SCORE_TOLERANCE:
                    problems.append(f"round {r}: unit {k + 1} scores {s:.2f}, below min_score")
        for unit in units:
            members = [int(m) for m in unit]
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    met.add(frozenset((members[i], members[j])))
        for m, c in seen_in_round.items():
            if c > 1:
                problems.append(f"round {r}: {who(m)} is in {c} pairs")
        for m, c in as_mentor.items():
            if c > problem.capacity[m]:
                problems.append(f"round {r}: {who(m)} mentors {c}, capacity {problem.capacity[m]}")
        for m, c in as_mentee.items():
            if c > problem.wants[m]:
                problems.append(f"round {r}: {who(m)} has {c} mentors, wanted {problem.wants[m]}")
        if r == 1:
            made = {frozenset(int(x) for x in u) for u in units}
            made_pairs = {
                frozenset((int(u[i]), int(u[j])))
                for u in units
                for i in range(len(u))
                for j in range(i + 1, len(u))
            }
            for a, b in problem.locked.tolist():
                if frozenset((a, b)) not in made_pairs and frozenset((a, b)) not in made:
                    problems.append(f"round 1: locked pair ({who(a)}, {who(b)}) is missing")
    _raise(problems)


def check_groups(
    problem: Problem,
    rounds: Sequence[np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    count_rules: Sequence[tuple[str, str, str | None, int]],
) -> None:
    """Verify cohort assignments: sizes, composition counts, together/apart, placements.

    ``count_rules`` are (kind, attribute, value or None for every value, count)
    straight from the scheme; values are compared as the user wrote them.
    """
    problems: list[str] = []
    who = problem.where
    for r, assignment in enumerate(rounds, start=1):
        groups: dict[int, list[int]] = {}
        for i, g in enumerate(assignment.tolist()):
            if g >= 0:
                if problem.excluded[i]:
                    problems.append(f"round {r}: {who(i)} is excluded but was placed")
                groups.setdefault(int(g), []).append(i)
        for g in range(len(lower)):
            size = len(groups.get(g, []))
            if not lower[g] <= size <= upper[g]:
                problems.append(
                    f"round {r}: group {g + 1} has {size}, allowed {lower[g]}–{upper[g]}"
                )
        for g in groups:
            if g >= len(lower):
                problems.append(f"round {r}: group {g + 1} does not exist")
        for kind, attribute, value, count in count_rules:
            att = problem.attributes[attribute]
            for g, members in groups.items():
                labels = Counter(text_key(att.display(m)) for m in members if att.display(m))
                targets = [text_key(value)] if value is not None else list(labels)
                for t in targets:
                    c = labels.get(t, 0)
                    bad = (
                        (kind == "at_least" and c < count)
                        or (kind == "at_most" and c > count)
                        or (kind == "exactly" and c != count)
                    )
                    if bad:
                        problems.append(
                            f"round {r}: group {g + 1} has {c} with {attribute} = {t}, "
                            f"rule {kind} {count}"
                        )
        for together in problem.together:
            if len({int(assignment[m]) for m in together}) > 1:
                problems.append(f"round {r}: a keep_together set is split across groups")
        for apart in problem.apart:
            shared = [int(assignment[m]) for m in apart if assignment[m] >= 0]
            if len(shared) != len(set(shared)):
                problems.append(f"round {r}: a keep_apart set shares a group")
        if problem.placed is not None and r == 1:
            for i, g in enumerate(problem.placed.tolist()):
                if g >= 0 and assignment[i] != g:
                    problems.append(f"round 1: {who(i)} is not in group {g + 1} as placed")
    _raise(problems)


def _raise(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_REPORTED]
    more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
    raise SolverError(
        "internal check failed — the result breaks the scheme's rules and was not written; "
        "please report this as a bug:\n" + "\n".join(shown) + more
    )
