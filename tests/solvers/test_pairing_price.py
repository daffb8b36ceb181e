"""Scans of the dense matrix (pricing, top-k candidates): the same answer whatever the threads."""

from __future__ import annotations

import numpy as np
import pytest

from buddymatch.solvers.pairing import graph
from buddymatch.solvers.pairing.graph import top_k_edges
from buddymatch.solvers.pairing.price import Pricer, flat_tree
from tests.solvers.test_pairing import random_weights


@pytest.mark.parametrize("tasks", [1, 3, 16, 500])
def test_violations_do_not_depend_on_threads_or_tasks(
    tasks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    assert (ref_worst == np.where(ok, np.maximum(viol, 0), 0).max(axis=1)).all()
    assert len(ref_pairs[0]) and (np.diff(ref_pairs[0]) >= 0).all()
    for i in range(0, n, 37):  # each row keeps its 4 worst violations (as values)
        mine = ref_pairs[1][ref_pairs[0] == i]
        row = np.sort(np.where(ok[i], viol[i], 0))[::-1]
        assert sorted(viol[i, mine].tolist(), reverse=True) == row[row > 0][:4].tolist()
    monkeypatch.setattr(graph, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(graph, "TASKS", tasks)
    for cpus in (1, 2, 4):
        monkeypatch.setattr(graph.os, "cpu_count", lambda c=cpus: c)
        (a, b), worst = pricer.violations(t, 4)
        assert (a == ref_pairs[0]).all() and (b == ref_pairs[1]).all()
        assert (worst == ref_worst).all()


def test_top_k_does_not_depend_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    n = 257
    w = random_weights(rng, n, 0.4, top=30)
    active = rng.random(n) > 0.05
    pen = rng.integers(0, 3, size=n).astype(np.int64)
    monkeypatch.setattr(graph, "MIN_PARALLEL_ROWS", 1)
    got = []
    for cpus in (1, 2, 3):
        monkeypatch.setattr(graph.os, "cpu_count", lambda c=cpus: c)
        got.append(top_k_edges(w, active, pen, 0, 5))
    a, b = got[0]
    assert all((x == a).all() and (y == b).all() for x, y in got)
    # each active person's best allowed partner value is reached by one of their edges
    val = np.where((w >= 0) & active[None, :], w.astype(np.int64) + pen[None, :], -1)
    np.fill_diagonal(val, -1)
    for i in np.flatnonzero(active & (val.max(axis=1) >= 0)).tolist():
        mine = np.concatenate([b[a == i], a[b == i]])
        assert val[i, mine].max() == val[i].max()
