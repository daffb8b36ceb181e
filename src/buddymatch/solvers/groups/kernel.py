"""Numba kernels of the grouping solver: move gains, tabu search, crossover, perturbation.

The search state is an assignment ``a`` (person -> group) plus three maintained arrays:

- ``M[i, g]``: the sum of benefit from person ``i`` to the members of group ``g``, so a
  one-move ``i: g -> h`` gains ``M[i, h] - M[i, g]`` and a swap of ``i`` (in ``g``) with
  ``j`` (in ``h``) gains ``M[i, h] - M[i, g] + M[j, g] - M[j, h] - 2 D[i, j]``, both O(1);
- ``sizes[g]``: group sizes, kept within ``lo[g] .. up[g]`` by every move;
- ``cnt[c, g]``: members of *class* ``c`` in group ``g``.  A class is one hard counting
  constraint (one value of a :class:`~buddymatch.solvers.groups.CountRule`, or one
  keep-apart set with max 1, or the people without one value of a common rule);
  ``cmin[c] <= cnt[c, g] <= cmax[c]``, and ``cnt[c, g]`` is 0 or at least ``cfloor[c]``
  (not alone), in every state the kernels produce.  Classes of person ``i`` are
  ``cls_idx[cls_ptr[i]:cls_ptr[i+1]]`` (sorted).
- common rules (``fam``, rows ``start, end, need``): in every group at least ``need`` of
  the classes ``start .. end - 1`` are empty (values all members share); checked from
  ``cnt`` by :func:`shared_ok`, so no extra state is kept.

Randomness comes from a xorshift64* generator whose state is a 1-element uint64 array the
caller owns, so results depend only on the seed and budgets, never on time or threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-9


@njit(cache=True)
def rand_u64(state: np.ndarray) -> np.uint64:
    """Next xorshift64* output; advances ``state[0]``."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@njit(cache=True)
def rand_int(state: np.ndarray, k: int) -> int:
    """Uniform integer in ``[0, k)``."""
    return int((rand_u64(state) >> np.uint64(11)) % np.uint64(k))


