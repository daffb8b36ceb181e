"""Scheme files (YAML or TOML) -> a validated :class:`~buddymatch.model.Scheme`.

Every problem is collected and reported at once, each with its key path
(``rules[1].gap.max``) and, for a misspelt key or value, the closest valid one.
YAML is parsed by a strict ``yaml.SafeLoader`` (:mod:`buddymatch.structured`):
tags such as ``!!python/object`` are rejected, never executed; repeated keys,
alias bombs and deep nesting are errors.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Issue
from .files import read_regular
from .model import Criterion, Rule, Scheme, criterion_name, text_key
from .schemes import all_objectives, get_scheme, scheme_names
from .structured import StructureError, load_toml, load_yaml

MAX_SCHEME_BYTES = 1024 * 1024

# Valid placeholders for items already reported, so the rest still gets validated.
_SKIP = {
    "rules": {"kind": "exclude", "attribute": "", "values": ()},
    "criteria": {"kind": "same", "attribute": ""},
}


def _kinds_of(union: Any) -> list[str]:
    """Every ``kind`` value of a discriminated union of models (Rule, Criterion)."""
    members = get_args(get_args(union)[0])
    return sorted({k for m in members for k in get_args(m.model_fields["kind"].annotation)})


_ALL_RULE_KINDS = _kinds_of(Rule)
_ALL_CRITERION_KINDS = _kinds_of(Criterion)
# Shorthand: `- different: organisation` means {attribute: organisation}.
_SHORTHAND = {"different": "attribute", "same": "attribute", "keep_together": "sets"}
_SHORTHAND.update({"keep_apart": "sets", "place": "members", "not_alone": "attribute"})


def load_scheme(source: str | Path | Mapping[str, Any]) -> tuple[Scheme, Path | None]:
    """Load and validate a scheme from a file path or an already-parsed mapping.

    Returns the scheme and the folder relative to which files it names
    (``forbid: {file: ...}``, ``history: {file: ...}``) are resolved.
    """
    scheme, base, _ = load_scheme_as_written(source)
    return scheme, base


def load_scheme_as_written(
    source: str | Path | Mapping[str, Any],
) -> tuple[Scheme, Path | None, dict[str, Any]]:
    """:func:`load_scheme` plus the plain data it was validated from (the file read
    once), for the re-check against the raw input (:mod:`buddymatch.recheck`)."""
    if isinstance(source, Mapping):
        data = dict(source)
        return validate_scheme(data, label="scheme"), None, data
    path = Path(source)
    data = read_scheme_file(path)
    return validate_scheme(data, label=str(source)), path.parent, data


def read_scheme_file(path: Path) -> dict[str, Any]:
    """The plain data of a YAML or TOML scheme file, parsed strictly and within bounds.

    Only a regular file of at most 1 MiB is read (a FIFO or device is refused before
    it is opened); keys given twice, alias bombs, recursive anchors and deep nesting
    are errors (see :mod:`buddymatch.structured`).  Raises one ConfigError.
    """
    label = str(path)
    suffix = path.suffix.lower()
    raw = read_regular(
        path,
        label,
        max_bytes=MAX_SCHEME_BYTES,
        error=ConfigError,
        what="scheme file",
        fix="give a .yaml, .yml or .toml file",
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(
            issues=[Issue("is not UTF-8 text", file=label, fix="save the scheme file as UTF-8")]
        ) from None
    data = _parse_scheme_text(text, suffix, label)
    if data is None:
        raise ConfigError(
            issues=[Issue("scheme file is empty", file=label, fix="see constraints/")]
        )
    if not isinstance(data, dict):
        raise ConfigError(
            issues=[
                Issue("must be a mapping of keys (version, scheme, participants, ...)", file=label)
            ]
        )
    return data


def _parse_scheme_text(text: str, suffix: str, label: str) -> Any:
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ConfigError(
            issues=[
                Issue(
                    f'unsupported scheme file type "{suffix or "(none)"}"',
                    file=label,
                    fix="use .yaml, .yml or .toml",
                )
            ]
        )
    try:
        return load_toml(text) if suffix == ".toml" else load_yaml(text)
    except StructureError as exc:
        raise ConfigError(issues=[Issue(exc.message, file=label, fix=exc.fix)]) from None


def validate_scheme(data: Mapping[str, Any], *, label: str = "scheme") -> Scheme:
    """Validate a parsed scheme; raise one ConfigError listing every problem."""
    issues: list[Issue] = []
    normalised = _normalise(dict(data), issues, label)
    reported: set[str] = set()
    scheme: Scheme | None
    try:
        scheme = Scheme.model_validate(normalised)
    except ValidationError as exc:
        issues += _issues_from_pydantic(exc, normalised, label)
        scheme, reported = _without_invalid(normalised, exc)
    names = _name_issues(normalised, label, reported)
    issues += names
    if any(i.message.startswith('key "scheme"') for i in names):
        scheme = None  # the rest depends on which scheme it is
    # Cross-field checks run on what did validate, so a misspelt attribute is reported
    # together with a bad weight elsewhere; items already reported are not re-checked.
    if scheme is not None:
        reported |= {
            f"{key}[{i}]"
            for key in ("rules", "criteria")
            for i, item in enumerate(normalised.get(key) or ())
            if item is _SKIP[key]
        }
        issues += [i for i in _cross_check(scheme, label) if not _under(i, reported)]
        issues += [i for i in _name_clashes(scheme, label) if not _under(i, reported)]
    if issues or scheme is None:
        raise ConfigError(issues=issues)
    return scheme


def _without_invalid(data: dict[str, Any], exc: ValidationError) -> tuple[Scheme | None, set[str]]:
    """The scheme with every invalid rule, criterion or optional key left out (or None).

    Returns the key paths left out, whose cross-field problems are not reported twice.
    """
    fixed = dict(data)
    dropped: set[str] = set()
    for err in exc.errors():
        loc = err["loc"]
        head = str(loc[0]) if loc else ""
        if head in ("rules", "criteria") and len(loc) > 1 and isinstance(loc[1], int):
            items = list(fixed[head])
            items[loc[1]] = _SKIP[head]
            fixed[head] = items
            dropped.add(f"{head}[{loc[1]}]")
        elif head in ("version", "scheme", "participants", ""):
            return None, dropped
        else:
            fixed.pop(head, None)
            dropped.add(head)
    try:
        return Scheme.model_validate(fixed), dropped
    except ValidationError:
        return None, dropped


def _name_issues(data: Mapping[str, Any], label: str, reported: set[str]) -> list[Issue]:
    """``scheme`` and ``objective`` must be names the scheme registry knows."""
    issues = []
    name = data.get("scheme")
    if isinstance(name, str) and "scheme" not in reported and name not in scheme_names():
        issues.append(_not_allowed(label, "scheme", name, scheme_names()))
        return issues
    objective = data.get("objective", "max-matched")
    if isinstance(objective, str) and "objective" not in reported:
        allowed = get_scheme(name).objectives if isinstance(name, str) else all_objectives()
        if objective not in allowed:
            issues.append(_not_allowed(label, "objective", objective, allowed))
    elif isinstance(objective, Mapping) and "objective" not in reported:
        issues += _priority_name_issues(objective.get("priorities"), name, label)
    return issues


def _priority_name_issues(levels: Any, scheme: Any, label: str) -> list[Issue]:
    """Each level of ``objective.priorities`` must be a priority the scheme knows, once."""
    if not isinstance(levels, list | tuple) or not isinstance(scheme, str):
        return []
    allowed = get_scheme(scheme).priority_names
    if not allowed:
        names = ", ".join(get_scheme(scheme).objectives)
        message = f"the {scheme} scheme has no priorities objective; use one of {names}"
        return [_key_issue(label, "objective.priorities", message)]
    issues, seen = [], set()
    for k, level in enumerate(levels):
        path = f"objective.priorities[{k}]"
        if not isinstance(level, str):
            continue  # reported by the model
        if level not in allowed:
            issues.append(_not_allowed(label, path, level, allowed))
        elif level in seen:
            issues.append(_key_issue(label, path, f'"{level}" is listed twice', "list it once"))
        seen.add(level)
    return issues


def _not_allowed(label: str, path: str, value: str, allowed: Sequence[str]) -> Issue:
    """The message pydantic gives for a literal, for names the registry checks."""
    quoted = [f"'{a}'" for a in allowed]
    expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    message = f"{_short(value)} is not allowed; expected {expected}"
    return _key_issue(label, path, message, _suggest(value, list(allowed)))


def _under(issue: Issue, paths: set[str]) -> bool:
    return any(issue.message.startswith((f'key "{p}"', f'key "{p}.', f'key "{p}[')) for p in paths)


_LATER_SECTIONS = ("feedback", "split_by", "priority")
"""Optional sections added after the first release: left out of the hash when absent,
so a scheme that does not use them keeps the hash it always had."""


_LATER_KEYS: dict[str, dict[str, Any]] = {
    "participants": {"name": None},
    "attribute": {"columns": None, "slots": None, "unavailable": False, "names": False},
    "rule": {"attribute": None},  # forbid and keep rules: requests by name
    "role": {"reciprocal": False, "one_role": False},
}
"""Keys added after the first release inside participants, attributes and rules, with the
defaults at which they are left out of the hash."""


def _drop_later_defaults(data: dict[str, Any]) -> None:
    """Remove :data:`_LATER_KEYS` at their defaults from a dumped scheme, in place."""

    def drop(item: Any, keys: Mapping[str, Any]) -> None:
        if isinstance(item, dict):
            for key, default in keys.items():
                if key in item and item[key] == default:
                    del item[key]

    participants = data.get("participants") or {}
    drop(participants, _LATER_KEYS["participants"])
    drop(participants.get("role"), _LATER_KEYS["role"])
    for spec in (participants.get("attributes") or {}).values():
        drop(spec, _LATER_KEYS["attribute"])
    for rule in data.get("rules") or ():
        if isinstance(rule, dict) and rule.get("kind") in ("forbid", "keep_together", "keep_apart"):
            drop(rule, _LATER_KEYS["rule"])


def scheme_hash(scheme: Scheme) -> str:
    """Stable hash of the validated scheme (for summary.json).

    Settings added after the first release are left out while at their defaults
    (:data:`_LATER_SECTIONS`, :data:`_LATER_KEYS`), so a scheme that does not use
    them keeps the hash it always had.
    """
    data = scheme.model_dump(mode="json")
    for key in _LATER_SECTIONS:
        if data.get(key) is None:
            data.pop(key, None)
    _drop_later_defaults(data)
    blob = json.dumps(data, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def with_overrides(scheme: Scheme, overrides: Mapping[str, Any], *, label: str) -> Scheme:
    """The scheme with top-level keys (or ``seed``/``time_limit``/``iterations`` of
    ``solver``) replaced, re-validated like a file so an override gets every check.

    ``None`` values are ignored (an option not given).
    """
    data = scheme.model_dump()
    for key, value in overrides.items():
        if value is None:
            continue
        if key in ("seed", "time_limit", "iterations"):
            data["solver"][key] = value
        else:
            data[key] = value
    data["rules"] = [_as_item(r) for r in data["rules"]]
    data["criteria"] = [_as_item(c) for c in data["criteria"]]
    return validate_scheme(data, label=label)


def _as_item(d: dict[str, Any]) -> dict[str, Any]:
    """A dumped rule/criterion back in the file's ``- kind: {settings}`` form."""
    kind = d.pop("kind")
    return {kind: {k: v for k, v in d.items() if v is not None}}


