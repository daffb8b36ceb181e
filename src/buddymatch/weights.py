"""The integer weight convention between rules/scoring and the solvers.

``candidates`` turns pair scores into integer weights and marks forbidden
pairs; every solver optimises them.  Both sides import the constants and the
pair-space type from here, so neither depends on the other.

Two forms of the same thing:

- a dense ``int32`` matrix (rows × columns), ``NOT_ALLOWED`` where a pair may
  not be made (peer and cohorts; small mentoring problems in tests);
- :class:`PairWeights`: the same weights stored by *profile class*, so that
  memory grows with the number of distinct profiles and the exceptions (pairs
  forbidden one by one, history penalties), not with rows × columns.  The
  mentoring solver works on this form; :meth:`PairWeights.from_matrix` wraps a
  dense matrix (one class per person) and :meth:`PairWeights.dense` expands it.

``WEIGHT_CAP``: no weight exceeds it (a score of 100 points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NOT_ALLOWED = -1
"""Entry of an integer weight matrix for a pair that must never be made."""

WEIGHT_SCALE = 1000
"""Pair scores in [0, 100] become integer weights ``round(score * WEIGHT_SCALE)``."""

WEIGHT_CAP = 100 * WEIGHT_SCALE
"""The largest weight: bonuses (feedback) keep a pair's weight within 0..100 points."""


