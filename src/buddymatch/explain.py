"""Plain-language reasons: why each pair was made, why each person was not.

Sentences quote attribute values (organisations, bands, topics) but never
ids, names or e-mails: they end up in spreadsheets that get forwarded.
"""

from __future__ import annotations

from .candidates import Cuts
from .model import Problem, criterion_name


def pair_sentence(problem: Problem, first: int, second: int, layers: dict[str, float]) -> str:
    """One sentence for a pair.  Mentoring: first = mentee, second = mentor."""
    atts = problem.attributes
    parts: list[str] = []
    close_attrs = {c.attribute for c in problem.scheme.criteria if c.kind == "closeness"}
    arrow = "→" if problem.scheme.scheme == "mentoring" else "/"
    for rule in problem.scheme.rules:
        if rule.kind == "different":
            att = atts[rule.attribute]
            a, b = att.display(first), att.display(second)
            if a and b:
                parts.append(f"different {rule.attribute} ({b} {arrow} {a})")
        elif rule.kind == "gap" and rule.attribute not in close_attrs:
            att = atts[rule.attribute]
            parts.append(f"{rule.attribute} {att.display(second)} {arrow} {att.display(first)}")
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        value = layers.get(name, 0.0)
        if crit.kind == "same":
            att = atts[crit.attribute]
            if value >= 1:
                parts.append(f"same {crit.attribute} ({att.display(first)})")
            else:
                parts.append(f"different {crit.attribute}")
        elif crit.kind == "overlap":
            if crit.attribute is None:
                needs, offers = atts[str(crit.mentee)], atts[str(crit.mentor)]
                wanted = [lab for lab in needs.display(first).split("; ") if lab]
                offered = {lab.casefold() for lab in offers.display(second).split("; ") if lab}
                hit = [w for w in wanted if w.casefold() in offered]
                if wanted:
                    shown = f": {', '.join(hit)}" if hit else ""
                    parts.append(f"covers {len(hit)} of {len(wanted)} {crit.mentee}{shown}")
                else:
                    parts.append(f"no {crit.mentee} listed")
            else:
                att = atts[crit.attribute]
                x = set(att.display(first).split("; ")) - {""}
                y = set(att.display(second).split("; ")) - {""}
                common = sorted(x & y)
                if common:
                    parts.append(f"shares {crit.attribute}: {', '.join(common)}")
                else:
                    parts.append(f"no shared {crit.attribute}")
        elif crit.kind == "closeness":
            att = atts[crit.attribute]
            parts.append(
                f"{crit.attribute} {att.display(second)} {arrow} {att.display(first)} "
                f"(closeness {value:.2f})"
            )
        elif crit.kind == "availability":
            att = atts[crit.attribute]
            x = set(att.display(first).split("; ")) - {""}
            y = set(att.display(second).split("; ")) - {""}
            common = sorted(x & y)
            parts.append(
                f"{len(common)} shared {crit.attribute} slot{'s' if len(common) > 1 else ''}"
                if common
                else "no shared slot"
            )
        elif crit.kind == "preference":
            if value >= 1:
                parts.append("named as a preferred partner")
            elif value <= 0:
                parts.append("named as a partner to avoid")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else ""


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
