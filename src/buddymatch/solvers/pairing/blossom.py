"""Weighted matching by Edmonds' primal-dual blossom algorithm, with its dual certificate.

Why not rustworkx: an optimality *proof* for a pairing is the algorithm's dual
solution (a value per person and per odd set of people), which rustworkx does
not expose, and odd pools need the optimum found again after taking three
people out, which should cost a few augmenting searches, not a new solve.

The method is Galil's O(n^3) formulation (Galil 1986, "Efficient algorithms
for finding maximum matching in graphs") in the array layout popularised by
J. van Rantwijk's ``mwmatching``: edge endpoints ``2k`` / ``2k + 1``, blossom
ids ``n .. 2n - 1``, doubled vertex duals so integer weights stay integer.
Differences from the textbook version, each needed for warm starts:

* a *stage* grows one alternating tree from one root (a free person whose
  dual is still positive), so the work of a stage is local to its tree;
* roots may start with any dual (a warm start, or duals raised to admit new
  edges); when some S-vertex's dual reaches zero the stage ends by flipping
  the even alternating path from the root to it (that person becomes the
  free one, with dual zero, which is optimal);
* an unlabelled free person reached by a tight edge ends the stage with an
  augmentation;
* people can be removed (:func:`remove_vertex`), blossoms dissolved into
  their members' duals, duals raised, and edges appended, each keeping the
  duals feasible so that :func:`run` re-optimises from where it stands.

Certificate (what callers may rely on after :func:`run`): with ``d`` the
doubled vertex duals and ``z_B`` the duals of the live blossoms,
``d_i + d_j + 2 * sum(z_B : i, j in B) >= 2 w_ij`` for every edge between
live vertices, every matched edge is tight, every free live vertex has
``d = 0`` and every blossom with ``z_B > 0`` holds ``(|B| - 1) / 2`` matched
pairs; hence ``sum(d) / 2 + sum(z_B * (|B| - 1) / 2)`` equals the weight of
the matching and bounds every matching of the graph.

All kernels are numba functions over a :class:`State` namedtuple of arrays;
the control flow mirrors the textbook algorithm and is kept in one place per
operation, so several kernels opt out of the complexity limit.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

# Counters kept in State.cnt.
_Q = 0  # queue length
_U = 1  # unused blossom ids on the stack
_T = 2  # touched ids (labels to reset)
_E = 3  # touched edges (allow flags to reset)
_SUB = 4  # substages (dual updates) so far: work counter
_WORK = 5  # sum of the touched-list lengths scanned by dual updates: work counter
_C = 6  # next free slot of cpool / epool
_B = 7  # next free slot of bpool


class State(NamedTuple):
    """Arrays of one matching problem and its primal-dual solution (see the module docstring)."""

    n: int
    eu: np.ndarray  # int64 (m,) edge ends
    ev: np.ndarray
    ew: np.ndarray  # int64 (m,) edge weights
    nb_ptr: np.ndarray  # int64 (n + 1,) CSR over remote endpoints
    nb_end: np.ndarray  # int64 (2m,)
    alive: np.ndarray  # bool (n,)
    mate: np.ndarray  # int64 (n,) remote endpoint of the matched edge, or -1
    label: np.ndarray  # int64 (2n,)
    labelend: np.ndarray
    inblossom: np.ndarray  # int64 (n,)
    parent: np.ndarray  # int64 (2n,)
    base: np.ndarray  # int64 (2n,)
    bestedge: np.ndarray
    dual: np.ndarray  # int64 (2n,): 2u for vertices, z for blossoms
    dec: np.ndarray  # int64 (n,): how much each vertex dual went down since reset
    allow: np.ndarray  # bool (m,)
    coff: np.ndarray  # int64 (2n,) where blossom b's sub-blossoms start in cpool
    clen: np.ndarray  # int64 (2n,) how many sub-blossoms (0 for vertices)
    cpool: np.ndarray  # int64: sub-blossoms of each blossom, base first, going round
    epool: np.ndarray  # int64: endpoint joining sub-blossom i to i + 1 (same offsets)
    boff: np.ndarray  # int64 (2n,) least-slack edges to other S-blossoms: start in bpool
    blen: np.ndarray  # int64 (2n,) their count, -1 when not computed
    bpool: np.ndarray  # int64: a bump pool, emptied at the end of each stage
    unused: np.ndarray  # int64 (n,) stack of free blossom ids
    queue: np.ndarray  # int64 (2n,)
    touched: np.ndarray  # int64 (2n,)
    tflag: np.ndarray  # bool (2n,)
    tedges: np.ndarray  # int64 (m,)
    stk: np.ndarray  # int64 (2n,) scratch
    tmp: np.ndarray  # int64 (2n,) scratch
    tmp2: np.ndarray  # int64 (2n,) scratch
    bestto: np.ndarray  # int64 (2n,) scratch, all -1 between uses
    cnt: np.ndarray  # int64 (4,)


# ---- small helpers --------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _endpoint(s: State, p: int) -> int:
    k = p >> 1
    return s.eu[k] if (p & 1) == 0 else s.ev[k]


@nb.njit(cache=True, inline="always")
def _slack(s: State, k: int) -> int:
    return s.dual[s.eu[k]] + s.dual[s.ev[k]] - 2 * s.ew[k]


@nb.njit(cache=True, inline="always")
def _touch(s: State, x: int) -> None:
    if not s.tflag[x]:
        s.tflag[x] = True
        s.touched[s.cnt[_T]] = x
        s.cnt[_T] += 1


@nb.njit(cache=True, inline="always")
def _allow(s: State, k: int) -> None:
    if not s.allow[k]:
        s.allow[k] = True
        s.tedges[s.cnt[_E]] = k
        s.cnt[_E] += 1


@nb.njit(cache=True)
def _leaves_of(
    coff: np.ndarray, clen: np.ndarray, cpool: np.ndarray, stk: np.ndarray, n: int, b: int,
    out: np.ndarray, start: int,
) -> int:  # fmt: skip
    """Write the vertices of non-trivial blossom ``b`` into ``out[start:]``; return the end."""
    stk[0] = b
    top = 1
    end = start
    while top > 0:
        top -= 1
        t = stk[top]
        if t < n:
            out[end] = t
            end += 1
        else:
            o = coff[t]
            for i in range(clen[t]):
                stk[top] = cpool[o + i]
                top += 1
    return end


@nb.njit(cache=True, inline="always")
def _leaves(s: State, b: int, out: np.ndarray, start: int) -> int:
    """Write the vertices of blossom ``b`` into ``out[start:]``; return the end index."""
    if b < s.n:
        out[start] = b
        return start + 1
    return _leaves_of(s.coff, s.clen, s.cpool, s.stk, s.n, b, out, start)


@nb.njit(cache=True, inline="always")
def _child_index(s: State, b: int, x: int) -> int:
    o = s.coff[b]
    for i in range(s.clen[b]):
        if s.cpool[o + i] == x:
            return i
    return -1


@nb.njit(cache=True, inline="always")
def _child(s: State, b: int, j: int) -> int:
    """Sub-blossom ``j`` of ``b``, counting round (``j`` may be negative)."""
    return s.cpool[s.coff[b] + j % s.clen[b]]


@nb.njit(cache=True, inline="always")
def _endp(s: State, b: int, j: int) -> int:
    return s.epool[s.coff[b] + j % s.clen[b]]


@nb.njit(cache=True)
def _rotate(s: State, b: int, i: int) -> None:
    """Rotate ``b``'s sub-blossoms (and endpoints) in place so that index ``i`` comes first."""
    o, nc = s.coff[b], s.clen[b]
    for pool in (s.cpool, s.epool):
        for r in range(nc):
            s.tmp[r] = pool[o + (r + i) % nc]
        for r in range(nc):
            pool[o + r] = s.tmp[r]


