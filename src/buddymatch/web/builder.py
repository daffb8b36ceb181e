"""The scheme builder: a scheme mapping <-> flat form fields, losslessly.

``to_form(scheme, headings)`` lays a scheme out as rows a page can show
(one per attribute, rule and criterion, plus blank rows to add more);
``from_form(fields)`` turns the posted fields back into a scheme mapping,
which the caller validates with :func:`buddymatch.config.validate_scheme`.
What the form has no control for (a rule naming a file, aliases, history, feedback,
a priorities objective and ``priority:``,
``groups.bounds``, ``role.files``, ``split_by``, name columns, availability grids
and requests by name...) travels unchanged as JSON in a hidden field, so saving
the form never drops or invents a rule: ``from_form(to_form(s))`` validates to
the same scheme as ``s`` (tested on every example scheme).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ATTRIBUTE_KINDS = ("categorical", "ordinal", "multi", "numeric")
FORM_RULES = ("different", "same", "gap", "exclude", "at_least", "at_most", "exactly")
FORM_CRITERIA = (
    "same",
    "overlap",
    "closeness",
    "availability",
    "preference",
    "diversity",
    "similarity",
    "balance",
)
_RULE_FIELDS = ("attribute", "min", "max", "values", "value", "count")
_CRIT_FIELDS: tuple[str, ...] = ("attribute", "mentee", "mentor", "target", "range", "slots")
_CRIT_FIELDS += ("like", "dislike", "attributes", "name", "weight")
BLANK_ROWS = 3
Form = Mapping[str, Any]  # name -> str, or list[str] for multi-valued fields


@dataclass
class Row:
    """One attribute, rule or criterion line of the form (``kept``: JSON carried as is)."""

    index: int
    kind: str = ""
    values: dict[str, str] = field(default_factory=dict)
    kept: str = ""

    @property
    def kept_text(self) -> str:
        if not self.kept:
            return ""
        return json.dumps(json.loads(self.kept), ensure_ascii=False)


@dataclass
class FormState:
    scheme: str
    top: dict[str, str]
    carry: list[str]
    attributes: list[Row]
    rules: list[Row]
    criteria: list[Row]
    extra: str


# ----------------------------------------------------------------------- text helpers


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _join(values: Sequence[Any] | None) -> str:
    return "; ".join(str(v) for v in values or ())


def _split(text: str) -> list[str]:
    return [p.strip() for p in str(text or "").split(";") if p.strip()]


def _number(text: str) -> int | float | None:
    text = str(text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text  # type: ignore[return-value]  # the library reports it with its key
    return int(value) if value.is_integer() else value


# ------------------------------------------------------------------------- to_form


def _item(entry: Any) -> tuple[str, Any]:
    if isinstance(entry, dict) and len(entry) == 1:
        ((kind, body),) = entry.items()
        return str(kind), body
    return "", entry


_KEPT_ATTRIBUTE_KEYS = ("columns", "slots", "unavailable", "names")
"""Attribute settings the form has no control for: such attributes travel in ``extra``."""


def _kept_attributes(participants: Mapping[str, Any]) -> dict[str, Any]:
    attrs = _mapping(participants.get("attributes"))
    return {
        name: spec
        for name, spec in attrs.items()
        if isinstance(spec, dict) and any(k in spec for k in _KEPT_ATTRIBUTE_KEYS)
    }


def _attribute_rows(participants: Mapping[str, Any], headings: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    used = set()
    kept = _kept_attributes(participants)
    for name, spec in (participants.get("attributes") or {}).items():
        if name in kept:
            continue
        spec = spec if isinstance(spec, dict) else {"column": spec}
        kind = "categorical"
        if spec.get("scale") is not None:
            kind = "ordinal"
        elif spec.get("multi") is not None:
            kind = "multi"
        elif spec.get("numeric"):
            kind = "numeric"
        values = {
            "name": str(name),
            "column": str(spec.get("column", "")),
            "scale": _join(spec.get("scale")),
            "sep": _text(spec.get("multi")),
            "aliases": json.dumps(spec.get("aliases") or {}, ensure_ascii=False),
        }
        used.add(values["column"])
        rows.append(Row(len(rows), kind, values))
    for heading in headings:
        if heading not in used:
            values = {"name": "", "column": heading, "scale": "", "sep": "", "aliases": "{}"}
            rows.append(Row(len(rows), "", values))
    return rows


def _rule_row(index: int, entry: Any) -> Row:
    kind, body = _item(entry)
    if kind in ("different", "same") and isinstance(body, str):
        body = {"attribute": body}
    simple = kind in FORM_RULES and isinstance(body, dict) and "ids" not in body
    if not simple:
        return Row(index, kind, {}, json.dumps(entry, ensure_ascii=False))
    values = {k: _text(body.get(k)) for k in _RULE_FIELDS}
    values["values"] = _join(body.get("values"))
    return Row(index, kind, values)


def _criterion_row(index: int, entry: Any) -> Row:
    kind, body = _item(entry)
    if kind == "same" and isinstance(body, str):
        body = {"attribute": body}
    if kind not in FORM_CRITERIA or not isinstance(body, dict):
        return Row(index, kind, {}, json.dumps(entry, ensure_ascii=False))
    values = {k: _text(body.get(k)) for k in _CRIT_FIELDS}
    values["attributes"] = _join(body.get("attributes"))
    return Row(index, kind, values)


def _blank(rows: list[Row]) -> list[Row]:
    return rows + [Row(len(rows) + k) for k in range(BLANK_ROWS)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _top(data: Mapping[str, Any]) -> dict[str, str]:
    p = _mapping(data.get("participants"))
    role = _mapping(p.get("role"))
    groups = _mapping(data.get("groups"))
    size = _mapping(groups.get("size"))
    solver = _mapping(data.get("solver"))
    top = {
        "id": _text(p.get("id")),
        "role_column": _text(role.get("column")),
        "role_mentor": _join(role.get("mentor", ["Mentor"] if role.get("column") else [])),
        "role_mentee": _join(role.get("mentee", ["Mentee"] if role.get("column") else [])),
        "role_both": _join(role.get("both")),
        "groups_min": _text(size.get("min")),
        "groups_max": _text(size.get("max")),
        "groups_count": _text(groups.get("count")),
    }
    for key in ("capacity", "wants"):
        spec = _mapping(p.get(key))
        top[f"{key}_column"] = _text(spec.get("column"))
        top[f"{key}_default"] = _text(spec.get("default"))
        top[f"{key}_max"] = _text(spec.get("max"))
    for key in ("objective", "min_score", "rounds", "leftover", "group_size"):
        top[key] = "" if isinstance(data.get(key), Mapping) else _text(data.get(key))
    for key in ("seed", "iterations", "time_limit"):
        top[key] = _text(solver.get(key))
    levels = _mapping(data.get("objective")).get("priorities")
    top["objective_kept"] = " > ".join(map(str, levels)) if isinstance(levels, list) else ""
    return top


def _extra(data: Mapping[str, Any]) -> str:
    """What the form has no control for, carried unchanged."""
    p = data.get("participants") or {}
    extra: dict[str, Any] = {}
    if isinstance(p.get("role"), dict) and "files" in p["role"]:
        extra["role"] = p["role"]
    elif isinstance(p.get("role"), dict):  # settings for people who are both
        both = {k: p["role"][k] for k in ("reciprocal", "one_role") if k in p["role"]}
        if both:
            extra["role_settings"] = both
    if isinstance(data.get("groups"), dict) and "bounds" in data["groups"]:
        extra["groups"] = data["groups"]
    for key in ("history", "feedback", "split_by", "priority"):
        if data.get(key) is not None:
            extra[key] = data[key]
    if isinstance(data.get("objective"), Mapping):  # {priorities: [...]}: no form control
        extra["objective"] = data["objective"]
    if isinstance(p, dict) and p.get("name") is not None:
        extra["name"] = p["name"]
    if isinstance(p, dict) and _kept_attributes(p):
        extra["attributes"] = _kept_attributes(p)
    return json.dumps(extra, ensure_ascii=False)


def to_form(data: Mapping[str, Any], headings: Sequence[str] = ()) -> FormState:
    """Lay a scheme mapping (as a scheme file holds it) out as form rows."""
    p = data.get("participants") or {}
    rules = [_rule_row(i, e) for i, e in enumerate(data.get("rules") or [])]
    criteria = [_criterion_row(i, e) for i, e in enumerate(data.get("criteria") or [])]
    return FormState(
        scheme=str(data.get("scheme", "")),
        top=_top(data),
        carry=[str(c) for c in p.get("carry") or []],
        attributes=_attribute_rows(p, headings),
        rules=_blank(rules),
        criteria=_blank(criteria),
        extra=_extra(data),
    )


# ----------------------------------------------------------------------- from_form


def _get(form: Form, name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def _count_spec(form: Form, key: str) -> dict[str, Any] | None:
    spec = {
        "column": _get(form, f"{key}_column") or None,
        "default": _number(_get(form, f"{key}_default")),
        "max": _number(_get(form, f"{key}_max")),
    }
    spec = {k: v for k, v in spec.items() if v is not None}
    return spec or None


def _role(form: Form, extra: Mapping[str, Any]) -> dict[str, Any] | None:
    if "role" in extra:
        return dict(extra["role"])
    column = _get(form, "role_column")
    if not column:
        return None
    role: dict[str, Any] = {"column": column}
    for key in ("mentor", "mentee", "both"):
        values = _split(_get(form, f"role_{key}"))
        if values:
            role[key] = values
    role.update(extra.get("role_settings") or {})
    return role


def _attribute(form: Form, i: int) -> tuple[str, dict[str, Any]] | None:
    name, kind = _get(form, f"attr_{i}_name"), _get(form, f"attr_{i}_kind")
    if not name or not kind:
        return None
    spec: dict[str, Any] = {"column": _get(form, f"attr_{i}_column")}
    if kind == "ordinal":
        spec["scale"] = _split(_get(form, f"attr_{i}_scale"))
    elif kind == "multi":
        spec["multi"] = _get(form, f"attr_{i}_sep") or ";"
    elif kind == "numeric":
        spec["numeric"] = True
    aliases = json.loads(_get(form, f"attr_{i}_aliases") or "{}")
    if aliases:
        spec["aliases"] = aliases
    return name, spec


def _rows(form: Form, prefix: str) -> list[int]:
    found = set()
    for key in form:
        if key.startswith(prefix) and key.count("_") >= 2:
            head = key[len(prefix) :].split("_", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _participants(form: Form, extra: Mapping[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = {"id": _get(form, "id")}
    role = _role(form, extra)
    if role is not None:
        p["role"] = role
    for key in ("capacity", "wants"):
        spec = _count_spec(form, key)
        if spec is not None:
            p[key] = spec
    carry = form.get("carry") or []
    carry = [carry] if isinstance(carry, str) else list(carry)
    if carry:
        p["carry"] = [str(c) for c in carry]
    attrs = [a for a in (_attribute(form, i) for i in _rows(form, "attr_")) if a is not None]
    p["attributes"] = {**dict(attrs), **_mapping(extra.get("attributes"))}
    if "name" in extra:
        p["name"] = extra["name"]
    return p


def _fields(form: Form, prefix: str, names: Sequence[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in names:
        raw = _get(form, f"{prefix}{name}")
        if not raw:
            continue
        if name in ("values", "attributes"):
            body[name] = _split(raw)
        elif name in ("min", "max", "count", "target", "range", "slots", "weight"):
            body[name] = _number(raw)
        else:
            body[name] = raw
    return body


def _entries(form: Form, prefix: str, names: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for i in _rows(form, prefix):
        if _get(form, f"{prefix}{i}_remove"):
            continue
        kept = _get(form, f"{prefix}{i}_kept")
        if kept:
            out.append(json.loads(kept))
            continue
        kind = _get(form, f"{prefix}{i}_kind")
        if kind:
            out.append({kind: _fields(form, f"{prefix}{i}_", names)})
    return out


def _groups(form: Form, extra: Mapping[str, Any]) -> dict[str, Any] | None:
    if "groups" in extra:
        return dict(extra["groups"])
    count = _number(_get(form, "groups_count"))
    if count is not None:
        return {"count": count}
    low, high = _number(_get(form, "groups_min")), _number(_get(form, "groups_max"))
    if low is None and high is None:
        return None
    return {"size": {"min": low, "max": high}}


def _options(form: Form) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("objective", "leftover"):
        if _get(form, key):
            out[key] = _get(form, key)
    for key in ("min_score", "rounds", "group_size"):
        value = _number(_get(form, key))
        if value is not None:
            out[key] = value
    return out


def from_form(form: Form) -> dict[str, Any]:
    """The scheme mapping the posted form describes (validate it before use)."""
    extra = json.loads(_get(form, "extra") or "{}")
    data: dict[str, Any] = {"version": 1, "scheme": _get(form, "scheme")}
    data["participants"] = _participants(form, extra)
    rules = _entries(form, "rule_", _RULE_FIELDS)
    criteria = _entries(form, "crit_", _CRIT_FIELDS)
    if rules:
        data["rules"] = rules
    if criteria:
        data["criteria"] = criteria
    data.update(_options(form))
    groups = _groups(form, extra)
    if groups is not None:
        data["groups"] = groups
    for key in ("history", "feedback", "split_by", "priority"):
        if key in extra:
            data[key] = extra[key]
    if "objective" in extra and "objective" not in data:  # a named objective chosen wins
        data["objective"] = extra["objective"]
    solver = {k: _number(_get(form, k)) for k in ("seed", "iterations", "time_limit")}
    solver = {k: v for k, v in solver.items() if v is not None}
    if solver:
        data["solver"] = solver
    return data


def skeleton(kind: str, headings: Sequence[str]) -> dict[str, Any]:
    """A starting scheme for a new programme: the id column guessed from the headings."""
    guess = next((h for h in headings if "mail" in h.lower()), headings[0] if headings else "")
    data: dict[str, Any] = {"version": 1, "scheme": kind, "participants": {"id": guess}}
    if kind == "cohorts":
        data["groups"] = {"size": {"min": 6, "max": 8}}
    return data
