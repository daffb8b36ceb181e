"""Soft criteria -> pair scores in [0, 100], vectorised, per-criterion layers kept.

Definitions (the user documentation repeats them; tests pin them down):

- pair score = 100 × Σ weight·value / Σ weight, each criterion value in [0, 1].
- ``same``: 1 when both have the value and it is equal (multi-valued: share at
  least one), else 0.
- ``overlap`` directional (mentoring): |needs ∩ offers| / |needs|, 0 when the
  mentee needs nothing; symmetric (``attribute:``): Jaccard |A ∩ B| / |A ∪ B|.
- ``closeness``: d = mentor − mentee (mentoring) or |a − b| (otherwise), in
  scale steps or units; value = max(0, 1 − |d − target| / range); range
  defaults to the scale's span (ordinal) or the observed span (numeric).
- ``availability``: min(shared slots, slots) / slots.
- ``preference``: 1 if either names the other as liked, 0 if either names the
  other as disliked (dislike wins), else 0.5.
- ``diversity`` (cohorts): mean over its attributes of the dissimilarity
  (categorical: differ; ordinal/numeric: |Δ| / span; multi: 1 − Jaccard).
- ``similarity``: 1 − dissimilarity of one attribute.
- ``balance``: (Δ / span)²; summed within groups of equal size this is the
  within-group variance, so maximising it makes group means equal the pool mean.
- ``pairwise``: the value from the user's file, scaled to [0, 1] by its maximum.

A missing value scores 0 (it never earns credit it cannot justify).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .model import AttributeData, Pairs, Problem, criterion_name, text_key

Layer = np.ndarray


class _Side:
    """Gathers one side of the pair space: rows (outer) or pair vectors (aligned)."""

    def __init__(self, index: np.ndarray, outer_axis: int | None) -> None:
        self.index = index
        self.axis = outer_axis  # None: aligned vectors; 0: rows; 1: columns

    def take(self, values: np.ndarray) -> np.ndarray:
        v = values[self.index]
        if self.axis == 0:
            return v[:, None]
        if self.axis == 1:
            return v[None, :]
        return v


def _count_common(a: _Side, b: _Side, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """|A_i ∩ B_j| for multi-valued boolean matrices."""
    Ai = A[a.index]
    Bj = B[b.index]
    if a.axis is None:
        return np.asarray((Ai & Bj).sum(axis=1), dtype=np.float32)
    return Ai.astype(np.float32) @ Bj.astype(np.float32).T


def _sizes(side: _Side, A: np.ndarray) -> np.ndarray:
    return side.take(A.sum(axis=1).astype(np.float32))


def _aligned_multi(x: AttributeData, y: AttributeData) -> tuple[np.ndarray, np.ndarray]:
    """Two multi attributes over one shared vocabulary (directional overlap)."""
    if x.labels == y.labels:
        return x.values, y.values
    vocab = sorted({lab.casefold() for lab in (*x.labels, *y.labels)})
    pos = {v: i for i, v in enumerate(vocab)}

    def widen(a: AttributeData) -> np.ndarray:
        out = np.zeros((a.values.shape[0], len(vocab)), dtype=bool)
        out[:, [pos[lab.casefold()] for lab in a.labels]] = a.values
        return out

    return widen(x), widen(y)


def _span(att: AttributeData) -> float:
    return att.span()


def _numeric(att: AttributeData) -> np.ndarray:
    if att.kind == "numeric":
        return np.asarray(att.values, dtype=np.float32)
    v = att.values.astype(np.float32)
    v[att.values < 0] = np.nan
    return v


def dissimilarity(att: AttributeData, a: _Side, b: _Side) -> np.ndarray:
    """Per-attribute dissimilarity in [0, 1] (0 when either value is missing)."""
    if att.kind == "multi":
        common = _count_common(a, b, att.values, att.values)
        union = _sizes(a, att.values) + _sizes(b, att.values) - common
        jac = common / np.maximum(union, np.float32(1))
        return np.where(union > 0, 1.0 - jac, 0.0).astype(np.float32)
    if att.kind == "categorical":
        x, y = a.take(att.values), b.take(att.values)
        return ((x != y) & (x >= 0) & (y >= 0)).astype(np.float32)
    x, y = a.take(_numeric(att)), b.take(_numeric(att))
    d = np.abs(x - y) / np.float32(_span(att))
    return np.nan_to_num(np.minimum(d, 1.0), nan=0.0).astype(np.float32)


def _criterion_values(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Criterion values for side a × side b: in a directed scheme a is the mentee
    side (matrix rows) and b the mentor side (matrix columns)."""
    value = _CRITERIA.get(crit.kind)
    if value is None:
        raise ValueError(f"unknown criterion kind {crit.kind!r}")  # config prevents this
    return value(problem, crit, a, b)


