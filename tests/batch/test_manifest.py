"""Manifest validation: key paths, did-you-mean, every problem at once, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.batch import load_manifest
from buddymatch.cli import cli
from buddymatch.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _write(folder: Path, text: str) -> Path:
    path = folder / "batch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _lines(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    return info.value.lines


def test_examples_load_with_defaults_and_absolute_paths() -> None:
    manifest = load_manifest(EXAMPLES / "gap-sweep.yaml")
    (entry,) = manifest.entries
    assert entry.profiles == ((ROOT / "sample_data" / "profiles.csv").resolve(),)
    assert entry.scheme == (ROOT / "constraints" / "mentoring.yaml").resolve()
    assert entry.options == {"seed": 1}
    assert [k for k, _ in entry.sweep] == ["rules[1].gap.max", "criteria[0].weight"]
    assert len(entry.settings()) == 9
    assert entry.settings()[0] == (("rules[1].gap.max", 2), ("criteria[0].weight", 1))
    (split,) = load_manifest(EXAMPLES / "regions.yaml").entries
    assert split.split_by == "region" and split.settings() == [()]


def test_every_problem_at_once_with_key_paths_and_suggestions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""\
version: 1
defaults:
  profiles: {ROOT}/sample_data/profiles.csv
  scheme: {ROOT}/constraints/mentoring.yaml
  objective: max-matchd
run: []
runs:
  - name: good
  - name: north
    sweeps:
      rules[1].gap.max: [2, 3]
  - name: bad name!
  - name: good
    split_by: regoin
  - name: typo
    overrides:
      rules[1].gap.mx: 4
  - name: grid
    sweep:
      rules[1].gap.max: 4
  - name: values
    sweep:
      rules[1].gap.max: [2, "four"]
  - {{name: nofile, profiles: missing.csv}}
""",
    )
    lines = _lines(path)
    label = str(path)
    scheme = f"{path} runs[4] (mentoring.yaml)"
    expected = [
        f'{label}: key "run": unknown key — did you mean "runs"?',
        f'{label}: key "defaults.objective": "max-matchd" is not allowed; expected '
        'max-matched, max-score, fair — did you mean "max-matched"?',
        f'{label}: key "runs[1].sweeps": unknown key — did you mean "sweep"?',
        f'{label}: key "runs[2].name": "bad name!" is not a run name — use letters, digits, '
        "'.', '-' or '_' (a folder of OUT), starting with a letter or digit",
        f'{label}: key "runs[3].split_by": unknown attribute "regoin"; the scheme defines '
        "availability, band, expertise, interests, org_type, organisation, profession, region "
        '— did you mean "region"?',
        f'{scheme}: key "rules[1].gap.mx": unknown key — did you mean "max"?',
        f'{label}: key "runs[5].sweep": "rules[1].gap.max" needs a non-empty list of values, '
        "e.g. [2, 3, 4]",
        f'{label}: key "runs[7].profiles": file not found: missing.csv — paths are relative '
        "to the manifest's folder",
        f'{label}: key "runs[3].name": run name "good" is also used by runs[0] '
        "— give each run its own name",
    ]
    for line in expected:
        assert line in lines
    assert any(
        line.startswith(f'{path} runs[6] (mentoring.yaml): key "rules[1].gap.max": input should')
        for line in lines
    )
    assert len(lines) == len(expected) + 1


def test_top_level_shape(tmp_path: Path) -> None:
    assert _lines(_write(tmp_path, "runs: {}\n")) == [
        f'{tmp_path / "batch.yaml"}: key "version": must be 1 — add `version: 1` at the top',
        f'{tmp_path / "batch.yaml"}: key "runs": must be a non-empty list of runs — list runs '
        "like `- {name: north, profiles: ..., scheme: ...}`",
    ]
    assert (
        "YAML tag not allowed"
        in _lines(_write(tmp_path, "version: !!python/object:os.system 1\n"))[0]
    )
    (tmp_path / "batch.toml").write_text("version = 1\n")
    assert "a batch manifest is a .yaml file" in _lines(tmp_path / "batch.toml")[0]


def test_split_by_needs_a_value_per_person(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""\
version: 1
runs:
  - name: x
    profiles: {ROOT}/sample_data/profiles.csv
    scheme: {ROOT}/constraints/mentoring.yaml
    split_by: interests
""",
    )
    assert _lines(path) == [
        f'{path}: key "runs[0].split_by": attribute "interests" is multi; split_by needs one '
        "value each — split by a plain or scale attribute"
    ]


def test_cli_bad_manifest_exits_2_before_anything_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 2\nruns: [{nme: x}]\n")
    result = CliRunner().invoke(cli, ["batch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'Error: {path}: key "version": must be 1 — add `version: 1` at the top',
        f'Error: {path}: key "runs[0].nme": unknown key — did you mean "name"?',
        f'Error: {path}: key "runs[0].name": required key is missing',
        f'Error: {path}: key "runs[0].profiles": required key is missing',
        f'Error: {path}: key "runs[0].scheme": required key is missing',
    ]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_priorities_overrides_are_refused_where_the_scheme_has_none(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""\
version: 1
defaults:
  profiles: {ROOT}/sample_data/profiles.csv
  scheme: {ROOT}/constraints/cohorts.yaml
runs:
  - name: groups
    overrides:
      objective: {{priorities: [pairs]}}
  - name: peer
    scheme: {ROOT}/constraints/peer.yaml
    overrides:
      priority: {{attribute: region, values: [North], bonus: 5}}
  - name: mentoring
    scheme: {ROOT}/constraints/mentoring.yaml
    overrides:
      objective: {{priorities: [mentees-covered, pairs, score]}}
""",
    )
    lines = _lines(path)
    assert lines == [
        f'{path} runs[0] (cohorts.yaml): key "objective.priorities": the cohorts scheme has no '
        "priorities objective; use one of max-matched, max-score, fair",
        f'{path} runs[1] (peer.yaml): key "priority": the peer scheme does not favour people '
        "(priority:)",
    ]
    result = CliRunner().invoke(cli, ["batch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
