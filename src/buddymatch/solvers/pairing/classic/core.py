"""One solve of "disjoint pairs plus at most one trio" on a view of the weight matrix.

:func:`solve_view` is the engine behind :func:`buddymatch.solvers.pairing.solve_pairing`.
It works on *doubled* integer values so everything stays exact:

* pair value2 ``= 2 w'_ij`` with ``w'_ij = w_ij + pen_i + pen_j``;
* trio value2 ``= w'_ab + w'_ac + w'_bc - 2 (tp_a + tp_b + tp_c)``;
* ``card`` (max-matched / fair) ranks structures by people placed first, then
  value2; otherwise by value2 only.

Method.  Small graphs (``<= FULL_EDGE_LIMIT`` allowed pairs) use every allowed
pair; larger ones start from each person's best ``TOP_K`` partners and add
pairs that violate the fractional-matching LP dual (priced over the whole
dense matrix) until none does.  Pools up to ``EXACT_NODE_LIMIT`` people are
then matched exactly (blossom) on the candidate graph; larger pools take the
LP's integral edges and match the rest exactly.  The trio is chosen by
branch and bound: a triangle ``T`` can only beat the incumbent if
``Y2 - (r_ab + r_ac + r_bc) / 2 > best`` where ``r`` are the LP reduced costs,
so triangles are evaluated (trio + exact matching of everybody else) in order
of ``r`` until that bound fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from buddymatch.solvers.pairing.classic.graph import (
    Dual,
    FracLP,
    edge_values,
    exact_matching,
    odd_set_cuts,
    price,
    repair,
    union_edges,
)
from buddymatch.solvers.pairing.core import View  # the same view of a pool
from buddymatch.solvers.pairing.graph import Edges, all_edges, count_allowed, top_k_edges

FULL_EDGE_LIMIT = 20_000
"""Graphs with at most this many allowed pairs are solved on all of them."""
EXACT_NODE_LIMIT = 6_000
"""Pools up to this size get an exact blossom matching on the candidate graph."""
TOP_K = 6
RESIDUAL_K = 12
RELEASE_ROUNDS = 1
RELEASE_PER_NODE = 2
"""Initial candidate partners per person on large graphs."""
MAX_LP_ROUNDS = 40
MAX_CUT_ROUNDS = 8
MAX_CUT_ROUNDS_LARGE = 3
FIX_PER_ROW = 8
MAX_TRIO_EVALUATIONS = 400
EXHAUSTIVE_TRIANGLES = 3_000


@dataclass
class CoreResult:
    pairs: Edges
    trio: tuple[int, int, int] | None
    people: int
    value2: int
    bound2: int  # certified upper bound on value2 of any structure
    people_bound: int
    proven: bool
    stats: dict[str, float | int | str] = field(default_factory=dict)


def _key(people: int, value2: int, card: bool) -> tuple[int, int]:
    return (people, value2) if card else (0, value2)


class _Solver:
    def __init__(self, view: View, deadline: float | None) -> None:
        self.v = view
        self.deadline = deadline
        self.n = view.w.shape[0]
        self.stats: dict[str, float | int | str] = {}
        self.proven = True

    def timed_out(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    # ---- candidate graph and certificate -------------------------------------------------
    def build(self) -> None:
        v = self.v
        n_allowed = count_allowed(v.w, v.active, v.t_min)
        self.stats["allowed_pairs"] = n_allowed
        act_pen = v.pen[v.active]
        wmax = int(v.w.max()) if self.n else 0
        pmax = int(act_pen.max()) if len(act_pen) else 0
        self.wmax2 = 2 * (max(wmax, 0) + 2 * max(pmax, 0))
        self.full_graph = n_allowed <= FULL_EDGE_LIMIT
        if self.full_graph:
            self.edges = all_edges(v.w, v.active, v.t_min)
        else:
            self.edges = top_k_edges(v.w, v.active, v.pen, v.t_min, TOP_K)
        self.ev2 = 2 * edge_values(v.w, v.pen, self.edges)
        need_lp = not self.full_graph or v.trio
        rounds = cut_rounds = 0
        self.x: np.ndarray | None = None
        self.lp_edges: Edges = self.edges
        self.dual = Dual(np.zeros(self.n, np.int64), np.zeros(0, np.int64), ())
        lp = FracLP(self.n)
        lp.add_edges(self.edges, self.ev2 // 2)
        large = int(v.active.sum()) > EXACT_NODE_LIMIT
        max_cut_rounds = MAX_CUT_ROUNDS_LARGE if large else MAX_CUT_ROUNDS
        t_lp = t_price = 0.0
        while need_lp:
            t0 = time.perf_counter()
            self.dual, self.x = lp.solve()
            t_lp += time.perf_counter() - t0
            self.lp_edges = lp.edges
            rounds += 1
            if rounds >= MAX_LP_ROUNDS or self.timed_out():
                break
            if not self.full_graph:
                t0 = time.perf_counter()
                new, _, _ = price(v.w, v.active, v.pen, v.t_min, self.dual)
                t_price += time.perf_counter() - t0
                # Stop pricing once it brings in a negligible number of pairs: the final
                # repair of the dual keeps the bound valid anyway.
                added = lp.add_edges(new, edge_values(v.w, v.pen, new))
                if added:
                    self.edges = union_edges(self.edges, new, self.n)
                if added > max(1, len(self.edges[0]) // 2000):
                    continue
            new_cuts = odd_set_cuts(self.n, self.lp_edges, self.x)
            if not new_cuts or cut_rounds >= max_cut_rounds:
                break
            lp.add_cuts(new_cuts)
            cut_rounds += 1
        self.ev2 = 2 * edge_values(v.w, v.pen, self.edges)
        cuts = lp.cuts
        self.stats["lp_rounds"] = rounds
        self.stats["lp_s"] = round(t_lp, 2)
        self.stats["pricing_s"] = round(t_price, 2)
        self.stats["odd_set_cuts"] = len(cuts)
        self.refresh_dual()
        self.k_card = self.n * (self.wmax2 + 1) + 1 if v.card else 0
        deg = np.zeros(self.n, dtype=np.int64)
        np.add.at(deg, self.edges[0], 1)
        np.add.at(deg, self.edges[1], 1)
        self.non_isolated = int((deg > 0).sum())

    def refresh_dual(self) -> None:
        """Repair the LP dual on the full graph; derive the certified bounds."""
        v = self.v
        self.dual = repair(v.w, v.active, v.pen, v.t_min, self.dual)
        self.bound2 = self.dual.bound2  # any set of pairs
        # A trio can exceed a blossom inequality by 1/2: allow for it.
        zsum = np.zeros(self.n, dtype=np.int64)
        for zk, c in zip(self.dual.z2.tolist(), self.dual.cuts, strict=True):
            zsum[c] += zk
        self.zmax2 = int(zsum.max(initial=0))
        self.bound2_trio = self.bound2 + (self.zmax2 + 1) // 2 if v.trio else self.bound2

    def reduced2(self) -> np.ndarray:
        """Doubled reduced cost of each candidate edge (>= 0 for a feasible dual)."""
        a, b = self.edges
        y2 = self.dual.y2
        r2 = y2[a] + y2[b] - self.ev2
        if self.dual.cuts:
            idx, z = self.dual.block(self.n)
            pos = np.full(self.n, -1, dtype=np.int64)
            pos[idx] = np.arange(len(idx))
            both = (pos[a] >= 0) & (pos[b] >= 0)
            r2[both] += z[pos[a[both]], pos[b[both]]]
        return r2

    def fix_reduced_costs(self, slack: int) -> bool:
        """Add every pair with doubled reduced cost < ``slack``; False if too many to add.

        Every pair of a solution better than the incumbent has reduced cost below
        the bound's slack, so after this the candidate graph holds the optimum.
        """
        v = self.v
        if slack <= 0:
            return True
        new, _, overflow = price(
            v.w, v.active, v.pen, v.t_min, self.dual, min_v=-slack, per_row=FIX_PER_ROW
        )
        self.edges = union_edges(self.edges, new, self.n)
        self.ev2 = 2 * edge_values(v.w, v.pen, self.edges)
        self.stats["candidate_pairs"] = len(self.edges[0])
        return not overflow

    # ---- matchings ------------------------------------------------------------------------
    def match(self, drop: frozenset[int] = frozenset()) -> tuple[Edges, int]:
        if self.n > 0 and int(self.v.active.sum()) > EXACT_NODE_LIMIT and not drop:
            pairs = self._match_large()
        else:
            pairs = exact_matching(self.edges, self.oracle_weights(), drop)
        value2 = int(2 * edge_values(self.v.w, self.v.pen, pairs).sum()) if len(pairs[0]) else 0
        return pairs, value2

    def greedy(self) -> Edges:
        """Heaviest-first greedy matching on the candidate graph (deterministic)."""
        a, b = self.edges
        order = np.lexsort((b, a, -self.ev2))
        used = np.zeros(self.n, dtype=bool)
        keep = []
        for e in order.tolist():
            i, j = int(a[e]), int(b[e])
            if not used[i] and not used[j]:
                used[i] = used[j] = True
                keep.append(e)
        k = np.array(sorted(keep), dtype=np.int64)
        return a[k], b[k]

    def oracle_weights(self) -> list[int]:
        return [self.k_card + int(e) for e in self.ev2.tolist()]

    def _match_large(self) -> Edges:
        """LP integral edges + exact matching of the rest (pools beyond EXACT_NODE_LIMIT)."""
        self.stats["method"] = "lp-rounding+blossom"
        assert self.x is not None
        a, b = self.lp_edges
        sure = self.x > 0.75
        used = np.zeros(self.n, dtype=bool)
        keep = []
        for e in np.flatnonzero(sure).tolist():
            i, j = int(a[e]), int(b[e])
            if not used[i] and not used[j]:
                used[i] = used[j] = True
                keep.append(e)
        # Everyone the LP did not pair firmly: match them exactly among themselves, on
        # their candidate pairs plus their best RESIDUAL_K partners inside the residue.
        v = self.v
        residue = v.active & ~used
        # Release the firm pairs next to the residue (its cheapest links, by reduced cost)
        # so that the exact step can re-route through them.
        partner = np.full(self.n, -1, dtype=np.int64)
        partner[a[keep]], partner[b[keep]] = b[keep], a[keep]
        ea, eb = self.edges
        r2 = self.reduced2()
        for _ in range(RELEASE_ROUNDS):
            one = residue[ea] ^ residue[eb]
            u = np.where(residue[ea[one]], ea[one], eb[one])
            o = np.where(residue[ea[one]], eb[one], ea[one])
            order = np.lexsort((o, r2[one], u))
            u, o = u[order], o[order]
            rank = np.arange(len(u)) - np.searchsorted(u, u)
            pick = o[rank < RELEASE_PER_NODE]
            pick = pick[partner[pick] >= 0]
            residue[pick] = True
            residue[partner[pick]] = True
        inner = top_k_edges(v.w, residue, v.pen, v.t_min, RESIDUAL_K)
        rest = residue[ea] & residue[eb]
        sub = union_edges((ea[rest], eb[rest]), inner, self.n)
        sub_w = [self.k_card + 2 * int(e) for e in edge_values(v.w, v.pen, sub).tolist()]
        self.stats["residual_people"] = int(residue.sum())
        pa, pb = exact_matching(sub, sub_w)
        keep_arr = np.array(keep, dtype=np.int64)
        keep_arr = keep_arr[~residue[a[keep_arr]]]
        ka, kb = a[keep_arr], b[keep_arr]
        ra = np.concatenate([ka, pa])
        rb = np.concatenate([kb, pb])
        order = np.lexsort((rb, ra))
        return ra[order], rb[order]

    # ---- trio -----------------------------------------------------------------------------
    def trio_value2(self, t: tuple[int, int, int]) -> int:
        a, b, c = t
        w, pen = self.v.w, self.v.pen
        s = int(w[a, b]) + int(w[a, c]) + int(w[b, c]) + 2 * int(pen[a] + pen[b] + pen[c])
        return s - 2 * int(self.v.trio_pen[a] + self.v.trio_pen[b] + self.v.trio_pen[c])

    def allowed(self, i: int, j: int) -> bool:
        return int(self.v.w[i, j]) >= max(self.v.t_min, 0)

    def best_attachment(self, pairs: Edges, value2: int) -> tuple[int, tuple[int, int, int]] | None:
        placed = np.zeros(self.n, dtype=bool)
        placed[pairs[0]] = True
        placed[pairs[1]] = True
        out = np.flatnonzero(self.v.active & ~placed).tolist()
        best: tuple[int, tuple[int, int, int]] | None = None
        if not out or not len(pairs[0]):
            return None
        pa, pb = pairs
        w = self.v.w
        thr = max(self.v.t_min, 0)
        for u in out:
            ok = (w[u, pa] >= thr) & (w[u, pb] >= thr)
            for e in np.flatnonzero(ok).tolist():
                i, j = int(pa[e]), int(pb[e])
                t = tuple(sorted((u, i, j)))
                val = value2 - 2 * int(w[i, j] + self.v.pen[i] + self.v.pen[j])
                val += self.trio_value2(t)
                if best is None or val > best[0]:
                    best = (val, t)
        return best

    def triangles(self, budget: int | None) -> list[tuple[int, tuple[int, int, int]]]:
        """Allowed candidate triangles ``T`` with score ``< budget`` (all if None), best first.

        score = sum of the three doubled reduced costs minus ``ZT2`` (the cut
        duals of sets holding all of ``T``); a structure containing ``T`` has
        value2 <= bound2 - score / 2.
        """
        a, b = self.edges
        r2 = self.reduced2()
        keep = np.ones(len(a), dtype=bool) if budget is None else r2 < budget + self.zmax2
        adj: dict[int, dict[int, int]] = {}
        for i, j, r in zip(a[keep].tolist(), b[keep].tolist(), r2[keep].tolist(), strict=True):
            adj.setdefault(i, {})[j] = r
            adj.setdefault(j, {})[i] = r
        member = self.dual.members(self.n)
        found: list[tuple[int, tuple[int, int, int]]] = []
        for i in sorted(adj):
            ni = adj[i]
            for j in sorted(k for k in ni if k > i):
                nj = adj[j]
                for k in sorted(k for k in ni if k > j and k in nj):
                    s = ni[j] + ni[k] + nj[k]
                    if member[i] and member[j] and member[k]:
                        s -= self.z_inside((i, j, k))
                    if budget is None or s < budget:
                        found.append((s, (i, j, k)))
        found.sort()
        return found

    def z_inside(self, t: tuple[int, int, int]) -> int:
        return sum(
            int(zk)
            for zk, c in zip(self.dual.z2.tolist(), self.dual.cuts, strict=True)
            if zk and all(np.any(c == u) for u in t)
        )

    def incumbent(self) -> tuple[Edges, int, int, tuple[int, int, int] | None]:
        """Best pairs on the candidate graph, plus the best single attachment as a trio."""
        pairs, value2 = self.match()
        people = 2 * len(pairs[0])
        trio: tuple[int, int, int] | None = None
        if self.v.trio:
            att = self.best_attachment(pairs, value2)
            if att is not None and _key(people + 1, att[0], self.v.card) > _key(
                people, value2, self.v.card
            ):
                trio = att[1]
                keep = ~np.isin(pairs[0], trio) & ~np.isin(pairs[1], trio)
                pairs, value2, people = (pairs[0][keep], pairs[1][keep]), att[0], people + 1
        return pairs, value2, people, trio

    def solve(self) -> CoreResult:  # noqa: C901 - kept whole as it was (classic engine)
        self.build()
        v = self.v
        large = int(v.active.sum()) > EXACT_NODE_LIMIT
        if self.full_graph or large:
            pairs, value2, people, trio = self.incumbent()
        else:  # a quick incumbent sets the slack; the exact one follows on the final graph
            pairs = self.greedy()
            value2 = int(2 * edge_values(v.w, v.pen, pairs).sum()) if len(pairs[0]) else 0
            people, trio = 2 * len(pairs[0]), None
        # Pairs-only maximum cardinality (people tier of max-matched): a trio adds one.
        nu0 = (people - 3) // 2 + 1 if trio is not None else people // 2
        fixed = self.full_graph
        if not fixed and not large:
            before = len(self.edges[0])
            slack = self.bound2 - value2
            if v.trio:
                slack = 2 * slack + self.zmax2
            fixed = self.fix_reduced_costs(slack)
            pairs, value2, people, trio = self.incumbent()
            if fixed and len(self.edges[0]) > before:
                # The exact incumbent may be better than the quick one: fix again with it.
                before = len(self.edges[0])
                slack = self.bound2 - value2
                if v.trio:
                    slack = 2 * slack + self.zmax2
                fixed = self.fix_reduced_costs(slack) and len(self.edges[0]) == before
        self.proven = fixed and not large
        evals = 0
        # max-matched/fair with everybody who has a partner already placed: a trio
        # (an odd number of people) cannot place more, so there is nothing to search.
        everyone = v.card and trio is None and people >= self.people_bound(people)
        if v.trio and not large and not everyone:
            settled = not v.card or trio is not None  # people tier: 2*nu + 1 is the maximum
            tri_list: list[tuple[int, tuple[int, int, int]]]
            if settled:
                tri_list = self.triangles(2 * (self.bound2 - value2))
            else:
                tri_list = self.triangles(None)
                if len(tri_list) > EXHAUSTIVE_TRIANGLES or not self.full_graph:
                    tri_list = tri_list[:EXHAUSTIVE_TRIANGLES]
                    self.proven = False
            for score, t in tri_list:
                if settled and 2 * (self.bound2 - value2) <= score:
                    break
                if evals >= MAX_TRIO_EVALUATIONS or self.timed_out():
                    self.proven = False
                    break
                if t == trio:
                    continue
                evals += 1
                sub, sub_v = self.match(frozenset(t))
                cand_people = 3 + 2 * len(sub[0])
                cand_v = sub_v + self.trio_value2(t)
                if _key(cand_people, cand_v, v.card) > _key(people, value2, v.card):
                    people, value2, pairs, trio = cand_people, cand_v, sub, t
                    if v.card and not settled and people == 2 * nu0 + 1:
                        settled = True
        self.stats["trio_evaluations"] = evals
        people_bound = self.people_bound(people)
        bound2 = self.bound2_trio if v.trio else self.bound2
        closes = value2 >= bound2 and people >= people_bound
        if not self.full_graph and v.card:
            # Value arguments do not cover solutions placing more people.
            self.proven = self.proven and people >= people_bound
        self.proven = self.proven or closes
        self.stats.setdefault("candidate_pairs", len(self.edges[0]))
        return CoreResult(
            pairs=pairs,
            trio=trio,
            people=people,
            value2=value2,
            bound2=value2 if self.proven else max(bound2, value2),
            people_bound=people if self.proven else people_bound,
            proven=self.proven,
            stats=self.stats,
        )

    def people_bound(self, people: int) -> int:
        nb = self.non_isolated
        if not self.v.trio and nb % 2 == 1:
            nb -= 1
        return max(nb, people)


def solve_view(view: View, deadline: float | None = None) -> CoreResult:
    """Best structure (pairs + at most one trio when ``view.trio``) on ``view``."""
    return _Solver(view, deadline).solve()
