"""MatchResult: what a run produced, as pandas tables plus a summary.

The tables and their columns are the output contract of DESIGN.md; writers
save them unchanged, so a Python caller and a CLI user see the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .model import Problem


@dataclass
class MatchResult:
    """The outcome of :func:`buddymatch.match`: checked tables, a summary, explanations.

    Attributes
    ----------
    problem : Problem
        What was solved (participants, scheme).
    tables : dict[str, pandas.DataFrame]
        ``matches`` (mentoring, peer) or ``groups`` and ``group_summary``
        (cohorts), ``unmatched`` (everyone left out, with the reason) and
        ``history`` (pairs, for the next round's ``history:`` file).  The
        columns are the output contract of docs/outputs.md.
    summary : dict
        What ``summary.json`` holds: ``status`` (``optimal`` / ``feasible``),
        ``objective``, ``objective_value``, ``bound``, ``gap``, counts, seed,
        version and input hashes.

    Examples
    --------
    >>> import buddymatch
    >>> result = buddymatch.match("sample_data/profiles.csv", "constraints/peer.yaml", rounds=1)
    >>> result.scheme, result.status, len(result.matches), result.to_frame() is result.matches
    ('peer', 'optimal', 75, True)
    """

    problem: Problem
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    _explainer: Callable[[str, str], str] | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return self.problem.scheme.scheme

    @property
    def status(self) -> str:
        return str(self.summary["status"])

    @property
    def matches(self) -> pd.DataFrame:
        """One row per pair or trio (mentoring, peer); empty for cohorts."""
        return self.tables.get("matches", pd.DataFrame())

    @property
    def groups(self) -> pd.DataFrame:
        """One row per member (cohorts); empty otherwise."""
        return self.tables.get("groups", pd.DataFrame())

    @property
    def unmatched(self) -> pd.DataFrame:
        """One row per person left out, with the concrete reason."""
        return self.tables["unmatched"]

    def to_frame(self) -> pd.DataFrame:
        """The main table: groups when the result has groups (cohorts), else matches."""
        return self.groups if "groups" in self.tables else self.matches

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: the summary and every table as records."""
        return {
            "summary": dict(self.summary),
            **{name: t.to_dict(orient="records") for name, t in self.tables.items()},
        }

    def explain(self, a: str, b: str) -> str:
        """Why the pair (a, b) was or was not made, with its score breakdown.

        Raises ``NotImplementedError`` for schemes without pair explanations
        (cohorts: use :func:`buddymatch.explain_result` on a written folder)
        and :class:`InputError` for an unknown id.
        """
        if self._explainer is None:
            raise NotImplementedError("explain is not available for this scheme")
        return self._explainer(a, b)

    def write(
        self,
        out_dir: str | Path,
        *,
        fmt: str = "csv",
        force: bool = False,
        protect: Sequence[str | Path] | None = None,
    ) -> list[Path]:
        """Write the output folder atomically, as ``buddymatch match -o`` does.

        Parameters
        ----------
        out_dir
            The folder; an existing non-empty folder is refused unless ``force``.
        fmt
            ``"csv"`` (one file per table) or ``"xlsx"`` (one workbook);
            ``summary.json`` is written in both cases.
        force
            Replace an existing folder's content.
        protect
            Files that must survive: the folder is refused if replacing it would
            delete one of them (default: the profile files this result was read from).

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        InputError
            The folder exists and is not empty (without ``force``), holds a
            protected file, or cannot be written.
        """
        from .io.writers import write_results

        keep = list(self.problem.files) if protect is None else list(protect)
        return write_results(out_dir, self.tables, self.summary, fmt=fmt, force=force, protect=keep)
