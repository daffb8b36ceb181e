"""The blossom engine: optimum equals networkx, and its dual certificate checks out.

The certificate is checked here by a routine that shares no code with the
solver: it recomputes, for every edge, the sum of the duals of the odd sets
holding both ends, from the member lists alone.
"""

from __future__ import annotations

import inspect
import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers.pairing import blossom as bl

Edge = tuple[int, int, int]


def member_sets(person_set: np.ndarray, set_parent: np.ndarray) -> list[set[int]]:
    """Members of each set of a laminar tree (each person's chain of sets, walked up)."""
    sets: list[set[int]] = [set() for _ in range(len(set_parent))]
    for v, k in enumerate(person_set.tolist()):
        while k != -1:
            sets[k].add(v)
            k = int(set_parent[k])
    return sets


def check_certificate(s: bl.State, alive: np.ndarray) -> int:
    """Independent check of optimality conditions; returns the matching weight."""
    n = s.n
    found = bl.blossoms(s)
    d = s.dual[:n].astype(np.int64)
    assert (d[alive] >= 0).all()
    assert (found.z >= 0).all()
    sets = member_sets(found.innermost, found.parent)
    for m in sets:
        assert len(m) % 2 == 1 and all(alive[v] for v in m)

    def z_between(i: int, j: int) -> int:
        return sum(int(z) for z, m in zip(found.z, sets, strict=True) if i in m and j in m)

    live = alive[s.eu] & alive[s.ev]
    for i, j, w in zip(s.eu[live].tolist(), s.ev[live].tolist(), s.ew[live].tolist(), strict=True):
        assert d[i] + d[j] + 2 * z_between(i, j) >= 2 * w, "dual infeasible"
    a, b, k = bl.pairs(s)
    for i, j, e in zip(a.tolist(), b.tolist(), k.tolist(), strict=True):
        assert d[i] + d[j] + 2 * z_between(i, j) == 2 * int(s.ew[e]), "matched pair not tight"
    free = alive.copy()
    free[a] = free[b] = False
    assert (d[free] == 0).all(), "a free person has a positive dual"
    weight = int(s.ew[k].sum())
    dual_value2 = int(d[alive].sum()) + sum(
        int(z) * (len(m) - 1) for z, m in zip(found.z, sets, strict=True)
    )
    assert dual_value2 == 2 * weight
    return weight


def networkx_weight(edges: list[Edge], dead: set[int] = frozenset()) -> int:  # type: ignore[assignment]
    g = nx.Graph()
    g.add_weighted_edges_from([e for e in edges if e[0] not in dead and e[1] not in dead])
    return sum(g[u][v]["weight"] for u, v in nx.max_weight_matching(g))


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[Edge]]:
    n = draw(st.integers(2, 28))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = draw(st.floats(0.05, 1.0))
    top = draw(st.sampled_from([1, 3, 50, 10**6]))
    edges = [
        (i, j, int(rng.integers(0, top + 1)))
        for i in range(n)
        for j in range(i + 1, n)
        if rng.random() < p
    ]
    return n, edges


