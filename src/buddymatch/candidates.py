"""Hard rules -> which pairs are allowed, integer weights, and why pairs were cut.

The rule semantics (repeated in the user docs):

- ``different: A``: the two must not share a value of A (multi-valued: no
  common value).  A blank value never blocks.
- ``same: A``: both must have the same value (blank blocks).
- ``gap: {attribute, min, max}``: mentoring bounds mentor − mentee; peer and
  cohorts bound |a − b|; in scale steps (ordinal) or units (numeric).  A blank
  value blocks (the rule cannot be shown to hold).
- ``forbid``: listed pairs never meet (either order).
- nobody is paired with themselves (a mentoring ``both`` person appears on
  both sides).
- history: pairs that met within ``cooldown`` rounds are not allowed; older
  meetings cost ``penalty`` points of score.
- ``min_score``: pairs scoring below it are not made.
- feedback: ``did-not-work`` pairs are forbidden (``Problem.forbidden``),
  ``ended`` pairs are history; continuity bonus and rating points change a
  pair's weight, never its score (kept within 0–100 points).
- ``common: {attribute, count}``: the two share at least ``count`` values of a
  multi-valued attribute (meeting slots).
- ``split_by: A``: both have the same value of A (a blank blocks): pairs never
  cross parts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import RULE_TOLERANCE, SCORE_TOLERANCE, AttributeData, Problem, SameRule
from .scoring import named_people, row_blocks, score_block
from .weights import NOT_ALLOWED, WEIGHT_CAP, WEIGHT_SCALE, PairWeights

SAME_PERSON = "same person"


def _take(values: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    v = values[index]
    return v[:, None] if axis == 0 else v[None, :]


def _gap_values(att: AttributeData) -> np.ndarray:
    """Positions for a ``gap`` rule (nan = blank), compared exactly as the checker does.

    Scale positions are small whole numbers, exact in float32 (half the memory
    traffic of float64 on 25M pairs) and compared with whole-number bounds
    (:func:`_gap_bounds`).  Numeric columns stay float64: the checker subtracts
    the same two float64 values, so a pair at a bound gets the same verdict.
    """
    if att.kind == "numeric":
        return np.asarray(att.values, dtype=np.float64)
    v = att.values.astype(np.float32)
    v[att.values < 0] = np.nan
    return v


def _gap_bounds(rule: Any, whole: bool) -> tuple[float | None, float | None]:
    """A gap rule's bounds with the shared tolerance; for whole-number positions the
    nearest whole numbers inside them, so float32 differences compare exactly."""
    lo = None if rule.min is None else rule.min - RULE_TOLERANCE
    hi = None if rule.max is None else rule.max + RULE_TOLERANCE
    if whole:
        lo = None if lo is None else float(math.ceil(lo))
        hi = None if hi is None else float(math.floor(hi))
    return lo, hi


def rule_label(problem: Problem, rule) -> str:  # type: ignore[no-untyped-def]
    """Short human name of a rule for explanations."""
    if rule.kind == "different":
        return f"different {rule.attribute}"
    if rule.kind == "same":
        return f"same {rule.attribute}"
    if rule.kind == "common":
        return f"at least {rule.count} common {rule.attribute}"
    if rule.kind == "gap":
        lo = "" if rule.min is None else f"{rule.min:g}"
        hi = "" if rule.max is None else f"{rule.max:g}"
        who = "gap (mentor minus mentee)" if problem.directed else "difference"
        bounds = f"{lo}–{hi}" if lo and hi else (f"≥ {lo}" if lo else f"≤ {hi}")
        return f"{rule.attribute} {who} {bounds}"
    return str(rule.kind)


def rule_masks(
    problem: Problem, rows: np.ndarray, cols: np.ndarray
) -> Iterator[tuple[str, np.ndarray]]:
    """(label, allowed-mask) per hard rule over rows × cols, in scheme order.

    Mentoring: rows are mentees, columns mentors.
    """
    for rule in problem.scheme.rules:
        mask = attribute_rule_mask(problem, rule, rows, cols)
        if mask is not None:
            yield rule_label(problem, rule), mask
    if problem.scheme.split_by is not None:
        yield f"split_by {problem.scheme.split_by}", _same_part_mask(problem, rows, cols)
    if len(problem.forbidden):
        yield "forbidden pair", ~_pair_mask(problem.forbidden, rows, cols)
    if len(np.intersect1d(rows, cols)):
        yield SAME_PERSON, rows[:, None] != cols[None, :]
    recent = _recent_history(problem)
    if len(recent):
        cooldown = problem.scheme.history_rules.cooldown  # type: ignore[union-attr]
        yield f"met within the last {cooldown} round(s)", ~_pair_mask(recent, rows, cols)


def _recent_history(problem: Problem) -> np.ndarray:
    """Pairs met within the cooldown (not allowed), as (k, 2) participant indices."""
    spec = problem.scheme.history_rules
    if spec is None or not len(problem.history.pairs):
        return np.zeros((0, 2), np.int64)
    return problem.history.pairs[problem.history.rounds_ago <= spec.cooldown]


def _older_history(problem: Problem) -> np.ndarray:
    """Pairs met before the cooldown (allowed, penalised), as (k, 2) participant indices."""
    spec = problem.scheme.history_rules
    if spec is None or spec.penalty <= 0 or not len(problem.history.pairs):
        return np.zeros((0, 2), np.int64)
    return problem.history.pairs[problem.history.rounds_ago > spec.cooldown]


def attribute_rule_mask(
    problem: Problem, rule: Any, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray | None:
    """Allowed-mask of one attribute rule (different, same, gap, common) over rows × cols;
    None for the other kinds."""
    if rule.kind in ("different", "same"):
        common = _share_value(problem.attributes[rule.attribute], rows, cols)
        return ~common if rule.kind == "different" else common
    if rule.kind == "gap":
        att = problem.attributes[rule.attribute]
        v = _gap_values(att)
        x, y = _take(v, rows, 0), _take(v, cols, 1)
        d = (y - x) if problem.directed else np.abs(x - y)
        ok = ~np.isnan(d)
        lo, hi = _gap_bounds(rule, whole=att.kind != "numeric")
        if lo is not None:
            ok &= d >= d.dtype.type(lo)
        if hi is not None:
            ok &= d <= d.dtype.type(hi)
        return ok
    if rule.kind == "common":
        A = problem.attributes[rule.attribute].values.astype(np.float32)
        return (A[rows] @ A[cols].T) >= rule.count
    return None


def _share_value(att: AttributeData, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows × cols: both have a value and share it (multi-valued: share at least one)."""
    if att.kind == "multi":
        A = att.values
        return (A[rows].astype(np.float32) @ A[cols].astype(np.float32).T) > 0
    x, y = _take(att.values, rows, 0), _take(att.values, cols, 1)
    present = att.present()
    return (x == y) & _take(present, rows, 0) & _take(present, cols, 1)


