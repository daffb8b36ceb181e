"""The scheme registry: the one place names map to schemes, and adding a scheme works
as docs/architecture.md shows (its example is executed here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import buddymatch
from buddymatch import schemes
from buddymatch.config import validate_scheme
from buddymatch.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_schemes_are_registered_in_order() -> None:
    assert schemes.scheme_names() == ("mentoring", "peer", "cohorts")
    assert schemes.get_scheme("mentoring").directed
    assert not schemes.get_scheme("peer").directed
    assert schemes.get_scheme("cohorts").main_table == "groups"
    assert set(schemes.all_objectives()) == {"max-matched", "max-score", "fair"}


def test_unknown_scheme_is_a_clear_error_with_did_you_mean() -> None:
    with pytest.raises(ConfigError) as err:
        schemes.get_scheme("mentorng")
    assert err.value.lines == [
        'unknown scheme "mentorng": choose one of mentoring, peer, cohorts '
        '— did you mean "mentoring"?'
    ]
    with pytest.raises(ConfigError) as err:
        validate_scheme({"version": 1, "scheme": "mentorship", "participants": {"id": "x"}})
    assert err.value.lines == [
        'scheme: key "scheme": "mentorship" is not allowed; expected \'mentoring\', '
        "'peer' or 'cohorts' — did you mean \"mentoring\"?"
    ]


def test_a_name_cannot_be_registered_twice() -> None:
    class Impostor(type(schemes.get_scheme("peer"))):  # type: ignore[misc]
        pass

    with pytest.raises(ValueError, match="already registered"):
        schemes.register(Impostor())


def _example() -> str:
    """The Python block under "Adding a scheme" in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("### Adding a scheme", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


@pytest.fixture
def speed_networking() -> Iterator[None]:
    exec(compile(_example(), "docs/architecture.md", "exec"), {})
    try:
        yield
    finally:
        schemes._REGISTRY.pop("speed-networking", None)


def test_the_documented_new_scheme_runs_end_to_end(speed_networking: None, tmp_path: Path) -> None:
    scheme = {
        "version": 1,
        "scheme": "speed-networking",
        "participants": {"id": "Email"},
        "rounds": 5,
    }
    result = buddymatch.match(ROOT / "sample_data" / "profiles.csv", scheme)
    matches = result.matches
    assert len(matches) == 5 * 75  # 150 people: 75 pairs a round
    pairs = {frozenset(p) for p in zip(matches["member_a"], matches["member_b"], strict=True)}
    assert len(pairs) == len(matches)  # nobody meets twice
    assert result.summary["status"] == "optimal" and result.summary["scheme"] == "speed-networking"
    written = result.write(tmp_path / "out")
    assert {p.name for p in written} >= {"matches.csv", "unmatched.csv", "summary.json"}
    sample = buddymatch.sample_scheme("speed-networking")
    assert sample["scheme"] == "speed-networking" and sample["rounds"] == 3


def test_the_new_scheme_refuses_rules_it_does_not_declare(speed_networking: None) -> None:
    scheme = {
        "version": 1,
        "scheme": "speed-networking",
        "participants": {"id": "Email", "attributes": {"org": {"column": "Organisation"}}},
        "rules": [{"different": "org"}],
    }
    with pytest.raises(ConfigError) as err:
        validate_scheme(scheme, label="s.yaml")
    assert err.value.lines == [
        's.yaml: key "rules[0].different": not a rule of the speed-networking scheme (exclude)'
    ]
