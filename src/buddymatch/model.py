"""The typed, I/O-free description of a matching problem.

``Scheme`` (and the rule and criterion models inside it) is what a scheme file
means once validated; ``Problem`` is a scheme plus the participants, encoded
as numpy arrays so that scoring and rule checks are vectorised; ``Pairs`` is
the one pair type every stage uses.  Nothing here reads files: ``config.py``
builds a ``Scheme`` and ``io/profiles.py`` builds a ``Problem``.  This module
imports nothing of the package: which schemes and objectives exist is the
scheme registry's business (``buddymatch.schemes``), checked by ``config.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Bounds on every number a scheme (or a command-line option) gives: finite, and small
# enough that no sum, product or int64/float cast downstream can overflow.  They are
# listed in docs/security.md; a value outside is an exit-2 error naming its key.
MAX_COUNT = 1_000_000
"""Capacities, wants, group sizes and counts, slots, cooldowns, group numbers."""
MAX_WEIGHT = 1_000_000.0
"""Criterion weights and the history penalty."""
MAX_MAGNITUDE = 1e12
"""Gap bounds, closeness targets and ranges, numeric attribute values."""
MAX_SECONDS = 7 * 24 * 3600.0
"""Solver time limits (a week)."""
MAX_ITERATIONS = 1_000_000_000
MAX_SEED = 2_000_000_000
"""Seeds reach OR-Tools' 32-bit ``random_seed`` after adding the round number."""
MAX_ROUNDS = 1000

# Roles, as stored in Problem.role
NO_ROLE, MENTOR, MENTEE, BOTH = -1, 0, 1, 2

RULE_TOLERANCE = 1e-6
"""Slack when comparing a numeric difference with a ``gap`` rule's bounds.

Rule masks (candidates.py) and the independent checker (check.py) both use
this one value, so a pair exactly at a bound is treated the same by both."""

SCORE_TOLERANCE = 1e-4
"""Slack when comparing a pair score (0–100) with ``min_score``: scores are
computed in float32 for whole matrices and in float64 for single pairs."""

AttributeKinds = tuple[str, ...] | None
"""Attribute kinds a rule or criterion field accepts (None: any kind)."""


def text_key(text: object) -> str:
    """The form in which ids and values are compared: spacing collapsed, case folded.

    ``" North  West "`` and ``"north west"`` have the same key.  The one copy
    of this normalisation: profiles, side files, rules, scoring and the
    checker all compare through it.
    """
    return " ".join(str(text).split()).casefold()


def _repeated(values: tuple[str, ...]) -> str | None:
    """The first value that repeats another once normalised (None if all differ)."""
    seen: set[str] = set()
    for value in values:
        key = text_key(value)
        if key in seen:
            return value
        seen.add(key)
    return None


class _Strict(BaseModel):
    # allow_inf_nan=False: "inf", "nan" and 1e400 are errors, never silent infinities.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {}
    """Fields naming attributes, with the attribute kinds each accepts (config checks them)."""

    def semantic_issues(self) -> list[tuple[str, str]]:
        """(sub-key, message) for settings that are valid alone but not together."""
        return []


# --- participants -----------------------------------------------------------


