"""`buddymatch warm-up` also compiles what only large pools reach."""

from __future__ import annotations

from buddymatch import warmup
from buddymatch.solvers.pairing import blossom


def test_the_large_pool_kernels_are_compiled() -> None:
    warmup._large_pool_kernels()
    assert blossom._warm_start.signatures  # compiled (or loaded from the cache) for real use