def _same_part_mask(problem: Problem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows × cols: both have the same (non-blank) value of the ``split_by`` attribute."""
    att = problem.attributes[str(problem.scheme.split_by)]
    x, y = _take(att.values, rows, 0), _take(att.values, cols, 1)
    return (x == y) & (x >= 0)


def _pair_mask(pairs: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows × cols mask of the (unordered) pairs listed."""
    mask = np.zeros((len(rows), len(cols)), dtype=bool)
    pos_r = np.full(
        int(max(rows.max(initial=-1), cols.max(initial=-1), pairs.max(initial=-1))) + 1, -1
    )
    pos_c = pos_r.copy()
    pos_r[rows] = np.arange(len(rows))
    pos_c[cols] = np.arange(len(cols))
    for a, b in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 1], pairs[:, 0])):
        r, c = pos_r[a], pos_c[b]
        keep = (r >= 0) & (c >= 0)
        mask[r[keep], c[keep]] = True
    return mask


@dataclass(frozen=True)
class Cuts:
    """Which candidates each hard rule removed, for many people at once.

    ``removed[k, r]`` counts the candidates of person k that rule r removed
    from those the earlier rules left (scheme order); ``eligible[k]`` is the
    candidates' mask that survives every rule.
    """

    labels: list[str]
    removed: np.ndarray
    eligible: np.ndarray