@nb.njit(cache=True)
def _compact(s: State, need: int) -> None:
    """Pack the live blossoms' child lists to the front of the pools (in place)."""
    ids = np.flatnonzero(s.clen > 0)
    order = ids[np.argsort(s.coff[ids], kind="mergesort")]
    top = 0
    for b in order:
        o, nc = s.coff[b], s.clen[b]
        for r in range(nc):
            s.cpool[top + r] = s.cpool[o + r]
            s.epool[top + r] = s.epool[o + r]
        s.coff[b] = top
        top += nc
    if top + need > len(s.cpool):  # pragma: no cover - live lists never exceed 2n entries
        raise ValueError("blossom pool exhausted")
    s.cnt[_C] = top


@nb.njit(cache=True)
def _alloc_children(s: State, b: int, nc: int) -> int:
    if s.cnt[_C] + nc > len(s.cpool):
        _compact(s, nc)
    o = s.cnt[_C]
    s.cnt[_C] += nc
    s.coff[b] = o
    s.clen[b] = nc
    return o


@nb.njit(cache=True, inline="always")
def _set_label(s: State, x: int, t: int) -> None:
    s.label[x] = t
    _touch(s, x)


# ---- labelling ------------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _assign_label(s: State, w: int, t: int, p: int) -> None:
    """Label ``w``'s top-level blossom ``t`` (1 = S, 2 = T), reached via endpoint ``p``."""
    while True:
        b = s.inblossom[w]
        _set_label(s, w, t)
        _set_label(s, b, t)
        s.labelend[w] = p
        s.labelend[b] = p
        s.bestedge[w] = -1
        s.bestedge[b] = -1
        if t == 1:
            q = s.cnt[_Q]
            s.cnt[_Q] = _leaves(s, b, s.queue, q)
            return
        base_mate = s.mate[s.base[b]]
        w = _endpoint(s, base_mate)
        t = 1
        p = base_mate ^ 1


