"""``run_batch``: validate the manifest, plan, run on Dask, write the batch's outputs.

Order matters for the guarantees: the manifest is validated before any
cluster starts or any file is written (bad manifest: exit 2, nothing done);
each run's folder is complete before its resume record is written; batch.csv
and sweep.html are written last, from rows put back in manifest order.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import outputs
from .cluster import ClusterError, client_for, run_all
from .manifest import Manifest, load_manifest
from .plan import Plan, RunSpec, plan_runs
from .sweep import write_sweep_report
from .worker import FAILED, base_row

Progress = Callable[[str, dict[str, Any]], None]
"""Called with ("start", {"total": n}) once, then ("run", row) per finished run."""


@dataclass
class BatchReport:
    """What a batch did: one row per run in manifest order, and where it wrote.

    ``executed`` and ``reused`` name runs in manifest order too, whatever order
    the workers finished them in.
    """

    out: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    sweep_report: Path | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == FAILED]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_batch(
    manifest: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    timings: bool = False,
    progress: Progress | None = None,
) -> BatchReport:
    """Run every run of ``manifest`` into ``out``; see docs/batch.md.

    Raises :class:`~buddymatch.errors.ConfigError` for a bad manifest and
    :class:`~buddymatch.errors.InputError` for an output folder it may not use,
    both before anything runs.  A run that fails is a row, not an exception.
    """
    started = time.perf_counter()
    parsed = load_manifest(manifest)
    target = Path(out).resolve()
    fresh = not target.exists() or not any(target.iterdir())
    outputs.guard(target, resume=resume, force=force)
    try:
        return _run(
            parsed,
            plan_runs(parsed, target),
            target,
            (workers, scheduler, timings),
            progress,
            resume,
            started,
        )
    except ClusterError:
        if fresh:  # nothing ran: leave no half-made output folder behind
            shutil.rmtree(target, ignore_errors=True)
        raise


def _run(
    parsed: Manifest,
    plan: Plan,
    target: Path,
    how: tuple[int | None, str | None, bool],
    progress: Progress | None,
    resume: bool,
    started: float,
) -> BatchReport:
    """Run the planned runs not reusable, then write batch.csv and sweep.html."""
    report = BatchReport(target)
    rows = _reuse(plan, target, report) if resume else {}
    pending = [s for s in plan.runs if s.name not in rows]
    if progress is not None:
        progress("start", {"total": len(plan.runs) + len(plan.failures), "done": len(rows)})
    if pending:
        rows.update(_execute(pending, target, how, progress, report))
    for failure in plan.failures:
        row = {**base_row(_failure_spec(failure)), "status": FAILED, "error": failure.error}
        rows[failure.name] = row
        if progress is not None:
            progress("run", row)
    report.rows = [rows[n] for n in plan.order]
    ran = set(report.executed)
    report.executed = [n for n in plan.order if n in ran]
    outputs.write_batch_csv(target, report.rows, timings=how[2])
    report.sweep_report = write_sweep_report(target, parsed, plan, rows)
    report.seconds = time.perf_counter() - started
    return report


def _reuse(plan: Plan, out: Path, report: BatchReport) -> dict[str, dict[str, Any]]:
    rows = {}
    for spec in plan.runs:
        row = outputs.reusable(out, spec)
        if row is not None:
            rows[spec.name] = row
            report.reused.append(spec.name)
    return rows


def _execute(
    specs: list[RunSpec],
    out: Path,
    how: tuple[int | None, str | None, bool],
    progress: Progress | None,
    report: BatchReport,
) -> dict[str, dict[str, Any]]:
    """Run ``specs`` on the cluster ``how = (workers, scheduler, timings)`` asks for."""
    workers, scheduler, timings = how
    by_name = {s.name: s for s in specs}
    rows: dict[str, dict[str, Any]] = {}

    def done(row: dict[str, Any]) -> None:
        row = outputs.timed(row, timings)
        rows[row["run"]] = row
        report.executed.append(row["run"])
        outputs.record(out, by_name[row["run"]], row)
        if progress is not None:
            progress("run", row)

    with client_for(workers, scheduler) as client:
        run_all(client, specs, done)
    outputs.clean_staging(out, by_name)
    return rows


def _failure_spec(failure: Any) -> RunSpec:
    return RunSpec(name=failure.name, entry=failure.entry, profiles=(), scheme="", out_dir="")
