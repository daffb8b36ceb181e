"""Pricing every allowed pair against the duals: the same answer whatever the parallelism."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from buddymatch.solvers.pairing import price
from buddymatch.solvers.pairing.price import Pricer, flat_tree
from tests.solvers.test_pairing import random_weights


@pytest.mark.parametrize("chunks", [1, 3, 64, 500])
def test_violations_do_not_depend_on_threads_or_chunks(chunks: int) -> None:
    rng = np.random.default_rng(2)
    n = 300
    w = random_weights(rng, n, 0.3, top=50)
    active = rng.random(n) > 0.1
    pen = rng.integers(0, 5, size=n).astype(np.int64)
    d = rng.integers(0, 120, size=n + 3).astype(np.int64)  # low duals: many violations
    pricer = Pricer(w, active, pen, 0, 0)
    t = flat_tree(d)
    ref_pairs, ref_worst = pricer.violations(t, 4)
    # an independent count from the dense matrix: each row's worst violation over j > i
    ok = np.triu((w >= 0) & active[:, None] & active[None, :], 1)
    viol = 2 * (w.astype(np.int64) + pen[:, None] + pen[None, :]) - d[:n, None] - d[None, :n]
    expect = np.where(ok, np.maximum(viol, 0), 0).max(axis=1)
    assert (ref_worst == expect).all()
    before = numba.get_num_threads()
    try:
        for threads in {1, before}:
            numba.set_num_threads(threads)
            a, b, worst, _ = price._violations(
                w, active, pen, 0, 0, t.d, t.top, t.parent, t.zcum, t.pos, t.lo, t.hi, 4, chunks
            )
            assert (a == ref_pairs[0]).all() and (b == ref_pairs[1]).all()
            assert (worst == ref_worst).all()
    finally:
        numba.set_num_threads(before)
    assert len(ref_pairs[0]) and (np.diff(ref_pairs[0]) >= 0).all()
