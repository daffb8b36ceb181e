"""Requests by name: colleagues' names typed into a form, matched to participants.

A ``names: true`` attribute holds, per person, the people they want (or do not
want) to work with, typed as names (or ids).  Each typed name is matched here:

1. to a participant whose **id** it is (case and spacing ignored); else
2. to the one participant whose **name key** equals its own.  The name key is
   the words of the name after Unicode NFKD decomposition with accents dropped,
   case folded and apostrophes removed, in sorted order: ``"José O'Brien"``,
   ``"jose obrien"`` and ``"OBrien, Jose"`` are the same key, so first and last
   name may come in either order; or, spaces ignored, to the name's parts
   (``participants.name`` columns) in either order (``"Siobhan OBriain"`` is
   ``Siobhán`` + ``Ó Briain``).  A participant's name is their
   ``participants.name`` column(s) joined by a space.

Nothing is guessed: a name matching nobody, or several people, is an input
error for that row, with the rows of the closest candidates so the coordinator
can fix the cell (or type the id).  A cell with no letters or digits ("-") is
blank; map answers such as "None" to blank with ``aliases: {None: ""}``.
A person naming themselves is ignored, and is never one of their own
candidates: a name two people share, typed by one of them, means the other.

Privacy: messages give file, row, column, the name's position in the cell and
the *rows* of candidates; they never quote what was typed, a name or an id.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Issue
from ..model import AttributeData, AttributeSpec, text_key

MAX_CANDIDATES = 3


def name_words(text: object) -> list[str]:
    """The words of a name in order: accents dropped (NFKD), case folded, apostrophes removed."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.findall(r"\w+", re.sub(r"['’‘`´]", "", plain))


def name_key(text: object) -> tuple[str, ...]:
    """The words of a name, accent-, case- and order-insensitive (see the module docstring)."""
    return tuple(sorted(name_words(text)))


@dataclass(frozen=True)
class Match:
    """One typed name: the participant (or -1) and, when not one, who it might be."""

    index: int
    candidates: tuple[int, ...] = ()
    ambiguous: bool = False


class NameIndex:
    """Participants' ids and name keys, to match typed names against."""

    def __init__(self, ids: Sequence[str], names: Sequence[Sequence[str]] | None) -> None:
        self.ids = tuple(ids)
        self.by_id = {text_key(v): i for i, v in enumerate(ids)}
        keys = [name_key(" ".join(parts)) for parts in names] if names is not None else []
        self.by_name: dict[tuple[str, ...], list[int]] = {}
        for i, key in enumerate(keys):
            if key:
                self.by_name.setdefault(key, []).append(i)
        # the name without spaces, parts in either order: "O Briain" typed "OBriain"
        self.compact: dict[str, set[int]] = {}
        for i, parts in enumerate(names or ()):
            words = [name_words(p) for p in parts]
            for order in (words, words[::-1]):
                if any(order):
                    self.compact.setdefault("".join(w for p in order for w in p), set()).add(i)
        # what candidates are looked up in: name keys, else ids (no name column given)
        self.shown = [" ".join(k) for k in keys] if keys else [text_key(v) for v in ids]
        self.words = [set(k) for k in keys]

    def match(self, text: str) -> Match:
        """The participant ``text`` names; -1 with the candidates when not exactly one."""
        found = self.by_id.get(text_key(text))
        if found is not None:
            return Match(found)
        key = name_key(text)
        hits = sorted(
            {*self.by_name.get(key, []), *self.compact.get("".join(name_words(text)), ())}
        )
        if len(hits) == 1:
            return Match(hits[0])
        if hits:
            return Match(-1, tuple(hits), ambiguous=True)
        return Match(-1, self._close(key, text))

    def _close(self, key: tuple[str, ...], text: str) -> tuple[int, ...]:
        """People whose names hold every typed word, then the most similar spellings."""
        words = set(key)
        out = [i for i, w in enumerate(self.words) if words and words <= w]
        probe = " ".join(key) if self.words else text_key(text)
        ranked = difflib.get_close_matches(probe, self.shown, n=MAX_CANDIDATES, cutoff=0.6)
        for shown in ranked:
            out += [i for i, s in enumerate(self.shown) if s == shown and i not in out]
        return tuple(out[:MAX_CANDIDATES])


Places = Sequence[tuple[str, int]]


def encode_requests(
    name: str,
    spec: AttributeSpec,
    raw: pd.Series,
    index: NameIndex,
    places: Places,
    add: Callable[[Issue], None],
) -> AttributeData:
    """The requests as a multi-valued attribute whose labels are the named people's ids
    (so the preference criterion and the rule forms read them as ids).

    Row ``r`` of ``raw`` is participant ``r``; ``places[i]`` is participant i's (file,
    row).  Unmatched and ambiguous names are reported through ``add`` (one issue each).
    """
    aliases = {text_key(k): v for k, v in spec.aliases.items()}
    cache: dict[str, Match] = {}
    named: list[list[int]] = []
    for r, cell in enumerate(raw.astype(str).tolist()):
        items = [v.strip() for v in (cell.split(spec.multi) if spec.multi else [cell])]
        items = [aliases.get(text_key(v), v) for v in items]
        items = [v for v in items if re.search(r"\w", v)]
        got = []
        for pos, item in enumerate(items, start=1):
            match = _not_self(cache.get(item) or cache.setdefault(item, index.match(item)), r)
            if match.index >= 0:
                if match.index != r:
                    got.append(match.index)
                continue
            which = "the name" if len(items) == 1 else f"name {pos} of {len(items)}"
            add(_issue(which, match, places, places[r], spec.shown_column))
        named.append(got)
    referenced = sorted({j for got in named for j in got})
    column = {j: k for k, j in enumerate(referenced)}
    values = np.zeros((len(named), len(referenced)), dtype=bool)
    for r, got in enumerate(named):
        values[r, [column[j] for j in got]] = True
    return AttributeData(name, "multi", values, tuple(index.ids[j] for j in referenced))


def _not_self(match: Match, person: int) -> Match:
    """The match as seen by ``person``: nobody requests themselves, so they are never a
    candidate, and a name shared with exactly one other person means that person."""
    others = tuple(i for i in match.candidates if i != person)
    if match.ambiguous and len(others) == 1:
        return Match(others[0])
    return Match(match.index, others, match.ambiguous)


def _issue(which: str, match: Match, places: Places, here: tuple[str, int], column: str) -> Issue:
    rows = _rows(match.candidates, places)
    if match.ambiguous:
        message = f"{which} matches {len(match.candidates)} participants ({rows})"
        fix = "type that person's id instead"
    elif match.candidates:
        message = f"{which} matches no participant; close candidates: {rows}"
        fix = "correct the name as it is in the name column(s), or type the person's id"
    else:
        message = f"{which} matches no participant, and no name is close"
        fix = "check the name, or type the person's id"
    return Issue(message, file=here[0], row=here[1], column=column, fix=fix)


def _rows(people: Sequence[int], places: Places) -> str:
    """``profiles.csv rows 12, 40`` (grouped by file, in participant order)."""
    by_file: dict[str, list[str]] = {}
    for i in people:
        f, r = places[i]
        by_file.setdefault(f, []).append(str(r))
    return "; ".join(
        f"{f} {'row' if len(rs) == 1 else 'rows'} {', '.join(rs)}" for f, rs in by_file.items()
    )