@njit(cache=True)
def build_state(
    D: np.ndarray, a: np.ndarray, G: int, cls_ptr: np.ndarray, cls_idx: np.ndarray, C: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """M, sizes, cnt and the objective of assignment ``a`` (every entry placed)."""
    n = a.shape[0]
    M = np.zeros((n, G))
    sizes = np.zeros(G, np.int64)
    cnt = np.zeros((C, G), np.int64)
    for j in range(n):
        g = a[j]
        sizes[g] += 1
        for k in range(cls_ptr[j], cls_ptr[j + 1]):
            cnt[cls_idx[k], g] += 1
        for i in range(n):
            M[i, g] += D[i, j]
    f = 0.0
    for i in range(n):
        f += M[i, a[i]]
    return M, sizes, cnt, 0.5 * f


@njit(cache=True)
def count_ok(c: int, k: int, cmin: np.ndarray, cmax: np.ndarray, cfloor: np.ndarray) -> bool:
    """Whether a group may hold ``k`` members of class ``c``: in range, and not alone."""
    return cmin[c] <= k <= cmax[c] and (k == 0 or k >= cfloor[c])


@njit(cache=True)
def has_class(i: int, c: int, cls_ptr: np.ndarray, cls_idx: np.ndarray) -> bool:
    """Whether person ``i`` is in class ``c`` (binary search in i's sorted classes)."""
    lo = cls_ptr[i]
    hi = cls_ptr[i + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if cls_idx[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    return lo < cls_ptr[i + 1] and cls_idx[lo] == c


@njit(cache=True)
def shared_ok(
    grp: int,
    joiner: int,
    leaver: int,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cnt: np.ndarray,
    fam: np.ndarray,
) -> bool:
    """Whether group ``grp`` keeps every common rule once ``joiner`` enters and ``leaver``
    (-1: nobody) leaves: at least ``fam[f, 2]`` classes of family f with no member.

    A family's classes are the people without each value, so an empty class is a value
    every member has.  Only a joiner can empty fewer classes; O(values) per call.
    """
    for f in range(fam.shape[0]):
        s = fam[f, 0]
        e = fam[f, 1]
        z = 0
        for c in range(s, e):
            if cnt[c, grp] == 0:
                z += 1
        for k in range(cls_ptr[joiner], cls_ptr[joiner + 1]):
            c = cls_idx[k]
            if s <= c < e and cnt[c, grp] == 0:  # the leaver is not in an empty class
                z -= 1
        if leaver >= 0:
            for k in range(cls_ptr[leaver], cls_ptr[leaver + 1]):
                c = cls_idx[k]
                if s <= c < e and cnt[c, grp] == 1 and not has_class(joiner, c, cls_ptr, cls_idx):
                    z += 1
        if z < fam[f, 2]:
            return False
    return True


@njit(cache=True)
def shared_now(grp: int, cnt: np.ndarray, fam: np.ndarray) -> bool:
    """Whether group ``grp`` keeps every common rule as it stands (see :func:`shared_ok`)."""
    for f in range(fam.shape[0]):
        z = 0
        for c in range(fam[f, 0], fam[f, 1]):
            if cnt[c, grp] == 0:
                z += 1
        if z < fam[f, 2]:
            return False
    return True


@njit(cache=True)
def can_move(
    i: int,
    g: int,
    h: int,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    cnt: np.ndarray,
) -> bool:
    """Whether moving ``i`` from ``g`` to ``h`` keeps every class rule (not sizes)."""
    for k in range(cls_ptr[i], cls_ptr[i + 1]):
        c = cls_idx[k]
        if not count_ok(c, cnt[c, g] - 1, cmin, cmax, cfloor):
            return False
        if not count_ok(c, cnt[c, h] + 1, cmin, cmax, cfloor):
            return False
    return fam.shape[0] == 0 or shared_ok(h, i, -1, cls_ptr, cls_idx, cnt, fam)


@njit(cache=True)
def can_swap(
    i: int,
    j: int,
    g: int,
    h: int,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    cnt: np.ndarray,
) -> bool:
    """Whether swapping ``i`` (in ``g``) with ``j`` (in ``h``) keeps every class rule."""
    p = cls_ptr[i]
    pe = cls_ptr[i + 1]
    q = cls_ptr[j]
    qe = cls_ptr[j + 1]
    while p < pe or q < qe:
        ci = cls_idx[p] if p < pe else 1 << 62
        cj = cls_idx[q] if q < qe else 1 << 62
        if ci == cj:  # shared class: counts unchanged
            p += 1
            q += 1
        elif ci < cj:
            if not count_ok(ci, cnt[ci, g] - 1, cmin, cmax, cfloor):
                return False
            if not count_ok(ci, cnt[ci, h] + 1, cmin, cmax, cfloor):
                return False
            p += 1
        else:
            if not count_ok(cj, cnt[cj, h] - 1, cmin, cmax, cfloor):
                return False
            if not count_ok(cj, cnt[cj, g] + 1, cmin, cmax, cfloor):
                return False
            q += 1
    if fam.shape[0] == 0:
        return True
    return shared_ok(h, i, j, cls_ptr, cls_idx, cnt, fam) and shared_ok(
        g, j, i, cls_ptr, cls_idx, cnt, fam
    )


@njit(cache=True)
def apply_move(
    D: np.ndarray,
    a: np.ndarray,
    M: np.ndarray,
    sizes: np.ndarray,
    cnt: np.ndarray,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    i: int,
    h: int,
) -> None:
    """Move ``i`` to group ``h`` and update M, sizes and cnt in O(n)."""
    g = a[i]
    n = a.shape[0]
    for k in range(n):
        d = D[i, k]
        M[k, g] -= d
        M[k, h] += d
    sizes[g] -= 1
    sizes[h] += 1
    for k in range(cls_ptr[i], cls_ptr[i + 1]):
        c = cls_idx[k]
        cnt[c, g] -= 1
        cnt[c, h] += 1
    a[i] = h


@njit(cache=True)
def _members(a: np.ndarray, G: int, gstart: np.ndarray, gmem: np.ndarray) -> None:
    """Members of each group, ascending: ``gmem[gstart[g]:gstart[g + 1]]`` (counting sort)."""
    gstart[:] = 0
    for i in range(a.shape[0]):
        gstart[a[i] + 1] += 1
    for g in range(G):
        gstart[g + 1] += gstart[g]
    fill = gstart[:G].copy()
    for i in range(a.shape[0]):
        gmem[fill[a[i]]] = i
        fill[a[i]] += 1


@njit(cache=True)
def tabu_search(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    D: np.ndarray,
    a: np.ndarray,
    M: np.ndarray,
    sizes: np.ndarray,
    cnt: np.ndarray,
    f: float,
    lo: np.ndarray,
    up: np.ndarray,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    movable: np.ndarray,
    max_iter: int,
    max_stall: int,
    tt_min: int,
    tt_rand: int,
    state: np.ndarray,
    best_a: np.ndarray,
) -> tuple[float, int]:
    """Best-improvement tabu search over one-moves and swaps; returns (best f, iterations).

    Each iteration makes the best admissible feasible move (ties broken at random); a person
    may not return to the group it left for ``tt_min + U[0, tt_rand]`` iterations unless the
    move beats the best found (aspiration).  Stops after ``max_stall`` iterations without a
    new best or ``max_iter`` in all.  ``best_a`` receives the best assignment; ``a`` and the
    state arrays end at the last visited solution.
    """
    n = a.shape[0]
    G = M.shape[1]
    rules = cls_ptr[n] > 0
    tabu = np.zeros((n, G), np.int64)
    gstart = np.zeros(G + 1, np.int64)
    gmem = np.zeros(n, np.int64)
    maxb = np.empty((G, G))
    dmin = np.inf
    for i in range(n):
        for j in range(i + 1, n):
            if D[i, j] < dmin:
                dmin = D[i, j]
    if n < 2:
        dmin = 0.0
    best_f = f
    best_a[:] = a
    it = 0
    stall = 0
    while it < max_iter and stall < max_stall:
        it += 1
        bd = -np.inf
        bi = -1
        bj = -1
        bh = -1
        ties = 0
        for i in range(n):
            if not movable[i]:
                continue
            g = a[i]
            if sizes[g] <= lo[g]:
                continue
            mig = M[i, g]
            for h in range(G):
                if h == g or sizes[h] >= up[h]:
                    continue
                delta = M[i, h] - mig
                if delta < bd - EPS:
                    continue
                if tabu[i, h] > it and f + delta <= best_f + EPS:
                    continue
                if rules and not can_move(i, g, h, cls_ptr, cls_idx, cmin, cmax, cfloor, fam, cnt):
                    continue
                if delta > bd + EPS:
                    bd = delta
                    bi = i
                    bj = -1
                    bh = h
                    ties = 1
                else:
                    ties += 1
                    if rand_int(state, ties) == 0:
                        bi = i
                        bj = -1
                        bh = h
        # swaps, group pair by group pair; a pair (g, h) is skipped when even its best
        # partner bound cannot reach the best delta so far (exact pruning, same result)
        _members(a, G, gstart, gmem)
        for h in range(G):
            for g2 in range(G):
                maxb[g2, h] = -np.inf
            for jj in range(gstart[h], gstart[h + 1]):
                j = gmem[jj]
                if movable[j]:
                    mjh = M[j, h]
                    for g2 in range(G):
                        v = M[j, g2] - mjh
                        if v > maxb[g2, h]:
                            maxb[g2, h] = v
        for g in range(G):
            for ii in range(gstart[g], gstart[g + 1]):
                i = gmem[ii]
                if not movable[i]:
                    continue
                mig = M[i, g]
                for h in range(g + 1, G):
                    if M[i, h] - mig + maxb[g, h] - 2.0 * dmin < bd - EPS:
                        continue
                    for jj in range(gstart[h], gstart[h + 1]):
                        j = gmem[jj]
                        if not movable[j]:
                            continue
                        delta = M[i, h] - mig + M[j, g] - M[j, h] - 2.0 * D[i, j]
                        if delta < bd - EPS:
                            continue
                        if (tabu[i, h] > it or tabu[j, g] > it) and f + delta <= best_f + EPS:
                            continue
                        if rules and not can_swap(
                            i, j, g, h, cls_ptr, cls_idx, cmin, cmax, cfloor, fam, cnt
                        ):
                            continue
                        if delta > bd + EPS:
                            bd = delta
                            bi = i
                            bj = j
                            bh = h
                            ties = 1
                        else:
                            ties += 1
                            if rand_int(state, ties) == 0:
                                bi = i
                                bj = j
                                bh = h
        if bi < 0:
            break
        g = a[bi]
        apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, bi, bh)
        tabu[bi, g] = it + tt_min + rand_int(state, tt_rand + 1)
        if bj >= 0:
            apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, bj, g)
            tabu[bj, bh] = it + tt_min + rand_int(state, tt_rand + 1)
        f += bd
        if f > best_f + EPS:
            best_f = f
            best_a[:] = a
            stall = 0
        else:
            stall += 1
    return best_f, it


@njit(cache=True)
def perturb(
    D: np.ndarray,
    a: np.ndarray,
    M: np.ndarray,
    sizes: np.ndarray,
    cnt: np.ndarray,
    f: float,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    movable: np.ndarray,
    strength: int,
    state: np.ndarray,
) -> float:
    """Apply ``strength`` random feasible swaps (undirected perturbation); returns new f."""
    n = a.shape[0]
    rules = cls_ptr[n] > 0
    done = 0
    tries = 0
    while done < strength and tries < 50 * strength + 100:
        tries += 1
        i = rand_int(state, n)
        j = rand_int(state, n)
        g = a[i]
        h = a[j]
        if g == h or not movable[i] or not movable[j]:
            continue
        if rules and not can_swap(i, j, g, h, cls_ptr, cls_idx, cmin, cmax, cfloor, fam, cnt):
            continue
        f += M[i, h] - M[i, g] + M[j, g] - M[j, h] - 2.0 * D[i, j]
        apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, i, h)
        apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, j, g)
        done += 1
    return f


