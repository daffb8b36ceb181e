"""Plain-language reasons: why each pair was made, why each person was not.

Sentences quote attribute values (organisations, bands, topics) but never
ids, names or e-mails: they end up in spreadsheets that get forwarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .candidates import Cuts
from .model import Problem, criterion_name


class Displays:
    """Attribute values as sentences show them, worked out once per distinct value.

    A matches table of 70,000 pairs names each mentor several times; building
    the text of a multi-valued answer is the costly part of a sentence, and a
    few hundred distinct answers cover everyone.
    """

    def __init__(self, problem: Problem) -> None:
        self.atts = problem.attributes
        self._texts: dict[str, list[str]] = {}
        self._items: dict[str, list[frozenset[str]]] = {}
        self.close_attrs = {c.attribute for c in problem.scheme.criteria if c.kind == "closeness"}

    def _all(self, attribute: str) -> list[str]:
        texts = self._texts.get(attribute)
        if texts is None:
            att = self.atts[attribute]
            values = att.values
            if att.kind == "multi":
                _, first, inverse = np.unique(
                    np.packbits(values, axis=1), axis=0, return_index=True, return_inverse=True
                )
            else:
                _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
            shown = [att.display(int(i)) for i in first.tolist()]
            texts = self._texts[attribute] = [shown[k] for k in inverse.reshape(-1).tolist()]
        return texts

    def value(self, attribute: str, who: int) -> str:
        return self._all(attribute)[who]

    def items(self, attribute: str, who: int) -> frozenset[str]:
        found = self._items.get(attribute)
        if found is None:
            cache: dict[str, frozenset[str]] = {}
            found = self._items[attribute] = [
                cache.setdefault(t, frozenset(t.split("; ")) - {""}) for t in self._all(attribute)
            ]
        return found[who]


def pair_sentence(
    problem: Problem,
    a: int,
    b: int,
    layers: dict[str, float],
    displays: Displays | None = None,
) -> str:
    """One sentence for the pair (a, b) (mentoring: a = mentor, b = mentee).

    Values are shown "a → b" (mentoring) or "a / b"; one-sided values (a
    shared region, the interests a mentor covers) are the mentee's (b).
    ``displays``: shared by the sentences of one table (the same text, faster).
    """
    shown = displays if displays is not None else Displays(problem)
    close_attrs = shown.close_attrs
    side = _Pair(shown, a, b, "→" if problem.directed else "/")
    parts: list[str] = []
    for rule in problem.scheme.rules:
        if rule.kind == "different":
            parts += side.different(rule.attribute)
        elif rule.kind == "gap" and rule.attribute not in close_attrs:
            parts.append(f"{rule.attribute} {side.both(rule.attribute)}")
    for crit in problem.scheme.criteria:
        phrase = _CRITERION_PHRASES.get(crit.kind)
        if phrase is not None:
            parts += phrase(side, crit, layers.get(criterion_name(crit), 0.0))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else ""


class _Pair:
    """The two people's displayed values, in the sentence's orientation."""

    def __init__(self, shown: Displays, a: int, b: int, arrow: str) -> None:
        self.shown, self.a, self.b, self.arrow = shown, a, b, arrow

    def value(self, attribute: str, who: int) -> str:
        return self.shown.value(attribute, who)

    def both(self, attribute: str) -> str:
        return f"{self.value(attribute, self.a)} {self.arrow} {self.value(attribute, self.b)}"

    def items(self, attribute: str, who: int) -> frozenset[str]:
        return self.shown.items(attribute, who)

    def different(self, attribute: str) -> list[str]:
        if self.value(attribute, self.a) and self.value(attribute, self.b):
            return [f"different {attribute} ({self.both(attribute)})"]
        return []


def _same(side: _Pair, crit: Any, value: float) -> list[str]:
    if value >= 1:
        return [f"same {crit.attribute} ({side.value(crit.attribute, side.b)})"]
    return [f"different {crit.attribute}"]


def _overlap(side: _Pair, crit: Any, value: float) -> list[str]:
    if crit.attribute is not None:
        common = sorted(side.items(crit.attribute, side.b) & side.items(crit.attribute, side.a))
        if common:
            return [f"shares {crit.attribute}: {', '.join(common)}"]
        return [f"no shared {crit.attribute}"]
    wanted = [lab for lab in side.value(crit.mentee, side.b).split("; ") if lab]
    offered = {lab.casefold() for lab in side.value(crit.mentor, side.a).split("; ") if lab}
    hit = [w for w in wanted if w.casefold() in offered]
    if not wanted:
        return [f"no {crit.mentee} listed"]
    shown = f": {', '.join(hit)}" if hit else ""
    return [f"covers {len(hit)} of {len(wanted)} {crit.mentee}{shown}"]


def _closeness(side: _Pair, crit: Any, value: float) -> list[str]:
    return [f"{crit.attribute} {side.both(crit.attribute)} (closeness {value:.2f})"]


def _availability(side: _Pair, crit: Any, value: float) -> list[str]:
    common = sorted(side.items(crit.attribute, side.b) & side.items(crit.attribute, side.a))
    if not common:
        return ["no shared slot"]
    return [f"{len(common)} shared {crit.attribute} slot{'s' if len(common) > 1 else ''}"]


def _preference(side: _Pair, crit: Any, value: float) -> list[str]:
    if value >= 1:
        return ["named as a preferred partner"]
    if value <= 0:
        return ["named as a partner to avoid"]
    return []


_CRITERION_PHRASES: dict[str, Callable[[_Pair, Any, float], list[str]]] = {
    "same": _same,
    "overlap": _overlap,
    "closeness": _closeness,
    "availability": _availability,
    "preference": _preference,
}
"""Criterion kind -> the phrase(s) it adds to a pair's sentence (others add none)."""


def count(n: int, word: str) -> str:
    """``1 mentor``, ``3 mentors``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def all_of(n: int, noun: str, verb_one: str, verb_many: str) -> str:
    """``the only eligible mentor is`` / ``all 3 eligible mentors are``."""
    return f"the only {noun} {verb_one}" if n == 1 else f"all {n} {noun}s {verb_many}"


def no_partner_reason(cuts: Cuts, k: int, n_others: int, other_role: str) -> str | None:
    """Reason when hard rules leave person k of ``cuts`` no candidate at all, else None."""
    if n_others == 0:
        return f"no {other_role}s in the pool"
    if cuts.eligible[k].any():
        return None
    named = [
        f"{label} removed {int(c)}"
        for label, c in zip(cuts.labels, cuts.removed[k], strict=True)
        if c
    ]
    return f"no eligible {other_role}: of {count(n_others, other_role)}, " + ", ".join(named)
