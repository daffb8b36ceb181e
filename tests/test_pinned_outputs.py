"""Outputs pinned byte for byte on the shipped examples.

A refactor must not change what a user gets: every output file of a set of
runs over constraints/ and sample_data/ is compared with a copy kept under
tests/data/pinned/.  A deliberate change of output regenerates the copies:

    BUDDYMATCH_UPDATE_PINNED=1 .venv/bin/pytest tests/test_pinned_outputs.py

and the diff of tests/data/pinned/ is then reviewed and committed with the change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import buddymatch

ROOT = Path(__file__).resolve().parents[1]
PINNED = ROOT / "tests" / "data" / "pinned"
UPDATE = bool(os.environ.get("BUDDYMATCH_UPDATE_PINNED"))


def _scheme(name: str, **changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "constraints" / name).read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _with_forbid(data: dict[str, Any]) -> dict[str, Any]:
    rules = [r for r in data["rules"] if "forbid" not in r]
    return {**data, "rules": [*rules, {"forbid": {"file": "constraints/conflicts.csv"}}]}


def _cases() -> dict[str, tuple[str, Any, dict[str, Any]]]:
    csv = "profiles.csv"
    mentoring = _with_forbid(_scheme("mentoring.yaml"))
    return {
        "mentoring": (csv, mentoring, {"seed": 1}),
        "mentoring-xlsx": ("profiles.xlsx", mentoring, {"seed": 1}),
        "mentoring-google": ("google_form_export.csv", mentoring, {"seed": 1}),
        "mentoring-toml": (csv, "mentoring.toml", {"seed": 1}),
        "mentoring-max-score": (csv, mentoring, {"objective": "max-score"}),
        "mentoring-fair": (csv, mentoring, {"objective": "fair"}),
        "mentoring-rounds": (csv, mentoring, {"rounds": 2}),
        "peer": (csv, "peer.yaml", {"seed": 1}),
        "peer-exclude-leftover": (csv, _scheme("peer.yaml", leftover="exclude", rounds=1), {}),
        "peer-fair": (csv, _scheme("peer.yaml", rounds=1), {"objective": "fair"}),
        "peer-groups-of-3": (
            csv,
            _scheme("peer.yaml", group_size=3, rules=[{"different": "organisation"}], rounds=2),
            {"seed": 1, "iterations": 3},
        ),
        "cohorts": (csv, "cohorts.yaml", {"seed": 1, "iterations": 4, "rounds": 2}),
    }


CASES = _cases()


def _run(name: str, out: Path) -> dict[str, str]:
    profiles, scheme, options = CASES[name]
    source = scheme if isinstance(scheme, dict) else ROOT / "constraints" / scheme
    result = buddymatch.match(ROOT / "sample_data" / profiles, source, **options)
    result.write(out, force=True)
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}
    main = result.to_frame()
    if len(main) and name in ("mentoring", "peer"):  # explanations: made, not made, not allowed
        first = main.iloc[0]
        a, b = (
            (first["mentor_id"], first["mentee_id"])
            if name == "mentoring"
            else (
                first["member_a"],
                first["member_b"],
            )
        )
        others = [str(x) for x in result.problem.ids[:6]]
        lines = [result.explain(str(a), str(b))]
        lines += [result.explain(others[i], others[j]) for i, j in ((0, 1), (2, 3), (4, 5))]
        texts["explain.txt"] = "\n---\n".join(lines) + "\n"
    return texts


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_are_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(ROOT)  # the forbid file is named relative to the repository
    texts = _run(name, tmp_path / "out")
    folder = PINNED / name
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file, text in texts.items():
            (folder / file).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert sorted(texts) == sorted(expected)
    for file, text in texts.items():
        assert text == expected[file], f"{name}/{file} differs from tests/data/pinned"


def test_score_export_is_pinned() -> None:
    frame = buddymatch.score(
        ROOT / "sample_data" / "profiles.csv", ROOT / "constraints" / "mentoring.yaml", top=3
    )
    text = frame.to_csv(index=False, lineterminator="\n")
    target = PINNED / "score-top3.csv"
    if UPDATE:
        target.write_text(text, encoding="utf-8")
    assert text == target.read_text(encoding="utf-8")