def _same(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    att = problem.attributes[crit.attribute]
    if att.kind == "multi":
        return (_count_common(a, b, att.values, att.values) > 0).astype(np.float32)
    x, y = a.take(att.values), b.take(att.values)
    if att.kind == "numeric":
        return (x == y).astype(np.float32)
    return ((x == y) & (x >= 0)).astype(np.float32)


def _overlap(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    atts = problem.attributes
    if crit.attribute is None:
        needs, offers = _aligned_multi(atts[crit.mentee], atts[crit.mentor])
        # common <= size, so an empty need list gives 0 / 1 = 0 without a mask
        common = _count_common(a, b, needs, offers)
        return common / np.maximum(_sizes(a, needs), np.float32(1))
    A = atts[crit.attribute].values
    common = _count_common(a, b, A, A)
    union = _sizes(a, A) + _sizes(b, A) - common
    return common / np.maximum(union, np.float32(1))


def _closeness(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    att = problem.attributes[crit.attribute]
    x, y = a.take(_numeric(att)), b.take(_numeric(att))
    d = (y - x) if problem.directed else np.abs(x - y)
    rng = np.float32(crit.range if crit.range is not None else _span(att))
    v = 1.0 - np.abs(d - np.float32(crit.target)) / rng
    return np.nan_to_num(np.clip(v, 0.0, 1.0), nan=0.0).astype(np.float32)


def _availability(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    A = problem.attributes[crit.attribute].values
    common = _count_common(a, b, A, A)
    return (np.minimum(common, crit.slots) / np.float32(crit.slots)).astype(np.float32)


def _diversity(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    parts = [dissimilarity(problem.attributes[name], a, b) for name in crit.attributes]
    return (sum(parts[1:], parts[0]) / np.float32(len(parts))).astype(np.float32)


def _similarity(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    att = problem.attributes[crit.attribute]
    present = a.take(att.present()) & b.take(att.present())
    return np.where(present, 1.0 - dissimilarity(att, a, b), 0.0).astype(np.float32)


def _balance(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    att = problem.attributes[crit.attribute]
    x, y = a.take(_numeric(att)), b.take(_numeric(att))
    d = (x - y) / np.float32(_span(att))
    return np.nan_to_num(d * d, nan=0.0).astype(np.float32)


def _pairwise(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    m = problem.pairwise[criterion_name(crit)]  # scaled to [0, 1] when read
    if a.axis is None:
        return m[a.index, b.index].astype(np.float32)
    return m[np.ix_(a.index, b.index)].astype(np.float32)


def _likes(problem: Problem, attribute: str | None) -> np.ndarray:
    """(k, 2) index pairs (i, j): participant i names participant j."""
    if attribute is None:
        return np.zeros((0, 2), dtype=np.int64)
    att = problem.attributes[attribute]
    lookup = {text_key(v): i for i, v in enumerate(problem.ids)}
    target = np.array([lookup.get(text_key(lab), -1) for lab in att.labels], dtype=np.int64)
    if att.kind == "multi":
        who, which = np.nonzero(att.values)
    else:
        who = np.flatnonzero(att.values >= 0)
        which = att.values[who]
    j = target[which] if len(which) else np.zeros(0, dtype=np.int64)
    keep = j >= 0
    return np.stack([who[keep], j[keep]], axis=1).astype(np.int64)


def named_people(problem: Problem, crit) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Participants a preference criterion treats individually: those who name
    someone (like or dislike) or are named.  Everyone else scores 0.5 with anyone
    outside this set, so they can share a profile class."""
    mask = np.zeros(problem.n, dtype=bool)
    for attribute in (crit.like, crit.dislike):
        pairs = _likes(problem, attribute)
        mask[pairs[:, 0]] = True
        mask[pairs[:, 1]] = True
    return mask


def _relation(pairs: np.ndarray, a: _Side, b: _Side) -> np.ndarray:
    """Boolean relation (either direction) restricted to the pair space."""
    n_a, n_b = len(a.index), len(b.index)
    pos_a = {int(p): k for k, p in enumerate(a.index)}
    pos_b = {int(p): k for k, p in enumerate(b.index)}
    if a.axis is None:
        wanted = {(int(x), int(y)) for x, y in pairs} | {(int(y), int(x)) for x, y in pairs}
        return np.array(
            [(int(x), int(y)) in wanted for x, y in zip(a.index, b.index, strict=True)], dtype=bool
        )
    out = np.zeros((n_a, n_b), dtype=bool)
    for x, y in pairs:
        for u, v in ((int(x), int(y)), (int(y), int(x))):
            if u in pos_a and v in pos_b:
                out[pos_a[u], pos_b[v]] = True
    return out


def _preference(problem: Problem, crit, a: _Side, b: _Side) -> np.ndarray:  # type: ignore[no-untyped-def]
    liked = _relation(_likes(problem, crit.like), a, b)
    disliked = _relation(_likes(problem, crit.dislike), a, b)
    value = np.where(liked, 1.0, 0.5)
    return np.where(disliked, 0.0, value).astype(np.float32)


_CRITERIA: dict[str, Callable[..., np.ndarray]] = {
    "same": _same,
    "overlap": _overlap,
    "closeness": _closeness,
    "availability": _availability,
    "preference": _preference,
    "diversity": _diversity,
    "similarity": _similarity,
    "balance": _balance,
    "pairwise": _pairwise,
}
"""Criterion kind -> its value over a pair space (the definitions in this module's docstring)."""


def _criteria(problem: Problem) -> Iterator[tuple[str, float, object]]:
    for crit in problem.scheme.criteria:
        yield criterion_name(crit), float(crit.weight), crit


def total_weight(problem: Problem) -> float:
    return float(sum(c.weight for c in problem.scheme.criteria))


BLOCK_ENTRIES = 1 << 22
"""Pairs scored at once: temporaries stay near 16 MB each however large the pool."""


def row_blocks(n_rows: int, n_cols: int) -> Iterator[slice]:
    """Consecutive row slices of at most ``BLOCK_ENTRIES`` pairs each."""
    step = max(1, BLOCK_ENTRIES // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def score_matrix(problem: Problem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Pair scores (float32, 0–100) for every row × column participant.

    Mentoring: rows are mentees, columns mentors.  Memory: the float32 result
    plus one row block's temporaries (see ``BLOCK_ENTRIES``).
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    out = np.zeros((len(rows), len(cols)), dtype=np.float32)
    for block in row_blocks(len(rows), len(cols)):
        out[block] = score_block(problem, rows[block], cols)
    return out


def score_block(problem: Problem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``score_matrix`` for one block of rows (all temporaries at full block size)."""
    out = np.zeros((len(rows), len(cols)), dtype=np.float32)
    total = total_weight(problem)
    if total <= 0:
        return out
    a, b = _Side(rows, 0), _Side(cols, 1)
    for _, weight, crit in _criteria(problem):
        out += np.float32(weight) * _criterion_values(problem, crit, a, b)
    out *= np.float32(100.0 / total)
    return out


def pair_layers(problem: Problem, pairs: Pairs) -> dict[str, np.ndarray]:
    """Each criterion's value in [0, 1] for every pair (mentoring: a = mentor)."""
    mentee_side, mentor_side = _Side(pairs.b, None), _Side(pairs.a, None)
    return {
        name: _criterion_values(problem, crit, mentee_side, mentor_side)
        for name, _, crit in _criteria(problem)
    }


def pair_scores(problem: Problem, pairs: Pairs) -> np.ndarray:
    """Pair scores (0–100, float64) for every pair, from the layers."""
    total = total_weight(problem)
    layers = pair_layers(problem, pairs)
    if total <= 0 or not layers:
        return np.zeros(len(pairs))
    acc = np.zeros(len(pairs))
    for (_, weight, _), values in zip(_criteria(problem), layers.values(), strict=True):
        acc += weight * values.astype(np.float64)
    return 100.0 * acc / total