class AttributeSpec(_Strict):
    """How one profile column (or a grid of columns) becomes an attribute.

    Exactly one kind: categorical (default), ordinal (``scale``), multi-valued
    (``multi``: the separator) or numeric.  ``aliases`` maps raw answers to a
    canonical value before anything else (``{"Acute": "Acute trust"}``).

    Multi-valued attributes may also be built from ``columns`` (a label for
    each column, e.g. ``{Mon: "Unavailable [Monday]", ...}``: values become
    ``"Mon 9-11"``), list every possible value (``slots``), and be inverted
    (``unavailable: true``: the values are every slot *not* ticked, so a form
    asking when people cannot meet gives when they can).  ``names: true``: the
    values name participants (by name or id) and are matched to them.
    """

    column: str | None = None
    columns: dict[str, str] | None = None
    scale: tuple[str, ...] | None = None
    multi: str | None = None
    numeric: bool = False
    aliases: dict[str, str] = Field(default_factory=dict)
    slots: tuple[str, ...] | None = None
    unavailable: bool = False
    names: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> AttributeSpec:
        kinds = [self.scale is not None, self.multi is not None, self.numeric]
        if sum(kinds) > 1:
            raise ValueError("choose one of scale, multi or numeric")
        if self.scale is not None and len(self.scale) < 2:
            raise ValueError("a scale needs at least two values, lowest first")
        if self.multi is not None and self.multi == "":
            raise ValueError('multi is the separator between values, e.g. ";"')
        if (self.column is None) == (self.columns is None):
            raise ValueError(
                "give column (one heading) or columns ({label: heading, ...}), not both"
            )
        return self._slots_and_names()

    def _slots_and_names(self) -> AttributeSpec:
        grid = self.columns is not None or self.slots is not None or self.unavailable
        if grid and self.multi is None:
            raise ValueError(
                'columns, slots and unavailable are for multi-valued answers: add multi: ","'
                " (the separator between the ticked answers)"
            )
        if self.columns is not None and not self.columns:
            raise ValueError("columns needs at least one {label: heading}")
        if self.names and (grid or self.scale is not None or self.numeric):
            raise ValueError("names: true is for a categorical or multi column of names")
        return self

    @field_validator("scale")
    @classmethod
    def _scale_once(cls, scale: tuple[str, ...] | None) -> tuple[str, ...] | None:
        twice = None if scale is None else _repeated(scale)
        if twice is not None:
            raise ValueError(
                f'lists "{twice}" twice (case and spacing are ignored); '
                "each value once, lowest first"
            )
        return scale

    @property
    def headings(self) -> dict[str, str]:
        """Label -> column heading of every column read (one column: label ``""``)."""
        if self.columns is not None:
            return dict(self.columns)
        assert self.column is not None  # the validator guarantees one of the two
        return {"": self.column}

    @property
    def shown_column(self) -> str:
        """The heading named in messages (a grid's first column)."""
        return next(iter(self.headings.values()))

    @property
    def kind(self) -> str:
        if self.scale is not None:
            return "ordinal"
        if self.multi is not None or self.names:  # names: the people named, a set
            return "multi"
        if self.numeric:
            return "numeric"
        return "categorical"


class RoleSpec(_Strict):
    """Which answer (or which file) makes someone a mentor, mentee or both."""

    column: str | None = None
    mentor: tuple[str, ...] = ("Mentor",)
    mentee: tuple[str, ...] = ("Mentee",)
    both: tuple[str, ...] = ()
    files: dict[str, Literal["mentor", "mentee", "both"]] | None = None
    reciprocal: bool = False
    """Two "both" people may mentor each other in one run (a→b and b→a)."""
    one_role: bool = False
    """A "both" person is a mentor or a mentee in a round, never both."""

    @model_validator(mode="after")
    def _column_or_files(self) -> RoleSpec:
        if (self.column is None) == (self.files is None):
            raise ValueError(
                "give either column (the role question) or files (file-name pattern -> role)"
            )
        return self


class CountSpec(_Strict):
    """A whole number per person read from a column, with a default for blanks."""

    column: str | None = None
    default: int = Field(1, ge=0, le=MAX_COUNT)
    max: int = Field(100, ge=0, le=MAX_COUNT)


class ParticipantsSpec(_Strict):
    id: str
    name: str | tuple[str, ...] | None = None
    """Column(s) holding each person's name (first and last name columns are joined), used
    only to match requests by name (``names: true`` attributes); never written anywhere."""
    role: RoleSpec | None = None
    capacity: CountSpec = CountSpec()
    wants: CountSpec = CountSpec()
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    carry: tuple[str, ...] = ()

    @field_validator("carry")
    @classmethod
    def _carry_once(cls, carry: tuple[str, ...]) -> tuple[str, ...]:
        twice = _repeated(carry)
        if twice is not None:
            raise ValueError(f'lists the column "{twice}" twice; list each column once')
        return carry


# --- rules (hard) -----------------------------------------------------------


