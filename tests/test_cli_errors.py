"""Malformed inputs driven through the real CLI: exit code 2, exact stderr, no traceback.

Each folder of tests/data/bad_inputs/ holds a scheme file, profiles.csv, any
side files, and expected_stderr.txt (one ``Error:`` line per problem).  The
command runs inside a copy of the folder so messages carry relative names.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli

from .conftest import PROFILES_CSV, SCHEME_YAML

CORPUS = Path(__file__).parent / "data" / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected_stderr.txt").exists())


def _validate(folder: Path, *profiles: str, scheme: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *profiles, "-c", scheme])
    return result.exit_code, result.stdout, result.stderr


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_bad_input_reports_exact_errors(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / case
    shutil.copytree(CORPUS / case, work)
    monkeypatch.chdir(work)
    scheme = next(p.name for p in work.iterdir() if p.name.startswith("scheme."))
    code, out, err = _validate(work, "profiles.csv", scheme=scheme)
    assert "Traceback" not in err + out
    assert err == (work / "expected_stderr.txt").read_text(encoding="utf-8")
    assert code == 2
    assert all(line.startswith("Error: ") for line in err.splitlines())


def test_python_tag_is_never_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles.csv").write_text(PROFILES_CSV)
    (tmp_path / "scheme.yaml").write_text(
        "version: 1\nscheme: !!python/object/apply:os.system ['touch PWNED']\n"
    )
    code, _, err = _validate(tmp_path, "profiles.csv", scheme="scheme.yaml")
    assert code == 2 and "YAML tag not allowed (line 2)" in err
    assert not (tmp_path / "PWNED").exists()


def test_problems_in_two_profile_files_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    header, *rows = PROFILES_CSV.splitlines()
    (tmp_path / "a.csv").write_text("\n".join([header, *rows[:3]]).replace("Band 8a", "Band X"))
    (tmp_path / "b.csv").write_text("\n".join([header, *rows[3:]]).replace("Mentee", "Mentr"))
    (tmp_path / "scheme.yaml").write_text(SCHEME_YAML)
    code, _, err = _validate(tmp_path, "a.csv", "b.csv", scheme="scheme.yaml")
    assert code == 2
    scale = "Band 5, Band 6, Band 7, Band 8a, Band 8b, Band 8c, Band 8d, Band 9"
    role_fix = 'use one of: "Mentor", "Mentee", "Either"'
    assert err.splitlines() == [
        f'Error: b.csv row 2, column "I want to be a": role is not one of the scheme\'s role '
        f"answers — {role_fix}",
        f'Error: b.csv row 3, column "I want to be a": role is not one of the scheme\'s role '
        f"answers — {role_fix}",
        f'Error: a.csv row 2, column "Band": the value is not on the scale (Band 5 … Band 9) '
        f"— use one of: {scale}",
    ]


def test_headings_match_ignoring_case_and_spacing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    header, *rows = PROFILES_CSV.splitlines()
    messy = header.replace("Email", " EMAIL ").replace("I want to be a", "i  want to be A")
    body = "\n".join(rows).replace("North", " north ").replace("Band 6", "band  6")
    (tmp_path / "profiles.csv").write_text(messy + "\n" + body + "\n")
    (tmp_path / "scheme.yaml").write_text(SCHEME_YAML)
    code, out, err = _validate(tmp_path, "profiles.csv", scheme="scheme.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("OK: no problems found.")


def test_aliases_map_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles.csv").write_text(PROFILES_CSV.replace("Band 7", "B7"))
    scheme = SCHEME_YAML.replace("scale: [Band 5,", "aliases: {b7: Band 7}, scale: [Band 5,")
    (tmp_path / "scheme.yaml").write_text(scheme)
    code, _, err = _validate(tmp_path, "profiles.csv", scheme="scheme.yaml")
    assert (code, err) == (0, "")


def test_valid_toml_scheme_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles.csv").write_text(PROFILES_CSV)
    (tmp_path / "scheme.toml").write_text(
        'version = 1\nscheme = "mentoring"\n'
        '[participants]\nid = "Email"\n'
        '[participants.role]\ncolumn = "I want to be a"\nmentor = ["Mentor"]\n'
        'mentee = ["Mentee"]\nboth = ["Either"]\n'
        '[participants.attributes.organisation]\ncolumn = "Organisation"\n'
        '[[rules]]\ndifferent = "organisation"\n'
    )
    code, _, err = _validate(tmp_path, "profiles.csv", scheme="scheme.toml")
    assert (code, err) == (0, "")


@pytest.mark.parametrize("case", CASES)
def test_no_name_or_email_is_ever_printed(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells of the identifying columns never appear in a message, whatever went wrong."""
    import csv

    work = tmp_path / case
    shutil.copytree(CORPUS / case, work)
    monkeypatch.chdir(work)
    scheme = next(p.name for p in work.iterdir() if p.name.startswith("scheme."))
    _, out, err = _validate(work, "profiles.csv", scheme=scheme)
    with open(work / "profiles.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    personal = {cell for row in rows[1:] for cell in row[:2] if cell.strip()}
    personal |= {cell for cell in rows[0][:2] if "@" in cell}  # a file without headings
    assert not [p for p in personal if p in err + out]
