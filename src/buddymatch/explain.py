"""Plain-language reasons: why each pair was made, why each person was not.

Sentences quote attribute values (organisations, bands, topics) but never
ids, names or e-mails: they end up in spreadsheets that get forwarded.
"""

from __future__ import annotations

import numpy as np

from .candidates import rule_cut_counts
from .model import Problem, criterion_name


def _fmt(x: float) -> str:
    return f"{x:.1f}"


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
            parts.append(f"{rule.attribute} {att.display(second)} → {att.display(first)}")
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
                    parts.append(f"shares {len(common)} {crit.attribute}: {', '.join(common)}")
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


def no_partner_reason(
    problem: Problem, person: int, others: np.ndarray, *, person_is_row: bool, other_role: str
) -> str | None:
    """Reason when hard rules leave a person no candidate at all, else None."""
    if len(others) == 0:
        return f"no {other_role}s in the pool"
    cuts = rule_cut_counts(problem, person, others, person_is_row=person_is_row)
    remaining = len(others) - sum(c for _, _, c in cuts)
    if remaining > 0:
        return None
    named = [f"{label} removed {c}" for label, _, c in cuts if c > 0]
    return f"no eligible {other_role}: of {len(others)} {other_role}s, " + ", ".join(named)


def shortfall_reason(
    eligible: int, *, other_role: str, below_min: int, best_below: float | None, objective: str
) -> str:
    """Reason when someone had eligible partners but was not matched."""
    if eligible > 0 and below_min == eligible and best_below is not None:
        return (
            f"all {eligible} eligible {other_role}s score below the minimum score "
            f"(best {_fmt(best_below)})"
        )
    usable = eligible - below_min
    plural = "s" if usable != 1 else ""
    return (
        f"all {usable} eligible {other_role}{plural} are taken: giving them to others "
        f"serves the objective {objective} better"
    )
