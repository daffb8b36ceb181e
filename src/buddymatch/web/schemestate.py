"""A coordinator's review decisions as scheme rules, never as a side list.

Locking a pair, forbidding one, excluding a person and moving a person to a
group each edit the programme's scheme (the mapping a scheme file holds):
inline ``lock: {pairs: ...}``, ``forbid: {pairs: ...}``, ``exclude: {ids:
...}`` and ``place: {members: ...}`` rules.  The result is validated by the
library like any scheme file, so the workbench cannot express anything a
file could not.  Rules that name a file are left untouched; the inline rule
of each kind is created on first use and removed when it empties.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

KINDS = ("lock", "forbid", "exclude", "place")


@dataclass(frozen=True)
class Decision:
    """One inline decision, as shown in the page: kind and the ids (and group)."""

    kind: str
    ids: tuple[str, ...]
    group: int | None = None


def _key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _inline(rules: list[Any], kind: str, field: str) -> dict[str, Any] | None:
    """The inline rule of ``kind`` (one with ``field`` and no ``file``), if any."""
    for item in rules:
        body = item.get(kind) if isinstance(item, dict) and len(item) == 1 else None
        if not isinstance(body, dict) or "file" in body or field not in body:
            continue
        if kind != "exclude" or "attribute" not in body:
            return body
    return None


def _ensure(rules: list[Any], kind: str, field: str, empty: Any) -> dict[str, Any]:
    body = _inline(rules, kind, field)
    if body is None:
        body = {field: empty}
        rules.append({kind: body})
    return body


def _drop_empty(rules: list[Any]) -> list[Any]:
    out = []
    for item in rules:
        if isinstance(item, dict) and len(item) == 1:
            ((kind, body),) = item.items()
            if kind in KINDS and isinstance(body, dict) and len(body) == 1:
                (value,) = body.values()
                if not value:
                    continue
        out.append(item)
    return out


def _pair_filter(pairs: list[Any], a: str, b: str) -> list[Any]:
    """The pairs other than {a, b} (in either order: a pair is one meeting)."""
    wanted = {_key(a), _key(b)}
    return [list(p) for p in pairs if {_key(p[0]), _key(p[1])} != wanted]


def apply(scheme: dict[str, Any], decision: Decision, *, remove: bool = False) -> dict[str, Any]:
    """A new scheme mapping with ``decision`` added (or removed); the input is unchanged."""
    data = copy.deepcopy(scheme)
    rules = list(data.get("rules") or [])
    if decision.kind in ("lock", "forbid"):
        a, b = decision.ids
        for kind in ("lock", "forbid"):  # a pair is never both locked and forbidden
            body = _inline(rules, kind, "pairs")
            if body is not None:
                body["pairs"] = _pair_filter(list(body["pairs"]), a, b)
        if not remove:
            _ensure(rules, decision.kind, "pairs", [])["pairs"].append([a, b])
    elif decision.kind == "exclude":
        body = _ensure(rules, "exclude", "ids", [])
        ids = [i for i in body["ids"] if _key(i) != _key(decision.ids[0])]
        body["ids"] = ids if remove else [*ids, decision.ids[0]]
    elif decision.kind == "place":
        body = _ensure(rules, "place", "members", {})
        members = {k: v for k, v in body["members"].items() if _key(k) != _key(decision.ids[0])}
        if not remove:
            members[decision.ids[0]] = int(decision.group or 1)
        body["members"] = members
    else:
        raise ValueError(f"unknown decision {decision.kind!r}")
    data["rules"] = _drop_empty(rules)
    if not data["rules"]:
        data.pop("rules")
    return data


def decisions(scheme: dict[str, Any]) -> list[Decision]:
    """Every inline decision in the scheme, in rule order."""
    out: list[Decision] = []
    rules = list(scheme.get("rules") or [])
    for kind in ("lock", "forbid"):
        body = _inline(rules, kind, "pairs")
        out += [Decision(kind, (str(p[0]), str(p[1]))) for p in (body or {}).get("pairs", [])]
    body = _inline(rules, "exclude", "ids")
    out += [Decision("exclude", (str(i),)) for i in (body or {}).get("ids", [])]
    body = _inline(rules, "place", "members")
    out += [
        Decision("place", (str(k),), int(v)) for k, v in (body or {}).get("members", {}).items()
    ]
    return out


def to_yaml(scheme: dict[str, Any]) -> str:
    """The scheme as a YAML file a coordinator can download and run with the CLI."""
    return yaml.safe_dump(scheme, sort_keys=False, allow_unicode=True, width=100)


def from_yaml(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}