# --- normalisation: list-of-single-key-mappings -> tagged dicts ---------------


def _normalise(data: dict[str, Any], issues: list[Issue], label: str) -> dict[str, Any]:
    for key, kinds in (("rules", _ALL_RULE_KINDS), ("criteria", _ALL_CRITERION_KINDS)):
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            issues.append(_key_issue(label, key, "must be a list of items like `- kind: {...}`"))
            data[key] = []  # reported; keep pydantic from reporting it again
            continue
        tagged = [_tag(item, f"{key}[{i}]", kinds, issues, label) for i, item in enumerate(items)]
        # Items that could not be tagged are reported already; validate the rest.
        data[key] = [t if isinstance(t, dict) and "kind" in t else _SKIP[key] for t in tagged]
    return data


def _tag(item: Any, path: str, kinds: list[str], issues: list[Issue], label: str) -> Any:
    if not isinstance(item, dict) or len(item) != 1:
        issues.append(
            _key_issue(
                label, path, "each item is one kind with its settings, e.g. `- same: region`"
            )
        )
        return item
    ((kind, value),) = item.items()
    if kind not in kinds:
        issues.append(_key_issue(label, path, f'unknown kind "{kind}"', _suggest(str(kind), kinds)))
        return item
    if isinstance(value, dict) and not (kind == "place" and "members" not in value):
        return {"kind": kind, **value}
    if kind in _SHORTHAND:
        return {"kind": kind, _SHORTHAND[kind]: value}
    issues.append(_key_issue(label, f"{path}.{kind}", "expects settings, e.g. {attribute: ...}"))
    return item


