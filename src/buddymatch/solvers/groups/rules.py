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

    Per group the count must lie in ``min .. max`` and, when ``min_if_any > 1``, be 0 or
    at least ``min_if_any`` (``not_alone``: no lone patient representative).

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
    min_if_any: int = 0
    """"Nobody alone": a group holding any of these people holds at least this many
    (0 or 1: no such rule).  ``not_alone`` is ``min_if_any=2``: never exactly one."""

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
class CommonRule:
    """A hard rule on a multi-valued attribute: in every group the members share at least
    ``count`` values (meeting slots everyone in the group can make).

    ``values[i, s]`` says person i has value s; a person with fewer than ``count`` values
    fits no group (the counting check says so before any search).
    """

    values: np.ndarray
    count: int = 1
    name: str = ""


@dataclass(frozen=True)
class Classes:
    """Per-person class membership (CSR) and the per-group count range of each class.

    In every group the count of class ``c`` lies in ``cmin[c] .. cmax[c]`` and is 0 or at
    least ``floor[c]`` (``floor`` of 0 or 1: no "not alone" condition).  Each row
    ``(start, end, need)`` of ``families`` is a :class:`CommonRule`: classes ``start ..
    end - 1`` are the people *without* each value, and every group must hold none of at
    least ``need`` of them (those are the values all its members share).
    """

    ptr: np.ndarray  # (n+1,) int64
    idx: np.ndarray  # (nnz,) int64, sorted within each person
    cmin: np.ndarray  # (C,) int64
    cmax: np.ndarray  # (C,) int64
    names: tuple[str, ...]
    floor: np.ndarray  # (C,) int64
    families: np.ndarray  # (F, 3) int64: start, end, need

    @property
    def count(self) -> int:
        """Number of classes."""
        return int(self.cmin.shape[0])


def compile_classes(
    n: int,
    rules: Sequence[CountRule],
    apart: Sequence[np.ndarray],
    common: Sequence[CommonRule] = (),
) -> Classes:
    """One class per constrained rule value, one (max 1) per keep-apart set, and one per
    value of each common rule (the people without it; a contiguous family of classes)."""
    members: list[np.ndarray] = []
    cmin: list[int] = []
    cmax: list[int] = []
    floor: list[int] = []
    names: list[str] = []
    for rule in rules:
        labels = np.asarray(rule.labels)
        if rule.min <= 0 and rule.max is None and rule.min_if_any <= 1:
            continue
        for code in rule.codes():
            members.append(np.flatnonzero(labels == code))
            cmin.append(int(rule.min))
            cmax.append(UNBOUNDED if rule.max is None else int(rule.max))
            floor.append(int(rule.min_if_any))
            names.append(rule.describe(code))
    for k, group in enumerate(apart):
        members.append(np.unique(np.asarray(group, dtype=np.int64)))
        cmin.append(0)
        cmax.append(1)
        floor.append(0)
        names.append(f"keep-apart set {k + 1}")
    families = _common_classes(common, members, names)
    cmin += [0] * (len(members) - len(cmin))
    cmax += [UNBOUNDED] * (len(members) - len(cmax))
    floor += [0] * (len(members) - len(floor))
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
        floor=np.array(floor, dtype=np.int64),
        families=np.array(families, dtype=np.int64).reshape(-1, 3),
    )


def classes_hold(classes: Classes, cnt: np.ndarray) -> bool:
    """Whether class counts ``cnt`` (classes × groups) meet every class rule of ``classes``."""
    c = classes
    if np.any(cnt < c.cmin[:, None]) or np.any(cnt > c.cmax[:, None]):
        return False
    if np.any((cnt > 0) & (cnt < c.floor[:, None])):
        return False
    for start, end, need in c.families.tolist():
        if np.any((cnt[start:end] == 0).sum(axis=0) < need):
            return False
    return True


