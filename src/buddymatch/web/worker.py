"""Runs in the background: one child process per run, watched by a thread.

Why a process and not a thread: a run can be cancelled (the process is
terminated; numba and OR-Tools kernels cannot be interrupted from a thread),
and a crash in a solver cannot take the server down.  The child
(:mod:`.child`) calls the public library (``load_problem`` then ``solve``, or
``rematch`` for a re-match; both re-check every result with the independent
checker) and writes the results folder with
``MatchResult.write`` — atomically — inside the run's own folder, so two runs
never share a file.  The database row says ``done`` only after that folder is
complete; a server killed mid-run leaves the row ``running``, which the next
start turns into ``interrupted`` (nothing of it is shown as a result).

Progress is a fraction with a short message; the cohort search reports its
generation, the other solvers report stages only.  Messages and logs carry
counts, never names or e-mails.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .child import child_main
from .database import Database
from .inputs import StoredFile, materialise
from .models import DataFile, Run, SchemeVersion, now

log = logging.getLogger("buddymatch.web")
_CTX = mp.get_context("spawn")


class Runner:
    """Queues runs on a small thread pool; each thread supervises one child process."""

    def __init__(self, db: Database, data_dir: Path, workers: int = 2) -> None:
        self.db, self.data_dir = db, data_dir
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="run")
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()

    def recover(self) -> int:
        """Mark runs left queued or running by a stopped server as interrupted."""
        with self.db.session() as s:
            stale = s.scalars(select(Run).where(Run.status.in_(("queued", "running")))).all()
            for run in stale:
                run.status, run.message, run.finished_at = "interrupted", _INTERRUPTED, now()
                shutil.rmtree(self.data_dir / run.folder, ignore_errors=True)
            return len(stale)

    def submit(self, run_id: int) -> None:
        self._pool.submit(self._supervise, run_id)

    def cancel(self, run_id: int) -> None:
        with self._lock:
            self._cancelled.add(run_id)

    def _is_cancelled(self, run_id: int) -> bool:
        with self._lock:
            return run_id in self._cancelled

    def shutdown(self) -> None:
        with self.db.session() as s:
            ids = s.scalars(select(Run.id).where(Run.status.in_(("queued", "running")))).all()
        for run_id in ids:
            self.cancel(run_id)
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _update(self, run_id: int, **values: Any) -> None:
        with self.db.session() as s:
            run = s.get(Run, run_id)
            if run is not None:
                for key, value in values.items():
                    setattr(run, key, value)

    def _prepare(self, run_id: int) -> tuple[Path, int, tuple[str, int] | None] | None:
        """Write the run's inputs into its folder; None if it was cancelled while queued.

        For a re-match, also the folder of the result it repairs and its budget.
        """
        with self.db.session() as s:
            run = s.get(Run, run_id)
            if run is None or run.status != "queued":
                return None
            version = s.get(SchemeVersion, run.scheme_version_id)
            ids = [int(i) for i in run.file_ids.split(",") if i]
            rows = s.scalars(select(DataFile).where(DataFile.id.in_(ids))).all()
            files = [StoredFile(f.name, f.purpose, f.content) for f in rows]
            folder = self.data_dir / run.folder
            materialise(folder / "inputs", files, version.yaml_text if version else "")
            rematch = None
            if run.kind == "rematch" and run.base_run_id is not None:
                base = s.get(Run, run.base_run_id)
                previous = self.data_dir / (base.folder if base else "missing") / "result"
                rematch = (str(previous), run.max_changes)
            run.status, run.message = "running", "starting"
            return folder, run.seed, rematch

    def _supervise(self, run_id: int) -> None:
        try:
            prepared = None if self._is_cancelled(run_id) else self._prepare(run_id)
            if prepared is None:
                self._finish(run_id, "cancelled", "cancelled before it started", None)
                return
            self._watch(run_id, *prepared)
        except Exception as exc:  # never lose a run silently
            log.error("run %d: supervisor failed (%s)", run_id, type(exc).__name__)
            self._finish(run_id, "failed", f"internal error ({type(exc).__name__})", None)

    def _watch(self, run_id: int, folder: Path, seed: int, rematch: tuple[str, int] | None) -> None:
        receive, send = _CTX.Pipe(duplex=False)
        proc = _CTX.Process(
            target=child_main, args=(str(folder), seed, send, rematch), daemon=False
        )
        proc.start()
        send.close()
        started = time.perf_counter()
        outcome: tuple[str, str] | None = None
        while outcome is None:
            if self._is_cancelled(run_id):
                proc.terminate()
                outcome = ("cancelled", "cancelled by the coordinator")
            elif receive.poll(0.25):
                outcome = self._message(run_id, receive)
            elif not proc.is_alive() and not receive.poll(0.1):
                outcome = ("failed", "the run process stopped unexpectedly; nothing was kept")
        proc.join(timeout=10)
        status, text = outcome
        log.info("run %d %s after %.1fs", run_id, status, time.perf_counter() - started)
        if status == "done":
            self._finish(run_id, "done", "", text)
        else:
            shutil.rmtree(folder / "result", ignore_errors=True)
            self._finish(run_id, status, text, None)

    def _message(self, run_id: int, receive: Connection) -> tuple[str, str] | None:
        try:
            kind, fraction, text = receive.recv()
        except EOFError:
            return ("failed", "the run process stopped unexpectedly; nothing was kept")
        if kind == "progress":
            self._update(run_id, progress=float(fraction), message=str(text))
            return None
        return (str(kind), str(text))

    def _finish(self, run_id: int, status: str, message: str, summary: str | None) -> None:
        values: dict[str, Any] = {"status": status, "message": message, "finished_at": now()}
        if summary is not None:
            values.update(summary_json=summary, progress=1.0)
        self._update(run_id, **values)
        with self._lock:
            self._cancelled.discard(run_id)


_INTERRUPTED = "the server stopped during this run; nothing of it was kept — run it again"