def rule_cuts(
    problem: Problem, people: np.ndarray, others: np.ndarray, *, people_are_rows: bool
) -> Cuts:
    """Per-person rule attribution over the pair space (vectorised).

    Used to explain why someone has nobody: rules are applied in scheme order
    and each is credited with the candidates it removed from those still left.
    """
    rows, cols = (people, others) if people_are_rows else (others, people)
    remaining = people[:, None] != others[None, :]  # oneself is never a candidate
    labels, removed = [], []
    for label, mask in rule_masks(problem, rows, cols):
        if label == SAME_PERSON:
            continue
        m = mask if people_are_rows else mask.T
        labels.append(label)
        removed.append((remaining & ~m).sum(axis=1))
        remaining &= m
    counts = np.stack(removed, axis=1) if removed else np.zeros((len(people), 0), dtype=np.int64)
    return Cuts(labels, counts, remaining)


SCORING_THREADS = 4
"""Row blocks scored at once (numpy releases the GIL; at most one per core).  Each block
writes its own rows, so the matrix does not depend on how many threads ran."""


def weight_matrix(
    problem: Problem,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    extra_forbidden: np.ndarray | None = None,
) -> np.ndarray:
    """int32 weights over rows × cols, NOT_ALLOWED where a pair may not be made.

    Weights are ``round(score × WEIGHT_SCALE)`` minus history penalties
    (floored at 0); pairs cut by a hard rule, by ``min_score`` or listed in
    ``extra_forbidden`` (pairs already used in earlier rounds) are NOT_ALLOWED;
    feedback points (:func:`feedback_positions`) are added, within 0..100 points.
    Built in row blocks: the result is the only full-size array (4 bytes a pair).
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    out = np.empty((len(rows), len(cols)), dtype=np.int32)
    blocks = list(row_blocks(len(rows), len(cols)))
    older = _older_history(problem)

    def fill(block: slice) -> None:
        out[block] = _weight_block(problem, rows[block], cols, extra_forbidden, older)

    threads = min(len(blocks), os.cpu_count() or 1, SCORING_THREADS)
    if threads <= 1:
        for block in blocks:
            fill(block)
        return out
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for done in [pool.submit(fill, block) for block in blocks]:
            done.result()  # re-raises a block's error
    return out


def _weight_block(
    problem: Problem,
    r: np.ndarray,
    cols: np.ndarray,
    extra_forbidden: np.ndarray | None,
    older: np.ndarray,
) -> np.ndarray:
    """One row block of :func:`weight_matrix`."""
    spec = problem.scheme.history_rules
    scores = score_block(problem, r, cols)
    allowed = np.ones(scores.shape, dtype=bool)
    for _, mask in rule_masks(problem, r, cols):
        allowed &= mask
    if problem.scheme.min_score is not None:
        allowed &= scores >= np.float32(problem.scheme.min_score - SCORE_TOLERANCE)
    if extra_forbidden is not None and len(extra_forbidden):
        allowed &= ~_pair_mask(extra_forbidden, r, cols)
    weights = np.rint(scores * np.float32(WEIGHT_SCALE)).astype(np.int32)
    if len(older) and spec is not None:
        met = _pair_mask(older, r, cols)
        penalty = np.int32(round(spec.penalty * WEIGHT_SCALE))
        weights = np.where(met, np.maximum(weights - penalty, 0), weights).astype(np.int32)
    _add_feedback_points(problem, r, cols, weights)
    weights[~allowed] = NOT_ALLOWED
    return weights


def feedback_positions(
    problem: Problem, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, score points) of every feedback pair with a weight change in rows × cols.

    Feedback pairs are unordered here: a pair listed (a, b) changes both the
    (a, b) and the (b, a) position.  Points are ``continuing_bonus`` plus
    ``rating_points`` × (rating − 3) (``model.FeedbackSpec``).
    """
    fb = problem.feedback
    keep = fb.points != 0
    if not keep.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    size = int(max(rows.max(initial=-1), cols.max(initial=-1), fb.pairs.max(initial=-1))) + 1
    pos_r, pos_c = np.full(size, -1), np.full(size, -1)
    pos_r[rows], pos_c[cols] = np.arange(len(rows)), np.arange(len(cols))
    out_r, out_c, out_p = [], [], []
    for a, b in ((fb.pairs[keep, 0], fb.pairs[keep, 1]), (fb.pairs[keep, 1], fb.pairs[keep, 0])):
        r, c = pos_r[a], pos_c[b]
        hit = (r >= 0) & (c >= 0)
        out_r.append(r[hit])
        out_c.append(c[hit])
        out_p.append(fb.points[keep][hit])
    return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_p)