def _common_classes(
    common: Sequence[CommonRule], members: list[np.ndarray], names: list[str]
) -> list[tuple[int, int, int]]:
    """Append one class per value of each common rule (who lacks it); their ranges."""
    families = []
    for rule in common:
        has = np.asarray(rule.values, dtype=bool).reshape(len(rule.values), -1)
        start = len(members)
        for s in range(has.shape[1]):
            members.append(np.flatnonzero(~has[:, s]))
            names.append(f"{rule.name or 'common'}: without value {s + 1}")
        families.append((start, len(members), int(rule.count)))
    return families


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
    common: Sequence[CommonRule] = (),
) -> list[str]:
    """Counting arguments that prove the rules cannot all hold; empty when none applies.

    An empty list does not prove feasibility: it means no simple count rules it out.
    Callers may rely on the exact wording of each sentence (tests assert it).
    """
    lower = np.asarray(lower, dtype=np.int64)
    upper = np.asarray(upper, dtype=np.int64)
    G = int(lower.shape[0])
    reasons = _size_reasons(lower, upper, n)
    reasons += _count_reasons(rules, G)
    reasons += _attribute_reasons(rules, G, upper)
    reasons += alone_reasons(rules, G, upper)
    reasons += alone_apart_reasons(rules, apart)
    reasons += common_reasons(common)
    for k, s in enumerate(apart):
        if len(np.unique(s)) > G:
            reasons.append(
                f"keep-apart set {k + 1} has {len(np.unique(s))} people; only {G} groups"
            )
    locked = None if locked is None else np.asarray(locked)
    if locked is not None:
        reasons += _locked_reasons(locked, G, upper)
    reasons += _together_reasons(together, apart, locked, G, upper)
    return reasons


def _size_reasons(lower: np.ndarray, upper: np.ndarray, n: int) -> list[str]:
    """Group size ranges that are empty or cannot hold the pool."""
    G = int(lower.shape[0])
    reasons = [
        f"group {g + 1} must have at least {lower[g]} but at most {upper[g]}"
        for g in np.flatnonzero(lower > upper)
    ]
    if lower.sum() > n:
        reasons.append(f"the {G} groups need at least {lower.sum()} people; the pool has {n}")
    if upper.sum() < n:
        reasons.append(f"the {G} groups hold at most {upper.sum()} people; the pool has {n}")
    return reasons


def _count_reasons(rules: Sequence[CountRule], G: int) -> list[str]:
    """Each count rule's value alone: too few or too many people for the groups."""
    reasons: list[str] = []
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
    return reasons


def _attribute_reasons(rules: Sequence[CountRule], G: int, upper: np.ndarray) -> list[str]:
    """Mins of one attribute's values are disjoint: their sum must fit the smallest group."""
    seen: dict[int, list[CountRule]] = {}
    for rule in rules:
        seen.setdefault(id(rule.labels), []).append(rule)
    reasons: list[str] = []
    for group in seen.values():
        need = sum(rule.min * len(rule.codes()) for rule in group)
        if G and need > int(upper.min()):
            reasons.append(
                f"rules on {group[0].name or 'one attribute'} need {need} people in every "
                f"group; a group holds at most {int(upper.min())}"
            )
    return reasons


def _locked_reasons(locked: np.ndarray, G: int, upper: np.ndarray) -> list[str]:
    """Locks to groups that do not exist, or more locked people than a group holds."""
    bad = locked[(locked >= G) | (locked < -1)]
    if bad.size:
        return [f"locked to group {int(bad[0]) + 1}, but there are {G} groups"]
    counts = np.bincount(locked[locked >= 0], minlength=G)
    return [
        f"{counts[g]} people are locked to group {g + 1}, which holds {upper[g]}"
        for g in np.flatnonzero(counts > upper)
    ]


def _together_reasons(
    together: Sequence[np.ndarray],
    apart: Sequence[np.ndarray],
    locked: np.ndarray | None,
    G: int,
    upper: np.ndarray,
) -> list[str]:
    """Keep-together sets too big, locked apart, or overlapping a keep-apart set."""
    reasons: list[str] = []
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


