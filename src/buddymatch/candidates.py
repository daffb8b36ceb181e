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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import RULE_TOLERANCE, SCORE_TOLERANCE, AttributeData, Problem
from .scoring import row_blocks, score_block
from .weights import NOT_ALLOWED, WEIGHT_SCALE

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
    mentoring = problem.directed
    for rule in problem.scheme.rules:
        if rule.kind in ("different", "same"):
            common = _share_value(problem.attributes[rule.attribute], rows, cols)
            yield rule_label(problem, rule), (~common if rule.kind == "different" else common)
        elif rule.kind == "gap":
            att = problem.attributes[rule.attribute]
            v = _gap_values(att)
            x, y = _take(v, rows, 0), _take(v, cols, 1)
            d = (y - x) if mentoring else np.abs(x - y)
            ok = ~np.isnan(d)
            lo, hi = _gap_bounds(rule, whole=att.kind != "numeric")
            if lo is not None:
                ok &= d >= d.dtype.type(lo)
            if hi is not None:
                ok &= d <= d.dtype.type(hi)
            yield rule_label(problem, rule), ok
        elif rule.kind == "common":
            A = problem.attributes[rule.attribute].values.astype(np.float32)
            yield rule_label(problem, rule), (A[rows] @ A[cols].T) >= rule.count
    if problem.scheme.split_by is not None:
        yield f"split_by {problem.scheme.split_by}", _same_part_mask(problem, rows, cols)
    if len(problem.forbidden):
        yield "forbidden pair", ~_pair_mask(problem.forbidden, rows, cols)
    if len(np.intersect1d(rows, cols)):
        yield SAME_PERSON, rows[:, None] != cols[None, :]
    spec = problem.scheme.history_rules
    if spec is not None and len(problem.history.pairs):
        recent = problem.history.pairs[problem.history.rounds_ago <= spec.cooldown]
        if len(recent):
            yield f"met within the last {spec.cooldown} round(s)", ~_pair_mask(recent, rows, cols)


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
    spec = problem.scheme.history_rules
    older = np.zeros((0, 2), dtype=np.int64)
    if spec is not None and spec.penalty > 0 and len(problem.history.pairs):
        older = problem.history.pairs[problem.history.rounds_ago > spec.cooldown]
    for block in row_blocks(len(rows), len(cols)):
        r = rows[block]
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
        out[block] = weights
    return out


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