# --- pydantic errors -> issues ---------------------------------------------------


def _objective_errors(errors: list[Any], data: Any) -> list[Any]:
    """``objective`` is a name or ``{priorities: [...]}``: report the form the user wrote.

    pydantic reports a failed ``str | PrioritiesSpec`` once per member; keep the
    errors of the member matching the input's type, without the member's name.
    """
    value = data.get("objective") if isinstance(data, Mapping) else None
    out = []
    for err in errors:
        loc = tuple(err["loc"])
        if loc[:1] != ("objective",) or len(loc) < 2 or loc[1] not in ("str", "PrioritiesSpec"):
            out.append(err)
            continue
        if isinstance(value, Mapping) and loc[1] == "PrioritiesSpec":
            out.append({**err, "loc": ("objective", *loc[2:])})
        elif not isinstance(value, Mapping) and loc[1] == "str":
            out.append(
                {
                    **err,
                    "loc": ("objective",),
                    "type": "value_error",
                    "msg": "must be a name (max-matched, max-score, fair) or "
                    "{priorities: [level, ...]}",
                }
            )
    return out


def _issues_from_pydantic(exc: ValidationError, data: Any, label: str) -> list[Issue]:
    issues = []
    seen = set()
    for err in _objective_errors(exc.errors(), data):
        loc = _readable_loc(err["loc"], data)
        kind = err["type"]
        fix = None
        if kind == "extra_forbidden":
            message = "unknown key"
            fix = _suggest(str(err["loc"][-1]), _allowed_keys(err["loc"][:-1], data))
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{_short(err.get('input'))} is not allowed; expected {expected}"
            options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
            fix = _suggest(str(err.get("input")), [o for o in options if o])
        elif kind == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_short(err.get('input'))})"
        key = (loc, message)
        if key in seen:
            continue
        seen.add(key)
        issues.append(_key_issue(label, loc, message, fix))
    return issues