class _PairSource(_Strict):
    file: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()

    @model_validator(mode="after")
    def _some(self) -> _PairSource:
        if self.file is None and not self.pairs and getattr(self, "attribute", None) is None:
            raise ValueError("give file (a CSV with two id columns) or pairs: [[id, id], ...]")
        return self


class DifferentRule(_Strict):
    kind: Literal["different"] = "different"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}


class SameRule(_Strict):
    kind: Literal["same"] = "same"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}


class GapRule(_Strict):
    """Mentoring: mentor minus mentee; peer: the absolute difference."""

    kind: Literal["gap"] = "gap"
    attribute: str
    min: float | None = Field(None, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
    max: float | None = Field(None, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("ordinal", "numeric")}

    @model_validator(mode="after")
    def _bounds(self) -> GapRule:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class ForbidRule(_PairSource):
    """Pairs never made: from a file, listed, or requested (``attribute``: a ``names``
    attribute; whoever a person names there is never their partner)."""

    kind: Literal["forbid"] = "forbid"
    attribute: str | None = None
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("names",)}


class LockRule(_PairSource):
    """Mentoring pairs are (mentor id, mentee id); peer pairs are unordered."""

    kind: Literal["lock"] = "lock"


class ExcludeRule(_Strict):
    """People who take no part: those whose ``attribute`` takes one of ``values``,
    and those listed by id in ``ids`` (a coordinator's "leave this person out")."""

    kind: Literal["exclude"] = "exclude"
    attribute: str | None = None
    values: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}

    @model_validator(mode="after")
    def _what(self) -> ExcludeRule:
        if self.attribute is None and not self.ids:
            raise ValueError("give attribute with values: [...], ids: [...], or both")
        if self.attribute is None and self.values:
            raise ValueError("values need the attribute they are values of")
        return self


class CountRuleSpec(_Strict):
    """Cohorts: per group, the count of members whose attribute equals value."""

    kind: Literal["at_least", "at_most", "exactly"]
    attribute: str
    value: str | None = None
    count: int = Field(ge=0, le=MAX_COUNT)
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {
        "attribute": ("categorical", "ordinal", "multi")
    }

    def semantic_issues(self) -> list[tuple[str, str]]:
        """(sub-key, message) for settings that are valid alone but not together."""
        if self.kind in ("at_least", "exactly") and self.value is None:
            return [(".value", f"{self.kind} needs a value")]
        return []


class KeepRule(_Strict):
    """Sets of ids kept in one group / in different groups; or, with ``attribute`` (a
    ``names`` attribute), each person and everyone they name there."""

    kind: Literal["keep_together", "keep_apart"]
    sets: tuple[tuple[str, ...], ...] = ()
    attribute: str | None = None
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("names",)}

    @model_validator(mode="after")
    def _sets_or_attribute(self) -> KeepRule:
        if (not self.sets) == (self.attribute is None):
            raise ValueError("give sets: [[id, id, ...], ...] or attribute: (a names attribute)")
        return self


class NotAloneRule(_Strict):
    """Cohorts: nobody alone.  Per group, the members whose attribute equals ``value``
    (every value when omitted) number 0 or at least ``min`` (default 2)."""

    kind: Literal["not_alone"] = "not_alone"
    attribute: str
    value: str | None = None
    min: int = Field(2, ge=2)
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {
        "attribute": ("categorical", "ordinal", "multi")
    }


class CommonValuesRule(_Strict):
    """Shared values of a multi-valued attribute (e.g. meeting slots): a pair shares at
    least ``count``; in cohorts, at least ``count`` values are shared by every member."""

    kind: Literal["common"] = "common"
    attribute: str
    count: int = Field(1, ge=1)
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("multi",)}


class PlaceRule(_Strict):
    """Cohorts: fix people to groups (1-based group numbers)."""

    kind: Literal["place"] = "place"
    members: dict[str, Annotated[int, Field(ge=-MAX_COUNT, le=MAX_COUNT)]]