@njit(cache=True)
def crossover(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    D: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    G: int,
    lo: np.ndarray,
    up: np.ndarray,
    movable: np.ndarray,
    state: np.ndarray,
) -> np.ndarray:
    """Group-based crossover: alternately inherit the parent group of best mean benefit.

    Group ``g`` of the child receives the still-free members of group ``g`` of the chosen
    parent (so per-group bounds keep their meaning); members beyond ``up[g]`` (or beyond
    what leaves enough people for every lower bound) and the leftovers are placed greedily
    (groups under ``lo`` first, then best gain).  People who cannot move (locks, together
    sets) keep parent A's group.  Class rules are *not*
    checked here: the caller verifies the child and falls back when it breaks one.
    """
    n = pa.shape[0]
    child = np.full(n, -1, np.int64)
    size = np.zeros(G, np.int64)
    for i in range(n):
        if not movable[i]:
            child[i] = pa[i]
            size[pa[i]] += 1
    # slack: how many more people may go beyond lower bounds so that every group can
    # still reach its lower bound from the leftovers (keeps the child size-feasible)
    slack = n
    for g in range(G):
        slack -= max(lo[g], size[g])
    filled = np.zeros(G, np.bool_)
    first = rand_int(state, 2)
    for step in range(G):
        par = pa if (step + first) % 2 == 0 else pb
        best_g = -1
        best_v = -np.inf
        for g in range(G):
            if filled[g]:
                continue
            s = 0.0
            m = 0
            for i in range(n):
                if par[i] == g and child[i] < 0:
                    m += 1
                    for j in range(i + 1, n):
                        if par[j] == g and child[j] < 0:
                            s += D[i, j]
            v = s / m if m > 0 else -1e300
            if v > best_v:
                best_v = v
                best_g = g
        filled[best_g] = True
        for i in range(n):
            if par[i] == best_g and child[i] < 0 and size[best_g] < up[best_g]:
                if size[best_g] >= lo[best_g]:
                    if slack <= 0:
                        continue
                    slack -= 1
                child[i] = best_g
                size[best_g] += 1
    # leftovers
    for i in range(n):
        if child[i] >= 0:
            continue
        bg = -1
        bv = -np.inf
        need = False
        for g in range(G):
            if size[g] < lo[g]:
                need = True
        for g in range(G):
            if size[g] >= up[g] or (need and size[g] >= lo[g]):
                continue
            v = 0.0
            for j in range(n):
                if child[j] == g:
                    v += D[i, j]
            if v > bv:
                bv = v
                bg = g
        child[i] = bg
        size[bg] += 1
    return child