def _readable_loc(loc: Sequence[Any], data: Any) -> str:
    parts: list[str] = []
    node = data
    skip_next = False
    for i, part in enumerate(loc):
        if skip_next:
            skip_next = False
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
            node = node[part] if isinstance(node, list) and part < len(node) else None
            # discriminated unions add the tag next: show it as the kind key
            nxt = loc[i + 1] if i + 1 < len(loc) else None
            if isinstance(node, dict) and nxt == node.get("kind"):
                parts.append(f".{nxt}")
                skip_next = True
            continue
        parts.append(f".{part}" if parts else str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts)


def _allowed_keys(loc: Sequence[Any], data: Any) -> list[str]:
    """Field names of the model found at ``loc`` (for "did you mean")."""
    model: Any = Scheme
    node: Any = data
    map_key = False
    field = ""
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "kind" in node:
                model = _model_for_kind(field, node["kind"])
            continue
        if isinstance(node, dict) and part == node.get("kind"):
            continue
        field = str(part)
        node = node.get(part) if isinstance(node, dict) else None
        if map_key:  # a user-chosen key of a dict field, e.g. an attribute name
            map_key = False
            continue
        map_key = _is_mapping_field(model, part)
        model = _field_model(model, part)
        if model is None:
            return []
    if model is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [k for k in model.model_fields if k != "kind"]


def _field_model(model: Any, name: str) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    field = model.model_fields.get(name)
    if field is None:
        return None
    return _unwrap(field.annotation)


def _is_mapping_field(model: Any, name: str) -> bool:
    """Whether ``model.name`` is a ``dict[str, ...]`` (its keys are the user's names)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    field = model.model_fields.get(name)
    return field is not None and get_origin(field.annotation) is dict


def _unwrap(annotation: Any) -> Any:
    """The model class inside Optional[...], tuple[...], dict[str, ...] or a union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = get_args(annotation)
    for arg in reversed(args):
        found = _unwrap(arg)
        if found is not None:
            return found if not get_args(arg) or found is not None else None
    if args and annotation in (Rule, Criterion):  # pragma: no cover - handled by kind
        return None
    return annotation if args else None


