"""Introductions: one message per pair, trio or group, from a Jinja2 template.

A template is plain text: a first line ``Subject: ...``, a blank line, then
the body.  Both are rendered by a **sandboxed** Jinja2 environment with
``StrictUndefined``, so a template can read the fields below and nothing else
(no attribute of Python objects, no file, no environment variable), and a
misspelt field is an error naming its line, before anything is written or sent.

Fields of every message (docs/programme.md lists them with examples):

- ``programme``: the programme's name; ``sender``: ``{name, email}``;
- ``scheme`` (``mentoring``, ``peer``, ``cohorts``), ``round``, ``unit``
  (``pair``, ``trio`` or ``group``), ``group`` (cohorts: its number);
- ``people``: one dict per member with ``id``, ``name``, ``email``, ``role``
  and every carried column under its heading (``person["Full name"]``);
  ``mentor`` and ``mentee`` in a mentoring pair;
- ``explanation`` (pairs: the sentence of matches.csv), ``score``;
- ``kept``: in a re-match, whether the unit continues from before.

Messages are RFC 5322 (``email`` package, SMTP policy: CRLF, folded headers,
non-ASCII names encoded as RFC 2047 words, UTF-8 bodies quoted-printable).
Each has a deterministic ``Message-ID`` derived from the result and the unit,
which is also the identity the sender's state file uses.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError, Issue

MANIFEST = "letters.json"
MAILMERGE = "mailmerge.csv"
ID_COLUMNS = {
    "mentoring": ("mentor_id", "mentee_id"),
    "peer": ("member_a", "member_b", "member_c"),
}
ROLES = {"mentor_id": "mentor", "mentee_id": "mentee"}
_PAIR_COLUMNS = {"round", "score", "explanation", "kept", "locked"}


@dataclass(frozen=True)
class Letter:
    """One rendered message: its file name, recipients, subject and body."""

    name: str
    round: int
    unit: str
    to: tuple[tuple[str, str], ...]  # (display name, address)
    subject: str
    body: str
    message_id: str

    def message(self, sender: tuple[str, str], date: datetime) -> EmailMessage:
        """The RFC 5322 message (the SMTP policy: CRLF line ends, encoded words)."""
        msg = EmailMessage(policy=SMTP)
        msg["From"] = _address(*sender)
        msg["To"] = [_address(name, email) for name, email in self.to]
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = self.message_id
        msg.set_content(self.body, charset="utf-8", cte="quoted-printable")
        return msg


@dataclass(frozen=True)
class Letters:
    """Every rendered message of a result, ready to write as a folder or to send."""

    letters: list[Letter]
    sender: tuple[str, str]
    date: datetime
    manifest: dict[str, Any] = field(default_factory=dict)

    def eml(self, letter: Letter) -> bytes:
        return letter.message(self.sender, self.date).as_bytes()

    def mailmerge(self) -> pd.DataFrame:
        """One row per message: file, round, unit, addresses, names, subject, body."""
        return pd.DataFrame(
            {
                "message": [x.name for x in self.letters],
                "round": [x.round for x in self.letters],
                "unit": [x.unit for x in self.letters],
                "to": ["; ".join(e for _, e in x.to) for x in self.letters],
                "names": ["; ".join(n for n, _ in x.to) for x in self.letters],
                "subject": [x.subject for x in self.letters],
                "body": [x.body for x in self.letters],
            }
        )

    def write(
        self, folder: str | Path, *, force: bool = False, protect: Sequence[str | Path] = ()
    ) -> list[Path]:
        """Write the letters folder atomically (``io.writers.write_folder``).

        A folder holding a send record (``send-state.json`` with messages sent)
        is never replaced: its record is what keeps anyone from being sent a
        message twice.  Nor is one whose replacement would delete a ``protect``
        file (the results folder and the template the letters come from).
        """
        from .io.writers import write_folder
        from .mailer import sent_count

        target = Path(folder)
        if target.is_dir() and sent_count(target):
            raise InputError(
                issues=[
                    Issue(
                        f'"{folder}" holds a send record ({sent_count(target)} sent); '
                        "it is never replaced",
                        fix="write these letters to a new folder",
                    )
                ]
            )
        return write_folder(target, self.files, force=force, last=MANIFEST, protect=protect)

    def files(self) -> dict[str, bytes]:
        """The letters folder: one ``.eml`` per message, ``mailmerge.csv``, ``letters.json``."""
        from .io.writers import csv_bytes, json_bytes

        out = {x.name: self.eml(x) for x in self.letters}
        out[MAILMERGE] = csv_bytes(self.mailmerge())
        out[MANIFEST] = json_bytes(self.manifest)
        return out


# --- templates ---------------------------------------------------------------------


def default_template(scheme: str) -> tuple[str, str]:
    """(name, text) of the template shipped for ``scheme`` (package data)."""
    name = f"{scheme}.md"
    try:
        # one name per joinpath: Python 3.10 takes no more
        text = resources.files("buddymatch").joinpath("templates").joinpath(name).read_text("utf-8")
    except FileNotFoundError:
        raise InputError(
            issues=[Issue(f"no default template for the {scheme} scheme", fix="pass --template")]
        ) from None
    return name, text


def read_template(path: str | Path) -> tuple[str, str]:
    """(file name, text) of a template file, UTF-8."""
    p = Path(path)
    if not p.is_file():
        raise InputError(issues=[Issue("template file not found", file=str(path))])
    try:
        return p.name, p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(issues=[Issue("is not UTF-8 text", file=p.name)]) from None


def _environment(name: str, text: str) -> Any:
    from jinja2 import DictLoader, StrictUndefined, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=DictLoader({name: text}),
        undefined=StrictUndefined,
        autoescape=False,  # plain-text e-mail, not HTML
        keep_trailing_newline=False,
    )
    try:
        return env.get_template(name)
    except TemplateSyntaxError as exc:
        raise InputError(
            issues=[Issue(f"line {exc.lineno}: template syntax error: {exc.message}", file=name)]
        ) from None


def _render(template: Any, name: str, fields: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of one message; a template error names its line."""
    from jinja2 import TemplateError

    try:
        text = template.render(**fields)
    except TemplateError as exc:
        line = next(
            (f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
             if f.filename == "<template>"),
            None,
        )  # fmt: skip
        where = f"line {line}: " if line else ""
        message = f"{where}{type(exc).__name__}: {exc}"
        raise InputError(issues=[Issue(message, file=name, fix=_FIELDS_FIX)]) from None
    head, _, body = text.partition("\n")
    if not head.lower().startswith("subject:"):
        raise InputError(issues=[Issue("line 1: the first line must be `Subject: ...`", file=name)])
    return head[len("subject:") :].strip(), body.lstrip("\n")