@njit(cache=True)
def enumerate_exact(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    D: np.ndarray,
    lo: np.ndarray,
    up: np.ndarray,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    allowed: np.ndarray,
    tie: np.ndarray,
    sym_prev: np.ndarray,
    incumbent: float,
    node_limit: int,
) -> tuple[np.ndarray, float, bool]:
    """Depth-first branch and bound over all assignments; exact for small pools.

    ``allowed[i, g]`` restricts placements (locks); ``tie[i]`` is an earlier member of the
    same together set or -1; ``sym_prev[g]`` is the previous group with identical bounds
    (interchangeable, so it must be opened first) or -1.  Prunes on remaining capacity,
    unmet class minimums (a not-alone class present in a group has a minimum of its
    floor), common values already lost and an optimistic bound.  Returns (best assignment
    or all -1 when none beats ``incumbent``, its value, whether the search completed
    within node_limit).
    """
    n = D.shape[0]
    G = lo.shape[0]
    C = cmin.shape[0]
    pos_suffix = np.zeros(n + 1)
    for k in range(n - 1, -1, -1):
        s = 0.0
        for j in range(k + 1, n):
            if D[k, j] > 0:
                s += D[k, j]
        pos_suffix[k] = pos_suffix[k + 1] + s
    cls_suffix = np.zeros((n + 1, C), np.int64)
    for k in range(n - 1, -1, -1):
        cls_suffix[k, :] = cls_suffix[k + 1, :]
        for q in range(cls_ptr[k], cls_ptr[k + 1]):
            cls_suffix[k, cls_idx[q]] += 1
    a = np.full(n, -1, np.int64)
    M = np.zeros((n, G))
    sizes = np.zeros(G, np.int64)
    cnt = np.zeros((C, G), np.int64)
    best_a = np.full(n, -1, np.int64)
    best = incumbent
    cur = 0.0
    k = 0
    nodes = 0
    complete = True
    while k >= 0:
        g0 = a[k] + 1
        if a[k] >= 0:  # undo previous choice of k
            g = a[k]
            cur -= M[k, g]
            for j in range(n):
                M[j, g] -= D[k, j]
            sizes[g] -= 1
            for q in range(cls_ptr[k], cls_ptr[k + 1]):
                cnt[cls_idx[q], g] -= 1
            a[k] = -1
        nodes += 1
        if nodes > node_limit:
            complete = False
            break
        placed = False
        for g in range(g0, G):
            if tie[k] >= 0 and g != a[tie[k]]:
                continue
            if not allowed[k, g] or sizes[g] >= up[g]:
                continue
            if sizes[g] == 0 and sym_prev[g] >= 0 and sizes[sym_prev[g]] == 0:
                continue
            ok = True
            for q in range(cls_ptr[k], cls_ptr[k + 1]):
                c = cls_idx[q]
                if cnt[c, g] + 1 > cmax[c]:
                    ok = False
                    break
            if not ok:
                continue
            # place k in g
            cur += M[k, g]
            for j in range(n):
                M[j, g] += D[k, j]
            sizes[g] += 1
            for q in range(cls_ptr[k], cls_ptr[k + 1]):
                cnt[cls_idx[q], g] += 1
            a[k] = g
            rem = n - k - 1
            need = 0
            for h in range(G):
                if sizes[h] < lo[h]:
                    need += lo[h] - sizes[h]
            if need <= rem:
                for c in range(C):
                    if cmin[c] > 0 or cfloor[c] > 1:
                        nc = 0
                        for h in range(G):
                            need_c = cmin[c]
                            if cnt[c, h] > 0 and cfloor[c] > need_c:
                                need_c = cfloor[c]
                            if cnt[c, h] < need_c:
                                nc += need_c - cnt[c, h]
                        if nc > cls_suffix[k + 1, c]:
                            ok = False
                            break
                # joining only ever removes common values: prune as soon as one is short
                if ok and fam.shape[0] > 0 and not shared_now(g, cnt, fam):
                    ok = False
            else:
                ok = False
            if ok:
                bound = cur + pos_suffix[k + 1]
                for i in range(k + 1, n):
                    mx = 0.0
                    for h in range(G):
                        if M[i, h] > mx:
                            mx = M[i, h]
                    bound += mx
                if bound <= best + EPS:
                    ok = False
            if ok:
                placed = True
                break
            # undo and try next g
            cur -= M[k, g]
            for j in range(n):
                M[j, g] -= D[k, j]
            sizes[g] -= 1
            for q in range(cls_ptr[k], cls_ptr[k + 1]):
                cnt[cls_idx[q], g] -= 1
            a[k] = -1
        if placed:
            if k == n - 1:
                if cur > best + EPS:
                    best = cur
                    best_a[:] = a
                # stay at k: next loop iteration tries the next group for k
            else:
                k += 1
        else:
            a[k] = -1
            k -= 1
    return best_a, best, complete


