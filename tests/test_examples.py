"""Every example runs: each file in constraints/, sample_data/ and examples/ and the
Makefile's demo recipe, through the real CLI (the README's commands run in
tests/test_docs.py).

A scheme file goes with the profiles its usage comment names
(``#   buddymatch match sample_data/FILE -c constraints/...``); every sample file is
validated against the schemes made for it, or the mentoring scheme.  Every batch
manifest in examples/ runs on a real Dask LocalCluster."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli
from buddymatch.config import load_scheme

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = sorted(p.name for p in (ROOT / "constraints").iterdir() if p.suffix in (".yaml", ".toml"))
MANIFESTS = sorted(p.name for p in (ROOT / "examples").iterdir() if p.suffix == ".yaml")
FEEDBACK = sorted(p.name for p in (ROOT / "sample_data").glob("feedback*.csv"))
PROFILES = sorted(
    p.name
    for p in (ROOT / "sample_data").iterdir()
    if p.suffix in (".csv", ".xlsx") and p.name not in FEEDBACK
)


def profiles_for(scheme: str) -> str:
    """The profiles a scheme file is for (its usage comment), else sample_data/profiles.csv."""
    found = re.search(
        r"buddymatch match (sample_data/\S+)", (ROOT / "constraints" / scheme).read_text()
    )
    return found.group(1) if found else "sample_data/profiles.csv"


def schemes_for(profiles: str) -> list[str]:
    """The schemes made for a sample file, or the mentoring scheme."""
    made = [name for name in SCHEMES if profiles_for(name) == f"sample_data/{profiles}"]
    return made or ["mentoring.yaml"]


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", SCHEMES)
def test_every_example_scheme_is_valid(name: str) -> None:
    load_scheme(ROOT / "constraints" / name)


@pytest.mark.parametrize("profiles", PROFILES)
def test_every_sample_file_validates_against_its_schemes(workdir: Path, profiles: str) -> None:
    for scheme in schemes_for(profiles):
        code, out, err = run(["validate", f"sample_data/{profiles}", "-c", f"constraints/{scheme}"])
        assert code == 0, err
        assert out.startswith("OK: no problems found.\n")


def test_the_form_example_goes_with_its_own_profiles() -> None:
    assert profiles_for("learning-sets.yaml") == "sample_data/learning_sets_form.csv"
    assert schemes_for("learning_sets_form.csv") == ["learning-sets.yaml"]
    assert schemes_for("profiles.xlsx") == ["mentoring.yaml"]


@pytest.mark.parametrize("name", SCHEMES)
def test_every_example_scheme_matches_the_sample(workdir: Path, name: str) -> None:
    code, out, err = run(
        [
            "match",
            profiles_for(name),
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


def test_examples_folder_holds_only_batch_manifests() -> None:
    assert MANIFESTS and sorted(p.name for p in (ROOT / "examples").iterdir()) == MANIFESTS


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_batch_manifest_runs(workdir: Path, dask_scheduler: str, name: str) -> None:
    code, out, err = run(["batch", f"examples/{name}", "-o", "out", "--scheduler", dask_scheduler])
    assert code == 0, err
    assert " 0 failed; one row each in out/batch.csv." in out