Rule = Annotated[
    DifferentRule
    | SameRule
    | GapRule
    | ForbidRule
    | LockRule
    | ExcludeRule
    | CountRuleSpec
    | KeepRule
    | PlaceRule
    | NotAloneRule
    | CommonValuesRule,
    Field(discriminator="kind"),
]
# --- criteria (soft) --------------------------------------------------------


class _Weighted(_Strict):
    weight: float = Field(1.0, gt=0, le=MAX_WEIGHT)
    name: str | None = None


class SameCriterion(_Weighted):
    kind: Literal["same"] = "same"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}


class OverlapCriterion(_Weighted):
    """Directional (mentee needs -> mentor offers) or symmetric (Jaccard)."""

    kind: Literal["overlap"] = "overlap"
    mentee: str | None = None
    mentor: str | None = None
    attribute: str | None = None
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {
        "mentee": ("multi",),
        "mentor": ("multi",),
        "attribute": ("multi",),
    }

    @model_validator(mode="after")
    def _form(self) -> OverlapCriterion:
        directional = self.mentee is not None or self.mentor is not None
        if directional and (self.mentee is None or self.mentor is None):
            raise ValueError("directional overlap needs both mentee and mentor attributes")
        if directional == (self.attribute is not None):
            raise ValueError(
                "give mentee and mentor (directional) or attribute (symmetric), not both"
            )
        return self


class ClosenessCriterion(_Weighted):
    """1 at the target difference, falling linearly to 0 at ``range`` away."""

    kind: Literal["closeness"] = "closeness"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("ordinal", "numeric")}
    target: float = Field(0.0, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
    range: float | None = Field(None, gt=0, le=MAX_MAGNITUDE)


class AvailabilityCriterion(_Weighted):
    """Shared time slots: min(shared, slots) / slots."""

    kind: Literal["availability"] = "availability"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("multi",)}
    slots: int = Field(1, ge=1, le=MAX_COUNT)


class PreferenceCriterion(_Weighted):
    """Named preferences: 1 if either names the other as liked, 0 if disliked, else 0.5."""

    kind: Literal["preference"] = "preference"
    like: str | None = None
    dislike: str | None = None
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {
        "like": ("multi", "categorical"),
        "dislike": ("multi", "categorical"),
    }

    def semantic_issues(self) -> list[tuple[str, str]]:
        """(sub-key, message) for settings that are valid alone but not together."""
        if self.like is None and self.dislike is None:
            return [("", "give like, dislike or both")]
        return []


class DiversityCriterion(_Weighted):
    kind: Literal["diversity"] = "diversity"
    attributes: tuple[str, ...]
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attributes": None}


class SimilarityCriterion(_Weighted):
    kind: Literal["similarity"] = "similarity"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}


class BalanceCriterion(_Weighted):
    kind: Literal["balance"] = "balance"
    attribute: str
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": ("ordinal", "numeric")}


class PairwiseCriterion(_Weighted):
    """A custom symmetric pair score from a CSV: id_a, id_b, value."""

    kind: Literal["pairwise"] = "pairwise"
    file: str


Criterion = Annotated[
    SameCriterion
    | OverlapCriterion
    | ClosenessCriterion
    | AvailabilityCriterion
    | PreferenceCriterion
    | DiversityCriterion
    | SimilarityCriterion
    | BalanceCriterion
    | PairwiseCriterion,
    Field(discriminator="kind"),
]


def criterion_name(criterion: Any) -> str:
    """Stable column name of a criterion in outputs (``same_region``...)."""
    if criterion.name:
        return str(criterion.name)
    if criterion.kind == "overlap" and criterion.attribute is None:
        return f"overlap_{criterion.mentee}_{criterion.mentor}"
    if criterion.kind == "diversity":
        return "diversity_" + "_".join(criterion.attributes)
    if criterion.kind == "preference":
        return "preference"
    if criterion.kind == "pairwise":
        return "pairwise"
    if criterion.attribute == criterion.kind:  # availability: {attribute: availability}
        return str(criterion.kind)
    return f"{criterion.kind}_{criterion.attribute}"


# --- scheme -------------------------------------------------------------------


