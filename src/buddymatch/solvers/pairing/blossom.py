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
* dual changes are lazy: a stage keeps its total change ``delta`` and each
  vertex the sign and the ``delta`` at which its label last changed, and the
  candidates for the next change sit in three heaps keyed so that their
  order does not change as ``delta`` grows, so a dual update costs
  O(log n) instead of a pass over the tree (odd pools nest blossoms
  hundreds deep, and a warm start peels them one level per update);
* people can be removed (:func:`remove_vertices`), blossoms dissolved into
  their members' duals, duals raised, and edges appended, each keeping the
  duals feasible so that :func:`run` re-optimises from where it stands.

Certificate (what callers may rely on after :func:`run`): with ``d`` the
doubled vertex duals and ``z_B`` the duals of the live blossoms,
``d_i + d_j + 2 * sum(z_B : i, j in B) >= 2 w_ij`` for every edge between
live vertices, every matched edge is tight, every free live vertex has
``d = 0`` and every blossom with ``z_B > 0`` holds ``(|B| - 1) / 2`` matched
pairs; hence ``sum(d) / 2 + sum(z_B * (|B| - 1) / 2)`` equals the weight of
the matching and bounds every matching of the graph.

All kernels are numba functions over the arrays of a :class:`State`, which
they receive as one struct reference (:func:`_ref`), not as a tuple passed by
value: a tuple of 41 arrays made every call between kernels unpack and
reference-count each array, which cost a minute of compiling on an empty
cache (63.6 s for ``_run``; 31.6 s now) and about a third of the running
time on a 20,000-person pool.  The control flow mirrors the textbook
algorithm and is kept in one place per operation, so several kernels opt out
of the complexity limit.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba as nb
import numpy as np
from numba.core import types
from numba.experimental import structref

# Counters kept in State.cnt.
_Q = 0  # queue length
_U = 1  # unused blossom ids on the stack
_T = 2  # touched ids (labels to reset)
_E = 3  # touched edges (allow flags to reset)
_SUB = 4  # substages (dual updates) so far: work counter
_WORK = 5  # unused
_C = 6  # next free slot of cpool / epool
_B = 7  # next free slot of bpool
_DELTA = 8  # total dual change of the current stage
_SMIN = 9  # smallest (S-vertex dual + _DELTA when it became S): delta1 in O(1)
_SARG = 10  # the vertex it belongs to
_BIG = np.iinfo(np.int64).max // 4


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
    dual: np.ndarray  # int64 (2n,): 2u for vertices, z for blossoms (see ``sgn``)
    sgn: np.ndarray  # int64 (2n,): how a vertex's dual moves with the stage's delta (-1, 0, 1);
    # for a top-level blossom, how its members' duals move (its own z moves the other way)
    stamp: np.ndarray  # int64 (2n,): the stage's total delta when ``sgn`` was last set
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
    lbuf: np.ndarray  # int64 (n,) scratch for members whose dual sign changes
    hk: np.ndarray  # int64 (3, cap): keys of three min-heaps (delta 2, 3, 4 candidates)
    ha: np.ndarray  # int64 (3, cap): first payload (vertex / blossom)
    hb: np.ndarray  # int64 (3, cap): second payload (edge)
    hsize: np.ndarray  # int64 (3,)
    cnt: np.ndarray  # int64 (4,)


@structref.register
class _KernelStateType(types.StructRef):
    """Numba type of the kernels' reference to a :class:`State` (see the module docstring)."""

    def preprocess_fields(self, fields: Any) -> tuple[tuple[str, Any], ...]:
        return tuple((name, types.unliteral(t)) for name, t in fields)


class _KernelState(structref.StructRefProxy):
    """A :class:`State` as the kernels see it: the same arrays, not copies."""


structref.define_proxy(_KernelState, _KernelStateType, list(State._fields))


