"""Planning runs: split parts by the library's normalised values, sweep names, run hashes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import yaml

import buddymatch
from buddymatch.batch import load_manifest, plan_runs

from ..conftest import PROFILES_CSV, SCHEME_YAML

ROOT = Path(__file__).resolve().parents[2]


def _manifest(folder: Path, body: str) -> Path:
    path = folder / "batch.yaml"
    path.write_text("version: 1\nruns:\n" + body, encoding="utf-8")
    return path


def test_split_parts_are_the_intakes_rows_by_normalised_value(tmp_path: Path) -> None:
    """'north', ' North' and 'NORTH' are one region (the library's normalisation)."""
    rows = list(csv.reader(io.StringIO(PROFILES_CSV)))
    rows[1][6], rows[3][6], rows[5][6] = "north", " North", "NORTH"
    rows[6][6] = ""  # a blank region is a part of its own
    text = "".join(",".join(f'"{c}"' if "," in c else c for c in r) + "\n" for r in rows)
    (tmp_path / "people.csv").write_text(text, encoding="utf-8")
    (tmp_path / "scheme.yaml").write_text(SCHEME_YAML, encoding="utf-8")
    body = "  - {name: r, profiles: people.csv, scheme: scheme.yaml, split_by: region}\n"
    plan = plan_runs(load_manifest(_manifest(tmp_path, body)), tmp_path / "out")
    assert [(s.name, s.split) for s in plan.runs] == [
        ("r-north", "north"),  # the library labels a value as first written
        ("r-south", "South"),
        ("r-blank", "(blank)"),
    ]
    frame = pd.read_csv(tmp_path / "people.csv", dtype=str, keep_default_na=False)
    for spec, picked in zip(plan.runs, ([0, 2, 4], [1, 3], [5]), strict=True):
        (part,) = spec.profiles
        assert Path(part) == tmp_path / "out" / "_inputs" / spec.name / "people.csv"
        read = pd.read_csv(part, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(read, frame.iloc[picked].reset_index(drop=True))
        assert spec.scheme == str((tmp_path / "scheme.yaml").resolve())  # unchanged: used as is


def test_split_of_several_files_keeps_each_files_name(tmp_path: Path) -> None:
    frame = pd.read_csv(io.StringIO(PROFILES_CSV), dtype=str, keep_default_na=False)
    frame.iloc[:2].to_csv(tmp_path / "mentors.csv", index=False)
    frame.iloc[2:].to_csv(tmp_path / "mentees.csv", index=False)
    (tmp_path / "scheme.yaml").write_text(SCHEME_YAML, encoding="utf-8")
    body = (
        "  - name: r\n    profiles: [mentors.csv, mentees.csv]\n"
        "    scheme: scheme.yaml\n    split_by: region\n"
    )
    plan = plan_runs(load_manifest(_manifest(tmp_path, body)), tmp_path / "out")
    names = {s.name: [Path(p).name for p in s.profiles] for s in plan.runs}
    # m1 (North) and m2 (South) are mentors; East has only a mentee: no empty mentors file
    assert names == {
        "r-east": ["mentees.csv"],
        "r-north": ["mentors.csv", "mentees.csv"],
        "r-south": ["mentors.csv", "mentees.csv"],
    }


def test_sweep_runs_get_readable_names_and_their_own_scheme_files(tmp_path: Path) -> None:
    plan = plan_runs(load_manifest(ROOT / "examples" / "gap-sweep.yaml"), tmp_path)
    assert [s.name for s in plan.runs][:4] == [
        "gap-max2-weight1",
        "gap-max2-weight3",
        "gap-max2-weight5",
        "gap-max3-weight1",
    ]
    spec = plan.runs[5]
    assert spec.settings_text == "rules[1].gap.max=3; criteria[0].weight=5"
    data = yaml.safe_load(Path(spec.scheme).read_text(encoding="utf-8"))
    assert data["rules"][1] == {"gap": {"attribute": "band", "min": 1, "max": 3}}
    assert data["criteria"][0]["overlap"]["weight"] == 5
    conflicts = (ROOT / "constraints" / "conflicts.csv").resolve()
    assert data["rules"][2] == {"forbid": {"file": str(conflicts)}}  # still found from OUT
    buddymatch.load_problem(list(spec.profiles), spec.scheme)  # a valid scheme file


def test_run_hash_follows_every_input_byte_and_option(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(PROFILES_CSV, encoding="utf-8")
    (tmp_path / "scheme.yaml").write_text(SCHEME_YAML, encoding="utf-8")
    body = "  - {name: a, profiles: people.csv, scheme: scheme.yaml, seed: 1}\n"
    path = _manifest(tmp_path, body)

    def key() -> str:
        return plan_runs(load_manifest(path), tmp_path / "out").runs[0].key

    first = key()
    assert key() == first
    path.write_text(path.read_text().replace("seed: 1", "seed: 2"))
    second = key()
    assert second != first
    (tmp_path / "people.csv").write_text(PROFILES_CSV.replace("Band 6", "Band 7", 1))
    assert key() not in (first, second)


def test_a_file_named_only_in_an_override_is_part_of_the_run_hash(tmp_path: Path) -> None:
    """--resume must re-run a run whose priority file changed, even when only the manifest's
    overrides name that file (noticed as a possible gap while building batch runs)."""
    (tmp_path / "previous.csv").write_text("participant_id\nP001\n", encoding="utf-8")
    body = (
        f"  - name: next\n    profiles: {ROOT}/sample_data/profiles.csv\n"
        f"    scheme: {ROOT}/constraints/mentoring.yaml\n"
        f"    overrides:\n      priority: {{file: {tmp_path}/previous.csv, bonus: 10}}\n"
    )
    manifest = _manifest(tmp_path, body)
    first = plan_runs(load_manifest(manifest), tmp_path / "out").runs[0].key
    again = plan_runs(load_manifest(manifest), tmp_path / "out").runs[0].key
    (tmp_path / "previous.csv").write_text("participant_id\nP002\n", encoding="utf-8")
    changed = plan_runs(load_manifest(manifest), tmp_path / "out").runs[0].key
    assert first == again != changed
