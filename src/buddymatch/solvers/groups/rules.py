"""Composition rules of the grouping solver: the rule type, counting checks, group sizes.

Everything here runs *before* any search.  :func:`check_composition` proves infeasibility
with counting arguments and says why in sentences a coordinator can act on;
:func:`compile_classes` turns rules and keep-apart sets into the per-group counting
constraints ("classes") the kernels keep satisfied in every move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

UNBOUNDED = 1 << 40
"""``cmax`` of a class without an upper limit."""


@dataclass(frozen=True)
class CountRule:
    """A hard rule counting, in every group, the people with one attribute value.

    ``labels`` holds one int code per person (-1 = missing, never counted).  ``value`` is
    the code counted, or ``None`` for "each value separately" (``max=2`` then reads "at most
    2 from the same organisation").  ``name`` describes the counted people and is quoted in
    reasons, e.g. ``"profession=GP"`` or, for ``value=None``, the attribute ``"organisation"``
    (then ``value_names[code]``, when given, names each value).
    """

    labels: np.ndarray
    value: int | None
    min: int = 0
    max: int | None = None
    name: str = ""
    value_names: tuple[str, ...] = field(default=())

    def describe(self, code: int) -> str:
        """Text for the people with label ``code`` under this rule."""
        if self.value is not None:
            return self.name or f"value {code}"
        shown = self.value_names[code] if 0 <= code < len(self.value_names) else str(code)
        return f"{self.name or 'value'}={shown}"

    def codes(self) -> list[int]:
        """The label codes this rule constrains (present in the pool)."""
        if self.value is not None:
            return [int(self.value)]
        labels = np.asarray(self.labels)
        return sorted(int(v) for v in np.unique(labels[labels >= 0]))


@dataclass(frozen=True)
class Classes:
    """Per-person class membership (CSR) and the per-group count range of each class."""

    ptr: np.ndarray  # (n+1,) int64
    idx: np.ndarray  # (nnz,) int64, sorted within each person
    cmin: np.ndarray  # (C,) int64
    cmax: np.ndarray  # (C,) int64
    names: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of classes."""
        return int(self.cmin.shape[0])


def compile_classes(n: int, rules: Sequence[CountRule], apart: Sequence[np.ndarray]) -> Classes:
    """One class per constrained rule value and one (max 1) per keep-apart set."""
    members: list[np.ndarray] = []
    cmin: list[int] = []
    cmax: list[int] = []
    names: list[str] = []
    for rule in rules:
        labels = np.asarray(rule.labels)
        if rule.min <= 0 and rule.max is None:
            continue
        for code in rule.codes():
            members.append(np.flatnonzero(labels == code))
            cmin.append(int(rule.min))
            cmax.append(UNBOUNDED if rule.max is None else int(rule.max))
            names.append(rule.describe(code))
    for k, group in enumerate(apart):
        members.append(np.unique(np.asarray(group, dtype=np.int64)))
        cmin.append(0)
        cmax.append(1)
        names.append(f"keep-apart set {k + 1}")
    per_person: list[list[int]] = [[] for _ in range(n)]
    for c, who in enumerate(members):
        for i in who:
            per_person[int(i)].append(c)
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum([len(p) for p in per_person])
    idx = np.array([c for p in per_person for c in p], dtype=np.int64)
    return Classes(
        ptr=ptr,
        idx=idx,
        cmin=np.array(cmin, dtype=np.int64),
        cmax=np.array(cmax, dtype=np.int64),
        names=tuple(names),
    )


def group_bounds(
    n: int, *, count: int | None = None, min_size: int | None = None, max_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group size bounds ``(lower, upper)`` for ``{count: N}`` or ``{size: {min, max}}``.

    With ``count``: sizes as equal as possible (``lower == upper``, the first ``n % count``
    groups one larger), narrowed further by min/max if given.  With sizes only: the fewest
    groups that fit everyone, ``ceil(n / max_size)``, each with bounds ``[min_size,
    max_size]``.  Raises ``ValueError`` when no group count fits (the caller words it).
    """
    if count is not None:
        if count <= 0 or count > max(n, 1):
            raise ValueError(f"{count} groups cannot be formed from {n} people")
        base, extra = divmod(n, count)
        sizes = np.full(count, base, np.int64)
        sizes[:extra] += 1
        if (min_size is not None and sizes.min() < min_size) or (
            max_size is not None and sizes.max() > max_size
        ):
            raise ValueError(
                f"{n} people in {count} groups gives sizes {sizes.min()}–{sizes.max()}, "
                f"outside {min_size}–{max_size}"
            )
        return sizes.copy(), sizes.copy()
    lo = 1 if min_size is None else int(min_size)
    hi = n if max_size is None else int(max_size)
    if lo > hi or hi <= 0:
        raise ValueError(f"group size bounds {lo}–{hi} are empty")
    g = -(-n // hi)
    if g * lo > n:
        raise ValueError(f"{n} people cannot form groups of {lo}–{hi}")
    return np.full(g, lo, np.int64), np.full(g, hi, np.int64)


def check_composition(
    lower: np.ndarray,
    upper: np.ndarray,
    rules: Sequence[CountRule],
    locked: np.ndarray | None,
    together: Sequence[np.ndarray],
    apart: Sequence[np.ndarray],
    n: int,
) -> list[str]:
    """Counting arguments that prove the rules cannot all hold; empty when none applies.

    An empty list does not prove feasibility: it means no simple count rules it out.
    Callers may rely on the exact wording of each sentence (tests assert it).
    """
    lower = np.asarray(lower, dtype=np.int64)
    upper = np.asarray(upper, dtype=np.int64)
    G = int(lower.shape[0])
    reasons: list[str] = []
    for g in np.flatnonzero(lower > upper):
        reasons.append(f"group {g + 1} must have at least {lower[g]} but at most {upper[g]}")
    if lower.sum() > n:
        reasons.append(f"the {G} groups need at least {lower.sum()} people; the pool has {n}")
    if upper.sum() < n:
        reasons.append(f"the {G} groups hold at most {upper.sum()} people; the pool has {n}")
    for rule in rules:
        labels = np.asarray(rule.labels)
        for code in rule.codes():
            have = int(np.count_nonzero(labels == code))
            what = rule.describe(code)
            if rule.min > 0 and G * rule.min > have:
                reasons.append(
                    f"{G} groups need at least {rule.min} of {what} each; the pool has {have}"
                )
            if rule.max is not None and G * rule.max < have:
                reasons.append(
                    f"the pool has {have} of {what} but {G} groups take at most {rule.max} each"
                )
            if rule.max is not None and rule.min > rule.max:
                reasons.append(f"{what}: at least {rule.min} and at most {rule.max} conflict")
    # mins of one attribute's values are disjoint: their sum must fit the smallest group
    seen: dict[int, list[CountRule]] = {}
    for rule in rules:
        seen.setdefault(id(rule.labels), []).append(rule)
    for group in seen.values():
        need = 0
        for rule in group:
            need += rule.min * len(rule.codes())
        if G and need > int(upper.min()):
            reasons.append(
                f"rules on {group[0].name or 'one attribute'} need {need} people in every "
                f"group; a group holds at most {int(upper.min())}"
            )
    for k, s in enumerate(apart):
        if len(np.unique(s)) > G:
            reasons.append(
                f"keep-apart set {k + 1} has {len(np.unique(s))} people; only {G} groups"
            )
    if locked is not None:
        locked = np.asarray(locked)
        bad = locked[(locked >= G) | (locked < -1)]
        if bad.size:
            reasons.append(f"locked to group {int(bad[0]) + 1}, but there are {G} groups")
        else:
            counts = np.bincount(locked[locked >= 0], minlength=G)
            for g in np.flatnonzero(counts > upper):
                reasons.append(
                    f"{counts[g]} people are locked to group {g + 1}, which holds {upper[g]}"
                )
    for k, s in enumerate(together):
        s = np.unique(np.asarray(s, dtype=np.int64))
        if G and s.size > int(upper.max()):
            reasons.append(
                f"keep-together set {k + 1} has {s.size} people; groups hold at most "
                f"{int(upper.max())}"
            )
        if locked is not None:
            groups = np.unique(locked[s][locked[s] >= 0])
            if groups.size > 1:
                reasons.append(f"keep-together set {k + 1} has people locked to different groups")
        for m, t in enumerate(apart):
            if np.intersect1d(s, t).size > 1:
                reasons.append(f"keep-together set {k + 1} and keep-apart set {m + 1} overlap")
    return reasons
