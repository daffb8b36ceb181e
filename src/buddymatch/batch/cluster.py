"""Where runs execute: a Dask LocalCluster by default, or an existing cluster.

A LocalCluster has one single-threaded worker *process* per core (``workers``),
listening on 127.0.0.1 only, with BLAS, OpenMP and numba limited to one thread
so two workers do not fight over a core.  ``scheduler`` connects to a running
cluster instead (``tcp://host:8786``); its workers must run the same buddymatch
version (checked before anything is submitted) and see the same paths.

Dask re-runs a task whose worker was lost (up to ``distributed.scheduler.
allowed-failures`` times); :func:`run_all` turns a task that still failed into
a failed row, so one run never stops the others.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import buddymatch
from buddymatch.errors import BuddymatchError

from .plan import RunSpec
from .worker import execute_run, failed_row

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


class ClusterError(BuddymatchError):
    """The cluster cannot be reached or runs another buddymatch version (exit code 2)."""


@contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Any]:
    """A LocalCluster of ``workers`` (default: cores) single-threaded worker processes."""
    from dask.distributed import LocalCluster

    count = workers or os.cpu_count() or 1
    with _quiet_dask():
        cluster = LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,  # no dashboard; its health endpoint on any free port:
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
            env=ONE_THREAD,  # numba's kernel cache is found by the library itself
        )
        try:
            yield cluster
        finally:
            cluster.close()


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's INFO chatter (workers starting, closing) is not for coordinators."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def client_for(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A connected Dask client: to ``scheduler`` when given, else to a new LocalCluster."""
    from dask.distributed import Client

    if scheduler is None:
        with local_cluster(workers) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}) — "
            "start it (dask scheduler) or check the address"
        ) from None
    try:
        check_versions(client)
        yield client
    finally:
        client.close()


def check_versions(client: Any) -> None:
    """Refuse a cluster whose workers run another buddymatch version (results would differ)."""
    found = client.run(_version)
    other = sorted({v for v in found.values() if v != buddymatch.__version__})
    if not found:
        raise ClusterError("the Dask cluster has no workers — start at least one (dask worker)")
    if other:
        raise ClusterError(
            f"the cluster's workers run buddymatch {', '.join(other)}, this is "
            f"{buddymatch.__version__} — install the same version on every worker"
        )


def _version() -> str:
    return buddymatch.__version__


def run_all(client: Any, specs: Sequence[RunSpec], done: Callable[[dict[str, Any]], None]) -> None:
    """Submit every run; call ``done(row)`` as each finishes, in completion order."""
    from dask.distributed import as_completed

    batch = secrets.token_hex(4)  # a new key each batch: never an earlier batch's result
    futures = {
        client.submit(execute_run, spec, key=f"buddymatch-{spec.name}-{batch}", pure=False): spec
        for spec in specs
    }
    for future in as_completed(futures):
        spec = futures[future]
        try:
            row = future.result()
        except Exception as exc:  # KilledWorker after repeated losses, or a cancelled task
            row = failed_row(
                spec, f"the run did not complete on the cluster ({type(exc).__name__})"
            )
        future.release()
        done(row)