@nb.njit(cache=True)
def _ref(s: State) -> State:
    """The kernels' reference to ``s``'s arrays (no copy), fields in :class:`State`'s order."""
    return _KernelState(  # type: ignore[return-value]
        s.n,
        s.eu,
        s.ev,
        s.ew,
        s.nb_ptr,
        s.nb_end,
        s.alive,
        s.mate,
        s.label,
        s.labelend,
        s.inblossom,
        s.parent,
        s.base,
        s.bestedge,
        s.dual,
        s.sgn,
        s.stamp,
        s.dec,
        s.allow,
        s.coff,
        s.clen,
        s.cpool,
        s.epool,
        s.boff,
        s.blen,
        s.bpool,
        s.unused,
        s.queue,
        s.touched,
        s.tflag,
        s.tedges,
        s.stk,
        s.tmp,
        s.tmp2,
        s.bestto,
        s.lbuf,
        s.hk,
        s.ha,
        s.hb,
        s.hsize,
        s.cnt,
    )


# ---- small helpers --------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _endpoint(s: State, p: int) -> int:
    k = p >> 1
    return s.eu[k] if (p & 1) == 0 else s.ev[k]


@nb.njit(cache=True, inline="always")
def _vd(dual: np.ndarray, sgn: np.ndarray, stamp: np.ndarray, delta: int, v: int) -> int:
    """Current doubled dual of vertex ``v`` (duals are updated lazily within a stage)."""
    return dual[v] + sgn[v] * (delta - stamp[v])


@nb.njit(cache=True, inline="always")
def _slack(s: State, k: int) -> int:
    t = s.cnt[_DELTA]
    return (
        _vd(s.dual, s.sgn, s.stamp, t, s.eu[k])
        + _vd(s.dual, s.sgn, s.stamp, t, s.ev[k])
        - (2 * s.ew[k])
    )


@nb.njit(cache=True, inline="always")
def _zd(s: State, b: int) -> int:
    """Current dual of top-level blossom ``b`` (moves against its members)."""
    return s.dual[b] - s.sgn[b] * (s.cnt[_DELTA] - s.stamp[b])


@nb.njit(cache=True, inline="always")
def _set_vsign(s: State, v: int, new: int) -> None:
    t = s.cnt[_DELTA]
    old = s.sgn[v]
    if old == -1:
        s.dec[v] += t - s.stamp[v]
    s.dual[v] += old * (t - s.stamp[v])
    s.sgn[v] = new
    s.stamp[v] = t
    if new == -1 and s.dual[v] + t < s.cnt[_SMIN]:
        s.cnt[_SMIN] = s.dual[v] + t
        s.cnt[_SARG] = v


@nb.njit(cache=True)
def _set_sign(s: State, b: int, new: int) -> None:
    """Top-level ``b``'s members' duals now move with sign ``new`` (settle the old moves)."""
    if s.sgn[b] == new:
        return
    if b < s.n:
        _set_vsign(s, b, new)
        return
    s.dual[b] = _zd(s, b)
    s.stamp[b] = s.cnt[_DELTA]
    nl = _leaves(s, b, s.lbuf, 0)
    for i in range(nl):
        _set_vsign(s, s.lbuf[i], new)
    s.sgn[b] = new


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


# ---- heaps of candidates for the next dual change ---------------------------------------------
# Heap 0: (slack + delta, vertex, edge): least-slack edge from an S-vertex to an unlabelled one.
# Heap 1: (slack + 2 delta, blossom, edge): least-slack edge between two S-blossoms.
# Heap 2: (z + delta, blossom, 0): a T-blossom's dual.
# Keys do not change while an entry is valid; stale entries are dropped when met.


@nb.njit(cache=True, inline="always")
def _hvalid(s: State, h: int, i: int) -> bool:
    key, a, b = s.hk[h, i], s.ha[h, i], s.hb[h, i]
    t = s.cnt[_DELTA]
    if h == 0:
        return s.bestedge[a] == b and s.label[s.inblossom[a]] == 0 and key == _slack(s, b) + t
    if h == 1:
        return (
            s.parent[a] == -1 and s.label[a] == 1 and s.bestedge[a] == b
            and (a < s.n or s.base[a] >= 0) and key == _slack(s, b) + 2 * t
        )  # fmt: skip
    return s.parent[a] == -1 and s.base[a] >= 0 and s.label[a] == 2 and key == _zd(s, a) + t


