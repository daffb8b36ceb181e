"""The run process: what a background run executes, with as few imports as possible.

Spawned by :class:`.worker.Runner` (``spawn`` start method: the child imports
only this module, and the library inside :func:`child_main`, not the server's
database or web stack — a second or more saved on every run).  It reads the
run's materialised inputs, calls the public library and writes the results
folder atomically; progress, the outcome and the summary go back over a pipe.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DEFAULT_GENERATIONS = 30
SCHEME = "scheme/scheme.yaml"


def _orphan_guard() -> None:
    """Exit when the server that started us is gone (killed, not stopped)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _progress_sender(conn: Connection, total: int) -> Callable[[dict[str, Any]], None]:
    def send(info: dict[str, Any]) -> None:
        done = min(1.0, float(info.get("iteration", 0)) / max(1, total))
        conn.send(
            ("progress", 0.15 + 0.75 * done, f"searching: generation {info.get('iteration', 0)}")
        )

    return send


def child_main(
    folder: str, seed: int, conn: Connection, rematch: tuple[str, int] | None = None
) -> None:
    """Entry point of the run process (module level: spawn pickles it by name).

    ``rematch`` is ``(previous result folder, max_changes)`` for a re-match run:
    ``buddymatch.rematch`` repairs that result for the run's sign-up sheets.
    """
    _orphan_guard()
    import buddymatch
    from buddymatch.errors import BuddymatchError
    from buddymatch.io.inputs import describe_inputs, run_inputs

    inputs = Path(folder) / "inputs"
    os.chdir(inputs)  # file names in messages are then just the upload names
    try:
        conn.send(("progress", 0.05, "reading the sign-up files"))
        profiles = sorted(str(p.relative_to(inputs)) for p in (inputs / "profiles").iterdir())
        if rematch is None:
            result = _match(buddymatch, profiles, seed, conn)
        else:
            result = _rematch(buddymatch, profiles, seed, conn, *rematch)
        conn.send(("progress", 0.95, "checked; writing the results"))
        out = Path(folder) / "result"
        files = run_inputs(
            [inputs / p for p in profiles], inputs / "scheme" / "scheme.yaml", result.problem.scheme
        )
        if rematch is not None:
            files["previous"] = [Path(rematch[0])]
        # names, paths relative to the result folder and hashes: no server path in downloads
        result.summary["inputs"] = describe_inputs(out, files)
        result.write(out)
        conn.send(("done", 1.0, json.dumps(result.summary, default=str)))
    except BuddymatchError as exc:  # as the coordinator uploaded them: no working folders
        text = "\n".join(exc.lines).replace("profiles/", "").replace("scheme/", "")
        conn.send(("failed", 0.0, text))
    except Exception as exc:  # a bug: say so, keep data out of the message
        conn.send(("failed", 0.0, f"internal error ({type(exc).__name__}); nothing was kept"))


def _match(buddymatch: Any, profiles: list[str], seed: int, conn: Connection) -> Any:
    problem = buddymatch.load_problem(profiles, SCHEME, overrides={"seed": seed})
    conn.send(("progress", 0.15, f"solving for {problem.n} participants"))
    total = problem.scheme.solver.iterations or DEFAULT_GENERATIONS
    return buddymatch.solve(problem, progress=_progress_sender(conn, total))


def _rematch(
    buddymatch: Any, profiles: list[str], seed: int, conn: Connection, previous: str, budget: int
) -> Any:
    from buddymatch.config import load_scheme

    total = load_scheme(SCHEME)[0].solver.iterations or DEFAULT_GENERATIONS
    conn.send(("progress", 0.15, "re-matching: keeping what still holds, placing the rest"))
    return buddymatch.rematch(
        previous,
        profiles,
        SCHEME,
        max_changes=budget,
        seed=seed,
        progress=_progress_sender(conn, total),
    )
