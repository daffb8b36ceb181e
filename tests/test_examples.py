"""Every example runs: each file in constraints/ and sample_data/ and the Makefile's
demo recipe, through the real CLI (the README's commands run in tests/test_docs.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli
from buddymatch.config import load_scheme

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = sorted(p.name for p in (ROOT / "constraints").iterdir() if p.suffix in (".yaml", ".toml"))
FEEDBACK = sorted(p.name for p in (ROOT / "sample_data").glob("feedback*.csv"))
PROFILES = sorted(
    p.name
    for p in (ROOT / "sample_data").iterdir()
    if p.suffix in (".csv", ".xlsx") and p.name not in FEEDBACK
)


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", SCHEMES)
def test_every_example_scheme_is_valid(name: str) -> None:
    load_scheme(ROOT / "constraints" / name)


@pytest.mark.parametrize("profiles", PROFILES)
def test_every_sample_file_validates_against_the_mentoring_scheme(
    workdir: Path, profiles: str
) -> None:
    code, out, err = run(
        ["validate", f"sample_data/{profiles}", "-c", "constraints/mentoring.yaml"]
    )
    assert code == 0, err
    assert out.startswith("OK: no problems found.\n")


@pytest.mark.parametrize("name", SCHEMES)
def test_every_example_scheme_matches_the_sample(workdir: Path, name: str) -> None:
    code, out, err = run(
        [
            "match",
            "sample_data/profiles.csv",
            "-c",
            f"constraints/{name}",
            "-o",
            "out",
            "--rounds",
            "1",
            "--iterations",
            "2",
        ]
    )
    assert code == 0, err
    assert "participants matched" in out
    assert (workdir / "out" / "summary.json").exists()


def _makefile_demo_commands() -> list[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    recipe = text.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    return [
        " ".join(line.split()).replace("$(BIN)/", "")
        for line in recipe.splitlines()
        if "$(BIN)/buddymatch" in line
    ]


def test_makefile_demo_commands_run(workdir: Path) -> None:
    commands = _makefile_demo_commands()
    assert any("match" in c for c in commands)
    for command in commands:
        args = shlex.split(command)[1:]
        if args[0] == "match" and "cohorts" in command:
            args += ["--iterations", "2"]
        code, _, err = run(args)
        assert code == 0, f"{command}\n{err}"


@pytest.mark.parametrize("feedback", FEEDBACK)
def test_every_feedback_file_applies_to_a_match_and_a_rematch(workdir: Path, feedback: str) -> None:
    import csv

    import yaml

    data = yaml.safe_load((workdir / "constraints" / "mentoring.yaml").read_text(encoding="utf-8"))
    data["feedback"] = {"file": f"../sample_data/{feedback}", "continuing_bonus": 10}
    (workdir / "constraints" / "with-feedback.yaml").write_text(yaml.safe_dump(data), "utf-8")
    scheme = ["-c", "constraints/with-feedback.yaml"]
    code, _, err = run(["match", "sample_data/profiles.csv", *scheme, "-o", "out/1", "--seed", "1"])
    assert code == 0, err
    with (workdir / "sample_data" / feedback).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    made = (workdir / "out" / "1" / "matches.csv").read_text(encoding="utf-8")
    for row in rows:
        pair = f"{row['mentor_id']},{row['mentee_id']}"
        assert (pair in made) == (row["outcome"] == "continuing"), pair
    later = ["rematch", "out/1", "sample_data/profiles_later.csv", *scheme, "-o", "out/2"]
    code, out, err = run(later)
    assert code == 0, err
    assert "kept" in out and (workdir / "out" / "2" / "changes.csv").exists()
