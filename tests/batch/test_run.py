"""Batches on a real Dask LocalCluster (2 worker processes): the issue's "done means".

Each run's folder must be byte for byte what ``buddymatch match`` writes alone;
the OUT folder must not depend on the number of workers; a failing run must not
stop the others; ``--resume`` must re-run nothing complete; a worker killed
mid-batch (a worker process of a cluster this test owns) must not cost a run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from buddymatch.batch import local_cluster, run_batch
from buddymatch.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MENTORING = ROOT / "constraints" / "mentoring.yaml"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _result(folder: Path) -> dict[str, Any]:
    """A result folder's files byte for byte, but summary.json's inputs without their paths.

    summary.json records each input's path relative to the result folder, so two
    folders in different places name the same file differently; its name and
    SHA-256 (and everything else) must still be equal.
    """
    files: dict[str, Any] = _files(folder)
    summary = json.loads(files.pop("summary.json"))
    for entries in summary.get("inputs", {}).values():
        for entry in entries if isinstance(entries, list) else [entries]:
            entry.pop("path", None)
    return {**files, "summary.json": summary}


def _match(*args: str) -> None:
    result = CliRunner().invoke(cli, ["match", *args, "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _without_inputs(folder: Path) -> dict[str, Any]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary.pop("inputs")
    return summary


def test_split_by_region_equals_each_region_matched_alone(
    tmp_path: Path, dask_scheduler: str
) -> None:
    out = tmp_path / "out"
    report = run_batch(EXAMPLES / "regions.yaml", out, scheduler=dask_scheduler)
    assert report.exit_code == 0
    frame = pd.read_csv(ROOT / "sample_data" / "profiles.csv", dtype=str, keep_default_na=False)
    regions = sorted(frame["Region"].unique())
    assert [r["split"] for r in report.rows] == regions
    assert sum(r["participants"] for r in report.rows) == len(frame)
    for region in regions:
        alone = tmp_path / "alone" / region
        alone.mkdir(parents=True)
        frame[frame["Region"] == region].to_csv(alone / "profiles.csv", index=False)
        _match(
            str(alone / "profiles.csv"),
            "-c",
            str(MENTORING),
            "-o",
            str(alone / "out"),
            "--seed",
            "1",
        )
        ran = out / f"mentoring-{region.lower()}"
        for name in ("matches.csv", "unmatched.csv"):
            assert (ran / name).read_bytes() == (alone / "out" / name).read_bytes(), region
        assert _without_inputs(ran) == _without_inputs(alone / "out")  # input_hash too
    # and byte for byte (summary.json: but for the inputs' relative paths), with the part
    # file the batch wrote
    part = out / "_inputs" / "mentoring-north" / "profiles.csv"
    _match(str(part), "-c", str(MENTORING), "-o", str(tmp_path / "north"), "--seed", "1")
    assert _result(tmp_path / "north") == _result(out / "mentoring-north")


def test_sweep_runs_equal_each_setting_matched_alone(tmp_path: Path, dask_scheduler: str) -> None:
    out = tmp_path / "out"
    report = run_batch(EXAMPLES / "gap-sweep.yaml", out, scheduler=dask_scheduler)
    assert report.exit_code == 0 and len(report.rows) == 9
    for row in report.rows:
        scheme = out / "_inputs" / row["run"] / "scheme.yaml"
        solo = tmp_path / "solo" / row["run"]
        profiles = ROOT / "sample_data" / "profiles.csv"
        _match(str(profiles), "-c", str(scheme), "-o", str(solo), "--seed", "1")
        assert _result(solo) == _result(out / row["run"]), row["run"]
    # the same value set in the scheme file by hand gives the same pairs
    text = MENTORING.read_text(encoding="utf-8").replace("max: 3}", "max: 4}")
    (tmp_path / "edited.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "conflicts.csv").write_bytes((ROOT / "constraints" / "conflicts.csv").read_bytes())
    _match(
        str(profiles), "-c", str(tmp_path / "edited.yaml"), "-o", str(tmp_path / "e"), "--seed", "1"
    )
    swept = out / "gap-max4-weight5"  # weight 5 is the file's own
    assert (tmp_path / "e" / "matches.csv").read_bytes() == (swept / "matches.csv").read_bytes()
    html = (out / "sweep.html").read_text(encoding="utf-8")
    assert html.count("<circle") == 9 and "max=4, weight=5" in html


def test_one_worker_and_two_give_the_same_bytes(tmp_path: Path, dask_scheduler: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        (EXAMPLES / "gap-sweep.yaml")
        .read_text(encoding="utf-8")
        .replace("../", f"{ROOT}/")
        .replace("[1, 3, 5]", "[1, 5]"),
        encoding="utf-8",
    )
    out = tmp_path / "out"  # one path: summary.json records the absolute input paths
    run_batch(manifest, out, scheduler=dask_scheduler)
    two = _files(out)
    shutil.rmtree(out)
    run_batch(manifest, out, workers=1)
    assert _files(out) == two


def _failing_manifest(folder: Path) -> Path:
    broken = folder / "broken.csv"
    broken.write_text("Email,Organisation\nx@example.test,Org A\n", encoding="utf-8")
    cohorts = (ROOT / "constraints" / "cohorts.yaml").resolve()
    path = folder / "m.yaml"
    path.write_text(
        f"""\