_FIELDS_FIX = (
    "fields: programme, sender, scheme, round, unit, group, people, mentor, mentee, "
    "explanation, score, kept (see docs/programme.md)"
)


# --- units of a result -----------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    programme: str
    sender: tuple[str, str]
    name_column: str | None
    email_column: str | None
    only_new: bool


def render_letters(
    tables: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any],
    template: tuple[str, str] | None = None,
    *,
    programme: str,
    sender: str,
    name_column: str | None = None,
    email_column: str | None = None,
    only_new: bool = False,
    date: datetime | None = None,
) -> Letters:
    """Render one message per pair, trio or group of a result (see the module docstring).

    ``template`` is ``(name, text)`` (:func:`read_template`), default the
    scheme's shipped one.  Recipients' addresses are their ids, or the carried
    column ``email_column``; display names come from ``name_column`` (default:
    the first carried column whose heading contains "name").  ``only_new``
    skips units a re-match kept.  Every message is rendered before anything
    is returned: one template error and there is nothing to write or send.
    """
    scheme = str(summary.get("scheme", "mentoring"))
    name, text = template or default_template(scheme)
    compiled = _environment(name, text)
    options = _Options(programme, _sender(sender), name_column, email_column, only_new)
    units = _units(tables, scheme, options)
    letters = []
    for k, (fields, recipients) in enumerate(units, start=1):
        fields = {**fields, "programme": programme, "sender": _who(options.sender)}
        subject, body = _render(compiled, name, fields)
        unit_key = f"{fields['round']}|" + "|".join(sorted(e for _, e in recipients))
        letters.append(
            Letter(
                name=f"{k:04d}.eml",
                round=int(fields["round"]),
                unit=str(fields["unit"]),
                to=tuple(recipients),
                subject=subject,
                body=body,
                message_id=_message_id(summary, unit_key, options.sender[1]),
            )
        )
    manifest = {
        "input_hash": summary.get("input_hash", ""),
        "config_hash": summary.get("config_hash", ""),
        "template": hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        "programme": programme,
        "sender": options.sender[1],
        "only_new": only_new,
        "messages": [x.name for x in letters],
        "message_ids": [x.message_id for x in letters],
    }
    return Letters(letters, options.sender, date or datetime.now().astimezone(), manifest)


def _sender(text: str) -> tuple[str, str]:
    name, email = parseaddr(text)
    if not _valid_email(email):
        raise InputError(
            issues=[
                Issue(
                    "the sender is not an e-mail address",
                    fix='use --sender "Name <address@example.org>"',
                )
            ]
        )
    return name, email


def _who(sender: tuple[str, str]) -> dict[str, str]:
    return {"name": sender[0], "email": sender[1]}


def _valid_email(text: str) -> bool:
    if not text or any(c.isspace() for c in text) or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    try:
        Address(username=local, domain=domain)
    except (ValueError, IndexError):
        return False
    return bool(local) and "." in domain


def _address(name: str, email: str) -> Address:
    local, domain = email.split("@")
    return Address(display_name=name, username=local, domain=domain)


def _message_id(summary: Mapping[str, Any], unit_key: str, sender: str) -> str:
    seed = f"{summary.get('input_hash', '')}|{summary.get('config_hash', '')}|{unit_key}"
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
    return f"<{digest}@{sender.split('@')[1]}>"