@njit(cache=True)
def descent(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    D: np.ndarray,
    a: np.ndarray,
    M: np.ndarray,
    sizes: np.ndarray,
    cnt: np.ndarray,
    f: float,
    lo: np.ndarray,
    up: np.ndarray,
    cls_ptr: np.ndarray,
    cls_idx: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cfloor: np.ndarray,
    fam: np.ndarray,
    movable: np.ndarray,
    state: np.ndarray,
) -> float:
    """Local search for large pools: each person in turn makes its best improving move.

    One pass costs O(n^2) like one tabu iteration but can make up to n moves, so it is the
    workhorse when a full tabu search would be too slow.  Runs to a local optimum over
    one-moves and swaps; returns the new objective (``a`` and state updated in place).
    """
    n = a.shape[0]
    G = M.shape[1]
    rules = cls_ptr[n] > 0
    order = np.arange(n)
    for k in range(n - 1, 0, -1):
        r = rand_int(state, k + 1)
        order[k], order[r] = order[r], order[k]
    improved = True
    while improved:
        improved = False
        for idx in range(n):
            i = order[idx]
            if not movable[i]:
                continue
            g = a[i]
            mig = M[i, g]
            bd = EPS
            bj = -1
            bh = -1
            if sizes[g] > lo[g]:
                for h in range(G):
                    if h == g or sizes[h] >= up[h]:
                        continue
                    delta = M[i, h] - mig
                    if delta > bd and (
                        not rules
                        or can_move(i, g, h, cls_ptr, cls_idx, cmin, cmax, cfloor, fam, cnt)
                    ):
                        bd = delta
                        bh = h
                        bj = -1
            for j in range(n):
                h = a[j]
                if h == g or not movable[j]:
                    continue
                delta = M[i, h] - mig + M[j, g] - M[j, h] - 2.0 * D[i, j]
                if delta > bd and (
                    not rules
                    or can_swap(i, j, g, h, cls_ptr, cls_idx, cmin, cmax, cfloor, fam, cnt)
                ):
                    bd = delta
                    bh = h
                    bj = j
            if bh >= 0:
                apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, i, bh)
                if bj >= 0:
                    apply_move(D, a, M, sizes, cnt, cls_ptr, cls_idx, bj, g)
                f += bd
                improved = True
    return f
