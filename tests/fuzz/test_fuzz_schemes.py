"""Fuzz targets for scheme files (YAML and TOML text) and for scheme validation (any data)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from buddymatch.config import load_scheme, validate_scheme

from .base import SCHEME
from .common import FUZZ, Counter, inputs, mutated_text, only_buddymatch_errors

__all__ = ["inputs"]

ROOT = Path(__file__).resolve().parents[2]
TOML = (ROOT / "constraints" / "mentoring.toml").read_text(encoding="utf-8")
YAML_PIECES = [
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "[[[[[[",
    "? ",
    "--- ",
    "&b [*b]",
]
YAML_PIECES += ["rules: []", "weight: .inf", "max: 1e400", "capacity: {max: 99999999999999999999}"]
TOML_PIECES = ["[rules]", "[[rules]]", "a = [[[[[[", "x = inf", "weight = nan", "= 1", '"""']


@FUZZ
@given(text=mutated_text(SCHEME, extra=YAML_PIECES))
def test_yaml_text(text: str, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    path = tmp_path / "scheme.yaml"
    path.write_text(text, encoding="utf-8")
    only_buddymatch_errors(lambda: load_scheme(path))


@FUZZ
@given(text=mutated_text(TOML, extra=TOML_PIECES))
def test_toml_text(text: str, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    path = tmp_path / "scheme.toml"
    path.write_text(text, encoding="utf-8")
    only_buddymatch_errors(lambda: load_scheme(path))


KEYS = [
    "version", "scheme", "participants", "id", "role", "capacity", "wants", "attributes",
    "column", "scale", "multi", "numeric", "carry", "rules", "criteria", "different", "same",
    "gap", "min", "max", "forbid", "lock", "pairs", "file", "exclude", "values", "weight",
    "name", "overlap", "mentee", "mentor", "closeness", "target", "range", "objective",
    "groups", "size", "count", "rounds", "history", "cooldown", "penalty", "solver",
    "time_limit", "iterations", "seed", "min_score", "group_size", "default", "attribute",
]  # fmt: skip
NUMBERS = st.sampled_from([math.inf, -math.inf, math.nan, 1e400, 2**70, -(2**70), 0, -1, 0.5])
SCALARS = st.one_of(
    NUMBERS,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["mentoring", "peer", "cohorts", "Email", "Band", "region", "\u202e"]),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=30,
)


@st.composite
def schemes(draw: Any) -> dict[str, Any]:
    """The base scheme with a few keys replaced by arbitrary data."""
    import yaml

    data: dict[str, Any] = yaml.safe_load(SCHEME)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = data
        for _depth in range(draw(st.integers(0, 3))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node, key=str)))]
            elif isinstance(node, list) and node:
                child = draw(st.sampled_from(node))
            else:
                break
            if not isinstance(child, dict | list):
                break
            node = child
        if isinstance(node, dict):
            node[draw(st.sampled_from(KEYS))] = draw(DATA)
        elif isinstance(node, list):
            node.append(draw(DATA))
    return data


@FUZZ
@given(data=schemes())
def test_scheme_validation(data: dict[str, Any], inputs: Counter) -> None:
    inputs()
    only_buddymatch_errors(lambda: validate_scheme(data, label="s.yaml"))