version: 1
defaults:
  profiles: {ROOT}/sample_data/profiles.csv
  scheme: {MENTORING}
runs:
  - name: fine
  - name: bad-input
    profiles: {broken}
  - name: infeasible
    scheme: {cohorts}
    overrides:
      rules[0].at_least.count: 9
  - name: bad-split
    profiles: {broken}
    split_by: region
  - name: also-fine
    seed: 3
""",
        encoding="utf-8",
    )
    return path


def test_failed_runs_are_rows_and_the_others_complete(tmp_path: Path, dask_scheduler: str) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["batch", str(_failing_manifest(tmp_path)), "-o", str(out), "--scheduler", dask_scheduler],
    )
    assert result.exit_code == 1
    assert "Error: 3 of 5 runs failed — see the error column of" in result.stderr
    rows = pd.read_csv(out / "batch.csv", dtype=str, keep_default_na=False)
    assert rows["run"].tolist() == ["fine", "bad-input", "infeasible", "bad-split", "also-fine"]
    assert rows["status"].tolist() == ["optimal", "failed", "failed", "failed", "optimal"]
    errors = dict(zip(rows["run"], rows["error"], strict=True))
    assert "broken.csv" in errors["bad-input"] and 'column "I want to be a"' in errors["bad-input"]
    assert "facilitator=Yes" in errors["infeasible"]
    assert "broken.csv" in errors["bad-split"]
    assert "@" not in "".join(errors.values())  # never an e-mail (or a name)
    assert (out / "fine" / "matches.csv").is_file() and (
        out / "also-fine" / "matches.csv"
    ).is_file()
    assert not (out / "bad-input").exists() and not (out / "infeasible").exists()


def _stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in out.rglob("*")
        if p.is_file() and p.parent.name not in ("_state",) and p.name != "batch.csv"
    }


def test_resume_reruns_nothing_complete(tmp_path: Path, dask_scheduler: str) -> None:
    manifest, out = _failing_manifest(tmp_path), tmp_path / "out"
    first = run_batch(manifest, out, scheduler=dask_scheduler)
    before, table = _stamps(out), (out / "batch.csv").read_bytes()
    again = run_batch(manifest, out, scheduler=dask_scheduler, resume=True)
    assert again.reused == ["fine", "also-fine"]
    assert again.executed == ["bad-input", "infeasible"]  # failed runs are tried again
    assert _stamps(out) == {k: v for k, v in before.items()}  # complete runs untouched
    assert (out / "batch.csv").read_bytes() == table
    assert [r["status"] for r in again.rows] == [r["status"] for r in first.rows]
    # a run whose folder went missing, or whose input changed, runs again
    shutil.rmtree(out / "fine")
    manifest.write_text(manifest.read_text().replace("seed: 3", "seed: 4"))
    third = run_batch(manifest, out, scheduler=dask_scheduler, resume=True)
    assert third.executed == ["fine", "bad-input", "infeasible", "also-fine"]  # manifest order
    assert third.reused == []


def test_a_non_empty_output_folder_needs_resume_or_force(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    result = CliRunner().invoke(
        cli, ["batch", str(EXAMPLES / "regions.yaml"), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "already exists and is not empty — pass --resume" in result.stderr


def _cohort_manifest(folder: Path, runs: int) -> Path:
    path = folder / "m.yaml"
    lines = [
        "version: 1",
        "defaults:",
        f"  profiles: {ROOT}/sample_data/profiles.csv",
        f"  scheme: {ROOT}/constraints/cohorts.yaml",
        "  iterations: 3",
        "runs:",
    ]
    lines += [f"  - {{name: seed{k}, seed: {k}}}" for k in range(1, runs + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_worker_lost_mid_batch_costs_no_run(tmp_path: Path) -> None:
    manifest, out = _cohort_manifest(tmp_path, 3), tmp_path / "out"
    with local_cluster(2) as cluster:  # this test's own cluster: killing its worker is safe
        from dask.distributed import Client

        with Client(cluster) as client:
            pids = client.run(os.getpid)
            result: dict[str, Any] = {}
            thread = threading.Thread(
                target=lambda: result.update(
                    report=run_batch(manifest, out, scheduler=cluster.scheduler_address)
                )
            )
            thread.start()
            victim, running = _busy_worker(client)
            os.kill(pids[victim], signal.SIGKILL)
            thread.join(timeout=240)
            assert not thread.is_alive()
    report = result["report"]
    assert report.exit_code == 0
    assert all(r["status"] in ("optimal", "feasible") for r in report.rows)
    assert any(k.startswith(f"buddymatch-{r['run']}-") for r in report.rows for k in running)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no staging left
    solo = tmp_path / "solo"
    for k in range(1, 4):
        args = ["-c", str(ROOT / "constraints" / "cohorts.yaml"), "--iterations", "3"]
        profiles = str(ROOT / "sample_data" / "profiles.csv")
        _match(profiles, *args, "--seed", str(k), "-o", str(solo / f"seed{k}"))
        assert _result(solo / f"seed{k}") == _result(out / f"seed{k}")


def _busy_worker(client: Any) -> tuple[str, tuple[str, ...]]:
    """A worker running one of the batch's tasks (waits up to a minute for one)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        executing = client.run(
            lambda dask_worker: tuple(str(t.key) for t in dask_worker.state.executing)
        )
        for address, keys in executing.items():
            if any(k.startswith("buddymatch-") for k in keys):
                time.sleep(0.3)  # well inside a run of a few seconds
                return address, keys
        time.sleep(0.05)
    pytest.fail("no batch task started on the cluster")


def test_priorities_as_overrides_equal_the_scheme_matched_alone(
    tmp_path: Path, dask_scheduler: str
) -> None:
    """A batch run may switch the objective to priorities and favour people by key path."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"""\
version: 1
defaults:
  profiles: {ROOT}/sample_data/profiles.csv
  scheme: {MENTORING}
  seed: 1
runs:
  - name: programme
    overrides:
      objective: {{priorities: [mentees-covered, mentors-covered, pairs, score]}}
      priority: {{attribute: region, values: [North], bonus: 5}}
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    report = run_batch(manifest, out, scheduler=dask_scheduler)
    assert report.exit_code == 0, report.rows
    summary = json.loads((out / "programme" / "summary.json").read_text(encoding="utf-8"))
    names = [lv["name"] for lv in summary["priorities"]]
    assert names == ["mentees-covered", "mentors-covered", "pairs", "score"]
    scheme = out / "_inputs" / "programme" / "scheme.yaml"  # file references made absolute
    solo = tmp_path / "solo"
    _match(f"{ROOT}/sample_data/profiles.csv", "-c", str(scheme), "-o", str(solo), "--seed", "1")
    assert (solo / "matches.csv").read_bytes() == (out / "programme" / "matches.csv").read_bytes()
