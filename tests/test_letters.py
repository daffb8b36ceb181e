"""Introductions: every shipped template renders, messages are RFC 5322 with encoded
UTF-8 names, template errors name their line and stop everything, the mail merge is
formula-safe."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import buddymatch
from buddymatch.cli import cli
from buddymatch.errors import InputError
from buddymatch.letters import default_template

ROOT = Path(__file__).resolve().parents[1]
DATE = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)
SENDER = "Programme team <mentoring@example.nhs.uk>"
# The formula comes first: person 0 is first in their pair whoever the (tied) partner is, so
# the name starts a cell of the mail merge and must be neutralised.
NAMES = ['=HYPERLINK("x")', "Zoë Ångström-Ōtsuka", "Siân O'Brien", "Łukasz Żółć", "Ana", "Bo"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A written result of each scheme on the sample profiles."""
    folder = tmp_path_factory.mktemp("results")
    out = {}
    for name, options in (("mentoring", {"seed": 1}), ("peer", {"rounds": 1}),
                          ("cohorts", {"iterations": 2})):  # fmt: skip
        scheme = ROOT / "constraints" / f"{name}.yaml"
        result = buddymatch.match(ROOT / "sample_data" / "profiles.csv", scheme, **options)
        result.write(folder / name)
        out[name] = folder / name
    return out


def _utf8_result(tmp_path: Path, *, folder: bool = True) -> Path | buddymatch.MatchResult:
    df = pd.DataFrame(
        {
            "id": [f"p{i}@example.org" for i in range(6)],
            "Full name": NAMES,
            "org": list("ABCDEF"),
            "band": ["B6"] * 6,
            "region": ["North"] * 6,
            "needs": ["QI"] * 6,
            "offers": [""] * 6,
        }
    )
    from tests.strategies import scheme_dict

    scheme = scheme_dict("peer", gap=None)
    scheme["participants"]["carry"] = ["Full name"]
    result = buddymatch.match(df, scheme)
    if not folder:
        return result
    result.write(tmp_path / "utf8")
    return tmp_path / "utf8"


@pytest.mark.parametrize("scheme", ["mentoring", "peer", "cohorts"])
def test_every_shipped_template_renders_rfc_5322_messages(
    results: dict[str, Path], scheme: str
) -> None:
    letters = buddymatch.introduce(results[scheme], programme="Test programme", sender=SENDER,
                                   date=DATE)  # fmt: skip
    assert letters.letters
    for letter in letters.letters:
        raw = letters.eml(letter)
        head = raw.partition(b"\r\n\r\n")[0]
        assert head.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
        assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
        msg = message_from_bytes(raw, policy=default)
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            assert msg[header], header
        assert msg["Subject"].strip().startswith("Test programme")  # folding may start a line
        assert msg["Date"] == "Tue, 01 Sep 2026 09:00:00 +0000"
        text = msg.get_content()
        assert "{{" not in text and "Test programme" in text
        assert len(msg["To"].addresses) == len(letter.to) >= 2
    ids = [x.message_id for x in letters.letters]
    assert len(set(ids)) == len(ids)
    assert default_template(scheme)[1].startswith("Subject:")


def test_utf8_names_are_encoded_and_read_back(tmp_path: Path) -> None:
    letters = buddymatch.introduce(_utf8_result(tmp_path), programme="Zoë's programme",
                                   sender="Équipe <equipe@example.org>", date=DATE)  # fmt: skip
    names = {n for x in letters.letters for n, _ in x.to}
    # read back from the folder exactly as given: read_results undoes the neutralising quote
    # (mailmerge.csv neutralises again, see test_mailmerge_is_formula_safe)
    assert names == set(NAMES)
    for letter in letters.letters:
        raw = letters.eml(letter)
        head = raw.partition(b"\r\n\r\n")[0]
        assert head.isascii() and b"=?utf-8?" in head
        msg = message_from_bytes(raw, policy=default)
        shown = {a.display_name for a in msg["To"].addresses}
        assert shown == {n for n, _ in letter.to}
        assert msg["From"].addresses[0].display_name == "Équipe"
        assert msg["Subject"].strip().startswith("Zoë's programme")
        assert any(n in msg.get_content() for n in shown)


