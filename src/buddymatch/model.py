"""The typed, I/O-free description of a matching problem.

``Scheme`` (and the rule and criterion models inside it) is what a scheme file
means once validated; ``Problem`` is a scheme plus the participants, encoded
as numpy arrays so that scoring and rule checks are vectorised.  Nothing here
reads files: ``config.py`` builds a ``Scheme`` and ``io/profiles.py`` builds a
``Problem``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMES = ("mentoring", "peer", "cohorts")
OBJECTIVES = ("max-matched", "max-score", "fair")

# Roles, as stored in Problem.role
NO_ROLE, MENTOR, MENTEE, BOTH = -1, 0, 1, 2
ROLE_NAMES = {NO_ROLE: "member", MENTOR: "mentor", MENTEE: "mentee", BOTH: "both"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- participants -----------------------------------------------------------


class AttributeSpec(_Strict):
    """How one profile column becomes an attribute.

    Exactly one kind: categorical (default), ordinal (``scale``), multi-valued
    (``multi``: the separator) or numeric.  ``aliases`` maps raw answers to a
    canonical value before anything else (``{"Acute": "Acute trust"}``).
    """

    column: str
    scale: tuple[str, ...] | None = None
    multi: str | None = None
    numeric: bool = False
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> AttributeSpec:
        kinds = [self.scale is not None, self.multi is not None, self.numeric]
        if sum(kinds) > 1:
            raise ValueError("choose one of scale, multi or numeric")
        if self.scale is not None and len(self.scale) < 2:
            raise ValueError("a scale needs at least two values, lowest first")
        if self.multi is not None and self.multi == "":
            raise ValueError('multi is the separator between values, e.g. ";"')
        return self

    @property
    def kind(self) -> str:
        if self.scale is not None:
            return "ordinal"
        if self.multi is not None:
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
    default: int = Field(1, ge=0)
    max: int = Field(100, ge=0)


class ParticipantsSpec(_Strict):
    id: str
    role: RoleSpec | None = None
    capacity: CountSpec = CountSpec()
    wants: CountSpec = CountSpec()
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    carry: tuple[str, ...] = ()


# --- rules (hard) -----------------------------------------------------------


class _PairSource(_Strict):
    file: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()

    @model_validator(mode="after")
    def _some(self) -> _PairSource:
        if self.file is None and not self.pairs:
            raise ValueError("give file (a CSV with two id columns) or pairs: [[id, id], ...]")
        return self


class DifferentRule(_Strict):
    kind: Literal["different"] = "different"
    attribute: str


class SameRule(_Strict):
    kind: Literal["same"] = "same"
    attribute: str


class GapRule(_Strict):
    """Mentoring: mentor minus mentee; peer: the absolute difference."""

    kind: Literal["gap"] = "gap"
    attribute: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> GapRule:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class ForbidRule(_PairSource):
    kind: Literal["forbid"] = "forbid"


class LockRule(_PairSource):
    """Mentoring pairs are (mentor id, mentee id); peer pairs are unordered."""

    kind: Literal["lock"] = "lock"


class ExcludeRule(_Strict):
    """People whose attribute takes one of ``values`` are not matched at all."""

    kind: Literal["exclude"] = "exclude"
    attribute: str
    values: tuple[str, ...]


class CountRuleSpec(_Strict):
    """Cohorts: per group, the count of members whose attribute equals value."""

    kind: Literal["at_least", "at_most", "exactly"]
    attribute: str
    value: str | None = None
    count: int = Field(ge=0)


class KeepRule(_Strict):
    kind: Literal["keep_together", "keep_apart"]
    sets: tuple[tuple[str, ...], ...]


class PlaceRule(_Strict):
    """Cohorts: fix people to groups (1-based group numbers)."""

    kind: Literal["place"] = "place"
    members: dict[str, int]


Rule = Annotated[
    DifferentRule
    | SameRule
    | GapRule
    | ForbidRule
    | LockRule
    | ExcludeRule
    | CountRuleSpec
    | KeepRule
    | PlaceRule,
    Field(discriminator="kind"),
]
RULE_KINDS = {
    "mentoring": ("different", "same", "gap", "forbid", "lock", "exclude"),
    "peer": ("different", "same", "gap", "forbid", "lock", "exclude"),
    "cohorts": (
        "at_least",
        "at_most",
        "exactly",
        "keep_together",
        "keep_apart",
        "place",
        "exclude",
    ),
}

# --- criteria (soft) --------------------------------------------------------


class _Weighted(_Strict):
    weight: float = Field(1.0, gt=0)
    name: str | None = None


class SameCriterion(_Weighted):
    kind: Literal["same"] = "same"
    attribute: str


class OverlapCriterion(_Weighted):
    """Directional (mentee needs -> mentor offers) or symmetric (Jaccard)."""

    kind: Literal["overlap"] = "overlap"
    mentee: str | None = None
    mentor: str | None = None
    attribute: str | None = None

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
    target: float = 0.0
    range: float | None = Field(None, gt=0)


class AvailabilityCriterion(_Weighted):
    """Shared time slots: min(shared, slots) / slots."""

    kind: Literal["availability"] = "availability"
    attribute: str
    slots: int = Field(1, ge=1)


class PreferenceCriterion(_Weighted):
    """Named preferences: 1 if either names the other as liked, 0 if disliked, else 0.5."""

    kind: Literal["preference"] = "preference"
    like: str | None = None
    dislike: str | None = None


class DiversityCriterion(_Weighted):
    kind: Literal["diversity"] = "diversity"
    attributes: tuple[str, ...]


class SimilarityCriterion(_Weighted):
    kind: Literal["similarity"] = "similarity"
    attribute: str


class BalanceCriterion(_Weighted):
    kind: Literal["balance"] = "balance"
    attribute: str


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
CRITERION_KINDS = {
    "mentoring": ("same", "overlap", "closeness", "availability", "preference"),
    "peer": ("same", "overlap", "closeness", "availability", "preference"),
    "cohorts": (
        "diversity",
        "similarity",
        "balance",
        "same",
        "overlap",
        "closeness",
        "availability",
        "pairwise",
    ),
}


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
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _order(self) -> SizeSpec:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class GroupsSpec(_Strict):
    """``size: {min, max}`` (the fewest groups the rules allow), ``count: N``
    (sizes as equal as possible) or ``bounds: [[min, max], ...]`` (one per group)."""

    size: SizeSpec | None = None
    count: int | None = Field(None, ge=1)
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
    cooldown: int = Field(1, ge=0)
    penalty: float = Field(20.0, ge=0)


class SolverSpec(_Strict):
    time_limit: float | None = Field(None, gt=0)
    iterations: int | None = Field(None, ge=1)
    seed: int = 0


class Scheme(_Strict):
    version: Literal[1]
    scheme: Literal["mentoring", "peer", "cohorts"]
    participants: ParticipantsSpec
    rules: tuple[Rule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    objective: Literal["max-matched", "max-score", "fair"] = "max-matched"
    min_score: float | None = Field(None, ge=0, le=100)
    groups: GroupsSpec | None = None
    group_size: int | None = Field(None, ge=2)
    leftover: Literal["trio", "exclude"] = "trio"
    rounds: int = Field(1, ge=1, le=1000)
    history: HistorySpec | None = None
    solver: SolverSpec = SolverSpec()


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
class Problem:
    """A scheme and its participants; every stage downstream is a function of this.

    Indices (0..n-1) follow the order of the input rows.  ``locked`` and
    ``forbidden`` hold participant indices; for mentoring a locked row is
    (mentor, mentee).
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
    placed: np.ndarray | None = None
    together: tuple[np.ndarray, ...] = ()
    apart: tuple[np.ndarray, ...] = ()
    pairwise: Mapping[str, np.ndarray] = field(default_factory=dict)  # criterion name -> (n, n)
    carry: pd.DataFrame | None = None
    input_hash: str = ""
    config_hash: str = ""

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
