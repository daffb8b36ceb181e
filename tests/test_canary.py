"""Personal data never leaks: recognisable ids and names through validate and match.

Profiles carry canary e-mails (also the ids) and names; many kinds of errors
and a full ``-v -v`` match run must not print or log any of them.  The only
place an id may appear is the output files themselves.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli

from .conftest import PROFILES_CSV, SCHEME_YAML

CANARIES = ("CANARY_", "canary.test", "Canary Name")


def _canary_profiles() -> str:
    header, *rows = PROFILES_CSV.splitlines()
    out = [header]
    for i, row in enumerate(rows):
        email, _name, rest = row.split(",", 2)
        out.append(f"CANARY_{email.split('@')[0]}@canary.test,Canary Name {i},{rest}")
    return "\n".join(out) + "\n"


def _run(args: list[str], caplog: pytest.LogCaptureFixture) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(cli, ["-v", "-v", *args])
    text = result.stdout + result.stderr + "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" not in text
    return result.exit_code, text


def _assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary.casefold() not in text.casefold(), canary


ERRORS = {
    "duplicate": lambda p: p + p.splitlines()[1].replace("Canary Name 0", "Canary Name 9") + "\n",
    "blank_role": lambda p: p.replace("Mentee", "", 1),
    "bad_role": lambda p: p.replace("Mentee", "CANARY_role", 1),
    "off_scale": lambda p: p.replace("Band 7", "Band 10"),
    "capacity": lambda p: p.replace("Mentor,2", "Mentor,two"),
    "blank_id": lambda p: p.replace("CANARY_e2@canary.test", ""),
}


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_profile_errors_never_show_personal_data(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("profiles.csv").write_text(ERRORS[kind](_canary_profiles()))
    Path("scheme.yaml").write_text(SCHEME_YAML)
    code, text = _run(["validate", "profiles.csv", "-c", "scheme.yaml"], caplog)
    assert code == 2 and "Error: profiles.csv row" in text
    if kind != "bad_role":  # the role answer itself is the user's own category text
        _assert_clean(text)
    else:
        _assert_clean(text.replace("CANARY_role", ""))


def test_side_file_and_scheme_id_errors_never_show_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("profiles.csv").write_text(_canary_profiles())
    Path("keep.csv").write_text(
        "mentor,mentee\nCANARY_e1@canary.test,CANARY_m1@canary.test\n"
        "CANARY_gone@canary.test,CANARY_e2@canary.test\n"
    )
    Path("no.csv").write_text("a,b\nCANARY_m1@canary.test,CANARY_m1@canary.test\n")
    Path("past.csv").write_text("mentor_id,mentee_id\nCANARY_m1@canary.test,x\n")
    scheme = SCHEME_YAML.replace(
        "  - gap:", "  - lock: {file: keep.csv}\n  - forbid: {file: no.csv}\n  - gap:"
    )
    Path("scheme.yaml").write_text(scheme + "history: {file: past.csv}\n")
    code, text = _run(["validate", "profiles.csv", "-c", "scheme.yaml"], caplog)
    assert code == 2
    assert text.count("Error: ") == 4, text
    _assert_clean(text)


def test_verbose_match_logs_no_personal_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("profiles.csv").write_text(_canary_profiles())
    Path("scheme.yaml").write_text(
        SCHEME_YAML.replace("  attributes:", "  carry: [Full name]\n  attributes:")
    )
    code, text = _run(["match", "profiles.csv", "-c", "scheme.yaml", "-o", "out"], caplog)
    assert code == 0, text
    _assert_clean(text)
    # the outputs are the one place ids and carried names belong
    written = Path("out/matches.csv").read_text()
    assert "CANARY_" in written and "Canary Name" in written
