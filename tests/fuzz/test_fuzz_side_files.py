"""Fuzz target for side files: forbid, lock, history and pairwise CSVs read with profiles."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

import buddymatch

from .base import FORBID, HISTORY, PROFILES, SCHEME
from .common import FUZZ, Counter, inputs, mutated, only_buddymatch_errors

__all__ = ["inputs"]

BASE: dict[str, Any] = yaml.safe_load(SCHEME)
KINDS = {
    "forbid": (FORBID, lambda d: d["rules"].append({"forbid": {"file": "side.csv"}})),
    "lock": (FORBID, lambda d: d["rules"].append({"lock": {"file": "side.csv"}})),
    "history": (HISTORY, lambda d: d.update(history={"file": "side.csv", "cooldown": 1})),
}


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), data=st.data())
def test_side_files(kind: str, data: st.DataObject, tmp_path: Path, inputs: Counter) -> None:
    inputs()
    text, add_rule = KINDS[kind]
    (tmp_path / "side.csv").write_bytes(data.draw(mutated(text.encode())))
    (tmp_path / "profiles.csv").write_text(PROFILES, encoding="utf-8")
    scheme = copy.deepcopy(BASE)
    add_rule(scheme)
    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(scheme), encoding="utf-8")
    only_buddymatch_errors(
        lambda: buddymatch.load_problem(tmp_path / "profiles.csv", tmp_path / "scheme.yaml")
    )