@nb.njit(cache=True)
def _scan_blossom(s: State, v: int, w: int) -> int:
    """Trace back from S-vertices ``v`` and ``w``: the base of a new blossom, or -1 (augment)."""
    npath = 0
    base = -1
    while v != -1 or w != -1:
        b = s.inblossom[v]
        if s.label[b] & 4:
            base = s.base[b]
            break
        s.tmp[npath] = b
        npath += 1
        s.label[b] = 5
        if s.labelend[b] == -1:
            v = -1
        else:
            v = _endpoint(s, s.labelend[b])
            b = s.inblossom[v]
            v = _endpoint(s, s.labelend[b])
        if w != -1:
            v, w = w, v
    for i in range(npath):
        s.label[s.tmp[i]] = 1
    return base


# ---- blossoms -------------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _trace_to_base(s: State, bx: int, bb: int, b: int, out_c: np.ndarray, out_e: np.ndarray,
                   flip: int) -> int:  # fmt: skip
    """Sub-blossoms (and their label endpoints) from ``bx`` back to the base blossom ``bb``."""
    k = 0
    while bx != bb:
        s.parent[bx] = b
        out_c[k] = bx
        out_e[k] = s.labelend[bx] ^ flip
        k += 1
        x = _endpoint(s, s.labelend[bx])
        bx = s.inblossom[x]
    return k


@nb.njit(cache=True)
def _add_blossom(s: State, base: int, k: int) -> None:
    """Make a new S-blossom with ``base`` through the edge ``k`` joining two S-vertices."""
    v, w = s.eu[k], s.ev[k]
    bb, bv, bw = s.inblossom[base], s.inblossom[v], s.inblossom[w]
    s.cnt[_U] -= 1
    b = s.unused[s.cnt[_U]]
    s.base[b] = base
    s.parent[b] = -1
    s.parent[bb] = b
    n = s.n
    cv = s.tmp[:n]
    cev = s.tmp2[:n]
    kv = _trace_to_base(s, bv, bb, b, cv, cev, 0)
    cw = s.tmp[n:]
    cew = s.tmp2[n:]
    kw = _trace_to_base(s, bw, bb, b, cw, cew, 1)
    o = _alloc_children(s, b, kv + kw + 1)
    childs, endps = s.cpool, s.epool
    childs[o] = bb
    for i in range(kv):
        childs[o + 1 + i] = cv[kv - 1 - i]
        endps[o + i] = cev[kv - 1 - i]
    endps[o + kv] = 2 * k
    for i in range(kw):
        childs[o + kv + 1 + i] = cw[i]
        endps[o + kv + 1 + i] = cew[i]
    _set_label(s, b, 1)
    s.labelend[b] = s.labelend[bb]
    s.dual[b] = 0
    # Relabel: T-vertices inside become S-vertices (queued).
    nl = _leaves(s, b, s.tmp, 0)
    for i in range(nl):
        x = s.tmp[i]
        if s.label[s.inblossom[x]] == 2:
            s.queue[s.cnt[_Q]] = x
            s.cnt[_Q] += 1
        s.inblossom[x] = b
    _blossom_best_edges(s, b)


@nb.njit(cache=True, inline="always")
def _consider(s: State, b: int, k: int, best_to: np.ndarray, nto: int) -> int:
    i, j = s.eu[k], s.ev[k]
    if not (s.alive[i] and s.alive[j]):
        return nto
    if s.inblossom[j] == b:
        j = i
    bj = s.inblossom[j]
    if bj != b and s.label[bj] == 1:
        if best_to[bj] == -1:
            s.tmp2[nto] = bj
            nto += 1
            best_to[bj] = k
        elif _slack(s, k) < _slack(s, best_to[bj]):
            best_to[bj] = k
    return nto


@nb.njit(cache=True)
def _blossom_best_edges(s: State, b: int) -> None:
    """Least-slack edge from new S-blossom ``b`` to each other S-blossom (for delta3)."""
    best_to = s.bestto  # all -1 between calls
    nto = 0
    for r in range(s.clen[b]):
        c = s.cpool[s.coff[b] + r]
        if s.blen[c] >= 0:
            for i in range(s.boff[c], s.boff[c] + s.blen[c]):
                nto = _consider(s, b, s.bpool[i], best_to, nto)
        else:
            nl = _leaves(s, c, s.tmp, 0)
            for i in range(nl):
                v = s.tmp[i]
                for q in range(s.nb_ptr[v], s.nb_ptr[v + 1]):
                    nto = _consider(s, b, s.nb_end[q] >> 1, best_to, nto)
        s.blen[c] = -1
        s.bestedge[c] = -1
    s.tmp2[:nto].sort()
    keep = s.cnt[_B] + nto <= len(s.bpool)  # else recomputed from the members when needed
    o = s.cnt[_B]
    best = -1
    for i in range(nto):
        k = best_to[s.tmp2[i]]
        best_to[s.tmp2[i]] = -1
        if keep:
            s.bpool[o + i] = k
        if best == -1 or _slack(s, k) < _slack(s, best):
            best = k
    if keep:
        s.boff[b] = o
        s.blen[b] = nto
        s.cnt[_B] += nto
    s.bestedge[b] = best