@nb.njit(cache=True, inline="always")
def _hsift_down(s: State, h: int, i: int) -> None:
    size = s.hsize[h]
    key, a, b = s.hk[h, i], s.ha[h, i], s.hb[h, i]
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and s.hk[h, c + 1] < s.hk[h, c]:
            c += 1
        if s.hk[h, c] >= key:
            break
        s.hk[h, i], s.ha[h, i], s.hb[h, i] = s.hk[h, c], s.ha[h, c], s.hb[h, c]
        i = c
    s.hk[h, i], s.ha[h, i], s.hb[h, i] = key, a, b


@nb.njit(cache=True)
def _hcompact(s: State, h: int) -> None:
    """Drop stale entries and restore the heap order."""
    j = 0
    for i in range(s.hsize[h]):
        if _hvalid(s, h, i):
            s.hk[h, j], s.ha[h, j], s.hb[h, j] = s.hk[h, i], s.ha[h, i], s.hb[h, i]
            j += 1
    s.hsize[h] = j
    for i in range(j // 2 - 1, -1, -1):
        _hsift_down(s, h, i)


@nb.njit(cache=True, inline="always")
def _hpush(s: State, h: int, key: int, a: int, b: int) -> None:
    if s.hsize[h] == s.hk.shape[1]:
        _hcompact(s, h)
    i = s.hsize[h]
    s.hsize[h] = i + 1
    while i > 0:
        p = (i - 1) >> 1
        if s.hk[h, p] <= key:
            break
        s.hk[h, i], s.ha[h, i], s.hb[h, i] = s.hk[h, p], s.ha[h, p], s.hb[h, p]
        i = p
    s.hk[h, i], s.ha[h, i], s.hb[h, i] = key, a, b


@nb.njit(cache=True, inline="always")
def _hmin(s: State, h: int) -> tuple[int, int, int]:
    """The smallest valid entry (key, a, b), or (_BIG, -1, -1)."""
    while s.hsize[h] > 0:
        if _hvalid(s, h, 0):
            return s.hk[h, 0], s.ha[h, 0], s.hb[h, 0]
        last = s.hsize[h] - 1
        s.hsize[h] = last
        if last > 0:
            s.hk[h, 0], s.ha[h, 0], s.hb[h, 0] = s.hk[h, last], s.ha[h, last], s.hb[h, last]
            _hsift_down(s, h, 0)
    return _BIG, -1, -1


@nb.njit(cache=True, inline="always")
def _push_unlabelled(s: State, x: int) -> None:
    """Heap 0 entry for vertex ``x``'s least-slack edge from the tree, if it has one."""
    k = s.bestedge[x]
    if k != -1:
        _hpush(s, 0, _slack(s, k) + s.cnt[_DELTA], x, k)


@nb.njit(cache=True, inline="always")
def _push_t_blossom(s: State, b: int) -> None:
    if b >= s.n:
        _hpush(s, 2, _zd(s, b) + s.cnt[_DELTA], b, 0)


# ---- labelling ------------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _assign_label(s: State, w: int, t: int, p: int) -> None:
    """Label ``w``'s top-level blossom ``t`` (1 = S, 2 = T), reached via endpoint ``p``."""
    while True:
        b = s.inblossom[w]
        _set_sign(s, b, -1 if t == 1 else 1)
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
        _push_t_blossom(s, b)
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
    for r in range(s.clen[b]):
        c = s.cpool[o + r]
        _set_sign(s, c, -1)
        if c >= s.n:  # no longer top-level: its own dual stops moving
            s.dual[c] = _zd(s, c)
            s.sgn[c] = 0
            s.stamp[c] = s.cnt[_DELTA]
    _set_label(s, b, 1)
    s.labelend[b] = s.labelend[bb]
    s.dual[b] = 0
    s.sgn[b] = -1
    s.stamp[b] = s.cnt[_DELTA]
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
    if best != -1:
        _hpush(s, 1, _slack(s, best) + 2 * s.cnt[_DELTA], b, best)


@nb.njit(cache=True)
def _recycle(s: State, b: int) -> None:
    _set_label(s, b, 0)
    s.sgn[b] = 0
    s.dual[b] = 0
    s.labelend[b] = -1
    s.clen[b] = 0
    s.base[b] = -1
    s.blen[b] = -1
    s.bestedge[b] = -1
    s.unused[s.cnt[_U]] = b
    s.cnt[_U] += 1


@nb.njit(cache=True)
def _expand(s: State, b0: int, endstage: bool) -> None:
    """Expand top-level blossom ``b0`` (and, at the end of a stage, its zero-dual sub-blossoms).

    During a stage ``b0`` is a T-blossom whose dual reached 0: its children
    start as T-blossoms (their members' duals keep moving up, their own
    duals start moving down) and are then relabelled.
    """
    top = 1
    s.tmp2[0] = b0
    while top > 0:
        top -= 1
        b = s.tmp2[top]
        for r in range(s.clen[b]):
            c = s.cpool[s.coff[b] + r]
            s.parent[c] = -1
            if c >= s.n:
                s.sgn[c] = s.sgn[b]
                s.stamp[c] = s.cnt[_DELTA]
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
            for r in range(s.clen[b]):
                c = s.cpool[s.coff[b] + r]
                if s.label[c] == 2:
                    _push_t_blossom(s, c)
                elif s.label[c] == 0:
                    _set_sign(s, c, 0)
                    nl = _leaves(s, c, s.lbuf, 0)
                    for i in range(nl):
                        _push_unlabelled(s, s.lbuf[i])
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
def _grow(s: State) -> int:  # noqa: C901 - numba kernel: the inner loop, flat for speed
    """Scan queued S-vertices' edges; 1 if an augmenting path was found and used.

    Arrays are bound to locals once: numba reference-counts every array taken
    out of the State, which in this loop would cost more than the work itself.
    """
    eu, ev, ew, dual, alive = s.eu, s.ev, s.ew, s.dual, s.alive
    sgn, stamp = s.sgn, s.stamp
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
                t = cnt[_DELTA]
                kslack = _vd(dual, sgn, stamp, t, eu[k]) + _vd(dual, sgn, stamp, t, ev[k])
                kslack -= 2 * ew[k]
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
            if be == -1 or kslack < _slack(s, be):
                bestedge[x] = k
                if not tflag[x]:
                    tflag[x] = True
                    touched[cnt[_T]] = x
                    cnt[_T] += 1
                if x == bv:
                    _hpush(s, 1, kslack + 2 * cnt[_DELTA], x, k)
                elif label[inblossom[x]] == 0:
                    _hpush(s, 0, kslack + cnt[_DELTA], x, k)
    return 0


@nb.njit(cache=True, inline="always")
def _is_top(s: State, x: int) -> bool:
    return s.parent[x] == -1 and (x < s.n or s.base[x] >= 0)


@nb.njit(cache=True)
def _delta(s: State) -> tuple[int, int, int]:
    """Smallest dual change: (delta, type 1..4, vertex / edge / blossom it is attained at).

    Type 1: an S-vertex's dual reaches 0 (kept as a running minimum: S-vertex
    duals all fall at the same rate and S-vertices stay S within a stage);
    types 2-4 come from the heaps.
    """
    t = s.cnt[_DELTA]
    delta, kind, arg = s.cnt[_SMIN] - t, 1, s.cnt[_SARG]
    key, _, k = _hmin(s, 0)
    if k != -1 and key - t < delta:
        delta, kind, arg = key - t, 2, k
    key, _, k = _hmin(s, 1)
    if k != -1:
        d = key - 2 * t
        if d & 1:  # pragma: no cover - would break integrality
            raise ValueError("odd slack between S-blossoms")
        if d // 2 < delta:
            delta, kind, arg = d // 2, 3, k
    key, b, _ = _hmin(s, 2)
    if b != -1 and key - t < delta:
        delta, kind, arg = key - t, 4, b
    return delta, kind, arg


@nb.njit(cache=True)
def _end_stage(s: State) -> None:
    """Settle the lazy duals, expand zero-dual S-blossoms, forget labels and allowed edges."""
    for i in range(s.cnt[_T]):
        x = s.touched[i]
        if _is_top(s, x) and s.sgn[x] != 0:
            _set_sign(s, x, 0)
    s.cnt[_DELTA] = 0
    s.cnt[_SMIN] = _BIG
    s.cnt[_SARG] = -1
    s.hsize[:] = 0
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
        s.cnt[_DELTA] += delta
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


@nb.njit(cache=True)
def _warm_start(s: State, duals: np.ndarray, prefer: np.ndarray) -> None:
    """Given feasible doubled duals: pair the ``prefer`` edges that are tight, then any
    other tight edge in edge order (every pair made is tight, as the algorithm needs)."""
    for v in range(len(duals)):
        s.dual[v] = duals[v]
    for r in range(len(prefer) + len(s.eu)):
        k = prefer[r] if r < len(prefer) else r - len(prefer)
        i, j = s.eu[k], s.ev[k]
        if s.mate[i] == -1 and s.mate[j] == -1 and s.dual[i] + s.dual[j] == 2 * s.ew[k]:
            s.mate[i] = 2 * k + 1
            s.mate[j] = 2 * k


def new_state(
    n: int,
    eu: np.ndarray,
    ev: np.ndarray,
    ew: np.ndarray,
    duals: np.ndarray | None = None,
    prefer: np.ndarray | None = None,
) -> State:
    """A problem on ``n`` vertices with edges ``(eu, ev, ew)`` (int64, ``eu != ev``), unsolved.

    Without ``duals`` the engine starts from its own greedy duals and pairs.
    ``duals`` (doubled, ``>= 0``, one per vertex) start it from a known feasible
    point instead, e.g. a fractional-matching LP's (:mod:`.lp`); the tight
    edges among ``prefer`` (edge ids) are paired first.  Infeasible duals are
    refused (ValueError).
    """
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
        np.full(2 * n, -1, i64), np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(2 * n, i64),
        np.zeros(n, i64), np.zeros(m, dtype=bool),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(4 * n + 8, i64),
        np.zeros(4 * n + 8, i64), np.zeros(2 * n, i64), np.full(2 * n, -1, i64),
        np.zeros(4 * n + m + 8, i64),
        np.arange(2 * n - 1, n - 1, -1, dtype=i64),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(2 * n, dtype=bool), np.zeros(m, i64),
        np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.zeros(2 * n, i64), np.full(2 * n, -1, i64),
        np.zeros(n, i64), *_heaps(n, m), np.array([0, n, 0, 0, 0, 0, 0, 0, 0, _BIG, -1], dtype=i64),
    )  # fmt: skip
    if duals is None:
        _jump_start(_ref(s))
        return s
    d = np.ascontiguousarray(duals, dtype=i64)
    if len(d) != n or (n and d.min() < 0) or (m and (d[eu] + d[ev] - 2 * ew).min() < 0):
        raise ValueError("starting duals must be >= 0, one per vertex, and feasible on every edge")
    pick = np.zeros(0, i64) if prefer is None else np.ascontiguousarray(prefer, dtype=i64)
    _warm_start(_ref(s), d, pick)
    return s