def _model_for_kind(field: str, kind: str) -> Any:
    """The rule or criterion model of ``kind`` in the list ``field`` (both have a ``same``)."""
    unions = {"rules": (Rule,), "criteria": (Criterion,)}.get(field, (Rule, Criterion))
    for union in unions:
        for member in get_args(get_args(union)[0]):
            tag = member.model_fields.get("kind")
            if tag is not None and kind in get_args(tag.annotation):
                return member
    return None


# --- cross-field checks ------------------------------------------------------------


def _cross_check(scheme: Scheme, label: str) -> list[Issue]:
    """Checks across keys: rules and criteria allowed for the scheme, the attributes
    they name and their kinds, duplicate criterion names, then the scheme's own hooks.

    Table-driven: each rule and criterion model declares the fields that name
    attributes and the kinds they accept (``attribute_fields``) and its own
    combined-settings checks (``semantic_issues``); each scheme declares its
    rules, criteria and extra checks (``SchemeKind.validate``).
    """
    kind = get_scheme(scheme.scheme)
    issues: list[Issue] = []
    sections = (
        ("rules", "rule", scheme.rules, kind.rule_kinds),
        ("criteria", "criterion", scheme.criteria, kind.criterion_kinds),
    )
    seen: set[str] = set()
    for key, noun, items, allowed in sections:
        for i, item in enumerate(items):
            path = f"{key}[{i}].{item.kind}"
            if item.kind not in allowed:
                message = f"not a {noun} of the {kind.name} scheme ({', '.join(allowed)})"
                issues.append(_key_issue(label, path, message))
                continue
            if key == "criteria":
                issues += _duplicate_name(item, path, seen, label)
            issues += _item_issues(scheme, item, path, label)
    if scheme.priority is not None:
        issues += _item_issues(scheme, scheme.priority, "priority", label)
    issues += [_key_issue(label, path, message) for path, message in kind.validate(scheme)]
    return issues


def _item_issues(scheme: Scheme, item: Any, path: str, label: str) -> list[Issue]:
    """Attributes an item names (known, of an accepted kind), then its own checks."""
    attrs = scheme.participants.attributes
    issues = []
    for field, kinds in item.attribute_fields.items():
        value = getattr(item, field)
        names = value if isinstance(value, tuple) else (value,)
        for j, attr in enumerate(names):
            where = f"{path}.{field}" + (f"[{j}]" if isinstance(value, tuple) else "")
            problem = _attribute_problem(attrs, attr, kinds)
            if problem is not None:
                issues.append(_key_issue(label, where, *problem))
    issues += [_key_issue(label, path + sub, message) for sub, message in item.semantic_issues()]
    return issues


def _attribute_problem(
    attrs: Mapping[str, Any], attr: str | None, kinds: tuple[str, ...] | None
) -> tuple[str, str | None] | None:
    """(message, fix) when ``attr`` is not a defined attribute of an accepted kind."""
    if attr is None:
        return None
    if attr not in attrs:
        names = sorted(attrs)
        return (
            f'unknown attribute "{attr}"; attributes are defined under '
            f"participants.attributes ({', '.join(names) or 'none yet'})",
            _suggest(attr, names),
        )
    if kinds == ("names",):  # values that name participants: a names attribute
        if not attrs[attr].names:
            return f'attribute "{attr}" does not name participants', "add names: true to it"
        return None
    if kinds is not None and attrs[attr].kind not in kinds:
        return f'attribute "{attr}" is {attrs[attr].kind}; this needs {" or ".join(kinds)}', None
    return None


def _duplicate_name(crit: Any, path: str, seen: set[str], label: str) -> list[Issue]:
    """A criterion whose output column name an earlier criterion already has."""
    name = criterion_name(crit)
    if name in seen:
        return [
            _key_issue(label, path, f'duplicate criterion "{name}"', "give one of them a `name:`")
        ]
    seen.add(name)
    return []


# --- output column names ----------------------------------------------------------

