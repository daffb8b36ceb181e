"""kernels.scan (candidates, pricing, slack sums over every allowed pair) against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers.assignment.flow import csr
from buddymatch.solvers.assignment.kernels import FAR, Faces, Space, scan
from tests.test_weights import random_pair_weights


def _case(seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    pw = random_pair_weights(seed)
    n_rows, n_cols = pw.shape
    rows_ok = rng.random(n_rows) < 0.85
    cols_ok = rng.random(n_cols) < 0.85
    thr = rng.integers(-50, 50, n_rows)
    if rng.random() < 0.2:
        thr[:] = -FAR
    key = rng.integers(-50, 50, n_cols)
    factor = int(rng.choice([0, 1, 2]))
    min_weight = int(rng.choice([0, 1]))
    known = np.argwhere(rng.random((n_rows, n_cols)) < 0.2)
    keys = np.sort(known[:, 0] * n_cols + known[:, 1])
    n_faces = int(rng.integers(0, 2))
    faces = Faces(
        thr=rng.integers(0, 2, (n_faces, n_rows)),
        key=rng.integers(0, 2, (n_faces, n_cols)),
        factor=np.zeros(n_faces, np.int64),
    )
    return pw, rows_ok, cols_ok, thr, key, factor, min_weight, keys, faces


def _qualifying(pw, rows_ok, cols_ok, thr, key, factor, min_weight, keys, faces):  # type: ignore[no-untyped-def]
    """Every qualifying pair with its gain, by brute force over the dense matrix."""
    dense = pw.dense().astype(np.int64)
    n_cols = pw.shape[1]
    known = set(keys.tolist())
    out = {}
    for i, j in np.argwhere(dense >= min_weight).tolist():
        if not (rows_ok[i] and cols_ok[j]) or i * n_cols + j in known:
            continue
        w = int(dense[i, j])
        tight = all(
            faces.factor[f] * w + faces.key[f, j] - faces.thr[f, i] == 0
            for f in range(len(faces.factor))
        )
        gain = factor * w + int(key[j]) - int(thr[i])
        if tight and gain > 0:
            out[(i, j)] = gain
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_scan_lists_the_best_qualifying_pairs(seed: int, limit: int) -> None:
    pw, rows_ok, cols_ok, thr, key, factor, min_weight, keys, faces = _case(seed)
    n_rows, n_cols = pw.shape
    expected = _qualifying(pw, rows_ok, cols_ok, thr, key, factor, min_weight, keys, faces)
    ptr, cols = csr(keys, n_rows, n_cols)
    kw = {
        "thr": thr,
        "key": key,
        "factor": factor,
        "min_weight": min_weight,
        "known_ptr": ptr,
        "known_cols": cols,
        "faces": faces,
    }
    space = Space.build(pw, rows_ok, cols_ok)
    every = scan(space, limit=np.full(n_rows, n_cols), **kw)
    listed = set(zip(every.rows.tolist(), every.cols.tolist(), strict=True))
    assert listed == set(expected)
    best = scan(space, limit=np.full(n_rows, limit), **kw)
    for i in range(n_rows):
        mine = sorted(expected[(i, j)] for j in best.cols[best.rows == i].tolist())
        theirs = sorted((g for (r, _), g in expected.items() if r == i), reverse=True)[:limit]
        assert mine == sorted(theirs), "the listed gains are the row's largest"
    total = scan(space, limit=np.zeros(n_rows), sum_mode=True, **kw)
    assert total.found == len(expected) and total.gain_sum == sum(expected.values())
