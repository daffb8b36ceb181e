"""Key-path overrides of a parsed scheme (config.apply_override): the paths errors print."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from buddymatch.config import apply_override, apply_overrides, parse_key_path, validate_scheme
from buddymatch.errors import ConfigError

from .conftest import SCHEME_YAML

BASE: dict[str, Any] = yaml.safe_load(SCHEME_YAML)


def _error(path: str, value: Any = 1) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_scheme(apply_override(BASE, path, value, label="s.yaml"), label="s.yaml")
    return info.value.lines


def test_parse_key_path() -> None:
    assert parse_key_path("rules[1].gap.max") == ["rules", 1, "gap", "max"]
    assert parse_key_path("solver.iterations") == ["solver", "iterations"]
    assert parse_key_path("participants.attributes.band.scale[0]") == [
        "participants",
        "attributes",
        "band",
        "scale",
        0,
    ]
    for bad in ("rules[x]", "rules..max", "[1].max", "rules[1]gap", "", ".rules"):
        with pytest.raises(ConfigError, match="is not a key path"):
            parse_key_path(bad)


def test_override_sets_nested_values_and_leaves_the_input_alone() -> None:
    before = copy.deepcopy(BASE)
    data = apply_override(BASE, "rules[1].gap.max", 4)
    assert data["rules"][1] == {"gap": {"attribute": "band", "min": 1, "max": 4}}
    assert before == BASE
    assert validate_scheme(data).rules[1].max == 4  # type: ignore[union-attr]


def test_an_item_may_be_entered_without_its_kind() -> None:
    data = apply_override(BASE, "criteria[0].weight", 9)
    assert data["criteria"][0]["overlap"]["weight"] == 9
    assert apply_override(BASE, "criteria[0].overlap.weight", 9) == data


def test_shorthand_items_are_expanded_to_settings() -> None:
    data = apply_override(BASE, "rules[0].attribute", "region")
    assert data["rules"][0] == {"different": {"attribute": "region"}}
    assert validate_scheme(data).rules[0].attribute == "region"  # type: ignore[union-attr]
    assert apply_override(BASE, "rules[0].different", "band")["rules"][0] == {"different": "band"}


def test_whole_items_and_missing_sections() -> None:
    data = apply_override(BASE, "rules[1]", {"gap": {"attribute": "band", "max": 2}})
    assert data["rules"][1] == {"gap": {"attribute": "band", "max": 2}}
    data = apply_override(BASE, "solver.iterations", 7)
    assert validate_scheme(data).solver.iterations == 7


def test_misspelt_keys_get_the_scheme_files_errors() -> None:
    assert _error("rules[1].gap.mx", 4) == [
        's.yaml: key "rules[1].gap.mx": unknown key — did you mean "max"?'
    ]
    assert _error("criteria[0].wieght") == [
        's.yaml: key "criteria[0].overlap.wieght": unknown key — did you mean "weight"?'
    ]
    assert _error("solvr.iterations") == [
        's.yaml: key "solvr": unknown key — did you mean "solver"?'
    ]
    (line,) = _error("rules[1].gap.max", "four")
    assert line.startswith('s.yaml: key "rules[1].gap.max": input should be a valid number')


def test_paths_that_go_nowhere_are_errors_with_their_key_path() -> None:
    cases = {
        "rules[7].gap.max": 's.yaml: key "rules[7]": no such item (the list has 2 items)',
        "rules[1].same.weight": 's.yaml: key "rules[1]": is a "gap" item, not "same"',
        "participants.id.column": 's.yaml: key "participants.id": holds a value, not settings',
        "objective[0]": 's.yaml: key "objective": is not a list',
    }
    for path, message in cases.items():
        with pytest.raises(ConfigError) as info:
            apply_override(BASE, path, 1, label="s.yaml")
        assert info.value.lines == [message], path


def test_apply_overrides_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, {"rules[9].gap.max": 1, "rules[x]": 2}, label="s.yaml")
    assert len(info.value.lines) == 2
    data = apply_overrides(BASE, {"rules[1].gap.max": 2, "criteria[1].weight": 0.5})
    assert data["rules"][1]["gap"]["max"] == 2
    assert data["criteria"][1] == {"same": {"attribute": "region", "weight": 0.5}}


@given(st.integers(min_value=0, max_value=20), st.floats(min_value=0.01, max_value=100))
def test_override_then_validate_keeps_the_value(gap: int, weight: float) -> None:
    """Invariant: a valid value set by path is the value the validated scheme holds."""
    data = apply_overrides(BASE, {"rules[1].gap.max": gap + 1, "criteria[0].weight": weight})
    scheme = validate_scheme(data)
    assert scheme.rules[1].max == gap + 1  # type: ignore[union-attr]
    assert scheme.criteria[0].weight == weight