def _csr(n_rows: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and per-row sorted columns of the (deduplicated) pairs (rows, cols)."""
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if rows.size:
        keep = np.ones(rows.size, bool)
        keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols = rows[keep], cols[keep]
    ptr = np.searchsorted(rows, np.arange(n_rows + 1, dtype=np.int64)).astype(np.int64)
    return ptr, cols


@dataclass(frozen=True, eq=False)
class PairWeights:
    """Integer weights of a rows × columns pair space, stored by profile class.

    The weight of the pair (row ``i``, column ``j``) is ``NOT_ALLOWED`` when

    - ``class_weights[row_class[i], col_class[j]] == NOT_ALLOWED`` (a rule
      decided on attribute values shared by the whole class, or ``min_score``);
    - ``group_allowed[row_group[i], col_group[j]]`` is false (rules on a
      second, coarser key: e.g. a band gap);
    - a *code rule* fails: for each ``r``, with ``x = row_codes[i, r]`` and
      ``y = col_codes[j, r]`` (-1 = blank), ``code_same[r]`` false ("different")
      forbids ``x == y >= 0``, true ("same") requires ``x == y >= 0``;
    - ``j`` is listed for row ``i`` in ``blocked`` (pairs forbidden one by one);

    otherwise it is ``class_weights[row_class[i], col_class[j]]``, unless the
    pair is listed in ``override``: then it is the value listed there (a pair
    whose history penalty or feedback points change its weight; it may be above
    the class weight, up to ``WEIGHT_CAP``).  Exceptions are CSR lists: row
    ``i``'s columns are ``*_cols[*_ptr[i]:*_ptr[i + 1]]``, sorted.

    What callers may rely on: :meth:`at` and :meth:`dense` implement exactly
    this definition (numpy, the reference the solver's kernels are tested
    against); :meth:`from_matrix` round-trips a dense matrix.
    """

    row_class: np.ndarray  # (n_rows,) int32
    col_class: np.ndarray  # (n_cols,) int32
    class_weights: np.ndarray  # (row classes, col classes) int32, C order
    row_group: np.ndarray  # (n_rows,) int32
    col_group: np.ndarray  # (n_cols,) int32
    group_allowed: np.ndarray  # (row groups, col groups) bool
    row_codes: np.ndarray  # (n_rows, R) int32
    col_codes: np.ndarray  # (n_cols, R) int32
    code_same: np.ndarray  # (R,) bool
    blocked_ptr: np.ndarray  # (n_rows + 1,) int64
    blocked_cols: np.ndarray  # int64
    override_ptr: np.ndarray  # (n_rows + 1,) int64
    override_cols: np.ndarray  # int64
    override_values: np.ndarray  # int32, 0..WEIGHT_CAP
    _dense: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_class), len(self.col_class)

    @classmethod
    def from_matrix(cls, weights: np.ndarray) -> PairWeights:
        """A dense matrix as pair weights: one class per row and per column."""
        w = np.ascontiguousarray(weights, dtype=np.int32)
        n_rows, n_cols = w.shape
        empty = np.empty(0, np.int64)
        return cls(
            row_class=np.arange(n_rows, dtype=np.int32),
            col_class=np.arange(n_cols, dtype=np.int32),
            class_weights=w,
            row_group=np.zeros(n_rows, np.int32),
            col_group=np.zeros(n_cols, np.int32),
            group_allowed=np.ones((1, 1), bool),
            row_codes=np.zeros((n_rows, 0), np.int32),
            col_codes=np.zeros((n_cols, 0), np.int32),
            code_same=np.zeros(0, bool),
            blocked_ptr=np.zeros(n_rows + 1, np.int64),
            blocked_cols=empty,
            override_ptr=np.zeros(n_rows + 1, np.int64),
            override_cols=empty,
            override_values=np.empty(0, np.int32),
            _dense=w,
        )

    @classmethod
    def build(
        cls,
        *,
        row_class: np.ndarray,
        col_class: np.ndarray,
        class_weights: np.ndarray,
        row_group: np.ndarray | None = None,
        col_group: np.ndarray | None = None,
        group_allowed: np.ndarray | None = None,
        row_codes: np.ndarray | None = None,
        col_codes: np.ndarray | None = None,
        code_same: np.ndarray | None = None,
        blocked: np.ndarray | None = None,
        overrides: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> PairWeights:
        """Pair weights from their parts; ``blocked`` is (k, 2) (row, col) positions and
        ``overrides`` ((k, 2) positions, (k,) weights) — a position listed twice keeps
        its first weight."""
        n_rows, n_cols = len(row_class), len(col_class)
        blocked = np.zeros((0, 2), np.int64) if blocked is None else np.asarray(blocked)
        bptr, bcols = _csr(n_rows, blocked[:, 0], blocked[:, 1])
        if overrides is None or len(overrides[1]) == 0:
            pptr, pcols, pvals = np.zeros(n_rows + 1, np.int64), np.empty(0, np.int64), None
        else:
            pos, values = np.asarray(overrides[0]), np.asarray(overrides[1], np.int64)
            if ((values < 0) | (values > WEIGHT_CAP)).any():
                raise ValueError(f"override weights must lie in 0..{WEIGHT_CAP}")
            order = np.lexsort((np.arange(len(values)), pos[:, 1], pos[:, 0]))
            pos, values = pos[order], values[order]
            first = np.ones(len(values), bool)
            first[1:] = (pos[1:, 0] != pos[:-1, 0]) | (pos[1:, 1] != pos[:-1, 1])
            pos, values = pos[first], values[first]
            pptr, pcols = _csr(n_rows, pos[:, 0], pos[:, 1])
            pvals = values  # already in (row, col) order
        n_codes = 0 if code_same is None else len(code_same)
        return cls(
            row_class=np.ascontiguousarray(row_class, np.int32),
            col_class=np.ascontiguousarray(col_class, np.int32),
            class_weights=np.ascontiguousarray(class_weights, np.int32),
            row_group=np.zeros(n_rows, np.int32)
            if row_group is None
            else row_group.astype(np.int32),
            col_group=np.zeros(n_cols, np.int32)
            if col_group is None
            else col_group.astype(np.int32),
            group_allowed=np.ones((1, 1), bool)
            if group_allowed is None
            else np.ascontiguousarray(group_allowed, bool),
            row_codes=np.zeros((n_rows, 0), np.int32)
            if row_codes is None
            else np.ascontiguousarray(row_codes, np.int32).reshape(n_rows, n_codes),
            col_codes=np.zeros((n_cols, 0), np.int32)
            if col_codes is None
            else np.ascontiguousarray(col_codes, np.int32).reshape(n_cols, n_codes),
            code_same=np.zeros(0, bool) if code_same is None else np.asarray(code_same, bool),
            blocked_ptr=bptr,
            blocked_cols=bcols,
            override_ptr=pptr,
            override_cols=pcols,
            override_values=np.empty(0, np.int32) if pvals is None else pvals.astype(np.int32),
        )

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """int32 weights of the aligned pairs (rows[k], cols[k]) (the reference definition)."""
        rows = np.asarray(rows, np.int64).reshape(-1)
        cols = np.asarray(cols, np.int64).reshape(-1)
        if self._dense is not None:
            return self._dense[rows, cols].astype(np.int32)
        w = self.class_weights[self.row_class[rows], self.col_class[cols]].astype(np.int64)
        ok = w != NOT_ALLOWED
        ok &= self.group_allowed[self.row_group[rows], self.col_group[cols]]
        for r, same in enumerate(self.code_same.tolist()):
            x, y = self.row_codes[rows, r], self.col_codes[cols, r]
            equal = (x == y) & (x >= 0)
            ok &= equal if same else ~equal
        ok &= ~_listed(self.blocked_ptr, self.blocked_cols, rows, cols)
        if self.override_values.size:
            hit = _position(self.override_ptr, self.override_cols, rows, cols)
            w = np.where(hit >= 0, self.override_values[np.maximum(hit, 0)], w)
        return np.where(ok, w, NOT_ALLOWED).astype(np.int32)

    def __getitem__(self, pair: tuple[int, int]) -> int:
        """The weight of one pair: ``weights[i, j]`` as for a dense matrix."""
        return int(self.at(np.array([pair[0]]), np.array([pair[1]]))[0])

    def dense(self) -> np.ndarray:
        """The full int32 matrix (tests and small problems only: rows × columns entries)."""
        if self._dense is not None:
            return self._dense
        n_rows, n_cols = self.shape
        rr, cc = np.divmod(np.arange(n_rows * n_cols, dtype=np.int64), max(n_cols, 1))
        return self.at(rr, cc).reshape(n_rows, n_cols)

    def take_rows(self, rows: np.ndarray) -> PairWeights:
        """The pair space of some rows only (same columns), e.g. a sampled sub-market."""
        rows = np.asarray(rows, np.int64)
        if self._dense is not None:
            return PairWeights.from_matrix(self._dense[rows])
        bptr, bcols = _take_csr(self.blocked_ptr, self.blocked_cols, rows)
        pptr, pcols = _take_csr(self.override_ptr, self.override_cols, rows)
        pick = _take_csr_index(self.override_ptr, rows)
        return PairWeights(
            row_class=self.row_class[rows],
            col_class=self.col_class,
            class_weights=self.class_weights,
            row_group=self.row_group[rows],
            col_group=self.col_group,
            group_allowed=self.group_allowed,
            row_codes=np.ascontiguousarray(self.row_codes[rows]),
            col_codes=self.col_codes,
            code_same=self.code_same,
            blocked_ptr=bptr,
            blocked_cols=bcols,
            override_ptr=pptr,
            override_cols=pcols,
            override_values=self.override_values[pick],
        )

    def transposed(self) -> PairWeights:
        """The same pair space with rows and columns swapped."""
        n_rows = self.shape[0]
        if self._dense is not None:
            return PairWeights.from_matrix(np.ascontiguousarray(self._dense.T))
        b_rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(self.blocked_ptr))
        p_rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(self.override_ptr))
        return PairWeights.build(
            row_class=self.col_class,
            col_class=self.row_class,
            class_weights=np.ascontiguousarray(self.class_weights.T),
            row_group=self.col_group,
            col_group=self.row_group,
            group_allowed=np.ascontiguousarray(self.group_allowed.T),
            row_codes=self.col_codes,
            col_codes=self.row_codes,
            code_same=self.code_same,
            blocked=np.stack([self.blocked_cols, b_rows], axis=1),
            overrides=(np.stack([self.override_cols, p_rows], axis=1), self.override_values),
        )


def _position(
    ptr: np.ndarray, cols: np.ndarray, rows: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """Index into ``cols`` of each pair (rows[k], wanted[k]) in the CSR lists, or -1."""
    out = np.full(len(rows), -1, np.int64)
    if cols.size == 0 or len(rows) == 0:
        return out
    n_cols = int(max(cols.max(initial=0), wanted.max(initial=0))) + 1
    owner = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    keys = owner * n_cols + cols  # sorted: rows ascending, columns sorted per row
    probe = rows * n_cols + wanted
    pos = np.minimum(np.searchsorted(keys, probe), keys.size - 1)
    found = keys[pos] == probe
    out[found] = pos[found]
    return out


def _listed(ptr: np.ndarray, cols: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    return _position(ptr, cols, rows, wanted) >= 0


def _take_csr_index(ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in the CSR value arrays of the entries of ``rows``, in that row order."""
    lengths = ptr[rows + 1] - ptr[rows]
    before = np.cumsum(lengths) - lengths
    shift = np.repeat(ptr[rows] - before, lengths)
    return (shift + np.arange(int(lengths.sum()), dtype=np.int64)).astype(np.int64)


def _take_csr(ptr: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = ptr[rows + 1] - ptr[rows]
    new_ptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=new_ptr[1:])
    return new_ptr, cols[_take_csr_index(ptr, rows)]


__all__ = ["NOT_ALLOWED", "WEIGHT_CAP", "WEIGHT_SCALE", "PairWeights"]