def _heaps(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Empty heaps: each holds at most one valid entry per vertex or blossom, so with this
    capacity a compaction always frees room."""
    cap = 2 * m + 4 * n + 16
    return (np.empty((3, cap), np.int64), np.empty((3, cap), np.int64),
            np.empty((3, cap), np.int64), np.zeros(3, np.int64))  # fmt: skip


def run(s: State) -> int:
    """Re-optimise: one stage from each free vertex with a positive dual; returns the count."""
    return int(_run(_ref(s)))


def copy_state(s: State) -> State:
    """An independent copy (the heaps are empty between stages: fresh ones)."""
    c = State._make(v.copy() if isinstance(v, np.ndarray) else v for v in s)
    hk, ha, hb, hsize = _heaps(s.n, len(s.eu))
    return c._replace(hk=hk, ha=ha, hb=hb, hsize=hsize)


def add_edges(s: State, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray) -> State:
    """Append edges (ids of existing edges unchanged); their duals may now be violated."""
    eu2 = np.concatenate([s.eu, np.asarray(eu, np.int64)])
    ev2 = np.concatenate([s.ev, np.asarray(ev, np.int64)])
    ew2 = np.concatenate([s.ew, np.asarray(ew, np.int64)])
    ptr, end = _csr(s.n, eu2, ev2)
    m = len(eu2)
    allow = np.zeros(m, dtype=bool)
    hk, ha, hb, hsize = _heaps(s.n, m)
    return s._replace(eu=eu2, ev=ev2, ew=ew2, nb_ptr=ptr, nb_end=end, allow=allow,
                      tedges=np.zeros(m, np.int64), hk=hk, ha=ha, hb=hb, hsize=hsize)  # fmt: skip


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
    _remove_vertices(_ref(s), np.asarray(vs, dtype=np.int64))


def raise_for_edges(s: State, ks: np.ndarray) -> int:
    """Restore dual feasibility on edges ``ks`` (e.g. just added); call :func:`run` after."""
    return int(_raise_for_edges(_ref(s), np.asarray(ks, dtype=np.int64)))


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
    return _pairs(_ref(s))


class Blossoms(NamedTuple):
    """The live blossoms as a laminar tree (odd pools nest them thousands deep, so member
    lists would cost people x depth): each blossom's parent (-1 at top level), dual ``z``
    (real units) and size, and each vertex's innermost blossom (-1 if none).  Indices are
    positions in ``ids`` (the engine's blossom ids)."""

    ids: np.ndarray
    parent: np.ndarray
    z: np.ndarray
    size: np.ndarray
    innermost: np.ndarray


@nb.njit(cache=True)
def _sizes(n: int, parent: np.ndarray, base: np.ndarray) -> np.ndarray:
    size = np.zeros(2 * n, dtype=np.int64)
    for v in range(n):
        x = parent[v]
        while x != -1:
            size[x] += 1
            x = parent[x]
    return size


def blossoms(s: State) -> Blossoms:
    """Every live (possibly nested) blossom with its dual and size."""
    ids = np.flatnonzero(s.base[s.n :] >= 0) + s.n
    where = np.full(2 * s.n, -1, dtype=np.int64)
    where[ids] = np.arange(len(ids))
    par = s.parent[ids]
    parent = np.where(par >= 0, where[np.maximum(par, 0)], -1)
    vp = s.parent[: s.n]
    innermost = np.where(vp >= 0, where[np.maximum(vp, 0)], -1)
    size = _sizes(s.n, s.parent, s.base)[ids]
    return Blossoms(ids, parent, s.dual[ids].copy(), size, innermost)


def members(b: Blossoms, k: int) -> np.ndarray:
    """The vertices of blossom ``k`` (position in ``b.ids``), sorted."""
    inside = np.zeros(len(b.ids), dtype=bool)
    inside[k] = True
    changed = True
    while changed:  # descendants of k
        grow = inside | ((b.parent >= 0) & inside[np.maximum(b.parent, 0)])
        changed = bool((grow != inside).any())
        inside = grow
    return np.flatnonzero((b.innermost >= 0) & inside[np.maximum(b.innermost, 0)])


def dual_bound2(s: State) -> int:
    """Twice the dual objective: ``sum(d) + sum(z_B (|B| - 1))`` over live vertices, blossoms."""
    bl = blossoms(s)
    total = int(s.dual[: s.n][s.alive].sum())
    return total + int((bl.z * (bl.size - 1)).sum())