def arrays(edges: list[Edge]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = np.array(edges, dtype=np.int64).reshape(-1, 3)
    return e[:, 0], e[:, 1], e[:, 2]


@settings(max_examples=120, deadline=None)
@given(graphs())
def test_optimum_equals_networkx_with_a_valid_certificate(graph: tuple[int, list[Edge]]) -> None:
    n, edges = graph
    s = bl.new_state(n, *arrays(edges))
    bl.run(s)
    assert check_certificate(s, np.ones(n, dtype=bool)) == networkx_weight(edges)


@settings(max_examples=80, deadline=None)
@given(graphs(), st.data())
def test_warm_starts_add_edges_and_remove_people(
    graph: tuple[int, list[Edge]], data: st.DataObject
) -> None:
    n, edges = graph
    cut = data.draw(st.integers(0, len(edges)))
    s = bl.new_state(n, *arrays(edges[:cut]))
    bl.run(s)
    s = bl.add_edges(s, *arrays(edges[cut:]))
    bl.raise_for_edges(s, np.arange(cut, len(edges)))
    bl.run(s)
    assert check_certificate(s, np.ones(n, dtype=bool)) == networkx_weight(edges)
    gone = data.draw(st.sets(st.integers(0, n - 1), max_size=3))
    c = bl.copy_state(s)
    bl.remove_vertices(c, np.array(sorted(gone), dtype=np.int64))
    bl.run(c)
    alive = np.ones(n, dtype=bool)
    alive[list(gone)] = False
    assert check_certificate(c, alive) == networkx_weight(edges, gone)
    assert check_certificate(s, np.ones(n, dtype=bool)) == networkx_weight(edges)  # untouched


def test_larger_random_graphs_up_to_300_nodes() -> None:
    rng = np.random.default_rng(3)
    for n, p in ((120, 0.3), (300, 0.05)):
        edges = [
            (i, j, int(rng.integers(0, 1000)))
            for i in range(n)
            for j in range(i + 1, n)
            if rng.random() < p
        ]
        s = bl.new_state(n, *arrays(edges))
        bl.run(s)
        assert check_certificate(s, np.ones(n, dtype=bool)) == networkx_weight(edges)


def test_rejects_negative_weights_and_loops() -> None:
    with pytest.raises(ValueError):
        bl.new_state(3, np.array([0]), np.array([1]), np.array([-1]))
    with pytest.raises(ValueError):
        bl.new_state(3, np.array([1]), np.array([1]), np.array([5]))


@settings(max_examples=80, deadline=None)
@given(graphs(), st.data())
def test_starting_from_given_feasible_duals(
    graph: tuple[int, list[Edge]], data: st.DataObject
) -> None:
    """Any feasible starting duals (here: each person's heaviest edge, doubled, plus a random
    extra) and any preferred edges lead to the same optimum and a valid certificate."""
    n, edges = graph
    eu, ev, ew = arrays(edges)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    d = np.zeros(n, dtype=np.int64)
    np.maximum.at(d, eu, ew)
    np.maximum.at(d, ev, ew)
    d += rng.integers(0, 3, size=n) * data.draw(st.sampled_from([0, 1, 7]))
    prefer = rng.permutation(len(edges))[: data.draw(st.integers(0, max(len(edges), 0)))]
    s = bl.new_state(n, eu, ev, ew, duals=d, prefer=prefer)
    a, b, k = bl.pairs(s)
    assert (s.dual[a] + s.dual[b] == 2 * s.ew[k]).all()  # only tight edges start paired
    bl.run(s)
    assert check_certificate(s, np.ones(n, dtype=bool)) == networkx_weight(edges)


def test_infeasible_starting_duals_are_refused() -> None:
    eu, ev, ew = np.array([0]), np.array([1]), np.array([5])
    with pytest.raises(ValueError, match="feasible"):
        bl.new_state(2, eu, ev, ew, duals=np.array([4, 5]))
    with pytest.raises(ValueError, match="feasible"):
        bl.new_state(2, eu, ev, ew, duals=np.array([11, -1]))
    with pytest.raises(ValueError, match="feasible"):
        bl.new_state(3, eu, ev, ew, duals=np.array([10, 10]))
    s = bl.new_state(2, eu, ev, ew, duals=np.array([4, 6]), prefer=np.array([0]))
    assert s.mate[0] == 1 and s.mate[1] == 0  # tight and preferred: starts paired


def test_the_kernels_reference_lists_every_state_field_in_order() -> None:
    """``_ref`` passes the fields positionally: a missed or swapped one would be silent."""
    source = inspect.getsource(bl._ref.py_func)
    assert re.findall(r"s\.(\w+),", source) == list(bl.State._fields)
