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
from typing import Any

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


def pair_violations(
    problem: Problem, a: int, b: int, forbidden: frozenset[frozenset[int]] | None = None
) -> list[str]:
    """Every hard rule the pair (a, b) breaks; mentoring: a = mentor, b = mentee.

    ``forbidden`` is :func:`forbidden_pairs` when many pairs are checked.
    """
    out = []
    if a == b:
        out.append("pairs a person with themselves")
    for rule in problem.scheme.rules:
        if rule.kind in ("different", "same"):
            out += _same_or_different(problem, rule, a, b)
        elif rule.kind == "gap":
            out += _gap(problem, rule, a, b)
        elif rule.kind == "common":
            out += _common(problem, rule, a, b)
    if frozenset((a, b)) in (forbidden_pairs(problem) if forbidden is None else forbidden):
        out.append("is a forbidden pair")
    split = problem.scheme.split_by
    if split is not None and not _same_part(problem.attributes[split], [a, b]):
        out.append(f"crosses split_by {split} (different parts)")
    return out


def _common(problem: Problem, rule: Any, a: int, b: int) -> list[str]:
    att = problem.attributes[rule.attribute]
    shared = _value(att, a) & _value(att, b)  # type: ignore[operator]
    if len(shared) < rule.count:
        return [f"breaks rule common {rule.attribute} ({len(shared)} shared, {rule.count} needed)"]
    return []


def _same_part(att: AttributeData, members: Sequence[int]) -> bool:
    """Whether everyone has one and the same (non-blank) value of the split attribute."""
    values = {_value(att, m) for m in members}
    return len(values) == 1 and None not in values


def _same_or_different(problem: Problem, rule: Any, a: int, b: int) -> list[str]:
    att = problem.attributes[rule.attribute]
    x, y = _value(att, a), _value(att, b)
    if att.kind == "multi":
        shared = bool(x and y and (x & y))  # type: ignore[operator]
    else:
        shared = x is not None and y is not None and x == y
    if rule.kind == "different" and shared:
        return [f"breaks rule different {rule.attribute}"]
    if rule.kind == "same" and not shared:
        return [f"breaks rule same {rule.attribute}"]
    return []


def _gap(problem: Problem, rule: Any, a: int, b: int) -> list[str]:
    att = problem.attributes[rule.attribute]
    x, y = _number(att, a), _number(att, b)
    if x is None or y is None:
        return [f"gap on {rule.attribute} cannot be checked (blank value)"]
    d = (x - y) if problem.directed else abs(x - y)
    if (rule.min is not None and d < rule.min - RULE_TOLERANCE) or (
        rule.max is not None and d > rule.max + RULE_TOLERANCE
    ):
        return [f"breaks rule gap on {rule.attribute} (difference {d:g})"]
    return []


def forbidden_pairs(problem: Problem) -> frozenset[frozenset[int]]:
    """The forbidden pairs as a set, for checking many pairs."""
    return frozenset(frozenset((f, g)) for f, g in problem.forbidden.tolist())


def check_pairs(
    problem: Problem,
    rounds: Sequence[Sequence[tuple[int, ...]]],
    *,
    scores: Sequence[Sequence[float]] | None = None,
    allowed_repeats: set[frozenset[int]] | None = None,
    not_again: set[frozenset[int]] | None = None,
) -> None:
    """Verify pairs (mentoring: (mentor, mentee); peer: 2- or 3-person groups) per round.

    Checks roles, exclusions, capacities, every hard rule on every pair inside
    each unit, forbidden pairs, locks (first round), min_score, history
    cooldown and repeats across rounds (except ``allowed_repeats``, which the
    solver reported as unavoidable).  ``not_again`` are pairs that met before
    this run and may not meet again (a re-match: the previous result's pairs
    that were not kept).
    """
    audit = _PairAudit(problem, allowed_repeats or set())
    audit.met |= not_again or set()
    for r, units in enumerate(rounds, start=1):
        audit.round(r, units, scores[r - 1] if scores is not None else None)
        if r == 1:
            audit.locks(units)
    _raise(audit.problems)


