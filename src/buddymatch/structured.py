"""YAML and TOML text -> plain data, strictly and within bounds.

Why: a scheme file decides which pairs are allowed, so a parse that silently
differs from what the user wrote breaks their rules with exit code 0.  And a
file of a few hundred bytes must not be able to hang the run or exhaust memory.

Callers may rely on:

* **Safe.**  YAML is loaded with a subclass of ``yaml.SafeLoader``: tags such as
  ``!!python/object`` are refused, never executed.
* **Strict.**  A key given twice in one mapping is an error naming the key and
  both lines (YAML) or the line of the repeat (TOML); with plain PyYAML the
  second would silently win.
* **Bounded.**  At most :data:`MAX_ALIASES` alias uses, :data:`MAX_NODES` values
  once every alias is expanded (a "billion laughs" file of 1 KB fails at once),
  :data:`MAX_DEPTH` levels of nesting; a recursive anchor (``&a [*a]``) is
  refused.  Nothing here recurses deeper than ``MAX_DEPTH`` levels, so a
  deeply nested file never reaches Python's recursion limit.

Every failure is a :class:`StructureError` carrying a one-line message (with the
line number where known) and a fix; ``config.read_scheme_file`` turns it into a
``ConfigError`` (exit code 2).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MAX_DEPTH = 64
"""Most nested levels (mappings and lists) a scheme file may have; real ones use under 8."""
MAX_ALIASES = 1_000
"""Most YAML alias uses (``*name``) in one file."""
MAX_NODES = 1_000_000
"""Most values in the document once every YAML alias is expanded."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_DUPLICATE = ("Cannot overwrite a value", "Cannot declare", "Duplicate inline table key")


class StructureError(Exception):
    """The text cannot be turned into data: ``message`` says why, ``fix`` what to do."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def _at(mark: Any) -> str:
    return f" (line {mark.line + 1})" if mark is not None else ""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that bounds nesting and aliases while composing and checks the graph after."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise StructureError(
                    f"more than {MAX_ALIASES} aliases (*name){_at(event.start_mark)}",
                    "write the values out, or use fewer anchors",
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise StructureError(
                    f"nested more than {MAX_DEPTH} levels deep{_at(event.start_mark)}",
                    "a scheme needs only a few levels; check the brackets and indentation",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            check_graph(node)
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_graph(root: Node) -> None:
    """Refuse recursive aliases, oversized expansions, deep nesting and repeated keys.

    One iterative depth-first walk over the distinct nodes (aliases share nodes),
    computing each node's expanded size and depth from its children's: linear in
    the file, whatever the expansion would be.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            _check_expanded(node, size[key], depth[key])
        elif key not in size:
            if key in depth:  # entered and not finished: we are inside it
                raise StructureError(
                    f"an alias refers to the value that contains it{_at(node.start_mark)}",
                    "a value cannot include itself; remove the alias",
                )
            depth[key] = 0
            _check_keys(node)
            stack.append((node, True))
            stack.extend((k, False) for k in _children(node))


def _check_expanded(node: Node, size: int, depth: int) -> None:
    if size > MAX_NODES:
        raise StructureError(
            f"aliases expand to more than {MAX_NODES:,} values{_at(node.start_mark)}",
            "write the values out, or use fewer nested aliases",
        )
    if depth > MAX_DEPTH:
        raise StructureError(
            f"nested more than {MAX_DEPTH} levels deep once aliases are expanded"
            f"{_at(node.start_mark)}",
            "use fewer nested aliases",
        )


def _check_keys(node: Node) -> None:
    """A key given twice in one mapping (merge keys ``<<`` excepted, as YAML defines them)."""
    if not isinstance(node, MappingNode):
        return
    first: dict[tuple[str, str], Any] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        seen = first.setdefault((key_node.tag, key_node.value), key_node.start_mark)
        if seen is not key_node.start_mark:
            lines = f"lines {_line(seen)} and {_line(key_node.start_mark)}"
            raise StructureError(
                f'key "{_clip(key_node.value)}" is given twice in one mapping ({lines})',
                "give each key once; merge the two entries",
            )


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_yaml(text: str) -> Any:
    """Parse YAML text strictly (see the module docstring); raise StructureError."""
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)  # the reader checks the characters here already
        return loader.get_single_data()
    except yaml.constructor.ConstructorError as exc:
        raise _constructor_error(exc) from None
    except yaml.reader.ReaderError as exc:
        raise StructureError(
            f"invalid YAML: character {exc.character:#x} at position {exc.position} is not "
            "allowed in YAML",
            "remove control characters from the scheme file",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise StructureError(f"invalid YAML{line}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _constructor_error(exc: yaml.constructor.ConstructorError) -> StructureError:
    problem = str(exc.problem or "cannot be read")
    if "constructor for the tag" in problem:
        return StructureError(
            f"YAML tag not allowed{_at(exc.problem_mark)}: {problem}",
            "scheme files hold plain data only; remove the tag",
        )
    return StructureError(f"invalid YAML{_at(exc.problem_mark)}: {problem}")


def load_toml(text: str) -> Any:
    """Parse TOML text; a repeated key or table names its line; nesting is bounded."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(str(exc), text) from None
    except RecursionError:
        raise StructureError(
            f"nested more than {MAX_DEPTH} levels deep",
            "a scheme needs only a few levels; check the brackets",
        ) from None
    check_depth(data)
    return data


def _toml_error(message: str, text: str) -> StructureError:
    if not message.startswith(_TOML_DUPLICATE):
        return StructureError(f"invalid TOML: {message}")
    found = _TOML_LINE.search(message)
    line = int(found.group(1)) if found else _first_failing_line(text)
    where = f" (line {line})" if line else ""
    return StructureError(
        f"a key or table is given twice{where}: {_TOML_LINE.sub('', message).strip()}",
        "give each key and [table] once; merge the two entries",
    )


def _first_failing_line(text: str) -> int | None:
    """The first line whose prefix repeats a key (tomllib sometimes says only "end of document").

    Binary search over line prefixes: O(log lines) parses.
    """
    lines = text.splitlines(keepends=True)
    low, high = 1, len(lines)
    while low < high:
        mid = (low + high) // 2
        if _repeats_a_key("".join(lines[:mid])):
            high = mid
        else:
            low = mid + 1
    return low if lines else None


def _repeats_a_key(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return str(exc).startswith(_TOML_DUPLICATE)
    except RecursionError:
        return False
    return False


def check_depth(data: Any) -> None:
    """Refuse plain data nested more than MAX_DEPTH levels (iteratively, no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if level > MAX_DEPTH:
            raise StructureError(
                f"nested more than {MAX_DEPTH} levels deep",
                "a scheme needs only a few levels; check the brackets",
            )
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)


__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_NODES",
    "StructureError",
    "check_depth",
    "load_toml",
    "load_yaml",
]