class SizeSpec(_Strict):
    min: int = Field(ge=1, le=MAX_COUNT)
    max: int = Field(ge=1, le=MAX_COUNT)

    @model_validator(mode="after")
    def _order(self) -> SizeSpec:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class GroupsSpec(_Strict):
    """``size: {min, max}`` (the fewest groups the rules allow), ``count: N``
    (sizes as equal as possible) or ``bounds: [[min, max], ...]`` (one per group)."""

    size: SizeSpec | None = None
    count: int | None = Field(None, ge=1, le=MAX_COUNT)
    bounds: tuple[SizeSpec, ...] | None = None

    @model_validator(mode="after")
    def _one(self) -> GroupsSpec:
        given = sum(x is not None for x in (self.size, self.count, self.bounds))
        if given != 1:
            raise ValueError("give one of size: {min, max}, count: N or bounds: [{min, max}, ...]")
        if self.bounds is not None and not self.bounds:
            raise ValueError("bounds needs at least one group")
        return self


class HistorySpec(_Strict):
    """Past meetings: a CSV with id columns and a ``round`` column (1 = latest).

    Pairs met within ``cooldown`` rounds are not allowed; older meetings cost
    ``penalty`` score points.
    """

    file: str
    cooldown: int = Field(1, ge=0, le=MAX_COUNT)
    penalty: float = Field(20.0, ge=0, le=MAX_WEIGHT)


FEEDBACK_OUTCOMES = ("continuing", "ended", "did-not-work")
"""What a feedback row can say about a pair (``did not work`` is read as ``did-not-work``)."""


class FeedbackSpec(_Strict):
    """How earlier pairs went: a CSV with the pair's ids, ``outcome`` and an optional ``rating``.

    ``did-not-work`` pairs become forbidden pairs; ``ended`` pairs enter the
    history as met in the latest round (so ``history.cooldown`` applies, or a
    cooldown of 1 when the scheme has no ``history``); a pair's weight changes
    by ``continuing_bonus`` (outcome ``continuing``) plus ``rating_points`` ×
    (rating − 3) score points, the result kept within 0–100.
    """

    file: str
    continuing_bonus: float = Field(0.0, ge=0, le=100)
    rating_points: float = Field(0.0, ge=0, le=50)


class PrioritiesSpec(_Strict):
    """``objective: {priorities: [mentees-covered, mentors-covered, pairs, score]}``.

    Levels optimised in order, each as high as it can be among the results
    that keep every earlier level at its best.  Which names a scheme accepts is
    the scheme registry's business (``SchemeKind.priority_names``), checked by
    ``config.py``.
    """

    priorities: tuple[str, ...] = Field(min_length=1)


class PrioritySpec(_Strict):
    """``priority:`` people to favour, e.g. those left unmatched last time.

    Named in a file (``file:``, e.g. a previous run's unmatched.csv; ``column:``
    picks the id column) or by attribute value (``attribute:`` + ``values:``).
    ``bonus`` score points are added, in the objective only, to every pair of
    a favoured person; the ``priority-covered`` priority level counts the
    favoured people who get a partner.
    """

    file: str | None = None
    column: str | None = None
    attribute: str | None = None
    values: tuple[str, ...] = ()
    bonus: float = Field(0.0, ge=0, le=100)
    attribute_fields: ClassVar[dict[str, AttributeKinds]] = {"attribute": None}

    @model_validator(mode="after")
    def _source(self) -> PrioritySpec:
        if (self.file is None) == (self.attribute is None):
            raise ValueError(
                "give file (a list of ids, e.g. a previous unmatched.csv) or attribute"
            )
        if self.attribute is not None and not self.values:
            raise ValueError("attribute needs values: [...] (who is favoured)")
        if self.file is None and self.column is not None:
            raise ValueError("column picks the id column of file; it needs file")
        return self


