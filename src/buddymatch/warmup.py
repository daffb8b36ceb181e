"""Compile the solver kernels into the cache once, so a user's first real run is fast.

Why: the solvers' inner loops are numba kernels compiled on first use and
cached (:func:`buddymatch.solvers.numba_cache_dir`).  Compiling all of them
takes about a minute on 2 cores (the peer engine most: 67 s in all), which
would otherwise land on the first real run after an install.
``buddymatch warm-up`` (run by the Makefile right after it installs the
package) runs a small synthetic pool through every scheme and objective, odd
and even, so every kernel and type signature a run uses is compiled and
cached.  Nothing is written but the cache; the results are thrown away.

Callers may rely on: :func:`warm_up` never raises for a scheme whose small
sample happens to be infeasible (that scheme is reported as skipped) and
returns the seconds spent per scheme.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .errors import BuddymatchError

SIZES = (41, 40)
"""An odd and an even pool: peer's odd-pool (trio) kernels compile too."""


def warm_up(say: Callable[[str], None] | None = None) -> dict[str, float]:
    """Run a small sample through every registered scheme and objective.

    Parameters
    ----------
    say
        Called with one line per scheme (name, seconds, or why it was skipped).

    Returns
    -------
    dict
        Seconds per scheme name.
    """
    from .api import match
    from .sample import sample_profiles, sample_scheme
    from .schemes import get_scheme, scheme_names

    spent: dict[str, float] = {}
    for name in scheme_names():
        started = time.perf_counter()
        skipped = []
        for objective in get_scheme(name).objectives:
            for size in SIZES:
                try:
                    match(
                        sample_profiles(name, size, seed=1),
                        sample_scheme(name),
                        objective=objective,
                        iterations=2,
                        rounds=1,
                    )
                except BuddymatchError as exc:
                    skipped.append(f"{objective} at {size}: {type(exc).__name__}")
        spent[name] = time.perf_counter() - started
        if say is not None:
            note = f" (skipped {', '.join(skipped)})" if skipped else ""
            say(f"{name}: {spent[name]:.1f} s{note}")
    started = time.perf_counter()
    _large_pool_kernels()
    spent["large pools"] = time.perf_counter() - started
    if say is not None:
        say(f"large pools: {spent['large pools']:.1f} s")
    marker = _marker()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("compiled by buddymatch warm-up\n", encoding="utf-8")
    return spent


def warmed_up() -> bool:
    """Whether ``buddymatch warm-up`` has filled the kernel cache for this version."""
    return _marker().is_file()


def _marker() -> Path:
    from . import __version__
    from .solvers import numba_cache_dir

    return numba_cache_dir() / f"warmed-up-{__version__}"


def _large_pool_kernels() -> None:
    """Kernels only large pools reach (a small sample never does): the blossom engine's
    start from given duals (peer pools of 1,000+ people with tied scores)."""
    import numpy as np

    from .solvers.pairing import blossom

    one = np.ones(1, dtype=np.int64)
    blossom.new_state(2, one * 0, one, one, duals=np.array([1, 1]), prefer=one * 0)
