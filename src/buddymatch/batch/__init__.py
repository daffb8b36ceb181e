"""Batch runs per cohort and what-if sweeps, executed as tasks on Dask.

    >>> from buddymatch.batch import run_batch
    >>> report = run_batch("examples/regions.yaml", "out/regions")   # doctest: +SKIP
    >>> report.exit_code, [r["status"] for r in report.rows]          # doctest: +SKIP

A manifest (see docs/batch.md) lists runs: explicit, ``split_by`` an attribute
of one intake, or a ``sweep`` over scheme key paths.  Each run's folder is what
``buddymatch match`` writes, byte for byte; OUT/batch.csv has one row per run
and OUT/sweep.html plots a sweep's trade-off.  Results do not depend on the
number of workers or the order runs finish in.
"""

from .cluster import ClusterError, local_cluster
from .manifest import Entry, Manifest, load_manifest
from .plan import Plan, RunSpec, plan_runs
from .run import BatchReport, run_batch
from .worker import COLUMNS, execute_run

__all__ = [
    "COLUMNS",
    "BatchReport",
    "ClusterError",
    "Entry",
    "Manifest",
    "Plan",
    "RunSpec",
    "execute_run",
    "load_manifest",
    "local_cluster",
    "plan_runs",
    "run_batch",
]