class SolverSpec(_Strict):
    time_limit: float | None = Field(None, gt=0, le=MAX_SECONDS)
    iterations: int | None = Field(None, ge=1, le=MAX_ITERATIONS)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class Scheme(_Strict):
    """A validated scheme file.

    ``scheme`` and ``objective`` (a name, or priority level names) are names
    the scheme registry knows (``buddymatch.schemes``); ``config.validate_scheme``
    checks them.
    """

    @property
    def objective_name(self) -> str:
        """``objective`` as one word: its name, or ``priorities``."""
        return self.objective if isinstance(self.objective, str) else "priorities"

    @property
    def objective_text(self) -> str:
        """``objective`` for messages: its name, or the levels in order (``a > b > c``)."""
        if isinstance(self.objective, str):
            return self.objective
        return "priorities " + " > ".join(self.objective.priorities)

    version: Literal[1]
    scheme: str
    participants: ParticipantsSpec
    rules: tuple[Rule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    objective: str | PrioritiesSpec = "max-matched"
    priority: PrioritySpec | None = None
    min_score: float | None = Field(None, ge=0, le=100)
    groups: GroupsSpec | None = None
    group_size: int | None = Field(None, ge=2, le=MAX_COUNT)
    leftover: Literal["trio", "exclude"] = "trio"
    rounds: int = Field(1, ge=1, le=MAX_ROUNDS)
    history: HistorySpec | None = None
    feedback: FeedbackSpec | None = None
    solver: SolverSpec = SolverSpec()
    split_by: str | None = None
    """An attribute: one run forms pairs or groups within each of its values (parts)."""

    @property
    def history_rules(self) -> HistorySpec | None:
        """The history rules in force: ``history``, else cooldown 1 for feedback's ended pairs.

        Rule masks, weights, the checker and explanations all read the cooldown
        and penalty from here, so feedback without a ``history`` key still keeps
        an ended pair apart in the next run.
        """
        if self.history is not None or self.feedback is None:
            return self.history
        return HistorySpec(file=self.feedback.file, cooldown=1)


# --- the encoded problem ----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AttributeData:
    """One attribute for every participant, encoded for vectorised scoring.

    - categorical: ``values`` int32 codes into ``labels`` (-1 = blank)
    - ordinal: ``values`` int32 positions on the scale ``labels`` (-1 = blank)
    - numeric: ``values`` float64 (nan = blank), ``labels`` empty
    - multi: ``values`` bool matrix (n, len(labels)); an all-False row = blank
    """

    name: str
    kind: str
    values: np.ndarray
    labels: tuple[str, ...]
    pool_span: float | None = None
    """Set on a part of a problem (:meth:`Problem.subset`): the whole pool's :meth:`span`."""

    def span(self) -> float:
        """What differences are divided by in scores: the scale's steps (ordinal) or the
        observed range (numeric), 1 when there is none.  A part of a problem keeps its
        whole pool's span, so a pair scores the same in a part as in the pool."""
        if self.pool_span is not None:
            return self.pool_span
        if self.kind == "ordinal":
            return float(max(len(self.labels) - 1, 1))
        v = self.values[~np.isnan(self.values)]
        span = float(v.max() - v.min()) if len(v) else 0.0
        return span if span > 0 else 1.0

    def present(self) -> np.ndarray:
        """Boolean mask of participants with a value."""
        if self.kind == "numeric":
            return ~np.isnan(self.values)
        if self.kind == "multi":
            return np.asarray(self.values.any(axis=1))
        return np.asarray(self.values >= 0)

    def display(self, i: int) -> str:
        """Human text of participant i's value (for explanations and outputs)."""
        v = self.values[i]
        if self.kind == "numeric":
            return "" if np.isnan(v) else f"{float(v):g}"
        if self.kind == "multi":
            return "; ".join(self.labels[k] for k in np.flatnonzero(v))
        return "" if v < 0 else self.labels[int(v)]


@dataclass(frozen=True, eq=False)
class History:
    """Past meetings as participant index pairs and how many rounds ago (1 = last)."""

    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    rounds_ago: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    latest_round: int = 0  # the highest round number in the history file
    table: pd.DataFrame | None = None  # the rows as read: round, member_a, member_b[, member_c]


@dataclass(frozen=True, eq=False)
class Feedback:
    """Feedback rows as read: participant index pairs, outcomes, ratings, weight changes.

    ``pairs`` are in the file's order (mentoring: mentor, mentee); a trio row
    gives its three pairs.  ``points`` is the score-point change of each pair's
    weight (``FeedbackSpec``); ``rows`` the file row each came from.
    """

    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    outcome: tuple[str, ...] = ()
    rating: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    points: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def outcome_of(self, a: int, b: int) -> str | None:
        """The outcome recorded for the pair (either order), or None."""
        for (x, y), outcome in zip(self.pairs.tolist(), self.outcome, strict=True):
            if {x, y} == {a, b}:
                return outcome
        return None


@dataclass(frozen=True, eq=False)
class Pairs:
    """Aligned pairs of participant indices: the one pair type of the package.

    One orientation everywhere: in a directed scheme (mentoring) ``a`` is the
    mentor and ``b`` the mentee (also readable as ``.mentor`` / ``.mentee``);
    in a pool (peer, cohorts) the pair is unordered and :meth:`unordered`
    stores it with ``a < b``.  Scoring, rule checks, the independent checker,
    explanations and the solvers' decoded outputs all take this type, so
    nothing swaps arrays by hand.

    Weight *matrices* have their own, documented layout (rows = mentees,
    columns = mentors, see ``candidates.weight_matrix``); :meth:`from_matrix`
    is the one place a (row, column) position becomes a pair.
    """

    a: np.ndarray
    b: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", np.asarray(self.a, dtype=np.int64).reshape(-1))
        object.__setattr__(self, "b", np.asarray(self.b, dtype=np.int64).reshape(-1))
        if self.a.shape != self.b.shape:
            raise ValueError("a and b must have the same length")

    @property
    def mentor(self) -> np.ndarray:
        return self.a

    @property
    def mentee(self) -> np.ndarray:
        return self.b

    def __len__(self) -> int:
        return len(self.a)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self.a.tolist(), self.b.tolist(), strict=True))

    @classmethod
    def of(cls, pairs: Any) -> Pairs:
        """From (k, 2) data: an array or a list of (a, b) tuples, already oriented."""
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return cls(arr[:, 0], arr[:, 1])

    @classmethod
    def unordered(cls, a: Any, b: Any) -> Pairs:
        """Pool pairs, each stored with the smaller index first."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        return cls(np.minimum(a, b), np.maximum(a, b))

    @classmethod
    def from_matrix(cls, rows: np.ndarray, cols: np.ndarray, r: np.ndarray, c: np.ndarray) -> Pairs:
        """Matrix positions (r, c) of a rows × cols weight matrix as mentor–mentee pairs.

        Rows are mentees and columns mentors (the weight-matrix layout).
        """
        return cls(np.asarray(cols)[c], np.asarray(rows)[r])

    def array(self) -> np.ndarray:
        """(k, 2) int64 array of (a, b)."""
        return np.stack([self.a, self.b], axis=1)

    def take(self, index: Any) -> Pairs:
        return Pairs(self.a[index], self.b[index])


Unit = tuple[int, ...]
"""A pair or group of participant indices met together in one round.

