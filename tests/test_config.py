"""Scheme validation: every branch of config.py, TOML == YAML, key paths, did-you-mean."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.config import load_scheme, read_scheme_file, scheme_hash, validate_scheme
from buddymatch.errors import ConfigError
from buddymatch.model import KeepRule, PlaceRule, Scheme

from .conftest import SCHEME_YAML

BASE: dict[str, Any] = yaml.safe_load(SCHEME_YAML)


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_scheme(data, label="s.yaml")
    return info.value.lines


def _with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def test_base_scheme_is_valid() -> None:
    scheme = validate_scheme(BASE)
    assert scheme.scheme == "mentoring"
    assert [r.kind for r in scheme.rules] == ["different", "gap"]


def test_shorthand_rules_expand() -> None:
    scheme = validate_scheme(_with(rules=[{"different": "organisation"}]))
    assert getattr(scheme.rules[0], "attribute", None) == "organisation"
    cohorts = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "Email", "attributes": {"region": {"column": "Region"}}},
        "groups": {"count": 2},
        "rules": [{"keep_together": [["a", "b"]]}, {"place": {"a": 1}}],
    }
    scheme = validate_scheme(cohorts)
    keep, place = scheme.rules
    assert isinstance(keep, KeepRule) and keep.sets == (("a", "b"),)
    assert isinstance(place, PlaceRule) and dict(place.members) == {"a": 1}


def test_non_shorthand_kind_needs_settings() -> None:
    assert _errors(_with(rules=[{"gap": "band"}])) == [
        's.yaml: key "rules[0].gap": expects settings, e.g. {attribute: ...}'
    ]


def test_rules_must_be_a_list_and_items_single_key() -> None:
    assert _errors(_with(rules={"different": "organisation"})) == [
        's.yaml: key "rules": must be a list of items like `- kind: {...}`'
    ]
    assert _errors(_with(criteria=[{"same": "region", "overlap": {}}])) == [
        's.yaml: key "criteria[0]": each item is one kind with its settings, e.g. `- same: region`'
    ]


def test_nested_key_path_and_did_you_mean_for_keys() -> None:
    data = _with()
    data["participants"]["attributes"]["band"]["scael"] = ["a"]
    assert _errors(data) == [
        's.yaml: key "participants.attributes.band.scael": unknown key — did you mean "scale"?'
    ]
    data = _with(rules=[{"gap": {"attribute": "band", "mx": 3}}])
    assert _errors(data) == ['s.yaml: key "rules[0].gap.mx": unknown key — did you mean "max"?']


def test_did_you_mean_inside_a_criterion_whose_kind_is_also_a_rule() -> None:
    """``same`` is both a rule and a criterion: a criterion's keys come from the criterion
    (it suggested from the rule, which has no weight: "expected one of: attribute")."""
    data = _with(criteria=[{"same": {"attribute": "region", "wieght": 3}}])
    assert _errors(data) == [
        's.yaml: key "criteria[0].same.wieght": unknown key — did you mean "weight"?'
    ]
    data = _with(rules=[{"same": {"attribute": "region", "wieght": 3}}])
    assert _errors(data) == [
        's.yaml: key "rules[0].same.wieght": unknown key — expected one of: attribute'
    ]


def test_did_you_mean_for_values() -> None:
    assert _errors(_with(objective="max-matchd")) == [
        's.yaml: key "objective": "max-matchd" is not allowed; expected '
        "'max-matched', 'max-score' or 'fair' — did you mean \"max-matched\"?"
    ]


def test_unknown_attribute_and_wrong_attribute_kind() -> None:
    lines = _errors(_with(rules=[{"gap": {"attribute": "region", "min": 1}}]))
    assert lines == [
        's.yaml: key "rules[0].gap.attribute": attribute "region" is categorical; '
        "this needs ordinal or numeric"
    ]


def test_rule_not_of_scheme_and_count_rule_needs_value() -> None:
    assert _errors(_with(rules=[{"at_least": {"attribute": "region", "count": 1}}])) == [
        's.yaml: key "rules[0].at_least": not a rule of the mentoring scheme '
        "(different, same, gap, forbid, lock, exclude, common)"
    ]


def test_mentoring_needs_role() -> None:
    data = _with()
    del data["participants"]["role"]
    assert _errors(data) == [
        's.yaml: key "participants.role": mentoring needs a role: {column: ..., '
        "mentor: [...], mentee: [...]} or files: {pattern: mentor|mentee}"
    ]


def test_duplicate_criterion_and_preference_needs_like() -> None:
    crit = {"same": {"attribute": "region"}}
    lines = _errors(_with(criteria=[crit, crit, {"preference": {}}]))
    assert lines == [
        's.yaml: key "criteria[1].same": duplicate criterion "same_region" '
        "— give one of them a `name:`",
        's.yaml: key "criteria[2].preference": give like, dislike or both',
    ]


def test_groups_only_for_cohorts() -> None:
    assert _errors(_with(groups={"count": 2})) == [
        's.yaml: key "groups": groups apply to the cohorts scheme, not mentoring'
    ]


def test_missing_required_key() -> None:
    data = _with()
    del data["participants"]["id"]
    assert _errors(data) == ['s.yaml: key "participants.id": required key is missing']


def test_toml_equals_yaml(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        'version = 1\nscheme = "mentoring"\nobjective = "max-matched"\n'
        '[participants]\nid = "Email"\n'
        '[participants.role]\ncolumn = "I want to be a"\nmentor = ["Mentor"]\n'
        'mentee = ["Mentee"]\nboth = ["Either"]\n'
        '[participants.capacity]\ncolumn = "How many mentees can you take?"\ndefault = 1\n'
        '[participants.attributes.organisation]\ncolumn = "Organisation"\n'
        '[participants.attributes.band]\ncolumn = "Band"\nscale = ["Band 5", "Band 6", '
        '"Band 7", "Band 8a", "Band 8b", "Band 8c", "Band 8d", "Band 9"]\n'
        '[participants.attributes.region]\ncolumn = "Region"\n'
        '[participants.attributes.interests]\ncolumn = "Areas you\'d like support with"\n'
        'multi = ";"\n'
        '[participants.attributes.expertise]\ncolumn = "Areas you can offer"\nmulti = ";"\n'
        '[[rules]]\ndifferent = "organisation"\n'
        '[[rules]]\ngap = {attribute = "band", min = 1, max = 3}\n'
        '[[criteria]]\noverlap = {mentee = "interests", mentor = "expertise", weight = 5}\n'
        '[[criteria]]\nsame = {attribute = "region", weight = 3}\n'
    )
    yml = tmp_path / "s.yaml"
    yml.write_text(SCHEME_YAML)
    (a, base_a), (b, base_b) = load_scheme(toml), load_scheme(yml)
    assert a == b and scheme_hash(a) == scheme_hash(b)
    assert base_a == base_b == tmp_path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.json", "{}", 's.json: unsupported scheme file type ".json" — use .yaml, .yml or .toml'),
        ("s.yaml", "\xff", None),
        ("s.yaml", "   \n", "s.yaml: scheme file is empty — see constraints/"),
        (
            "s.yaml",
            "just text",
            "s.yaml: must be a mapping of keys (version, scheme, participants, ...)",
        ),
    ],
)
def test_read_scheme_file_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str, message: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path(name)
    if message is None:
        path.write_bytes(b"\xff\xfe\x00")
        message = "s.yaml: is not UTF-8 text — save the scheme file as UTF-8"
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        read_scheme_file(path)
    assert info.value.lines == [message]


def test_read_scheme_file_missing_folder_and_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for path, line in [
        (Path("nope.yaml"), "nope.yaml: file not found — check the folder and file name"),
        (Path("."), ".: is a folder, not a file — give a .yaml, .yml or .toml file"),
    ]:
        with pytest.raises(ConfigError) as info:
            read_scheme_file(path)
        assert info.value.lines == [line]
    big = Path("big.yaml")
    big.write_text("#" * (1024 * 1024 + 1))
    with pytest.raises(ConfigError, match=r"scheme file is 1\.0 MB, over the limit of 1\.0 MB"):
        read_scheme_file(big)


def test_mapping_source_has_no_base_dir() -> None:
    scheme, base = load_scheme(BASE)
    assert isinstance(scheme, Scheme) and base is None


# --- property: arbitrary data raises ConfigError only --------------------------------------

_KEYS = st.sampled_from(
    ["version", "scheme", "participants", "rules", "criteria", "objective", "groups", "id",
     "role", "column", "attributes", "mentor", "mentee", "both", "capacity", "default", "scale",
     "multi", "numeric", "aliases", "different", "same", "gap", "attribute", "min", "max",
     "weight", "overlap", "forbid", "lock", "file", "pairs", "history", "rounds", "size",
     "count", "carry", "files", "sets", "members", "place"]
)  # fmt: skip
_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-3, 10**20)
    | st.floats(allow_nan=True)
    | st.text(max_size=6)
    | st.sampled_from(["mentoring", "peer", "cohorts", "organisation", "band", "region"])
)
_DATA = st.recursive(
    _LEAF,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_KEYS | st.text(max_size=3), c, max_size=4),
    max_leaves=20,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in items:
        out += _paths(v, (*prefix, k))
    return out


_PATHS = _paths(BASE)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _DATA, max_size=7))
def test_arbitrary_data_raises_only_config_error(data: dict[str, Any]) -> None:
    try:
        assert isinstance(validate_scheme(data), Scheme)
    except ConfigError as exc:
        assert exc.lines and all(line.strip() for line in exc.lines)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _DATA), min_size=1, max_size=3))
def test_mutated_valid_scheme_raises_only_config_error(edits: list[tuple[Any, Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in edits:
        node: Any = data
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass
    try:
        assert isinstance(validate_scheme(data), Scheme)
    except ConfigError as exc:
        assert exc.lines


def test_cross_checks_reported_with_type_errors_and_unknown_kinds() -> None:
    data = _with(
        rules=[{"diferent": "organisation"}, {"gap": {"attribute": "bnd", "min": 1}}],
        criteria=[{"same": {"attribute": "regoin", "weight": "high"}}],
        objectve="fair",
    )
    assert _errors(data) == [
        's.yaml: key "rules[0]": unknown kind "diferent" — did you mean "different"?',
        's.yaml: key "criteria[0].same.weight": input should be a valid number, unable to parse '
        'string as a number (got "high")',
        's.yaml: key "objectve": unknown key — did you mean "objective"?',
        's.yaml: key "rules[1].gap.attribute": unknown attribute "bnd"; attributes are defined '
        "under participants.attributes (band, expertise, interests, organisation, region) "
        '— did you mean "band"?',
    ]


# --- every number bounded and finite ----------------------------------------------------------

_BAD_NUMBERS = [float("inf"), float("nan"), float("-inf"), 1e400, 2**70]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    node[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value


_NUMBER_KEYS = [
    ("participants.capacity.default", "participants.capacity.default"),
    ("participants.capacity.max", "participants.capacity.max"),
    ("participants.wants.default", "participants.wants.default"),
    ("criteria.0.overlap.weight", "criteria[0].overlap.weight"),
    ("rules.1.gap.max", "rules[1].gap.max"),
    ("rules.1.gap.min", "rules[1].gap.min"),
    ("min_score", "min_score"),
    ("rounds", "rounds"),
    ("solver.time_limit", "solver.time_limit"),
    ("solver.iterations", "solver.iterations"),
    ("solver.seed", "solver.seed"),
    ("history.penalty", "history.penalty"),
    ("history.cooldown", "history.cooldown"),
]


@pytest.mark.parametrize(("path", "shown"), _NUMBER_KEYS)
@pytest.mark.parametrize("value", _BAD_NUMBERS, ids=["inf", "nan", "-inf", "1e400", "2**70"])
def test_every_number_is_finite_and_bounded(path: str, shown: str, value: float) -> None:
    data = copy.deepcopy(BASE)
    if path.startswith("history"):
        data["history"] = {"file": "past.csv"}
    _set(data, path, value)
    errors = _errors(data)
    assert errors and all(line.startswith(f's.yaml: key "{shown}"') for line in errors), errors


def test_numbers_at_their_bounds_are_accepted() -> None:
    data = copy.deepcopy(BASE)
    data["participants"]["capacity"] = {"default": 1_000_000, "max": 1_000_000}
    data["solver"] = {"seed": 2_000_000_000, "iterations": 1_000_000_000, "time_limit": 604800}
    data["rounds"] = 1000
    assert validate_scheme(data).solver.seed == 2_000_000_000


# --- names that cannot collide -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["score", "mentee_id", "Round", "explanation", "locked", "member_c", "rules_met"]
)
def test_criterion_name_may_not_be_an_output_column(name: str) -> None:
    data = copy.deepcopy(BASE)
    data["criteria"][1]["same"]["name"] = name
    (line,) = _errors(data)
    assert line.startswith(f's.yaml: key "criteria[1].same.name": criterion name "{name}" is ')
    assert line.endswith(f"give it another `name:`, e.g. same_{name}")


def test_criterion_name_may_not_be_a_carried_column() -> None:
    data = copy.deepcopy(BASE)
    data["participants"]["carry"] = ["Full name"]
    data["criteria"][1]["same"]["name"] = "mentor_Full name"
    assert _errors(data) == [
        's.yaml: key "criteria[1].same.name": criterion name "mentor_Full name" is the carried '
        'column "mentor_Full name" — give it another `name:`, e.g. same_mentor_Full name'
    ]


def test_cohorts_carry_and_rule_columns_may_not_collide() -> None:
    data = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {
            "id": "Email",
            "carry": ["Group", "region"],
            "attributes": {"region": {"column": "Region"}},
        },
        "groups": {"count": 2},
        "rules": [{"at_most": {"attribute": "region", "count": 2}}],
        "criteria": [{"similarity": {"attribute": "region", "name": "max per region"}}],
    }
    assert _errors(data) == [
        's.yaml: key "criteria[0].similarity.name": criterion name "max per region" is the rule '
        'column "max per region" — give it another `name:`, e.g. similarity_max per region',
        's.yaml: key "participants.carry[0]": "Group" is also a column of groups.csv (a fixed '
        "column or an attribute name) — rename the attribute, or leave the column out of carry",
        's.yaml: key "participants.carry[1]": "region" is also a column of groups.csv (a fixed '
        "column or an attribute name) — rename the attribute, or leave the column out of carry",
    ]


def test_scale_value_and_carry_column_listed_twice() -> None:
    data = copy.deepcopy(BASE)
    data["participants"]["attributes"]["band"]["scale"] = ["Band 5", "band  5", "Band 6"]
    assert _errors(data) == [
        's.yaml: key "participants.attributes.band.scale": lists "band  5" twice (case and '
        "spacing are ignored); each value once, lowest first"
    ]
    data = copy.deepcopy(BASE)
    data["participants"]["carry"] = ["Full name", "full name"]
    assert _errors(data) == [
        's.yaml: key "participants.carry": lists the column "full name" twice; list each '
        "column once"
    ]


# --- objective: {priorities: [...]} and priority: --------------------------------------------


CIVIL_SERVICE = {"priorities": ["mentees-covered", "mentors-covered", "pairs", "score"]}


def test_priorities_objective_is_valid_and_named_objectives_keep_their_messages() -> None:
    scheme = validate_scheme(_with(objective=CIVIL_SERVICE))
    assert scheme.objective_name == "priorities"
    assert scheme.objective_text == ("priorities mentees-covered > mentors-covered > pairs > score")
    (line,) = _errors(_with(objective="max-matchd"))
    assert 'key "objective": "max-matchd" is not allowed' in line
    assert 'did you mean "max-matched"' in line


def test_priority_level_errors_name_the_item() -> None:
    lines = _errors(_with(objective={"priorities": ["mentees-covred", "pairs", "pairs"]}))
    assert any(
        'key "objective.priorities[0]": "mentees-covred" is not allowed' in x
        and 'did you mean "mentees-covered"' in x
        for x in lines
    )
    assert any('key "objective.priorities[2]": "pairs" is listed twice' in x for x in lines)
    lines = _errors(_with(objective={"priority": ["pairs"]}))
    assert any('key "objective.priority": unknown key' in x and '"priorities"' in x for x in lines)
    assert any('key "objective.priorities": required key is missing' in x for x in lines)
    (line,) = _errors(_with(objective=["pairs"]))
    assert 'key "objective": must be a name' in line


@pytest.mark.parametrize("scheme", ["peer", "cohorts"])
def test_priorities_are_refused_by_schemes_without_them(scheme: str) -> None:
    data = {
        "version": 1,
        "scheme": scheme,
        "participants": {"id": "Email"},
        "objective": {"priorities": ["pairs"]},
        **({"groups": {"size": {"min": 2, "max": 3}}} if scheme == "cohorts" else {}),
    }
    lines = _errors(data)
    assert any(f"the {scheme} scheme has no priorities objective" in x for x in lines)


def test_priority_needs_an_effect_and_a_source() -> None:
    file = {"file": "unmatched.csv"}
    (line,) = _errors(_with(priority=file))
    assert 'key "priority": has no effect' in line
    (line,) = _errors(_with(priority={**file, "bonus": 5}, objective="fair"))
    assert "fair has its own fixed order" in line
    (line,) = _errors(_with(objective={"priorities": ["priority-covered", "pairs"]}))
    assert 'key "objective.priorities[0]": priority-covered counts the people named' in line
    lines = _errors(_with(priority={"bonus": 5}))
    assert any("give file" in x for x in lines)
    lines = _errors(_with(priority={"attribute": "regoin", "values": ["North"], "bonus": 5}))
    assert any('key "priority.attribute": unknown attribute "regoin"' in x for x in lines)
    ok = validate_scheme(_with(priority={**file, "bonus": 10}))
    assert ok.priority is not None and ok.priority.bonus == 10


def test_priority_is_refused_by_peer() -> None:
    data = {
        "version": 1,
        "scheme": "peer",
        "participants": {"id": "Email"},
        "priority": {"file": "unmatched.csv", "bonus": 5},
    }
    assert any("does not favour people" in x for x in _errors(data))


def test_priority_keeps_old_hashes() -> None:
    assert scheme_hash(validate_scheme(BASE)) == scheme_hash(validate_scheme(copy.deepcopy(BASE)))
    with_priority = _with(priority={"file": "u.csv", "bonus": 5})
    assert scheme_hash(validate_scheme(with_priority)) != scheme_hash(validate_scheme(BASE))
