"""The CLI is thin: options reach the API, errors become `Error:` lines and exit codes."""

from __future__ import annotations

import json
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