@nb.njit(cache=True)
def _recycle(s: State, b: int) -> None:
    _set_label(s, b, 0)
    s.labelend[b] = -1
    s.clen[b] = 0
    s.base[b] = -1
    s.blen[b] = -1
    s.bestedge[b] = -1
    s.unused[s.cnt[_U]] = b
    s.cnt[_U] += 1


@nb.njit(cache=True)
def _expand(s: State, b0: int, endstage: bool) -> None:
    """Expand top-level blossom ``b0`` (and, at the end of a stage, its zero-dual sub-blossoms)."""
    top = 1
    s.tmp2[0] = b0
    while top > 0:
        top -= 1
        b = s.tmp2[top]
        for r in range(s.clen[b]):
            c = s.cpool[s.coff[b] + r]
            s.parent[c] = -1
            if c < s.n:
                s.inblossom[c] = c
            elif endstage and s.dual[c] == 0:
                s.tmp2[top] = c
                top += 1
            else:
                nl = _leaves(s, c, s.tmp, 0)
                for i in range(nl):
                    s.inblossom[s.tmp[i]] = c
        if not endstage and s.label[b] == 2:
            _relabel_expanded(s, b)
        _recycle(s, b)


@nb.njit(cache=True)
def _relabel_expanded(s: State, b: int) -> None:
    """Relabel the sub-blossoms of T-blossom ``b`` expanded during a stage."""
    nc = s.clen[b]
    entry = s.inblossom[_endpoint(s, s.labelend[b] ^ 1)]
    j = _child_index(s, b, entry)
    if j & 1:
        j -= nc
        jstep, trick = 1, 0
    else:
        jstep, trick = -1, 1
    p = s.labelend[b]
    while j != 0:
        _set_label(s, _endpoint(s, p ^ 1), 0)
        _set_label(s, _endpoint(s, _endp(s, b, j - trick) ^ trick ^ 1), 0)
        _assign_label(s, _endpoint(s, p ^ 1), 2, p)
        _allow(s, _endp(s, b, j - trick) >> 1)
        j += jstep
        p = _endp(s, b, j - trick) ^ trick
        _allow(s, p >> 1)
        j += jstep
    bv = _child(s, b, j)
    x = _endpoint(s, p ^ 1)
    _set_label(s, x, 2)
    _set_label(s, bv, 2)
    s.labelend[x] = p
    s.labelend[bv] = p
    s.bestedge[bv] = -1
    j += jstep
    while _child(s, b, j) != entry:
        bv = _child(s, b, j)
        if s.label[bv] == 1:
            j += jstep
            continue
        nl = _leaves(s, bv, s.tmp, 0)
        v = -1
        for i in range(nl):
            if s.label[s.tmp[i]] != 0:
                v = s.tmp[i]
                break
        if v != -1:
            _set_label(s, v, 0)
            _set_label(s, _endpoint(s, s.mate[s.base[bv]]), 0)
            _assign_label(s, v, 2, s.labelend[v])
        j += jstep


@nb.njit(cache=True)
def _augment_blossom(s: State, b0: int, v0: int) -> None:
    """Swap matched/unmatched edges inside ``b0`` so that vertex ``v0`` becomes its base."""
    top = 1
    s.tmp2[0] = b0
    s.tmp2[1] = v0
    while top > 0:
        top -= 1
        b, v = s.tmp2[2 * top], s.tmp2[2 * top + 1]
        t = v
        while s.parent[t] != b:
            t = s.parent[t]
        if t >= s.n:
            s.tmp2[2 * top], s.tmp2[2 * top + 1] = t, v
            top += 1
        nc = s.clen[b]
        i = j = _child_index(s, b, t)
        if i & 1:
            j -= nc
            jstep, trick = 1, 0
        else:
            jstep, trick = -1, 1
        while j != 0:
            j += jstep
            t = _child(s, b, j)
            p = _endp(s, b, j - trick) ^ trick
            if t >= s.n:
                s.tmp2[2 * top], s.tmp2[2 * top + 1] = t, _endpoint(s, p)
                top += 1
            j += jstep
            t = _child(s, b, j)
            if t >= s.n:
                s.tmp2[2 * top], s.tmp2[2 * top + 1] = t, _endpoint(s, p ^ 1)
                top += 1
            s.mate[_endpoint(s, p)] = p ^ 1
            s.mate[_endpoint(s, p ^ 1)] = p
        _rotate(s, b, i)
        s.base[b] = v