class _PairAudit:
    """The state of a pair check across rounds: what met, what is recent, what is wrong."""

    def __init__(self, problem: Problem, allowed_repeats: set[frozenset[int]]) -> None:
        self.problem = problem
        self.who = problem.where
        self.problems: list[str] = []
        self.met: set[frozenset[int]] = set()
        self.allowed_repeats = allowed_repeats
        self.recent = recent_pairs(problem)
        self.forbidden = forbidden_pairs(problem)

    def round(self, r: int, units: Sequence[tuple[int, ...]], scores: Any) -> None:
        seen: Counter[int] = Counter()
        as_mentor: Counter[int] = Counter()
        as_mentee: Counter[int] = Counter()
        made: set[tuple[int, int]] = set()
        for k, unit in enumerate(units):
            members = [int(m) for m in unit]
            if not self._members_known(r, members):
                continue
            if self.problem.directed:
                if not self._directed_unit(r, members, as_mentor, as_mentee, made):
                    continue
            else:
                self._pool_unit(r, members, seen)
            self._pairs_inside(r, members)
            self._min_score(r, k, scores)
        for unit in units:
            self.met |= {frozenset(p) for p in _pairs_of([int(m) for m in unit])}
        self._loads(r, seen, as_mentor, as_mentee)
        self._both_roles(r, made, as_mentor, as_mentee)

    def _both_roles(
        self, r: int, made: set[tuple[int, int]], as_mentor: Counter[int], as_mentee: Counter[int]
    ) -> None:
        """No a→b with b→a unless ``role.reciprocal``; no one both mentor and mentee in a
        round with ``role.one_role``."""
        role = self.problem.scheme.participants.role
        if role is None or not role.reciprocal:
            self.problems += [
                f"round {r}: ({self.who(a)}, {self.who(b)}) mentor each other"
                for a, b in sorted(made)
                if a < b and (b, a) in made
            ]
        if role is not None and role.one_role:
            self.problems += [
                f"round {r}: {self.who(m)} is both a mentor and a mentee"
                for m in sorted(set(as_mentor) & set(as_mentee))
            ]

    def _members_known(self, r: int, members: list[int]) -> bool:
        ok = True
        for m in members:
            if m < 0 or m >= self.problem.n:
                self.problems.append(f"round {r}: unknown participant index {m}")
                ok = False
            elif self.problem.excluded[m]:
                self.problems.append(f"round {r}: {self.who(m)} is excluded but was matched")
        return ok

    def _directed_unit(
        self,
        r: int,
        members: list[int],
        as_mentor: Counter[int],
        as_mentee: Counter[int],
        made: set[tuple[int, int]],
    ) -> bool:
        if len(members) != 2:
            self.problems.append(f"round {r}: a mentoring unit must be a pair")
            return False
        mentor, mentee = members
        if self.problem.role[mentor] not in (MENTOR, BOTH):
            self.problems.append(f"round {r}: {self.who(mentor)} is not a mentor")
        if self.problem.role[mentee] not in (MENTEE, BOTH):
            self.problems.append(f"round {r}: {self.who(mentee)} is not a mentee")
        as_mentor[mentor] += 1
        as_mentee[mentee] += 1
        if (mentor, mentee) in made:
            self.problems.append(
                f"round {r}: pair ({self.who(mentor)}, {self.who(mentee)}) made twice"
            )
        made.add((mentor, mentee))
        return True

    def _pool_unit(self, r: int, members: list[int], seen: Counter[int]) -> None:
        if len(members) not in (2, 3) or len(set(members)) != len(members):
            self.problems.append(f"round {r}: a peer unit must be 2 or 3 different people")
        for m in members:
            seen[m] += 1

    def _pairs_inside(self, r: int, members: list[int]) -> None:
        for a, b in _pairs_of(members):
            where = f"round {r}: ({self.who(a)}, {self.who(b)})"
            self.problems += [
                f"{where} {v}" for v in pair_violations(self.problem, a, b, self.forbidden)
            ]
            key = frozenset((a, b))
            if key in self.recent:
                self.problems.append(f"{where} met within the cooldown")
            if key in self.met and key not in self.allowed_repeats:
                self.problems.append(f"{where} meet again")

    def _min_score(self, r: int, k: int, scores: Any) -> None:
        floor = self.problem.scheme.min_score
        if scores is not None and floor is not None and scores[k] < floor - SCORE_TOLERANCE:
            self.problems.append(f"round {r}: unit {k + 1} scores {scores[k]:.2f}, below min_score")

    def _loads(
        self, r: int, seen: Counter[int], as_mentor: Counter[int], as_mentee: Counter[int]
    ) -> None:
        p, who = self.problem, self.who
        self.problems += [f"round {r}: {who(m)} is in {c} pairs" for m, c in seen.items() if c > 1]
        self.problems += [
            f"round {r}: {who(m)} mentors {c}, capacity {p.capacity[m]}"
            for m, c in as_mentor.items()
            if c > p.capacity[m]
        ]
        self.problems += [
            f"round {r}: {who(m)} has {c} mentors, wanted {p.wants[m]}"
            for m, c in as_mentee.items()
            if c > p.wants[m]
        ]

    def locks(self, units: Sequence[tuple[int, ...]]) -> None:
        made = {frozenset(int(x) for x in u) for u in units}
        made_pairs = {frozenset(p) for u in units for p in _pairs_of([int(x) for x in u])}
        for a, b in self.problem.locked.tolist():
            if frozenset((a, b)) not in made_pairs and frozenset((a, b)) not in made:
                self.problems.append(
                    f"round 1: locked pair ({self.who(a)}, {self.who(b)}) is missing"
                )


