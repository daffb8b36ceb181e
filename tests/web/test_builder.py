"""The scheme builder round-trips: a scheme laid out as form fields and posted back is itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.config import read_scheme_file, validate_scheme
from buddymatch.web.builder import FormState, from_form, skeleton, to_form

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [p for p in sorted((ROOT / "constraints").glob("*.*")) if p.suffix in (".yaml", ".toml")]


def posted(state: FormState) -> dict[str, Any]:
    """The fields a browser posts for the form as rendered (unchanged by the user)."""
    fields: dict[str, Any] = {"scheme": state.scheme, "extra": state.extra, "carry": state.carry}
    fields.update(state.top)
    for row in state.attributes:
        fields[f"attr_{row.index}_kind"] = row.kind
        fields.update({f"attr_{row.index}_{k}": v for k, v in row.values.items()})
    for prefix, rows in (("rule_", state.rules), ("crit_", state.criteria)):
        for row in rows:
            if row.kept:
                fields[f"{prefix}{row.index}_kept"] = row.kept
                continue
            fields[f"{prefix}{row.index}_kind"] = row.kind
            fields.update({f"{prefix}{row.index}_{k}": v for k, v in row.values.items()})
    return fields


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_scheme_round_trips(path: Path) -> None:
    data = read_scheme_file(path)
    back = from_form(posted(to_form(data, ["Email", "Something else"])))
    assert validate_scheme(back) == validate_scheme(data)


def test_rules_the_form_cannot_edit_are_kept_as_written() -> None:
    data = read_scheme_file(ROOT / "constraints" / "mentoring.yaml")
    data["rules"].append({"lock": {"pairs": [["p00045@example.nhs.uk", "p00001@example.nhs.uk"]]}})
    data["participants"]["attributes"]["band"]["aliases"] = {"B7": "Band 7"}
    data["history"] = {"file": "last.csv", "cooldown": 2}
    state = to_form(data)
    kept = [r for r in state.rules if r.kept]
    assert [r.kind for r in kept] == ["forbid", "lock"]
    back = from_form(posted(state))
    assert back["rules"][-1] == data["rules"][-1] and back["history"] == data["history"]
    assert back["participants"]["attributes"]["band"]["aliases"] == {"B7": "Band 7"}


def test_settings_for_people_who_are_both_are_kept() -> None:
    data = read_scheme_file(ROOT / "constraints" / "mentoring.yaml")
    data["participants"]["role"].update(one_role=True, reciprocal=True)
    back = from_form(posted(to_form(data, ["Email"])))
    assert back["participants"]["role"] == data["participants"]["role"]


def test_blank_rows_add_rules_and_remove_drops_them() -> None:
    headings = ["Email", "Organisation", "Band"]
    state = to_form(skeleton("peer", headings), headings)
    fields = posted(state)
    org = next(r.index for r in state.attributes if r.values["column"] == "Organisation")
    fields[f"attr_{org}_name"], fields[f"attr_{org}_kind"] = "organisation", "categorical"
    fields["rule_0_kind"], fields["rule_0_attribute"] = "different", "organisation"
    fields["rule_1_kind"], fields["rule_1_attribute"] = "same", "organisation"
    fields["rule_1_remove"] = "1"
    data = from_form(fields)
    assert data["participants"] == {
        "id": "Email",
        "attributes": {"organisation": {"column": "Organisation"}},
    }
    assert data["rules"] == [{"different": {"attribute": "organisation"}}]
    validate_scheme(data)


_name = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)
_column = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def schemes(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(_name, min_size=1, max_size=4, unique=True))
    attrs: dict[str, Any] = {}
    for n in names:
        kind = draw(st.sampled_from(["categorical", "ordinal", "multi", "numeric"]))
        spec: dict[str, Any] = {"column": draw(_column)}
        if kind == "ordinal":
            spec["scale"] = draw(
                st.lists(
                    st.from_regex(r"[A-Z][a-z0-9 ]{0,5}[a-z0-9]", fullmatch=True),
                    min_size=2,
                    max_size=5,
                    unique_by=str.casefold,
                )
            )
        elif kind == "multi":
            spec["multi"] = draw(st.sampled_from([";", ",", "|"]))
        elif kind == "numeric":
            spec["numeric"] = True
        attrs[n] = spec
    rules = [{"different": {"attribute": n}} for n in names if draw(st.booleans())]
    criteria = [
        {"same": {"attribute": n, "weight": draw(st.integers(1, 9)), "name": f"c_{n}"}}
        for n in names
        if draw(st.booleans())
    ]
    data: dict[str, Any] = {
        "version": 1,
        "scheme": "peer",
        "participants": {"id": "Email", "attributes": attrs},
    }
    if rules:
        data["rules"] = rules
    if criteria:
        data["criteria"] = criteria
    if draw(st.booleans()):
        data["min_score"] = draw(st.integers(0, 100))
    data["objective"] = draw(st.sampled_from(["max-matched", "max-score", "fair"]))
    return data


@settings(max_examples=60, deadline=None)
@given(schemes())
def test_generated_schemes_round_trip(data: dict[str, Any]) -> None:
    expected = validate_scheme(data)
    assert validate_scheme(from_form(posted(to_form(data)))) == expected


def test_a_priorities_objective_and_priority_travel_unchanged() -> None:
    data = read_scheme_file(ROOT / "constraints" / "mentoring.yaml")
    data["objective"] = {"priorities": ["priority-covered", "mentees-covered", "pairs", "score"]}
    data["priority"] = {"attribute": "region", "values": ["North"], "bonus": 5}
    state = to_form(data)
    assert state.top["objective"] == ""  # the select shows it as the scheme's own
    assert state.top["objective_kept"] == "priority-covered > mentees-covered > pairs > score"
    back = from_form(posted(state))
    assert back["objective"] == data["objective"] and back["priority"] == data["priority"]
    assert validate_scheme(back) == validate_scheme(data)
    fields = posted(state)
    fields["objective"] = "max-score"  # a named objective chosen in the form wins
    assert from_form(fields)["objective"] == "max-score"
