"""Scheme text is parsed strictly and within bounds: repeated keys, alias bombs,
recursive anchors and deep nesting are clear errors, never silent or a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from buddymatch.config import read_scheme_file
from buddymatch.errors import ConfigError
from buddymatch.structured import (
    MAX_ALIASES,
    MAX_DEPTH,
    StructureError,
    check_depth,
    load_toml,
    load_yaml,
)


def yaml_error(text: str) -> str:
    with pytest.raises(StructureError) as caught:
        load_yaml(text)
    return caught.value.message


def toml_error(text: str) -> str:
    with pytest.raises(StructureError) as caught:
        load_toml(text)
    return caught.value.message


def laughs(levels: int, width: int = 9) -> str:
    """A "billion laughs" YAML document: each level repeats the previous one ``width`` times."""
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_repeated_key_names_both_lines() -> None:
    text = "version: 1\nrules:\n  - different: organisation\nscheme: peer\nrules: []\n"
    assert yaml_error(text) == 'key "rules" is given twice in one mapping (lines 2 and 5)'
    nested = "participants:\n  id: Email\n  id: Name\n"
    assert yaml_error(nested) == 'key "id" is given twice in one mapping (lines 2 and 3)'


def test_merge_keys_may_be_overridden() -> None:
    text = "base: &b {weight: 1, attribute: region}\nsame:\n  <<: *b\n  weight: 3\n"
    assert load_yaml(text)["same"] == {"weight": 3, "attribute": "region"}


def test_alias_bomb_fails_at_once() -> None:
    text = laughs(9)
    assert len(text) < 1500
    assert yaml_error(text).startswith("aliases expand to more than 1,000,000 values")


def test_too_many_aliases() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert yaml_error(text).startswith(f"more than {MAX_ALIASES} aliases")


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a [[1, [*a]]]\n"])
def test_recursive_anchor_is_refused(text: str) -> None:
    assert yaml_error(text) == "an alias refers to the value that contains it (line 1)"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a: " * 5000 + "1" + "}" * 5000,
        "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)),
    ],
)
def test_deep_yaml_is_refused_without_recursion_error(text: str) -> None:
    assert yaml_error(text).startswith(f"nested more than {MAX_DEPTH} levels deep")


def test_deep_via_aliases_is_refused() -> None:
    chain = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [[[*a{i - 1}]]]" for i in range(1, 30)]
    assert "once aliases are expanded" in yaml_error("\n".join(chain))


def test_tags_are_refused_not_run() -> None:
    message = yaml_error("a: !!python/object/apply:os.system ['true']\n")
    assert message.startswith("YAML tag not allowed (line 1)")
    assert yaml_error("? [a, b]\n: 1\n").startswith("invalid YAML (line 1)")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a = 1\na = 2\n", 2),
        ("[rules]\nx = 1\n[rules]\ny = 2\n", 3),
        ("a = {b = 1, b = 2}\n", 1),
        ('x = """\nmulti\n"""\nb = 1\nb = 2\n', 5),
    ],
)
def test_toml_repeated_keys_name_the_line(text: str, line: int) -> None:
    assert toml_error(text).startswith(f"a key or table is given twice (line {line})")


def test_toml_deep_nesting_is_refused() -> None:
    deep = "a = " + "[" * 100_000 + "]" * 100_000
    assert toml_error(deep).startswith(f"nested more than {MAX_DEPTH} levels deep")
    assert toml_error("a = " + "[" * 70 + "]" * 70).startswith("nested more than")
    assert load_toml("a = " + "[" * 10 + "]" * 10) == {"a": [[[[[[[[[[]]]]]]]]]]}


def test_check_depth_is_iterative() -> None:
    data: list[object] = []
    for _ in range(100_000):
        data = [data]
    with pytest.raises(StructureError):
        check_depth(data)


def test_read_scheme_file_reports_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "scheme.yaml"
    path.write_text(laughs(9))
    with pytest.raises(ConfigError) as caught:
        read_scheme_file(path)
    (line,) = caught.value.lines
    assert line.startswith(f"{path}: aliases expand to more than 1,000,000 values")
    assert line.endswith("— write the values out, or use fewer nested aliases")
    toml = tmp_path / "scheme.toml"
    toml.write_text("version = 1\nversion = 1\n")
    with pytest.raises(ConfigError) as caught:
        read_scheme_file(toml)
    assert caught.value.lines == [
        f"{toml}: a key or table is given twice (line 2): Cannot overwrite a value — give "
        "each key and [table] once; merge the two entries"
    ]


def test_control_characters_are_a_clear_error() -> None:
    """Found by the fuzzer: PyYAML's reader raised before parsing started."""
    assert yaml_error("\x1f\nversion: 1\n") == (
        "invalid YAML: character 0x1f at position 0 is not allowed in YAML"
    )
