"""Optimisers, one subpackage per method, all functions of plain arrays.

- ``solvers.assignment``: two sides with capacities (mentoring), min-cost flow;
- ``solvers.pairing``: one pool (peer), maximum-weight matching with a trio;
- ``solvers.groups``: groups with composition rules (cohorts).

Solvers never read files or scheme objects: they take integer weight matrices
(``NOT_ALLOWED`` marks a pair a hard rule removed), capacities and options, and
return an outcome with a :class:`Status`.  Bad arguments raise ``ValueError``
(user-facing errors belong to the input layer).  Each backend maps its native
status codes to :class:`Status` in one place.  ``check.py`` re-verifies every
outcome.  Importing this package does not import the subpackages (they load
numba and OR-Tools).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path

from buddymatch.weights import NOT_ALLOWED, WEIGHT_SCALE


def numba_cache_dir() -> Path:
    """Where compiled numba kernels are cached, for any kind of install.

    ``NUMBA_CACHE_DIR`` wins when set; otherwise ``BUDDYMATCH_CACHE_DIR``/numba,
    else the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``, on
    Windows ``%LOCALAPPDATA%``)/buddymatch/numba.  A stable, writable place
    means the kernels compile once per version, not on every run (numba's
    default, beside the sources, is read-only in a system-wide install).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    if os.environ.get("BUDDYMATCH_CACHE_DIR"):
        return Path(os.environ["BUDDYMATCH_CACHE_DIR"]) / "numba"
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "buddymatch" / "numba"


def _use_cache_dir() -> None:
    """Point numba at :func:`numba_cache_dir` before any kernel module is compiled."""
    path = str(numba_cache_dir())
    os.environ.setdefault("NUMBA_CACHE_DIR", path)
    numba = sys.modules.get("numba")
    if numba is not None:  # numba read its environment already: set its config too
        numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]


_use_cache_dir()


class Status(str, enum.Enum):
    """What a solve proved about its result (``summary.json`` ``status`` holds the value).

    >>> Status("optimal") is Status.OPTIMAL
    True
    """

    OPTIMAL = "optimal"  # proven best for the stated objective
    FEASIBLE = "feasible"  # valid, with a bound and gap where one is known
    INFEASIBLE = "infeasible"  # proven: no valid result exists
    UNKNOWN = "unknown"  # stopped (time limit) without any valid result


__all__ = ["NOT_ALLOWED", "WEIGHT_SCALE", "Status", "numba_cache_dir"]