def _check_columns(frame: pd.DataFrame, options: _Options) -> None:
    """A named name or e-mail column must be carried (``participants.carry``)."""
    headings = {str(c) for c in frame.columns}
    for option, column in (("--name-column", options.name_column),
                           ("--email-column", options.email_column)):  # fmt: skip
        if column and not any(h == column or h.endswith("_" + column) for h in headings):
            raise InputError(
                issues=[
                    Issue(
                        f'{option}: the result has no carried column "{column}"',
                        fix="list it under participants.carry in the scheme and match again",
                    )
                ]
            )


def _units(
    tables: Mapping[str, pd.DataFrame], scheme: str, options: _Options
) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    main = tables.get("groups", tables.get("matches"))
    if main is not None:
        _check_columns(main, options)
    if "groups" in tables:
        return _group_units(tables["groups"], scheme, options)
    if "matches" not in tables:
        raise InputError(
            issues=[
                Issue("the result has no matches.csv or groups.csv", fix="pass a result folder")
            ]
        )
    return _pair_units(tables["matches"], scheme, options)


def _pair_units(
    matches: pd.DataFrame, scheme: str, options: _Options
) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    id_columns = [c for c in ID_COLUMNS.get(scheme, ID_COLUMNS["peer"]) if c in matches.columns]
    issues: list[Issue] = []
    out = []
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in matches.to_dict(orient="records")
    ]
    for row, rec in enumerate(records, start=2):
        if options.only_new and bool(rec.get("kept", False)):
            continue
        people = []
        for column in id_columns:
            value = rec.get(column)
            if isinstance(value, str) and value:
                prefix = column.removesuffix("_id") + "_"
                extra = {k[len(prefix) :]: v for k, v in rec.items() if k.startswith(prefix)}
                role = ROLES.get(column, "member")
                people.append(_person(value, role, extra, options, "matches.csv", row, issues))
        fields = {
            "scheme": scheme,
            "round": int(rec["round"]),
            "unit": "pair" if len(people) == 2 else "trio",
            "group": None,
            "people": people,
            "explanation": str(rec.get("explanation") or ""),
            "score": rec.get("score"),
            "kept": bool(rec.get("kept", False)),
        }
        if scheme == "mentoring" and len(people) == 2:
            fields["mentor"], fields["mentee"] = people
        out.append((fields, [(p["name"], p["email"]) for p in people]))
    if issues:
        raise InputError(issues=issues)
    return out


def _group_units(
    groups: pd.DataFrame, scheme: str, options: _Options
) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    issues: list[Issue] = []
    members: dict[tuple[int, int], list[dict[str, Any]]] = {}
    kept: dict[tuple[int, int], list[bool]] = {}
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in groups.to_dict(orient="records")
    ]
    for row, rec in enumerate(records, start=2):
        key = (int(rec["round"]), int(rec["group"]))
        extra = {k: v for k, v in rec.items() if k not in ("round", "group", "participant_id")}
        person = _person(
            str(rec["participant_id"]), "member", extra, options, "groups.csv", row, issues
        )
        members.setdefault(key, []).append(person)
        kept.setdefault(key, []).append(bool(rec.get("kept", False)))
    if issues:
        raise InputError(issues=issues)
    out = []
    for (number, group), people in sorted(members.items()):
        if options.only_new and all(kept[(number, group)]):
            continue
        fields = {
            "scheme": scheme,
            "round": number,
            "unit": "group",
            "group": group,
            "people": people,
            "explanation": "",
            "score": None,
            "kept": all(kept[(number, group)]),
        }
        out.append((fields, [(p["name"], p["email"]) for p in people]))
    return out


def _person(
    pid: str,
    role: str,
    extra: Mapping[str, Any],
    options: _Options,
    file: str,
    row: int,
    issues: list[Issue],
) -> dict[str, Any]:
    """A template's view of one person; an unusable address is an issue (never quoted)."""
    carried = {str(k): ("" if v is None or (isinstance(v, float) and v != v) else v)
               for k, v in extra.items()}  # fmt: skip
    name_column = options.name_column or next((k for k in carried if "name" in k.casefold()), None)
    email = pid if options.email_column is None else str(carried.get(options.email_column, ""))
    if not _valid_email(email):
        column = options.email_column or "id"
        issues.append(
            Issue(
                f"the {column} of a {role} is not an e-mail address",
                file=file,
                row=row,
                fix="pass --email-column with a carried column holding addresses",
            )
        )
    name = str(carried.get(name_column, "")) if name_column else ""
    return {**carried, "id": pid, "name": name, "email": email, "role": role}


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The ``letters.json`` of a letters folder, or None."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def same_letters(manifest: Mapping[str, Any] | None, letters: Letters) -> bool:
    """Whether a folder's manifest describes the same messages (the date aside)."""
    return manifest is not None and dict(manifest) == letters.manifest


__all__ = [
    "MAILMERGE",
    "MANIFEST",
    "Letter",
    "Letters",
    "default_template",
    "read_manifest",
    "read_template",
    "render_letters",
    "same_letters",
]