def test_mailmerge_is_formula_safe(tmp_path: Path) -> None:
    result = _utf8_result(tmp_path, folder=False)  # in memory: the raw "=HYPERLINK(...)" name
    letters = buddymatch.introduce(result, programme="P", sender=SENDER, date=DATE)
    assert any(n.startswith("=") for x in letters.letters for n, _ in x.to)
    paths = letters.write(tmp_path / "letters")
    text = (tmp_path / "letters" / "mailmerge.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert sorted(p.name for p in paths)[-2:] == ["letters.json", "mailmerge.csv"]
    frame = letters.mailmerge()
    assert list(frame.columns) == ["message", "round", "unit", "to", "names", "subject", "body"]


def test_template_errors_name_the_line_and_nothing_is_written(
    results: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "intro.md"
    bad.write_text("Subject: Hello {{ mentor.name }}\n\nDear {{ mentor.nmae }},\n", "utf-8")
    with pytest.raises(InputError) as info:
        buddymatch.introduce(results["mentoring"], bad, programme="P", sender=SENDER)
    line = info.value.lines[0]
    assert line.startswith("intro.md: line 3: UndefinedError") and "nmae" in line
    bad.write_text("Subject: x\n\n{% for p in people %}\n", "utf-8")
    runner = CliRunner()
    out = tmp_path / "letters"
    args = ["introduce", str(results["mentoring"]), "-o", str(out), "--template", str(bad)]
    result = runner.invoke(cli, [*args, "--programme", "P", "--sender", SENDER])
    assert result.exit_code == 2
    assert "intro.md: line 3: template syntax error" in result.output
    assert not out.exists()
    bad.write_text("Hello\n\nno subject line\n", "utf-8")
    with pytest.raises(InputError, match=r"line 1: the first line must be `Subject: \.\.\.`"):
        buddymatch.introduce(results["mentoring"], bad, programme="P", sender=SENDER)


def test_the_sandbox_refuses_python_internals(results: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "evil.md"
    bad.write_text("Subject: {{ ''.__class__.__mro__ }}\n\nx\n", "utf-8")
    with pytest.raises(InputError, match="SecurityError"):
        buddymatch.introduce(results["peer"], bad, programme="P", sender=SENDER)


def test_addresses_names_and_only_new(results: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no carried column"):
        buddymatch.introduce(results["peer"], programme="P", sender=SENDER, email_column="Work")
    with pytest.raises(InputError, match="sender is not an e-mail address"):
        buddymatch.introduce(results["peer"], programme="P", sender="nobody")
    first = buddymatch.match(ROOT / "sample_data" / "profiles.csv",
                             ROOT / "constraints" / "mentoring.yaml", seed=1)  # fmt: skip
    again = buddymatch.rematch(first, ROOT / "sample_data" / "profiles_later.csv",
                               ROOT / "constraints" / "mentoring.yaml")  # fmt: skip
    every = buddymatch.introduce(again, programme="P", sender=SENDER, date=DATE)
    new = buddymatch.introduce(again, programme="P", sender=SENDER, date=DATE, only_new=True)
    assert len(every.letters) == len(again.matches)
    assert len(new.letters) == int((~again.matches["kept"]).sum())
    assert {x.message_id for x in new.letters} <= {x.message_id for x in every.letters}
    kept = [x for x in every.letters if "continues" in x.body]
    assert len(kept) == int(again.matches["kept"].sum())


def test_the_same_result_gives_the_same_letters(results: dict[str, Path], tmp_path: Path) -> None:
    one = buddymatch.introduce(results["cohorts"], programme="P", sender=SENDER, date=DATE)
    two = buddymatch.introduce(results["cohorts"], programme="P", sender=SENDER, date=DATE)
    assert one.files() == two.files()
    assert [x.unit for x in one.letters] == ["group"] * len(one.letters)