@nb.njit(cache=True)
def _augment_side(s: State, x: int, p: int) -> None:
    """Give S-vertex ``x`` the mate endpoint ``p`` (-1: make it free) and flip back to the root."""
    while True:
        bs = s.inblossom[x]
        if bs >= s.n:
            _augment_blossom(s, bs, x)
        s.mate[x] = p
        if s.labelend[bs] == -1:
            return
        t = _endpoint(s, s.labelend[bs])
        bt = s.inblossom[t]
        x = _endpoint(s, s.labelend[bt])
        j = _endpoint(s, s.labelend[bt] ^ 1)
        if bt >= s.n:
            _augment_blossom(s, bt, j)
        s.mate[j] = s.labelend[bt]
        p = s.labelend[bt] ^ 1


# ---- one stage ------------------------------------------------------------------------------


@nb.njit(cache=True)
def _tight_edge(s: State, v: int, w: int, q: int) -> int:
    """Act on tight edge ``k = q >> 1`` from S-vertex ``v`` to ``w``; 1 if the stage augmented."""
    k = q >> 1
    bw = s.inblossom[w]
    if s.label[bw] == 0:
        if s.mate[s.base[bw]] == -1:  # a free person outside the tree: augment
            _assign_label(s, w, 1, -1)
            _augment_side(s, s.eu[k], 2 * k + 1)
            _augment_side(s, s.ev[k], 2 * k)
            return 1
        _assign_label(s, w, 2, q ^ 1)
    elif s.label[bw] == 1:
        base = _scan_blossom(s, v, w)
        if base >= 0:
            _add_blossom(s, base, k)
        else:  # pragma: no cover - one tree per stage: S-S edges close blossoms
            _augment_side(s, s.eu[k], 2 * k + 1)
            _augment_side(s, s.ev[k], 2 * k)
            return 1
    elif s.label[w] == 0:
        _set_label(s, w, 2)
        s.labelend[w] = q ^ 1
    return 0


@nb.njit(cache=True)
def _grow(s: State) -> int:
    """Scan queued S-vertices' edges; 1 if an augmenting path was found and used.

    Arrays are bound to locals once: numba reference-counts every array taken
    out of the State, which in this loop would cost more than the work itself.
    """
    eu, ev, ew, dual, alive = s.eu, s.ev, s.ew, s.dual, s.alive
    label, inblossom, allow, bestedge = s.label, s.inblossom, s.allow, s.bestedge
    nb_ptr, nb_end, queue, cnt = s.nb_ptr, s.nb_end, s.queue, s.cnt
    tflag, touched, tedges = s.tflag, s.touched, s.tedges
    while cnt[_Q] > 0:
        cnt[_Q] -= 1
        v = queue[cnt[_Q]]
        for r in range(nb_ptr[v], nb_ptr[v + 1]):
            q = nb_end[r]
            k = q >> 1
            w = eu[k] if (q & 1) == 0 else ev[k]
            if not alive[w]:
                continue
            bv, bw = inblossom[v], inblossom[w]
            if bv == bw:
                continue
            kslack = 0
            if not allow[k]:
                kslack = dual[eu[k]] + dual[ev[k]] - 2 * ew[k]
                if kslack <= 0:
                    allow[k] = True
                    tedges[cnt[_E]] = k
                    cnt[_E] += 1
            if allow[k]:
                if _tight_edge(s, v, w, q):
                    return 1
                continue
            x = -1
            if label[bw] == 1:
                x = bv
            elif label[w] == 0:
                x = w
            if x == -1:
                continue
            be = bestedge[x]
            if be == -1 or kslack < dual[eu[be]] + dual[ev[be]] - 2 * ew[be]:
                bestedge[x] = k
                if not tflag[x]:
                    tflag[x] = True
                    touched[cnt[_T]] = x
                    cnt[_T] += 1
    return 0


@nb.njit(cache=True, inline="always")
def _is_top(s: State, x: int) -> bool:
    return s.parent[x] == -1 and (x < s.n or s.base[x] >= 0)


@nb.njit(cache=True)
def _delta1(s: State) -> tuple[int, int]:
    """Smallest dual of an S-vertex, and that vertex."""
    n, dual, label, parent, base = s.n, s.dual, s.label, s.parent, s.base
    coff, clen, cpool, stk, tmp, touched = s.coff, s.clen, s.cpool, s.stk, s.tmp, s.touched
    delta, arg = -1, -1
    for i in range(s.cnt[_T]):
        x = touched[i]
        if parent[x] != -1 or label[x] != 1 or (x >= n and base[x] < 0):
            continue
        nl = 1
        tmp[0] = x
        if x >= n:
            nl = _leaves_of(coff, clen, cpool, stk, n, x, tmp, 0)
        for r in range(nl):
            v = tmp[r]
            if arg == -1 or dual[v] < delta:
                delta, arg = dual[v], v
    return delta, arg