OUTPUT_COLUMNS = (
    "round",
    "mentor_id",
    "mentee_id",
    "member_a",
    "member_b",
    "member_c",
    "score",
    "locked",
    "explanation",
    "group",
    "participant_id",
    "role",
    "reason",
    "size",
    "rules_met",
)
"""Fixed columns of the output tables; a criterion or carried column must not reuse one."""


def _name_clashes(scheme: Scheme, label: str) -> list[Issue]:
    """Criterion names (given or derived) and carried columns that would overwrite a column.

    Output tables are keyed by column name, so a criterion called ``score`` or
    ``mentee_id`` would silently replace that column in matches.csv.
    """
    taken = {text_key(c): f'the output column "{c}"' for c in OUTPUT_COLUMNS}
    for column in _carried_columns(scheme):
        taken.setdefault(text_key(column), f'the carried column "{column}"')
    for column in _rule_columns(scheme):
        taken.setdefault(text_key(column), f'the rule column "{column}"')
    issues = []
    for i, crit in enumerate(scheme.criteria):
        name = criterion_name(crit)
        clash = taken.get(text_key(name))
        if clash is not None:
            path = f"criteria[{i}].{crit.kind}" + (".name" if crit.name else "")
            fix = _free_name(f"{crit.kind}_{name}", taken)
            issues.append(_key_issue(label, path, f'criterion name "{name}" is {clash}', fix))
    return issues + _carry_clashes(scheme, label)


def _carried_columns(scheme: Scheme) -> list[str]:
    """Carried columns as named in the pairs table (groups.csv: see _carry_clashes)."""
    kind = get_scheme(scheme.scheme)
    if kind.main_table == "groups":
        return []
    prefixes = ("mentor_", "mentee_") if kind.directed else ("member_a_", "member_b_", "member_c_")
    return [p + c for c in scheme.participants.carry for p in prefixes]


def _rule_columns(scheme: Scheme) -> list[str]:
    """The composition-rule columns of group_summary.csv (cohorts)."""
    out = []
    for rule in scheme.rules:
        if rule.kind in ("at_least", "at_most", "exactly"):
            value = getattr(rule, "value", None)
            attr = getattr(rule, "attribute", "")
            out.append(f"{attr}={value}" if value is not None else f"max per {attr}")
    return out


def _carry_clashes(scheme: Scheme, label: str) -> list[Issue]:
    """Cohorts: groups.csv holds carried columns beside the fixed ones and the attributes."""
    if get_scheme(scheme.scheme).main_table != "groups":
        return []
    taken = {text_key(c) for c in ("round", "group", "participant_id")}
    taken |= {text_key(a) for a in scheme.participants.attributes}
    return [
        _key_issue(
            label,
            f"participants.carry[{i}]",
            f'"{column}" is also a column of groups.csv (a fixed column or an attribute name)',
            "rename the attribute, or leave the column out of carry",
        )
        for i, column in enumerate(scheme.participants.carry)
        if text_key(column) in taken
    ]


def _free_name(base: str, taken: Mapping[str, str]) -> str:
    name, k = base, 2
    while text_key(name) in taken:
        name, k = f"{base}_{k}", k + 1
    return f"give it another `name:`, e.g. {name}"


# --- helpers -------------------------------------------------------------------------


def _key_issue(label: str, path: str, message: str, fix: str | None = None) -> Issue:
    return Issue(f'key "{path}": {message}', file=label, fix=fix)