def _add_feedback_points(
    problem: Problem, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray
) -> None:
    """Feedback's continuity bonus and rating points, in place; weights stay in 0..100 points."""
    r, c, points = feedback_positions(problem, rows, cols)
    if len(r):
        changed = weights[r, c].astype(np.int64) + np.rint(points * WEIGHT_SCALE).astype(np.int64)
        weights[r, c] = np.clip(changed, 0, 100 * WEIGHT_SCALE).astype(np.int32)


# --- the same weights, stored by profile class -------------------------------------------

GROUP_VALUES = 32
"""A ``different``/``same`` rule on a categorical, ordinal or numeric attribute with
more distinct values than this is checked person by person (codes) rather than
by rule group, so that e.g. hundreds of organisations do not split every class."""

_SCORE_ATTRIBUTE_FIELDS = ("attribute", "attributes")


def pair_weights(
    problem: Problem,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    extra_forbidden: np.ndarray | None = None,
    directed_blocks: np.ndarray | None = None,
) -> PairWeights:
    """The weights of :func:`weight_matrix`, stored by profile class.

    ``directed_blocks``: (column person, row person) pairs — (mentor, mentee) —
    not allowed in that direction only (``extra_forbidden`` blocks both).

    People whose criterion answers are identical share a *score class* (one
    score row); people whose answers to the coarse rules (a band gap, a
    ``same`` region, ``common`` slots, ``split_by``...) are identical share a
    *rule group*; rules on attributes with many values (organisation) are kept
    as per-person codes; pairs forbidden one by one (forbid lists, recent
    history, the same person on both sides, ``extra_forbidden``) are blocked,
    and pairs whose weight a history penalty or feedback points change carry
    their own weight.  Memory grows with the number of classes and exceptions,
    never with rows × columns.  ``pair_weights(...).dense() == weight_matrix(...)``
    exactly (the scores of a class are computed by the same code on one
    representative, and every operation is per pair).
    """
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    code_rules, group_rules = _split_rules(problem)
    row_class, row_reps = _classes(_score_keys(problem, rows, mentee_side=True), len(rows))
    col_class, col_reps = _classes(_score_keys(problem, cols, mentee_side=False), len(cols))
    group_atts = sorted({r.attribute for r in group_rules})
    row_keys = [_codes(problem.attributes[a], rows) for a in group_atts]
    col_keys = [_codes(problem.attributes[a], cols) for a in group_atts]
    row_group, row_greps = _classes(row_keys, len(rows))
    col_group, col_greps = _classes(col_keys, len(cols))
    allowed = np.ones((len(row_greps), len(col_greps)), dtype=bool)
    for rule in group_rules:
        allowed &= attribute_rule_mask(problem, rule, rows[row_greps], cols[col_greps])
    codes = [_codes(problem.attributes[r.attribute], None, blank=True) for r in code_rules]
    class_weights = _class_weights(problem, rows[row_reps], cols[col_reps])
    own = _own_weights(problem, rows, cols, (class_weights, row_class, col_class))
    return PairWeights.build(
        row_class=row_class,
        col_class=col_class,
        class_weights=class_weights,
        row_group=row_group,
        col_group=col_group,
        group_allowed=allowed,
        row_codes=np.stack([c[rows] for c in codes], axis=1) if codes else None,
        col_codes=np.stack([c[cols] for c in codes], axis=1) if codes else None,
        code_same=np.array([r.kind == "same" for r in code_rules], dtype=bool),
        blocked=_blocked(problem, rows, cols, extra_forbidden, directed_blocks),
        overrides=own,
    )