@nb.njit(cache=True)
def _delta2(s: State, delta: int, arg: int) -> tuple[int, int]:
    """Least slack from an S-vertex to an unlabelled vertex, if below ``delta``."""
    n, dual, label, inblossom, alive = s.n, s.dual, s.label, s.inblossom, s.alive
    eu, ev, ew, bestedge, touched = s.eu, s.ev, s.ew, s.bestedge, s.touched
    for i in range(s.cnt[_T]):
        x = touched[i]
        if x < n and alive[x] and bestedge[x] != -1 and label[inblossom[x]] == 0:
            k = bestedge[x]
            d = dual[eu[k]] + dual[ev[k]] - 2 * ew[k]
            if d < delta:
                delta, arg = d, k
    return delta, arg


@nb.njit(cache=True)
def _delta34(s: State, delta: int) -> tuple[int, int, int]:
    """Half the least slack between S-blossoms (3), or the least T-blossom dual (4)."""
    n, dual, label, parent, base = s.n, s.dual, s.label, s.parent, s.base
    eu, ev, ew, bestedge, touched = s.eu, s.ev, s.ew, s.bestedge, s.touched
    kind, arg = 0, -1
    for i in range(s.cnt[_T]):
        x = touched[i]
        if parent[x] != -1 or (x >= n and base[x] < 0):
            continue
        if label[x] == 1 and bestedge[x] != -1:
            k = bestedge[x]
            d = dual[eu[k]] + dual[ev[k]] - 2 * ew[k]
            if d & 1:  # pragma: no cover - would break integrality
                raise ValueError("odd slack between S-blossoms")
            if d // 2 < delta:
                delta, kind, arg = d // 2, 3, k
        elif label[x] == 2 and x >= n and dual[x] < delta:
            delta, kind, arg = dual[x], 4, x
    return delta, kind, arg


@nb.njit(cache=True)
def _delta(s: State) -> tuple[int, int, int]:
    """Smallest dual change: (delta, type 1..4, vertex / edge / blossom it is attained at)."""
    delta, arg = _delta1(s)
    kind = 1
    d2, a2 = _delta2(s, delta, -1)
    if a2 != -1:
        delta, kind, arg = d2, 2, a2
    d3, k3, a3 = _delta34(s, delta)
    if k3 != 0:
        delta, kind, arg = d3, k3, a3
    return delta, kind, arg


@nb.njit(cache=True)
def _update_duals(s: State, delta: int) -> None:
    n, dual, dec, label, parent, base = s.n, s.dual, s.dec, s.label, s.parent, s.base
    coff, clen, cpool, stk, tmp = s.coff, s.clen, s.cpool, s.stk, s.tmp
    touched = s.touched
    for i in range(s.cnt[_T]):
        x = touched[i]
        if parent[x] != -1 or label[x] == 0 or (x >= n and base[x] < 0):
            continue
        if x < n:
            nl = 1
            tmp[0] = x
        else:
            nl = _leaves_of(coff, clen, cpool, stk, n, x, tmp, 0)
        if label[x] == 1:
            for r in range(nl):
                dual[tmp[r]] -= delta
                dec[tmp[r]] += delta
            if x >= n:
                dual[x] += delta
        else:
            for r in range(nl):
                dual[tmp[r]] += delta
            if x >= n:
                dual[x] -= delta


@nb.njit(cache=True)
def _end_stage(s: State) -> None:
    """Expand zero-dual S-blossoms, then forget labels, least-slack edges and allowed edges."""
    i = 0
    while i < s.cnt[_T]:
        x = s.touched[i]
        if x >= s.n and _is_top(s, x) and s.label[x] == 1 and s.dual[x] == 0:
            _expand(s, x, True)
        i += 1
    for i in range(s.cnt[_T]):
        x = s.touched[i]
        s.label[x] = 0
        s.bestedge[x] = -1
        s.blen[x] = -1
        s.tflag[x] = False
    for i in range(s.cnt[_E]):
        s.allow[s.tedges[i]] = False
    s.cnt[_T] = 0
    s.cnt[_E] = 0
    s.cnt[_Q] = 0
    s.cnt[_B] = 0


@nb.njit(cache=True)
def _stage(s: State, root: int) -> None:
    """Grow one tree from free ``root`` until an augmentation or an S-vertex dual reaches 0."""
    _assign_label(s, root, 1, -1)
    while True:
        if _grow(s):
            break
        delta, kind, arg = _delta(s)
        s.cnt[_SUB] += 1
        s.cnt[_WORK] += s.cnt[_T]
        _update_duals(s, delta)
        if kind == 1:  # ``arg`` reached dual 0: it becomes the free one
            _augment_side(s, arg, -1)
            break
        if kind == 2 or kind == 3:
            _allow(s, arg)
            v = s.eu[arg]
            if s.label[s.inblossom[v]] != 1:
                v = s.ev[arg]
            s.queue[s.cnt[_Q]] = v
            s.cnt[_Q] += 1
        else:
            _expand(s, arg, False)
    _end_stage(s)