def _pairs_of(members: list[int]) -> list[tuple[int, int]]:
    return [
        (members[i], members[j]) for i in range(len(members)) for j in range(i + 1, len(members))
    ]


def recent_pairs(problem: Problem) -> set[frozenset[int]]:
    """History pairs within the cooldown: not allowed to meet now."""
    spec = problem.scheme.history_rules
    if spec is None:
        return set()
    return {
        frozenset((x, y))
        for (x, y), ago in zip(
            problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
        )
        if ago <= spec.cooldown
    }


def check_groups(
    problem: Problem,
    rounds: Sequence[np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    count_rules: Sequence[tuple[str, str, str | None, int]],
) -> None:
    """Verify cohort assignments: sizes, composition counts, together/apart, placements.

    ``count_rules`` are (kind, attribute, value or None for every value, count)
    straight from the scheme; values are compared as the user wrote them.  Kinds:
    ``at_least``, ``at_most``, ``exactly``; ``not_alone`` (the count is 0 or at least
    ``count``); ``common`` (the members share at least ``count`` values).
    """
    problems: list[str] = []
    for r, assignment in enumerate(rounds, start=1):
        groups = _members_by_group(problem, r, assignment, problems)
        problems += _sizes(r, groups, lower, upper)
        problems += _counts(problem, r, groups, count_rules)
        problems += _together_apart(problem, r, assignment)
        if r == 1:
            problems += _placements(problem, assignment)
    _raise(problems)


def _members_by_group(
    problem: Problem, r: int, assignment: np.ndarray, problems: list[str]
) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(assignment.tolist()):
        if g >= 0:
            if problem.excluded[i]:
                problems.append(f"round {r}: {problem.where(i)} is excluded but was placed")
            groups.setdefault(int(g), []).append(i)
    return groups


def _sizes(r: int, groups: dict[int, list[int]], lower: np.ndarray, upper: np.ndarray) -> list[str]:
    out = [
        f"round {r}: group {g + 1} has {len(groups.get(g, []))}, allowed {lower[g]}–{upper[g]}"
        for g in range(len(lower))
        if not lower[g] <= len(groups.get(g, [])) <= upper[g]
    ]
    out += [f"round {r}: group {g + 1} does not exist" for g in groups if g >= len(lower)]
    return out


def _counts(
    problem: Problem,
    r: int,
    groups: dict[int, list[int]],
    count_rules: Sequence[tuple[str, str, str | None, int]],
) -> list[str]:
    out = []
    for kind, attribute, value, count in count_rules:
        att = problem.attributes[attribute]
        for g, members in groups.items():
            values = [_labels_of(att, m) for m in members]
            if kind == "common":
                shared = set.intersection(*values) if values else set()
                if len(shared) < count:
                    out.append(
                        f"round {r}: group {g + 1} shares {len(shared)} values of {attribute}, "
                        f"rule common {count}"
                    )
                continue
            labels = Counter(v for vs in values for v in vs)
            targets = [text_key(value)] if value is not None else list(labels)
            for t in targets:
                c = labels.get(t, 0)
                if _count_breaks(kind, c, count):
                    out.append(
                        f"round {r}: group {g + 1} has {c} with {attribute} = {t}, "
                        f"rule {kind} {count}"
                    )
    return out


def _labels_of(att: AttributeData, i: int) -> set[str]:
    """Participant i's values as normalised text (a multi-valued attribute: each value)."""
    if att.kind == "multi":
        return {text_key(att.labels[k]) for k in np.flatnonzero(att.values[i])}
    shown = att.display(i)
    return {text_key(shown)} if shown else set()


def _count_breaks(kind: str, c: int, count: int) -> bool:
    """Whether ``c`` members with a value break a count rule of this kind."""
    return (
        (kind == "at_least" and c < count)
        or (kind == "at_most" and c > count)
        or (kind == "exactly" and c != count)
        or (kind == "not_alone" and 0 < c < count)
    )


def check_parts(problem: Problem, rounds: Sequence[Sequence[Sequence[int]]]) -> None:
    """Verify ``split_by``: every pair, trio or group lies within one part.

    ``rounds`` holds, per round, the units (pairs, trios or groups) as participant
    indices of the whole problem.  A unit mixing values of the split attribute, or
    holding someone with no value, is a violation.
    """
    split = problem.scheme.split_by
    if split is None:
        return
    att = problem.attributes[split]
    problems = [
        f"round {r}: a unit with {problem.where(int(unit[0]))} crosses split_by {split}"
        for r, units in enumerate(rounds, start=1)
        for unit in units
        if len(unit) and not _same_part(att, [int(m) for m in unit])
    ]
    _raise(problems)


def _together_apart(problem: Problem, r: int, assignment: np.ndarray) -> list[str]:
    out = []
    for together in problem.together:
        if len({int(assignment[m]) for m in together}) > 1:
            out.append(f"round {r}: a keep_together set is split across groups")
    for apart in problem.apart:
        shared = [int(assignment[m]) for m in apart if assignment[m] >= 0]
        if len(shared) != len(set(shared)):
            out.append(f"round {r}: a keep_apart set shares a group")
    for a, b in problem.forbidden.tolist():
        if assignment[a] >= 0 and assignment[a] == assignment[b]:
            out.append(f"round {r}: forbidden pair ({problem.where(a)}, {problem.where(b)}) shares")
    for a, b in sorted(tuple(sorted(p)) for p in recent_pairs(problem)):
        if assignment[a] >= 0 and assignment[a] == assignment[b]:
            out.append(
                f"round {r}: ({problem.where(a)}, {problem.where(b)}) met within the history's"
                " cooldown and share a group"
            )
    return out


def _placements(problem: Problem, assignment: np.ndarray) -> list[str]:
    if problem.placed is None:
        return []
    return [
        f"round 1: {problem.where(i)} is not in group {g + 1} as placed"
        for i, g in enumerate(problem.placed.tolist())
        if g >= 0 and assignment[i] != g
    ]


def _raise(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_REPORTED]
    more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
    raise SolverError(
        "internal check failed — the result breaks the scheme's rules and was not written; "
        "please report this as a bug:\n" + "\n".join(shown) + more
    )
