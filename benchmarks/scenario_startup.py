"""Start-up cost: `buddymatch --version`, and a first run with an empty kernel cache vs a warm one.

Every measurement is a fresh process running the installed `buddymatch`
command, as a user would, on the 150-person sample with the shipped schemes.

- `--version` imports only the CLI (the library loads inside commands).
- "cold": a new, empty BUDDYMATCH_CACHE_DIR, so every numba kernel the run
  uses is compiled (the first run after `pip install`).
- "warm": the same cache again (every later run).
- "after warm-up": an empty cache, `buddymatch warm-up` (what `make` runs right
  after installing; a `pip install` user runs it once), then the first run.
- `validate` loads no solver at all (no kernel is compiled).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMMAND = Path(sys.executable).parent / "buddymatch"


def _seconds(args: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(COMMAND), *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def _match(scheme: str, out: Path) -> list[str]:
    return [
        "match", "sample_data/profiles.csv", "-c", f"constraints/{scheme}",
        "-o", str(out), "--force", "--quiet", "--iterations", "5",
    ]  # fmt: skip


def run(quick: bool) -> str:
    repeats = 3 if quick else 7
    base = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**base, "BUDDYMATCH_CACHE_DIR": str(work / "cache")}
        version = statistics.median(_seconds(["--version"], env, ROOT) for _ in range(repeats))
        validate = statistics.median(
            _seconds(["validate", "sample_data/profiles.csv", "-c", "constraints/mentoring.yaml"],
                     env, ROOT)
            for _ in range(repeats)
        )  # fmt: skip
        for scheme in ("mentoring.yaml", "peer.yaml", "cohorts.yaml"):
            shutil.rmtree(work / "cache", ignore_errors=True)
            cold = _seconds(_match(scheme, work / "out"), env, ROOT)
            warm = statistics.median(
                _seconds(_match(scheme, work / "out"), env, ROOT) for _ in range(repeats)
            )
            shutil.rmtree(work / "cache", ignore_errors=True)
            warming = _seconds(["warm-up", "--quiet"], env, ROOT)
            after = _seconds(_match(scheme, work / "out"), env, ROOT)
            rows.append((scheme, cold, warm, warming, after))
    lines = [
        "## Start-up: --version, validate, first run vs warm run",
        "",
        __doc__.split("\n\n", 1)[1].strip(),
        "",
        f"`buddymatch --version`: {version:.2f} s (median of {repeats}; goal ≤ 0.3 s). "
        f"`buddymatch validate` (150 people): {validate:.2f} s.",
        "",
        "| scheme (150 people) | first run, empty cache (s) | warm run (s) | difference (s) "
        "| `buddymatch warm-up` on an empty cache (s) | first run after it (s) "
        "| difference (s, goal ≤ 1.5) |",
        "|---|---|---|---|---|---|---|",
    ]
    for scheme, cold, warm, warming, after in rows:
        lines.append(
            f"| {scheme} | {cold:.2f} | {warm:.2f} | {cold - warm:.2f} | {warming:.2f} "
            f"| {after:.2f} | {after - warm:.2f} |"
        )
    lines.append("")
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.2f} (2 cores).")
    return "\n".join(lines) + "\n"
