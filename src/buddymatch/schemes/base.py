"""The scheme protocol: what every kind of scheme declares and implements.

A scheme (``mentoring``, ``peer``, ``cohorts``, or one you add) is one
subclass of :class:`SchemeKind`, registered once in :mod:`buddymatch.schemes`.
Everything that used to branch on the scheme's name asks the registered
object instead:

- **declarations** (class attributes): its name, the objectives, rules and
  criteria it supports, whether pairs are directed (mentor → mentee), the
  name of its main output table;
- **validation hooks**: :meth:`SchemeKind.validate` adds the scheme's own
  cross-field checks to the generic ones of ``config.py``;
- **operations**: :meth:`run` (solve every round, check, build the tables),
  :meth:`explain` (why two people were or were not matched, against a written
  result), :meth:`pair_space` (the pairs ``buddymatch score`` exports),
  :meth:`population` (what ``validate`` prints) and :meth:`sample_settings`
  (the scheme part of ``buddymatch sample``), :meth:`rematch` (repair the
  latest round of a written result after dropouts, joiners and changes).

Schemes load their solver lazily, inside :meth:`run`, so validating a file
does not import OR-Tools or compile numba kernels.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, Issue
from ..model import Problem, Scheme

if TYPE_CHECKING:
    from .rematch import Previous

Progress = Callable[[dict[str, Any]], None]
Explainer = Callable[[str, str], str]


@dataclass(frozen=True)
class LevelValue:
    """One level of a priorities objective: its value and proven bound (None: unknown)."""

    name: str
    value: float
    bound: float | None


@dataclass(frozen=True)
class RoundOutcome:
    """What the solver proved for one round (goes into summary.json)."""

    status: str
    objective_value: float
    bound: float | None
    units: int
    solver: str
    repeats: int = 0
    levels: tuple[LevelValue, ...] = ()  # priorities objectives only

    @property
    def gap(self) -> float | None:
        if self.bound is None:
            return None
        if self.bound == 0:
            return 0.0
        return max(0.0, (self.bound - self.objective_value) / abs(self.bound))


@dataclass(frozen=True)
class SchemeRun:
    """A checked result: the output tables, each round's outcome, and extras.

    ``tables`` always has ``unmatched`` plus the scheme's main table
    (``matches`` or ``groups``); ``extra`` entries are added to summary.json;
    ``explain`` answers :meth:`MatchResult.explain` (None when unsupported);
    ``units`` holds each round's pairs, trios or groups as participant indices
    (``split_by`` re-checks that none crosses parts, so a scheme used with it
    must fill it).
    """

    tables: dict[str, pd.DataFrame]
    rounds: list[RoundOutcome]
    explain: Explainer | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    units: list[list[tuple[int, ...]]] = field(default_factory=list)


class SchemeKind(ABC):
    """One kind of scheme.  Subclass, fill the declarations, register an instance."""

    name: ClassVar[str]
    """The value of ``scheme:`` in a scheme file."""
    objectives: ClassVar[tuple[str, ...]]
    """Values of ``objective:`` this scheme supports (the first is the default)."""
    priority_names: ClassVar[tuple[str, ...]] = ()
    """Level names ``objective: {priorities: [...]}`` accepts (empty: no priorities
    objective).  ``priority-covered`` among them means ``priority:`` is supported."""
    rule_kinds: ClassVar[tuple[str, ...]]
    criterion_kinds: ClassVar[tuple[str, ...]]
    directed: ClassVar[bool] = False
    """Pairs have a mentor and a mentee side (roles, capacities, ``gap`` = mentor − mentee)."""
    main_table: ClassVar[str] = "matches"
    """``matches`` (one row per pair or trio) or ``groups`` (one row per member)."""

    def validate(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        """Scheme-specific problems as (key path, message); the generic ones are config's."""
        if scheme.groups is not None:
            yield "groups", f"groups apply to the cohorts scheme, not {self.name}"
        if scheme.group_size is not None:
            yield "group_size", "group_size applies to the peer scheme"
        yield from _split_by_issues(scheme)
        yield from self._priority_issues(scheme)
        if not self.directed:
            for i, crit in enumerate(scheme.criteria):
                if crit.kind == "overlap" and crit.attribute is None:
                    yield (
                        f"criteria[{i}].overlap",
                        "directional overlap is for mentoring; use attribute:",
                    )

    def _priority_issues(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        """``priority:`` and the ``priority-covered`` level only make sense together."""
        levels = () if isinstance(scheme.objective, str) else scheme.objective.priorities
        spec = scheme.priority
        if spec is not None and "priority-covered" not in self.priority_names:
            yield "priority", f"the {self.name} scheme does not favour people (priority:)"
            return
        if spec is None:
            for k, level in enumerate(levels):
                if level == "priority-covered":
                    yield (
                        f"objective.priorities[{k}]",
                        "priority-covered counts the people named by priority:, which is not "
                        "set; add priority: {file: previous/unmatched.csv}",
                    )
            return
        if scheme.objective == "fair":
            yield (
                "priority",
                "fair has its own fixed order and does not use priority:; use "
                "objective: {priorities: [priority-covered, ...]} or max-matched with a bonus",
            )
        elif spec.bonus > 0 and levels and "score" not in levels:
            yield (
                "priority.bonus",
                "the bonus counts in the score level, which objective.priorities does not list",
            )
        elif spec.bonus == 0 and "priority-covered" not in levels:
            yield (
                "priority",
                "has no effect: give bonus: N (score points for each pair of a favoured "
                "person) or put priority-covered in objective.priorities",
            )

    def ensure_valid(self, scheme: Scheme) -> None:
        """Raise :class:`ConfigError` when :meth:`validate` finds a problem.

        ``config.validate_scheme`` runs the same hook on every scheme file; this
        guards a :class:`Problem` whose scheme was changed in code after loading.
        """
        issues = [Issue(f'key "{path}": {message}') for path, message in self.validate(scheme)]
        if issues:
            raise ConfigError(issues=issues)

    @abstractmethod
    def run(self, problem: Problem, *, progress: Progress | None = None) -> SchemeRun:
        """Solve every round, re-check with :mod:`buddymatch.check`, build the tables."""

    @abstractmethod
    def explain(self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
        """Why ids ``a`` and ``b`` were or were not matched in a written result."""

    def rematch(
        self,
        problem: Problem,
        previous: Previous,
        *,
        max_changes: int = 0,
        progress: Progress | None = None,
    ) -> SchemeRun:
        """Repair ``previous``'s latest round for today's profiles (``rematch_problem``).

        Keep every unit that still holds, place the rest by the objective
        without moving anyone else; with ``max_changes`` K, break at most K
        kept units (or move K people) when that places more people or raises
        the objective.  ``tables`` gain ``changes``; ``extra`` the ``rematch``
        block (:mod:`.rematch`).
        """
        raise ConfigError(issues=[Issue(f"the {self.name} scheme does not support rematch")])

    def pair_space(self, problem: Problem) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) participants whose pairs ``score`` exports (a pool by default)."""
        pool = problem.pool()
        return pool, pool

    def population(self, problem: Problem) -> dict[str, Any]:
        """Scheme-specific lines of ``validate``'s population summary (roles, capacity)."""
        return {}

    @abstractmethod
    def sample_settings(self, columns: Mapping[str, str]) -> dict[str, Any]:
        """The scheme-specific keys of a sample scheme for ``buddymatch sample``.

        ``columns`` maps ``id``, ``role`` and ``capacity`` to the sampler's
        column headings; attributes are the sampler's (see ``sample.py``).
        """


def _split_by_issues(scheme: Scheme) -> Iterator[tuple[str, str]]:
    """``split_by`` names a categorical or ordinal attribute (one value per person)."""
    name = scheme.split_by
    if name is None:
        return
    attrs = scheme.participants.attributes
    if name not in attrs:
        close = difflib.get_close_matches(name, list(attrs), n=1, cutoff=0.6)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        yield (
            "split_by",
            f'unknown attribute "{name}"; attributes are defined under '
            f"participants.attributes ({', '.join(sorted(attrs)) or 'none yet'}){hint}",
        )
    elif attrs[name].kind not in ("categorical", "ordinal") or attrs[name].names:
        yield "split_by", f'attribute "{name}" must be categorical or ordinal (one value each)'


def round_numbers(problem: Problem) -> list[int]:
    """Round labels: continue the history's numbering so files can be appended."""
    start = problem.history.latest_round + 1
    return list(range(start, start + problem.scheme.rounds))