def alone_reasons(rules: Sequence[CountRule], G: int, upper: np.ndarray) -> list[str]:
    """Why "nobody alone" (``min_if_any``) cannot hold, with the other rules on the same people.

    Each not-alone value is read together with every rule counting exactly the same
    people (``at_least``/``at_most``/``exactly`` on that value): a group holding any of
    them needs at least ``max(min, min_if_any)`` and at most ``max``.
    """
    reasons: list[str] = []
    counted = [
        (r, code, np.flatnonzero(np.asarray(r.labels) == code)) for r in rules for code in r.codes()
    ]
    for rule, code, who in counted:
        floor = rule.min_if_any
        if floor <= 1 or who.size == 0:
            continue
        same = [r for r, _, w in counted if w.size == who.size and np.array_equal(w, who)]
        lo = max(r.min for r in same)
        hi = min((r.max for r in same if r.max is not None), default=None)
        what, have = rule.describe(code), int(who.size)
        if have < floor:
            reasons.append(
                f"the pool has {have} of {what}, who cannot be alone in a group "
                f"(0 or at least {floor} per group)"
            )
        elif hi is not None and 0 < hi < floor:
            reasons.append(
                f"{what}: at most {hi} per group, yet a group with any needs at least {floor}; "
                f"the pool has {have}"
            )
        elif G and floor > int(upper.max()):
            reasons.append(
                f"{what} cannot be alone: a group with any needs at least {floor}, "
                f"and groups hold at most {int(upper.max())}"
            )
        elif 0 < lo < floor and G * floor > have:
            reasons.append(
                f"{G} groups need at least {lo} of {what} each, and nobody alone makes that "
                f"{floor} each; the pool has {have}"
            )
        elif G and not _shares_out(have, G, lo, max(lo, floor), min(hi or have, int(upper.max()))):
            top = min(hi or have, int(upper.max()))
            reasons.append(
                f"the pool has {have} of {what}, which cannot be shared out: a group holding "
                f"any holds {max(lo, floor)}–{top} (nobody alone"
                + (f", at most {hi}" if hi is not None else "")
                + f"), and there are {G} groups"
            )
    return reasons


def _shares_out(have: int, G: int, lo: int, least: int, most: int) -> bool:
    """Whether ``have`` people split into groups that each hold 0 (when ``lo`` is 0) or
    ``least .. most``: some number k of groups (exactly G when lo > 0) with
    ``k * least <= have <= k * most``."""
    if lo > 0:
        return G * least <= have <= G * most
    return max(1, -(-have // max(most, 1))) <= min(G, have // max(least, 1))


def alone_apart_reasons(rules: Sequence[CountRule], apart: Sequence[np.ndarray]) -> list[str]:
    """A not-alone value held by too few people to fill more groups than a keep-apart set
    needs: e.g. 3 patient representatives can only sit in one group, all together, so two
    of them in a keep-apart set cannot both be placed."""
    reasons = []
    for rule in rules:
        if rule.min_if_any <= 1:
            continue
        labels = np.asarray(rule.labels)
        for code in rule.codes():
            who = np.flatnonzero(labels == code)
            most = who.size // rule.min_if_any  # groups that can hold them
            for k, group in enumerate(apart if most >= 1 else ()):
                inside = np.intersect1d(who, group).size
                if inside > most:
                    where = "one group" if most == 1 else f"{most} groups"
                    reasons.append(
                        f"the {who.size} of {rule.describe(code)} fit in at most {where} "
                        f"(nobody alone), but keep-apart set {k + 1} separates {inside} of them"
                    )
    return reasons


def common_reasons(common: Sequence[CommonRule]) -> list[str]:
    """Why a common rule cannot hold: values too few, or people with too few of them."""
    reasons = []
    for rule in common:
        has = np.asarray(rule.values, dtype=bool).reshape(len(rule.values), -1)
        name = rule.name or "the attribute"
        if has.shape[1] < rule.count:
            reasons.append(
                f"{name} has {has.shape[1]} values in the pool; every group needs "
                f"{rule.count} shared by all its members"
            )
            continue
        short = int((has.sum(axis=1) < rule.count).sum())
        if short:
            people = "person has" if short == 1 else "people have"
            reasons.append(
                f"{short} {people} fewer than {rule.count} values of {name}; every group "
                f"needs {rule.count} shared by all its members"
            )
    return reasons
