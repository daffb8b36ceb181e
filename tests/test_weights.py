"""PairWeights: the class-stored pair space against its own definition, written out."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.weights import NOT_ALLOWED, PairWeights


def random_pair_weights(seed: int) -> PairWeights:
    """A small pair space using every part of the definition."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = (int(x) for x in rng.integers(1, 12, size=2))
    n_rc, n_cc = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    n_rg, n_cg = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    w = rng.choice([NOT_ALLOWED, 0, 3, 50, 100_000], size=(n_rc, n_cc))
    n_codes = int(rng.integers(0, 3))
    blocked = np.argwhere(rng.random((n_rows, n_cols)) < 0.15)
    own_pos = np.argwhere(rng.random((n_rows, n_cols)) < 0.2)
    own_pos = np.concatenate([own_pos, own_pos[: len(own_pos) // 2]])  # duplicates
    own_val = rng.choice([0, 1, 60, 100_000], len(own_pos))
    return PairWeights.build(
        row_class=rng.integers(0, n_rc, n_rows),
        col_class=rng.integers(0, n_cc, n_cols),
        class_weights=w,
        row_group=rng.integers(0, n_rg, n_rows),
        col_group=rng.integers(0, n_cg, n_cols),
        group_allowed=rng.random((n_rg, n_cg)) < 0.8,
        row_codes=rng.integers(-1, 3, (n_rows, n_codes)),
        col_codes=rng.integers(-1, 3, (n_cols, n_codes)),
        code_same=rng.random(n_codes) < 0.5,
        blocked=blocked,
        overrides=(own_pos, own_val),
    )


def by_definition(pw: PairWeights, i: int, j: int) -> int:
    """The docstring of PairWeights, one pair at a time, in plain Python."""
    w = int(pw.class_weights[pw.row_class[i], pw.col_class[j]])
    if w == NOT_ALLOWED or not pw.group_allowed[pw.row_group[i], pw.col_group[j]]:
        return NOT_ALLOWED
    for r, same in enumerate(pw.code_same.tolist()):
        x, y = int(pw.row_codes[i, r]), int(pw.col_codes[j, r])
        if (x >= 0 and x == y) != same:
            return NOT_ALLOWED
    if j in pw.blocked_cols[pw.blocked_ptr[i] : pw.blocked_ptr[i + 1]].tolist():
        return NOT_ALLOWED
    cols = pw.override_cols[pw.override_ptr[i] : pw.override_ptr[i + 1]].tolist()
    if j in cols:
        w = int(pw.override_values[pw.override_ptr[i] + cols.index(j)])
    return w


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_dense_follows_the_definition(seed: int) -> None:
    pw = random_pair_weights(seed)
    dense = pw.dense()
    n_rows, n_cols = pw.shape
    expected = [[by_definition(pw, i, j) for j in range(n_cols)] for i in range(n_rows)]
    assert dense.tolist() == expected
    assert pw[0, 0] == expected[0][0]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_transposed_and_rows_subset(seed: int) -> None:
    pw = random_pair_weights(seed)
    dense = pw.dense()
    assert (pw.transposed().dense() == dense.T).all()
    rows = np.random.default_rng(seed).permutation(pw.shape[0])[: max(1, pw.shape[0] // 2)]
    assert (pw.take_rows(rows).dense() == dense[rows]).all()


def test_override_listed_twice_keeps_the_first() -> None:
    pw = PairWeights.build(
        row_class=np.zeros(1),
        col_class=np.zeros(1),
        class_weights=np.array([[100]]),
        overrides=(np.array([[0, 0], [0, 0]]), np.array([30, 70])),
    )
    assert pw.dense().tolist() == [[30]]


def test_from_matrix_round_trips() -> None:
    w = np.array([[1, NOT_ALLOWED, 5], [0, 7, 2]], np.int32)
    pw = PairWeights.from_matrix(w)
    assert (pw.dense() == w).all()
    assert (pw.transposed().dense() == w.T).all()
    assert pw.at(np.array([1, 0]), np.array([1, 2])).tolist() == [7, 5]