def _split_rules(problem: Problem) -> tuple[list[Any], list[Any]]:
    """Attribute rules checked by per-person codes, and those checked by rule group
    (``split_by`` counts as a ``same`` rule)."""
    code: list[Any] = []
    group: list[Any] = []
    rules = list(problem.scheme.rules)
    if problem.scheme.split_by is not None:
        rules.append(SameRule(attribute=problem.scheme.split_by))
    for rule in rules:
        if rule.kind not in ("different", "same", "gap", "common"):
            continue
        att = problem.attributes[rule.attribute]
        many = att.kind != "multi" and _distinct(att) > GROUP_VALUES
        (code if rule.kind in ("different", "same") and many else group).append(rule)
    return code, group


def _distinct(att: AttributeData) -> int:
    if att.kind == "numeric":
        return int(np.unique(att.values).size)
    return len(att.labels)


def _codes(att: AttributeData, idx: np.ndarray | None, *, blank: bool = False) -> np.ndarray:
    """An int64 code per person (``idx``; None: everyone) with equal codes for equal values.

    ``blank``: blanks get -1 (rule codes); otherwise they are just another value.
    """
    values = att.values if idx is None else att.values[idx]
    if att.kind == "multi":
        packed = np.packbits(values, axis=1)
        if packed.shape[1] == 0:
            return np.zeros(len(values), np.int64)
        return np.unique(packed, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    if att.kind == "numeric":
        codes = np.unique(values, return_inverse=True)[1].reshape(-1).astype(np.int64)
        return np.where(np.isnan(values), -1, codes) if blank else codes
    return values.astype(np.int64)


def _score_keys(problem: Problem, idx: np.ndarray, *, mentee_side: bool) -> list[np.ndarray]:
    """Code columns whose values decide every criterion's value for these people."""
    keys: list[np.ndarray] = []
    for crit in problem.scheme.criteria:
        names: list[str] = []
        if crit.kind == "overlap" and crit.attribute is None:
            names = [str(crit.mentee if mentee_side else crit.mentor)]
        elif crit.kind == "preference":
            named = named_people(problem, crit)[idx]
            keys.append(np.where(named, idx, -1))
        elif crit.kind == "pairwise":
            keys.append(idx.copy())
        else:
            for field in _SCORE_ATTRIBUTE_FIELDS:
                value = getattr(crit, field, None)
                names += [value] if isinstance(value, str) else list(value or ())
        keys += [_codes(problem.attributes[name], idx) for name in names]
    return keys


def _classes(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Class of each of ``n`` people (equal keys, equal class; classes in key order) and
    the position of each class's first member."""
    if not keys or n == 0:
        return np.zeros(n, np.int32), np.zeros(min(n, 1), np.int64)
    stacked = np.stack(keys, axis=1)
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int32), first.astype(np.int64)


def _class_weights(problem: Problem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:func:`weight_matrix` of representatives, without the per-pair exceptions."""
    out = np.empty((len(rows), len(cols)), dtype=np.int32)
    for block in row_blocks(len(rows), len(cols)):
        scores = score_block(problem, rows[block], cols)
        weights = np.rint(scores * np.float32(WEIGHT_SCALE)).astype(np.int32)
        if problem.scheme.min_score is not None:
            weights[scores < np.float32(problem.scheme.min_score - SCORE_TOLERANCE)] = NOT_ALLOWED
        out[block] = weights
    return out


def _positions(pairs: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(row, column) positions of the unordered participant pairs within rows × cols."""
    size = int(max(rows.max(initial=-1), cols.max(initial=-1), pairs.max(initial=-1))) + 1
    pos_r = np.full(size, -1, np.int64)
    pos_c = np.full(size, -1, np.int64)
    pos_r[rows] = np.arange(len(rows))
    pos_c[cols] = np.arange(len(cols))
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    r, c = pos_r[a], pos_c[b]
    keep = (r >= 0) & (c >= 0)
    return np.stack([r[keep], c[keep]], axis=1)


def _blocked(
    problem: Problem,
    rows: np.ndarray,
    cols: np.ndarray,
    extra: np.ndarray | None,
    directed: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the pairs forbidden one by one (see :func:`rule_masks`), and of the
    ``directed`` (column person, row person) pairs in that direction only."""
    lists = [problem.forbidden, _recent_history(problem)]
    if extra is not None:
        lists.append(np.asarray(extra, np.int64).reshape(-1, 2))
    both = np.intersect1d(rows, cols)
    lists.append(np.stack([both, both], axis=1))
    pairs = np.concatenate([np.asarray(p, np.int64).reshape(-1, 2) for p in lists])
    out = _positions(pairs, rows, cols)
    one_way = np.asarray(directed if directed is not None else (), np.int64).reshape(-1, 2)
    if not len(one_way):
        return out
    size = int(max(rows.max(initial=-1), cols.max(initial=-1), one_way.max())) + 1
    pos_r, pos_c = np.full(size, -1, np.int64), np.full(size, -1, np.int64)
    pos_r[rows], pos_c[cols] = np.arange(len(rows)), np.arange(len(cols))
    r, c = pos_r[one_way[:, 1]], pos_c[one_way[:, 0]]
    keep = (r >= 0) & (c >= 0)
    return np.concatenate([out, np.stack([r[keep], c[keep]], axis=1)])


def _own_weights(
    problem: Problem,
    rows: np.ndarray,
    cols: np.ndarray,
    classes: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions whose weight differs from their class's, and that weight, computed as
    :func:`weight_matrix` does: the score's weight, minus the history penalty (floored
    at 0), plus feedback points (kept within 0..100 points)."""
    class_weights, row_class, col_class = classes
    older = _positions(_older_history(problem), rows, cols)
    fb_r, fb_c, points = feedback_positions(problem, rows, cols)
    pos = np.concatenate([older, np.stack([fb_r, fb_c], axis=1).astype(np.int64)])
    if not len(pos):
        return None
    pos = np.unique(pos, axis=0)
    w = class_weights[row_class[pos[:, 0]], col_class[pos[:, 1]]].astype(np.int64)
    keep = w != NOT_ALLOWED  # such a pair is not allowed whatever its weight
    pos, w = pos[keep], w[keep]
    spec = problem.scheme.history_rules
    if len(older) and spec is not None:
        key = pos[:, 0] * len(cols) + pos[:, 1]
        met = np.isin(key, older[:, 0] * len(cols) + older[:, 1])
        w = np.where(met, np.maximum(w - round(spec.penalty * WEIGHT_SCALE), 0), w)
    if len(fb_r):
        key = pos[:, 0] * len(cols) + pos[:, 1]
        order = np.argsort(fb_r * len(cols) + fb_c, kind="stable")
        fb_key = (fb_r * len(cols) + fb_c)[order]
        at = np.searchsorted(fb_key, key)
        hit = (at < fb_key.size) & (fb_key[np.minimum(at, fb_key.size - 1)] == key)
        add = np.rint(points[order][np.minimum(at, fb_key.size - 1)] * WEIGHT_SCALE)
        w = np.where(hit, np.clip(w + add.astype(np.int64), 0, WEIGHT_CAP), w)
    return pos, w


def top_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Keep each row's and each column's k best entries (ties by index); -inf = not a candidate."""
    keep = np.zeros(scores.shape, dtype=bool)
    for axis in (0, 1):
        m = scores if axis == 1 else scores.T
        kk = min(k, m.shape[1])
        if kk == 0:
            continue
        idx = np.argsort(-m, axis=1, kind="stable")[:, :kk]
        sel = np.zeros(m.shape, dtype=bool)
        np.put_along_axis(sel, idx, True, axis=1)
        keep |= sel if axis == 1 else sel.T
    return keep & np.isfinite(scores)