Directed pairs are (mentor, mentee); pool units (peer pairs and trios) are sorted."""


@dataclass(frozen=True, eq=False)
class RawInputs:
    """The input as the user gave it, for the re-check against the raw input
    (:mod:`buddymatch.recheck`): the scheme mapping as written, the folder the files
    it names are found from, and the profile cells (text) of the columns the
    scheme's ``participants`` section names."""

    scheme: Mapping[str, Any]
    base_dir: Path | None
    cells: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Problem:
    """A scheme and its participants; every stage downstream is a function of this.

    Indices (0..n-1) follow the order of the input rows.  ``locked`` and
    ``forbidden`` hold participant indices; for a directed scheme a locked row
    is (mentor, mentee).  ``directed`` says whether pairs have a mentor side
    (the scheme registry decides, ``io/profiles.py`` records it).
    """

    scheme: Scheme
    ids: tuple[str, ...]
    role: np.ndarray
    capacity: np.ndarray
    wants: np.ndarray
    attributes: Mapping[str, AttributeData]
    files: tuple[str, ...]
    file_index: np.ndarray
    rows: np.ndarray
    forbidden: np.ndarray
    locked: np.ndarray
    excluded: np.ndarray
    history: History = field(default_factory=History)
    feedback: Feedback = field(default_factory=Feedback)
    placed: np.ndarray | None = None
    together: tuple[np.ndarray, ...] = ()
    apart: tuple[np.ndarray, ...] = ()
    pairwise: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (n, n) in [0, 1]
    favoured: np.ndarray | None = None  # bool per participant: named by ``priority:``
    carry: pd.DataFrame | None = None
    input_hash: str = ""
    config_hash: str = ""
    directed: bool = False
    raw: RawInputs | None = None

    @property
    def n(self) -> int:
        return len(self.ids)

    def where(self, i: int) -> str:
        """``file row N`` of participant i, for messages (no personal data)."""
        return f"{self.files[int(self.file_index[i])]} row {int(self.rows[i])}"

    def mentors(self) -> np.ndarray:
        """Indices that may act as mentor (role mentor or both), not excluded."""
        return np.flatnonzero(((self.role == MENTOR) | (self.role == BOTH)) & ~self.excluded)

    def mentees(self) -> np.ndarray:
        """Indices that may act as mentee (role mentee or both), not excluded."""
        return np.flatnonzero(((self.role == MENTEE) | (self.role == BOTH)) & ~self.excluded)

    def pool(self) -> np.ndarray:
        """Indices that take part (peer, cohorts): everyone not excluded."""
        return np.flatnonzero(~self.excluded)

    def subset(self, members: np.ndarray) -> Problem:
        """The problem restricted to participants ``members`` (sorted indices), renumbered
        0..k-1 in that order.

        Everything per person is sliced; pairs and sets keep only members (a forbidden
        pair or a history meeting with someone outside simply no longer applies, a
        keep-apart set shrinks); attribute labels are unchanged, so values read the same.
        Callers decide first whether a lock or keep-together set leaving the subset is an
        error (``split_by`` says so).  ``history.table`` is dropped: the caller owns it.
        Scores are unchanged: spans stay the whole pool's and pairwise values are
        already scaled to [0, 1].
        """
        members = np.asarray(members, dtype=np.int64)
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[members] = np.arange(len(members))

        def pairs(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mapped = pos[arr.reshape(-1, 2)] if arr.size else arr.reshape(-1, 2)
            keep = np.asarray((mapped >= 0).all(axis=1), dtype=bool)
            return np.asarray(mapped[keep]).reshape(-1, 2), keep

        def sets(groups: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
            return tuple(pos[g][pos[g] >= 0] for g in groups if (pos[g] >= 0).sum() > 1)

        met, keep = pairs(self.history.pairs)
        history = History(met, self.history.rounds_ago[keep], self.history.latest_round, None)
        return replace(
            self,
            ids=tuple(self.ids[i] for i in members.tolist()),
            role=self.role[members],
            capacity=self.capacity[members],
            wants=self.wants[members],
            attributes={k: _part_of(a, members) for k, a in self.attributes.items()},
            file_index=self.file_index[members],
            rows=self.rows[members],
            forbidden=pairs(self.forbidden)[0],
            locked=pairs(self.locked)[0],
            excluded=self.excluded[members],
            history=history,
            placed=None if self.placed is None else self.placed[members],
            together=sets(self.together),
            apart=sets(self.apart),
            pairwise={k: m[np.ix_(members, members)] for k, m in self.pairwise.items()},
            carry=None if self.carry is None else self.carry.iloc[members].reset_index(drop=True),
            favoured=None if self.favoured is None else self.favoured[members],
        )


def _part_of(att: AttributeData, members: np.ndarray) -> AttributeData:
    """``att`` for some participants only, keeping the whole pool's span."""
    span = att.span() if att.kind in ("ordinal", "numeric") else None
    return replace(att, values=att.values[members], pool_span=span)
