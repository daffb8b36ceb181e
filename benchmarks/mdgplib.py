"""Loader for MDGPLIB instances (the public yardstick of the grouping solver).

Files are ``<Family>_n<N>_<ss|ds>_<K>.txt.gz``: a header ``n G ss|ds lb_1 ub_1 ... lb_G ub_G``
then one ``i j d_ij`` line per pair (0-based, i < j).  ``reference_values.csv`` gives the
optimum (n = 10, 12) or best known value (larger n) per instance.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class MdgpInstance:
    """One instance: symmetric benefit matrix and per-group size bounds."""

    name: str
    benefit: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def load_instance(path: str | Path) -> MdgpInstance:
    """Read one (gzip or plain) instance file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        head = fh.readline().split()
        n, groups = int(head[0]), int(head[1])
        bounds = np.array([int(v) for v in head[3 : 3 + 2 * groups]], dtype=np.int64)
        data = np.loadtxt(fh, dtype=np.float64, ndmin=2)
    benefit = np.zeros((n, n))
    i = data[:, 0].astype(np.int64)
    j = data[:, 1].astype(np.int64)
    benefit[i, j] = data[:, 2]
    benefit[j, i] = data[:, 2]
    name = path.name.split(".")[0]
    return MdgpInstance(name, benefit, bounds[0::2].copy(), bounds[1::2].copy())


def reference_values(folder: str | Path) -> dict[str, tuple[float, str]]:
    """``{instance: (value, kind)}`` from ``reference_values.csv`` (kind: optimal/best_known)."""
    out: dict[str, tuple[float, str]] = {}
    with open(Path(folder) / "reference_values.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = (float(row["value"]), row["kind"])
    return out


def instance_paths(folder: str | Path, pattern: str = "*") -> list[Path]:
    """Instance files in ``folder`` whose name matches ``pattern`` (glob), sorted."""
    return sorted(Path(folder).glob(f"{pattern}.txt.gz"))