def _suggest(word: str, options: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if options and len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


# --- key-path overrides -------------------------------------------------------------

_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")
_ITEM_KINDS = {"rules": _ALL_RULE_KINDS, "criteria": _ALL_CRITERION_KINDS}


def parse_key_path(path: str, *, label: str = "scheme") -> list[str | int]:
    """``rules[1].gap.max`` -> ``["rules", 1, "gap", "max"]``: the key paths errors print.

    Raises :class:`ConfigError` for text that is not a key path (``rules[x]``, ``a..b``).
    """
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None or (m.group(2) is not None and pos > 0 and path[pos] != "."):
            break
        if m.group(2) is not None and pos == 0 and path[0] == ".":
            break
        tokens.append(int(m.group(1)) if m.group(1) is not None else m.group(2).strip())
        pos = m.end()
    if pos < len(path) or not tokens or not isinstance(tokens[0], str):
        fix = "write it like rules[1].gap.max or criteria[0].weight"
        raise ConfigError(issues=[Issue(f'"{path}" is not a key path', file=label, fix=fix)])
    return tokens


def apply_override(
    data: Mapping[str, Any], path: str, value: Any, *, label: str = "scheme"
) -> dict[str, Any]:
    """A deep copy of a parsed scheme mapping with the value at ``path`` replaced.

    ``path`` is a key path as errors print it (``rules[1].gap.max``,
    ``solver.iterations``).  An item of ``rules`` or ``criteria`` may be entered
    without its kind (``criteria[0].weight`` is ``criteria[0].overlap.weight``);
    a shorthand item (``- same: region``) is expanded to its settings first.
    Missing keys are created, so a misspelt one is then reported by
    :func:`validate_scheme` with its key path and "did you mean", exactly as in a
    scheme file.  Raises :class:`ConfigError` when the path names an item that does
    not exist, or goes into a value that holds no settings.  The input is not changed.
    """
    keys = parse_key_path(path, label=label)
    out = copy.deepcopy(dict(data))
    node: Any = out
    depth = 0
    while depth < len(keys) - 1:  # _step may drop a kind from keys (criteria[0].weight)
        node = _step(node, keys, depth, label)
        depth += 1
    last = keys[-1]
    if isinstance(last, int):
        _check_index(node, keys, len(keys) - 1, label)
    elif not isinstance(node, dict):
        raise _path_error(keys, len(keys) - 1, "holds a value, not settings", label)
    node[last] = copy.deepcopy(value)
    return out


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any], *, label: str = "scheme"
) -> dict[str, Any]:
    """:func:`apply_override` for each ``path: value`` in order; every problem at once."""
    issues: list[Issue] = []
    out = dict(data)
    for path, value in overrides.items():
        try:
            out = apply_override(out, str(path), value, label=label)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues=issues)
    return out


def _step(node: Any, keys: list[str | int], depth: int, label: str) -> Any:
    """The child of ``node`` at ``keys[depth]``, created if it is a missing mapping key."""
    key = keys[depth]
    if isinstance(key, int):
        _check_index(node, keys, depth, label)
        child = node[key]
        if depth == 1 and keys[0] in _ITEM_KINDS and isinstance(child, dict) and len(child) == 1:
            return _item_settings(child, keys, depth, label)
        return child
    if not isinstance(node, dict):
        raise _path_error(keys, depth, "holds a value, not settings", label)
    if key not in node or node[key] is None:
        node[key] = {}
    return node[key]


def _item_settings(item: dict[str, Any], keys: list[str | int], depth: int, label: str) -> Any:
    """Enter a ``{kind: settings}`` item: consume the kind if the path names it."""
    ((kind, settings),) = item.items()
    nxt = keys[depth + 1]
    if nxt == kind:
        if depth + 2 == len(keys):
            return item  # the whole settings are replaced
        del keys[depth + 1]
    elif nxt in _ITEM_KINDS[str(keys[0])]:
        message = f'is a "{kind}" item, not "{nxt}"'
        raise _path_error(keys, depth + 1, message, label)
    if not isinstance(settings, dict) and kind in _SHORTHAND:
        item[kind] = settings = {_SHORTHAND[kind]: settings}
    if not isinstance(settings, dict):
        raise _path_error(keys, depth, f'"{kind}" holds a value, not settings', label)
    return settings


def _check_index(node: Any, keys: list[str | int], depth: int, label: str) -> None:
    if not isinstance(node, list):
        raise _path_error(keys, depth, "is not a list", label)
    index = keys[depth]
    if not isinstance(index, int) or index >= len(node):
        count = f"{len(node)} item" + ("" if len(node) == 1 else "s")
        raise _path_error(keys, depth + 1, f"no such item (the list has {count})", label)


def _path_error(keys: list[str | int], depth: int, message: str, label: str) -> ConfigError:
    shown = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys[:depth])
    return ConfigError(issues=[_key_issue(label, shown.lstrip("."), message)])


def suggest(word: str, options: Sequence[str]) -> str | None:
    """The "did you mean" hint scheme errors use (for other files validated alike)."""
    return _suggest(word, options)


__all__ = [
    "apply_override",
    "apply_overrides",
    "load_scheme",
    "parse_key_path",
    "read_scheme_file",
    "scheme_hash",
    "suggest",
    "validate_scheme",
    "with_overrides",
]