@nb.njit(cache=True)
def _run(s: State) -> int:
    """Stages from every free live vertex with a positive dual; returns the number of stages."""
    stages = 0
    for v in range(s.n):
        if s.alive[v] and s.mate[v] == -1 and s.dual[v] > 0:
            _stage(s, v)
            stages += 1
    return stages


# ---- building, warm-start edits, certificate ---------------------------------------------------


@nb.njit(cache=True)
def _csr(n: int, eu: np.ndarray, ev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    deg = np.zeros(n + 1, dtype=np.int64)
    for k in range(len(eu)):
        deg[eu[k] + 1] += 1
        deg[ev[k] + 1] += 1
    ptr = np.cumsum(deg)
    pos = ptr[:-1].copy()
    end = np.empty(2 * len(eu), dtype=np.int64)
    for k in range(len(eu)):
        end[pos[eu[k]]] = 2 * k + 1
        pos[eu[k]] += 1
        end[pos[ev[k]]] = 2 * k
        pos[ev[k]] += 1
    return ptr, end


@nb.njit(cache=True)
def _jump_start(s: State) -> None:
    """Feasible starting duals made as small as possible, and a greedy matching on tight edges."""
    for v in range(s.n):
        best = 0
        for q in range(s.nb_ptr[v], s.nb_ptr[v + 1]):
            best = max(best, s.ew[s.nb_end[q] >> 1])
        s.dual[v] = best
    for v in range(s.n):
        if s.mate[v] != -1:  # paired by an earlier vertex: its edge must stay tight
            continue
        need = 0
        for q in range(s.nb_ptr[v], s.nb_ptr[v + 1]):
            k = s.nb_end[q] >> 1
            w = _endpoint(s, s.nb_end[q])
            need = max(need, 2 * s.ew[k] - s.dual[w])
        s.dual[v] = need
        if need == 0:
            continue
        for q in range(s.nb_ptr[v], s.nb_ptr[v + 1]):
            k = s.nb_end[q] >> 1
            w = _endpoint(s, s.nb_end[q])
            if s.mate[w] == -1 and s.dual[v] + s.dual[w] == 2 * s.ew[k]:
                s.mate[v] = s.nb_end[q]
                s.mate[w] = s.nb_end[q] ^ 1
                break


def new_state(n: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray) -> State:
    """A problem on ``n`` vertices with edges ``(eu, ev, ew)`` (int64, ``eu != ev``), unsolved."""
    eu = np.ascontiguousarray(eu, dtype=np.int64)
    ev = np.ascontiguousarray(ev, dtype=np.int64)
    ew = np.ascontiguousarray(ew, dtype=np.int64)
    if len(eu) and (ew.min() < 0 or np.any(eu == ev)):
        raise ValueError("edge weights must be >= 0 and edges must join two vertices")
    m = len(eu)
    ptr, end = _csr(n, eu, ev)
    i64 = np.int64
    s = State(
        n, eu, ev, ew, ptr, end, np.ones(n, dtype=bool), np.full(n, -1, i64),
        np.zeros(2 * n, i64), np.full(2 * n, -1, i64), np.arange(n, dtype=i64),
        np.full(2 * n, -1, i64), np.concatenate([np.arange(n, dtype=i64), np.full(n, -1, i64)]),
        np.full(2 * n, -1, i64), np.zeros(2 * n, i64), np.zeros(n, i64), np.zeros(m, dtype=bool),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(4 * n + 8, i64),
        np.zeros(4 * n + 8, i64), np.zeros(2 * n, i64), np.full(2 * n, -1, i64),
        np.zeros(4 * n + m + 8, i64),
        np.arange(2 * n - 1, n - 1, -1, dtype=i64),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(2 * n, dtype=bool), np.zeros(m, i64),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.full(2 * n, -1, i64),
        np.array([0, n, 0, 0, 0, 0, 0, 0], dtype=i64),
    )  # fmt: skip
    _jump_start(s)
    return s


def run(s: State) -> int:
    """Re-optimise: one stage from each free vertex with a positive dual; returns the count."""
    return int(_run(s))


def copy_state(s: State) -> State:
    """An independent copy."""
    return State._make(v.copy() if isinstance(v, np.ndarray) else v for v in s)


def add_edges(s: State, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray) -> State:
    """Append edges (ids of existing edges unchanged); their duals may now be violated."""
    eu2 = np.concatenate([s.eu, np.asarray(eu, np.int64)])
    ev2 = np.concatenate([s.ev, np.asarray(ev, np.int64)])
    ew2 = np.concatenate([s.ew, np.asarray(ew, np.int64)])
    ptr, end = _csr(s.n, eu2, ev2)
    m = len(eu2)
    allow = np.zeros(m, dtype=bool)
    return s._replace(eu=eu2, ev=ev2, ew=ew2, nb_ptr=ptr, nb_end=end, allow=allow,
                      tedges=np.zeros(m, np.int64))  # fmt: skip


@nb.njit(cache=True)
def _unmatch(s: State, v: int) -> None:
    p = s.mate[v]
    if p != -1:
        s.mate[_endpoint(s, p)] = -1
        s.mate[v] = -1


@nb.njit(cache=True)
def _dissolve(s: State, b: int) -> None:
    """Move top-level blossom ``b``'s dual into its members and expand it.

    Edges inside keep their slack, edges leaving gain ``z``: so if ``z > 0``
    the base's outside pair is no longer tight and is undone (both people
    become free with positive duals; the next :func:`run` re-pairs them).
    """
    z = s.dual[b]
    nl = _leaves(s, b, s.tmp, 0)
    for i in range(nl):
        s.dual[s.tmp[i]] += z
    s.dual[b] = 0
    base = s.base[b]
    if z > 0 and s.mate[base] != -1:
        _unmatch(s, base)
    _expand(s, b, True)
    _end_stage(s)


@nb.njit(cache=True)
def _make_top(s: State, v: int) -> None:
    while s.inblossom[v] != v:
        _dissolve(s, s.inblossom[v])


@nb.njit(cache=True)
def _remove_vertices(s: State, vs: np.ndarray) -> None:
    for v in vs:
        _make_top(s, v)
        _unmatch(s, v)
        s.alive[v] = False


@nb.njit(cache=True)
def _depth(s: State, v: int) -> int:
    d = 0
    while s.parent[v] != -1:
        v = s.parent[v]
        d += 1
    return d


@nb.njit(cache=True)
def _raise_for_edges(s: State, ks: np.ndarray) -> int:
    """Make edges ``ks`` dual-feasible by raising one end's dual; returns how many were raised."""
    raised = 0
    for k in ks:
        i, j = s.eu[k], s.ev[k]
        if not (s.alive[i] and s.alive[j]):
            continue
        # Raise the end in fewer blossoms (cheaper to make top-level).
        v = i if _depth(s, i) <= _depth(s, j) else j
        _make_top(s, v)
        _make_top(s, j if v == i else i)
        need = 2 * s.ew[k] - s.dual[i] - s.dual[j]
        if need > 0:
            s.dual[v] += need
            _unmatch(s, v)
            raised += 1
    return raised


def remove_vertices(s: State, vs: np.ndarray) -> None:
    """Take vertices out of the graph (their pairs undone); call :func:`run` to re-optimise."""
    _remove_vertices(s, np.asarray(vs, dtype=np.int64))


def raise_for_edges(s: State, ks: np.ndarray) -> int:
    """Restore dual feasibility on edges ``ks`` (e.g. just added); call :func:`run` after."""
    return int(_raise_for_edges(s, np.asarray(ks, dtype=np.int64)))


# ---- reading the result ------------------------------------------------------------------------


@nb.njit(cache=True)
def _pairs(s: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.empty(s.n, dtype=np.int64)
    b = np.empty(s.n, dtype=np.int64)
    k = np.empty(s.n, dtype=np.int64)
    c = 0
    for v in range(s.n):
        p = s.mate[v]
        if p != -1 and s.alive[v]:
            w = _endpoint(s, p)
            if v < w:
                a[c], b[c], k[c] = v, w, p >> 1
                c += 1
    return a[:c], b[:c], k[:c]


def pairs(s: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matched pairs ``(a, b, edge id)`` with ``a < b``, sorted by ``a``."""
    return _pairs(s)


class Blossoms(NamedTuple):
    """The live blossoms: ``parent`` (-1 at top level), ``z`` and member lists (sorted)."""

    ids: np.ndarray
    parent: np.ndarray
    z: np.ndarray
    members: tuple[np.ndarray, ...]
    top: np.ndarray  # (n,) top-level blossom id of each vertex (itself if none)


def blossoms(s: State) -> Blossoms:
    """Every live (possibly nested) blossom with its dual; ``z`` in real units."""
    ids = np.flatnonzero(s.base[s.n :] >= 0) + s.n
    members = []
    buf = np.empty(s.n, dtype=np.int64)
    for b in ids.tolist():
        k = _leaves(s, b, buf, 0)
        members.append(np.sort(buf[:k]))
    return Blossoms(ids, s.parent[ids].copy(), s.dual[ids].copy(), tuple(members),
                    s.inblossom.copy())  # fmt: skip


def dual_bound2(s: State) -> int:
    """Twice the dual objective: ``sum(d) + sum(z_B (|B| - 1))`` over live vertices, blossoms."""
    bl = blossoms(s)
    total = int(s.dual[: s.n][s.alive].sum())
    for z, mem in zip(bl.z.tolist(), bl.members, strict=True):
        total += int(z) * (len(mem) - 1)
    return total
