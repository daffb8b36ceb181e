"""The CLI is thin: options reach the API, errors become `Error:` lines and exit codes."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


MATCH = ("match", "sample_data/profiles.csv", "-c", "constraints/mentoring.yaml")


@pytest.mark.parametrize("command", ["validate", "match", "score", "explain", "report", "sample"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_match_writes_the_contract_files_and_refuses_to_overwrite(workdir: Path) -> None:
    first = run(*MATCH, "-o", "out")
    assert first.exit_code == 0, first.stderr
    assert sorted(p.name for p in (workdir / "out").iterdir()) == [
        "history.csv",
        "matches.csv",
        "summary.json",
        "unmatched.csv",
    ]
    summary = json.loads((workdir / "out" / "summary.json").read_text())
    for key in (
        "scheme",
        "status",
        "objective",
        "bound",
        "gap",
        "matched",
        "unmatched",
        "solver",
        "seed",
        "version",
        "input_hash",
        "config_hash",
    ):
        assert key in summary
    before = (workdir / "out" / "matches.csv").read_bytes()
    again = run(*MATCH, "-o", "out")
    assert again.exit_code == 2
    assert again.stderr == (
        'Error: Output folder "out" already exists and is not empty — choose another folder '
        "or pass --force to replace it\n"
    )
    assert (workdir / "out" / "matches.csv").read_bytes() == before
    forced = run(*MATCH, "-o", "out", "--force", "--objective", "fair")
    assert forced.exit_code == 0
    assert json.loads((workdir / "out" / "summary.json").read_text())["objective"] == "fair"


def test_xlsx_format_and_determinism(workdir: Path) -> None:
    assert run(*MATCH, "-o", "a", "--format", "xlsx", "--seed", "4").exit_code == 0
    assert run(*MATCH, "-o", "b", "--format", "xlsx", "--seed", "4").exit_code == 0
    for name in ("results.xlsx", "summary.json"):
        assert (workdir / "a" / name).read_bytes() == (workdir / "b" / name).read_bytes()


def test_timings_are_opt_in(workdir: Path) -> None:
    assert run(*MATCH, "-o", "t", "--timings").exit_code == 0
    assert "runtime_s" in json.loads((workdir / "t" / "summary.json").read_text())
    assert run(*MATCH, "-o", "u").exit_code == 0
    assert "runtime_s" not in json.loads((workdir / "u" / "summary.json").read_text())


def test_score_top_explain_and_report(workdir: Path) -> None:
    result = run(
        "score",
        "sample_data/profiles.csv",
        "-c",
        "constraints/mentoring.yaml",
        "-o",
        "pairs.csv",
        "--top",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    header = (workdir / "pairs.csv").read_text().splitlines()[0]
    assert header.startswith("mentor_id,mentee_id,score,")
    assert run(*MATCH, "-o", "out").exit_code == 0
    explained = run("explain", "out", "--pair", "p00001@example.nhs.uk", "p00003@example.nhs.uk")
    assert explained.exit_code == 0
    assert "Not allowed: is a forbidden pair." in explained.stdout
    report = run("report", "out", "-o", "report.html")
    assert report.exit_code == 0
    assert (workdir / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_unknown_id_in_explain_is_a_clean_error(workdir: Path) -> None:
    assert run(*MATCH, "-o", "out").exit_code == 0
    result = run("explain", "out", "--pair", "nobody@example.org", "p00003@example.nhs.uk")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: an id given is not in the profiles — check the spelling of the id\n"
    )
    assert "nobody@example.org" not in result.stderr


def test_usage_errors_exit_2_without_traceback(workdir: Path) -> None:
    result = run("match", "sample_data/profiles.csv", "-o", "x")
    assert result.exit_code == 2
    assert "Missing option '-c'" in result.stderr
    assert "Traceback" not in result.stderr


def test_infeasible_exits_1_with_reason(workdir: Path) -> None:
    scheme = (
        (workdir / "constraints" / "cohorts.yaml")
        .read_text()
        .replace("value: Nurse, count: 1", "value: Nurse, count: 7")
    )
    (workdir / "hard.yaml").write_text(scheme)
    result = run("match", "sample_data/profiles.csv", "-c", "hard.yaml", "-o", "x", "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Nurse" in result.stderr
    assert not (workdir / "x").exists()


def test_sample_command_writes_profiles_and_scheme(workdir: Path) -> None:
    result = run("sample", "--scheme", "peer", "--size", "30", "--seed", "2", "-o", "syn")
    assert result.exit_code == 0
    assert (workdir / "syn" / "profiles.csv").exists() and (
        workdir / "syn" / "scheme.yaml"
    ).exists()
    matched = run("match", "syn/profiles.csv", "-c", "syn/scheme.yaml", "-o", "syn-out")
    assert matched.exit_code == 0, matched.stderr


def test_batch_takes_workers_or_a_scheduler_not_both(tmp_path: Path) -> None:
    manifest = Path(__file__).resolve().parents[1] / "examples" / "regions.yaml"
    args = ["batch", str(manifest), "-o", str(tmp_path / "out"), "--workers", "2"]
    result = CliRunner().invoke(cli, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.stderr == "Error: give --workers (local processes) or --scheduler, not both\n"
    assert not (tmp_path / "out").exists()


def test_batch_progress_counts_runs_and_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    from buddymatch.cli import _batch_progress

    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    progress = _batch_progress(quiet=False)
    update = progress.__enter__()
    assert update is not None
    update("start", {"total": 3, "done": 1})
    update("run", {"status": "optimal"})
    update("run", {"status": "failed"})
    task = progress._bar.tasks[0]
    assert (task.completed, task.total, task.fields["failed"]) == (3, 3, 1)
    progress.__exit__(None, None, None)
    assert _batch_progress(quiet=True).__enter__() is None


# --- writes that cannot lose inputs; summaries without absolute paths -------------------------


def _small(folder: Path) -> None:
    from .conftest import PROFILES_CSV, SCHEME_YAML

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.csv").write_text(PROFILES_CSV)
    (folder / "scheme.yaml").write_text(SCHEME_YAML)


@pytest.mark.parametrize("output", [".", "sample_data", "./sample_data/.."])
def test_force_never_deletes_the_inputs(workdir: Path, output: str) -> None:
    before = sorted(p.name for p in workdir.rglob("*"))
    result = run(*MATCH, "-o", output, "--force")
    assert result.exit_code == 2
    shown = str(Path(output))  # as click passes it on
    assert result.stderr.startswith(f'Error: Output folder "{shown}" holds the input "')
    assert "choose a new folder for the results, e.g. -o results" in result.stderr
    assert sorted(p.name for p in workdir.rglob("*")) == before


def test_force_never_deletes_a_history_file_named_by_the_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _small(tmp_path)
    assert run("match", "profiles.csv", "-c", "scheme.yaml", "-o", "q1").exit_code == 0
    scheme = (tmp_path / "scheme.yaml").read_text() + "history: {file: q1/history.csv}\n"
    (tmp_path / "scheme.yaml").write_text(scheme)
    result = run("match", "profiles.csv", "-c", "scheme.yaml", "-o", "q1", "--force")
    assert result.exit_code == 2
    assert 'holds the input "q1/history.csv"' in result.stderr
    assert (tmp_path / "q1" / "history.csv").exists()


def test_summary_records_names_relative_paths_and_hashes(tmp_path: Path) -> None:
    """Same inputs in another folder give the same bytes; no absolute path is written."""
    outputs = []
    for name in ("first", "second"):
        root = tmp_path / name
        _small(root / "data")
        old = Path.cwd()
        os.chdir(root)
        try:
            result = run("match", "data/profiles.csv", "-c", "data/scheme.yaml", "-o", "out")
        finally:
            os.chdir(old)
        assert result.exit_code == 0, result.stderr
        outputs.append((root / "out" / "summary.json").read_bytes())
    assert outputs[0] == outputs[1]
    text = outputs[0].decode()
    assert str(tmp_path) not in text
    inputs = json.loads(text)["inputs"]
    assert inputs["profiles"][0]["name"] == "profiles.csv"
    assert inputs["profiles"][0]["path"] == "../data/profiles.csv"
    assert inputs["scheme"]["path"] == "../data/scheme.yaml"
    assert len(inputs["scheme"]["sha256"]) == 64 and inputs["files"] == []


def test_explain_finds_inputs_after_the_whole_tree_moves(tmp_path: Path) -> None:
    _small(tmp_path / "a" / "data")
    old = Path.cwd()
    os.chdir(tmp_path / "a")
    try:
        assert (
            run("match", "data/profiles.csv", "-c", "data/scheme.yaml", "-o", "out").exit_code == 0
        )
    finally:
        os.chdir(old)
    shutil.move(tmp_path / "a", tmp_path / "b")
    pair = ("--pair", "m1@example.test", "e1@example.test")
    explained = run("explain", str(tmp_path / "b" / "out"), *pair)
    assert explained.exit_code == 0, explained.stderr
    (tmp_path / "b" / "data" / "profiles.csv").write_text(
        (tmp_path / "b" / "data" / "profiles.csv").read_text().replace("North", "West")
    )
    changed = run("explain", str(tmp_path / "b" / "out"), *pair)
    assert changed.exit_code == 2
    assert changed.stderr == (
        'Error: "profiles.csv" has changed since this run (its SHA-256 differs) — explain '
        "against the files the run used, or run match again\n"
    )
    (tmp_path / "b" / "data" / "profiles.csv").unlink()
    missing = run("explain", str(tmp_path / "b" / "out"), *pair)
    assert missing.exit_code == 2 and "pass the profile files with --profiles" in missing.stderr


def test_closed_pipe_ends_quietly(workdir: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("buddymatch")),
        "validate",
        "sample_data/profiles.csv",
    ]
    command += ["-c", "constraints/mentoring.yaml"]
    shell = " ".join(shlex.quote(c) for c in command) + " | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=120
    )
    assert done.stdout == "OK: no problems found.\n"
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr


def test_many_rounds_warn_on_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _small(tmp_path)
    result = run("match", "profiles.csv", "-c", "scheme.yaml", "-o", "out", "--rounds", "20")
    assert result.exit_code in (0, 1), result.stderr
    assert "WARNING buddymatch: 20 rounds on 6 people are solved one after another" in (
        result.stderr
    )
    quiet = run("match", "profiles.csv", "-c", "scheme.yaml", "-o", "o2", "--rounds", "2")
    assert "WARNING" not in quiet.stderr


def test_score_and_report_never_replace_an_input(workdir: Path) -> None:
    before = (workdir / "sample_data" / "profiles.csv").read_bytes()
    args = ("score", "sample_data/profiles.csv", "-c", "constraints/mentoring.yaml", "-o")
    for target in ("sample_data/profiles.csv", "constraints/conflicts.csv"):
        result = run(*args, target, "--force")
        assert result.exit_code == 2
        assert result.stderr == (
            f'Error: "{target}" is the input "{target}": writing there would replace it — '
            "choose another name for the output\n"
        )
    assert (workdir / "sample_data" / "profiles.csv").read_bytes() == before
    assert run(*MATCH, "-o", "out").exit_code == 0
    report = run("report", "out", "-o", "out/summary.json", "--force")
    assert report.exit_code == 2 and "is the input" in report.stderr
    assert run("report", "out", "-o", "out/report.html").exit_code == 0


def test_feedback_file_is_a_recorded_and_protected_input(workdir: Path) -> None:
    scheme = "constraints/mentoring-feedback.yaml"
    if not (workdir / scheme).exists():
        pytest.skip("no feedback example scheme")
    result = run("match", "sample_data/profiles.csv", "-c", scheme, "-o", "out")
    assert result.exit_code == 0, result.stderr
    files = json.loads((workdir / "out" / "summary.json").read_text())["inputs"]["files"]
    assert "feedback.csv" in [f["name"] for f in files]
