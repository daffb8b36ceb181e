"""The public entry points: what the CLI and embedding applications call.

``match(profiles, scheme)`` runs the whole chain (load, validate, score,
rules, solve, independent check, explain) and returns a :class:`MatchResult`;
``rematch(previous, profiles, scheme)`` repairs a previous result after
dropouts, joiners and changes; ``validate`` stops after loading; ``score``
exports the allowed pairs.
Profiles may be a DataFrame, a path, or several paths; a scheme may be a path
or an already-parsed dict.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .candidates import top_mask, weight_matrix
from .config import load_scheme_as_written, with_overrides
from .errors import ConfigError, InputError, Issue
from .io.profiles import build_problem
from .io.readers import ReadLimits, Table, read_tables
from .model import Pairs, Problem, RawInputs, Scheme, criterion_name
from .recheck import raw_cells, recheck
from .result import MatchResult
from .schemes import get_scheme
from .schemes.rematch import Previous as RematchSource
from .schemes.rematch import rematch_problem
from .schemes.split import run_scheme
from .schemes.summary import population_summary, population_text, run_summary
from .scoring import pair_layers, pair_scores
from .weights import NOT_ALLOWED

if TYPE_CHECKING:
    from .letters import Letters
    from .mailer import SendReport, SmtpSettings

Profiles = pd.DataFrame | str | Path | Sequence[str | Path]
SchemeSource = str | Path | Mapping[str, Any]
Progress = Callable[[dict[str, Any]], None]


def _tables(profiles: Profiles, limits: ReadLimits | None) -> list[Table]:
    if isinstance(profiles, pd.DataFrame):
        frame = profiles.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        rows = np.arange(2, len(frame) + 2, dtype=np.int64)
        return [Table(frame.reset_index(drop=True), "<DataFrame>", rows)]
    paths = [profiles] if isinstance(profiles, str | Path) else list(profiles)
    if not paths:
        raise ConfigError(issues=[Issue("no profile files given")])
    return read_tables(paths, limits=limits or ReadLimits())


def load_problem(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    overrides: Mapping[str, Any] | None = None,
    limits: ReadLimits | None = None,
) -> Problem:
    """Read the profiles and the scheme, validate everything, encode a :class:`Problem`.

    Parameters
    ----------
    profiles
        A pandas DataFrame (text cells), a path, or several paths (CSV, XLSX,
        Google / Microsoft Forms exports).
    scheme
        A scheme file path (YAML or TOML), a dict of the same shape, or a
        validated :class:`~buddymatch.model.Scheme`.
    overrides
        Scheme keys to replace, as the CLI options do: ``seed``,
        ``time_limit``, ``iterations``, ``objective``, ``rounds`` (``None``
        values are ignored).  Re-validated like the file.
    limits
        File size and row caps for reading (:class:`~buddymatch.io.readers.ReadLimits`).

    Returns
    -------
    Problem
        The participants encoded for scoring and solving (no I/O left to do).

    Raises
    ------
    InputError
        A profile or side file is unreadable or inconsistent; ``.issues``
        lists every problem with file, row, column and fix.
    ConfigError
        The scheme (or an override) is invalid; ``.issues`` lists every problem.

    Examples
    --------
    >>> problem = load_problem("sample_data/profiles.csv", "constraints/mentoring.yaml")
    >>> problem.n, len(problem.mentors()), len(problem.mentees())
    (150, 61, 101)
    """
    written: dict[str, Any] | None = None  # a Scheme object has no "as written" form
    if isinstance(scheme, Scheme):
        spec, base = scheme, None
    else:
        spec, base, written = load_scheme_as_written(scheme)
    if overrides:
        spec = with_overrides(spec, overrides, label="options")
    tables = _tables(profiles, limits)
    problem = build_problem(tables, spec, base_dir=base)
    if written is None:
        return problem
    cells = raw_cells([t.frame for t in tables], written)
    return replace(problem, raw=RawInputs(written, base, cells))


@dataclass(frozen=True)
class Validation:
    """A valid problem and its population summary (``buddymatch validate``).

    ``summary`` holds the counts as a dict (participants, excluded, roles and
    capacity for mentoring, the values of each categorical attribute);
    :meth:`text` words them as the CLI prints them.
    """

    problem: Problem
    summary: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The population summary as ``buddymatch validate`` prints it."""
        return population_text(self.summary)


def validate(
    profiles: Profiles, scheme: SchemeSource | Scheme, *, limits: ReadLimits | None = None
) -> Validation:
    """Check profiles against a scheme: every problem at once, else a population summary.

    Parameters
    ----------
    profiles, scheme, limits
        As for :func:`load_problem`.

    Returns
    -------
    Validation
        The problem and its population summary.

    Raises
    ------
    InputError, ConfigError
        With every problem found (see :func:`load_problem`).

    Examples
    --------
    >>> v = validate("sample_data/profiles.csv", "constraints/mentoring.yaml")
    >>> print(v.text().splitlines()[1])
    roles: 49 mentors, 89 mentees, 12 both
    """
    problem = load_problem(profiles, scheme, limits=limits)
    return Validation(problem, population_summary(problem))


def match(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    seed: int | None = None,
    time_limit: float | None = None,
    iterations: int | None = None,
    objective: str | None = None,
    rounds: int | None = None,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    record_time: bool = False,
) -> MatchResult:
    """Build the pairs or groups: read, validate, score, apply the rules, solve, check, explain.

    Every result passes the independent checker (:mod:`buddymatch.check`)
    before it is returned; a result that breaks a rule raises instead.

    Parameters
    ----------
    profiles, scheme, limits
        As for :func:`load_problem`.
    seed, time_limit, iterations, objective, rounds
        Override the scheme's values (``None``: keep the scheme's).
    progress
        Called with a dict (``elapsed``, ``best``, ``iteration``) while a
        search runs (cohorts); see docs/python-api.md.
    record_time
        Add ``runtime_s`` to the summary (outputs then differ between runs).

    Returns
    -------
    MatchResult
        ``.matches`` or ``.groups``, ``.unmatched`` with reasons, ``.summary``
        (status, objective, bound, gap, ...), ``.explain(a, b)``, ``.write(folder)``.

    Raises
    ------
    InputError, ConfigError
        Bad input or scheme (exit 2 on the command line).
    InfeasibleError
        The rules cannot all hold; the message says which and why.
    SolverError
        A solver failed or its result failed the independent check (a bug).

    Examples
    --------
    >>> result = match("sample_data/profiles.csv", "constraints/mentoring.yaml", seed=1)
    >>> result.summary["status"], result.summary["matched"], len(result.unmatched)
    ('optimal', 141, 9)
    """
    started = time.perf_counter()
    overrides = {
        "seed": seed,
        "time_limit": time_limit,
        "iterations": iterations,
        "objective": objective,
        "rounds": rounds,
    }
    problem = load_problem(profiles, scheme, overrides=overrides, limits=limits)
    warn_if_long(problem)
    return solve(problem, progress=progress, started=started, record_time=record_time)


LONG_ROUNDS = 20
"""From this many rounds on, ``match`` warns that the run may take minutes."""


def warn_if_long(problem: Problem) -> None:
    """Warn (on the ``buddymatch`` logger, so on stderr) before a run of very many rounds.

    Rounds are solved one after another and each later round is harder, as fewer
    new partners remain: measured, 20 peer rounds on 150 people take about 20 s
    and 60 rounds about 4 minutes on one core.  Not an error: the run goes on.
    """
    rounds = problem.scheme.rounds
    if rounds < LONG_ROUNDS:
        return
    logging.getLogger("buddymatch").warning(
        "%d rounds on %d people are solved one after another, each later round slower "
        "as fewer new partners remain: this may take several minutes (fewer --rounds, "
        "or a history file between runs, is faster)",
        rounds,
        problem.n,
    )


def solve(
    problem: Problem,
    *,
    progress: Progress | None = None,
    started: float | None = None,
    record_time: bool = False,
) -> MatchResult:
    """Solve an already-loaded problem: :func:`match` without the reading.

    Parameters
    ----------
    problem
        From :func:`load_problem` (the scheme is re-checked against its
        scheme's own rules, in case it was changed in code).
    progress, record_time
        As for :func:`match`.
    started
        ``time.perf_counter()`` when the caller's clock started (for ``runtime_s``).

    Returns
    -------
    MatchResult

    Raises
    ------
    ConfigError, InfeasibleError, SolverError
        As for :func:`match`.

    Examples
    --------
    >>> problem = load_problem("sample_data/profiles.csv", "constraints/peer.yaml",
    ...                        overrides={"rounds": 1})
    >>> solve(problem).summary["units"]
    75
    """
    started = time.perf_counter() if started is None else started
    kind = get_scheme(problem.scheme.scheme)
    kind.ensure_valid(problem.scheme)
    run = run_scheme(kind, problem, progress=progress)
    recheck(problem.raw, run.tables, problem.directed)
    summary = run_summary(problem, run)
    if record_time:
        summary["runtime_s"] = round(time.perf_counter() - started, 3)
    return MatchResult(problem, run.tables, summary, run.explain)


Previous = str | Path | MatchResult


def _previous(previous: Previous) -> RematchSource:
    """A previous result as tables + summary: a results folder or a :class:`MatchResult`."""
    if isinstance(previous, MatchResult):
        return RematchSource(previous.tables, previous.summary)
    from .io.writers import read_results

    tables, summary = read_results(previous)
    return RematchSource(tables, summary)


def rematch(
    previous: Previous,
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    max_changes: int = 0,
    seed: int | None = None,
    time_limit: float | None = None,
    iterations: int | None = None,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    record_time: bool = False,
) -> MatchResult:
    """Repair the latest round of ``previous`` for today's ``profiles``.

    Parameters
    ----------
    previous
        A results folder written by ``match`` or ``rematch`` (CSV or XLSX form),
        or the :class:`MatchResult` itself.
    profiles, scheme
        Today's intake and the scheme, as for :func:`match`.  People no longer
        in the profiles dropped out; people the previous result did not know
        joined; changed answers are simply today's answers.
    max_changes
        How many kept pairs the optimiser may break (cohorts: people it may
        move) when that places more people or raises the objective.  0 keeps
        every pair that still holds.
    seed, time_limit, iterations, progress, limits, record_time
        As for :func:`match`.

    Returns
    -------
    MatchResult
        The repaired round (numbered as the previous round) with the usual
        tables plus ``changes`` (one row per person whose partners or group
        changed: ``participant_id, change, before, after, why``); ``matches``
        (or ``groups``) gain a ``kept`` column; ``summary["rematch"]`` counts
        kept, ended (by reason) and new units and lists the trade-off of
        ``max_changes``.  Every unit has passed the independent checker.

    Raises
    ------
    InputError, ConfigError
        Bad input (exit code 2), including a previous result of another scheme.
    InfeasibleError
        The kept units and the rules cannot all hold (cohorts without moves).

    Examples
    --------
    >>> first = match("sample_data/profiles.csv", "constraints/mentoring.yaml", seed=1)
    >>> later = rematch(first, "sample_data/profiles_later.csv", "constraints/mentoring.yaml")
    >>> block = later.summary["rematch"]
    >>> block["kept"], block["ended"], block["new"], block["dropped_out"], block["joined"]
    (89, 11, 13, 8, 8)
    """
    started = time.perf_counter()
    if not isinstance(max_changes, int) or max_changes < 0:
        raise ConfigError(issues=[Issue("max_changes must be a whole number 0 or more")])
    source = _previous(previous)
    overrides = {"seed": seed, "time_limit": time_limit, "iterations": iterations}
    problem = load_problem(profiles, scheme, overrides=overrides, limits=limits)
    was = source.summary.get("scheme")
    if was is not None and was != problem.scheme.scheme:
        raise ConfigError(
            issues=[
                Issue(
                    f"the previous result is a {was} result; the scheme is {problem.scheme.scheme}",
                    fix="re-match with the scheme the previous result used",
                )
            ]
        )
    problem = rematch_problem(problem, source.round)
    kind = get_scheme(problem.scheme.scheme)
    kind.ensure_valid(problem.scheme)
    run = kind.rematch(problem, source, max_changes=max_changes, progress=progress)
    summary = run_summary(problem, run)
    if record_time:
        summary["runtime_s"] = round(time.perf_counter() - started, 3)
    return MatchResult(problem, run.tables, summary, run.explain)


def introduce(
    result: Previous,
    template: str | Path | None = None,
    *,
    programme: str,
    sender: str,
    name_column: str | None = None,
    email_column: str | None = None,
    only_new: bool = False,
    date: datetime | None = None,
) -> Letters:
    """Render one introduction per pair, trio or group of a result.

    Parameters
    ----------
    result
        A results folder (``match`` or ``rematch``) or a :class:`MatchResult`.
    template
        A template file (first line ``Subject: ...``, then the body; Jinja2,
        sandboxed, unknown fields are errors); default: the scheme's shipped one.
    programme, sender
        The programme's name and the ``From`` address (``"Name <a@b.org>"``).
    name_column, email_column
        Carried columns holding display names (default: the first carried
        column whose heading contains "name") and addresses (default: the ids).
    only_new
        Skip units a re-match kept (they were introduced already).
    date
        The ``Date`` header (default: now).

    Returns
    -------
    Letters
        ``letters`` (one :class:`~buddymatch.letters.Letter` each),
        ``mailmerge()`` (a DataFrame), ``files()`` and ``write(folder)``.  Nothing
        is sent: see :func:`send_letters`.

    Raises
    ------
    InputError
        A template error (with its line), an id that is not an address, a
        missing column — before any message exists.

    Examples
    --------
    >>> first = match("sample_data/profiles.csv", "constraints/peer.yaml", rounds=1)
    >>> letters = introduce(first, programme="Buddies", sender="Team <team@example.org>")
    >>> len(letters.letters), letters.letters[0].unit
    (75, 'pair')
    """
    from .letters import read_template, render_letters

    source = _previous(result)
    chosen = None if template is None else read_template(template)
    return render_letters(
        source.tables,
        source.summary,
        chosen,
        programme=programme,
        sender=sender,
        name_column=name_column,
        email_column=email_column,
        only_new=only_new,
        date=date,
    )


def send_letters(
    folder: str | Path,
    settings: SmtpSettings,
    *,
    resend: Sequence[str] = (),
    progress: Callable[[str, str], None] | None = None,
) -> SendReport:
    """Send a letters folder written by :meth:`Letters.write` through SMTP.

    Resumable: every message is recorded atomically in ``send-state.json``
    before and after it is handed to the server; messages recorded as sent
    are never sent again, so after any failure call it again.  The log
    (``send-log.csv``) holds message files, statuses and SMTP codes only — no
    address, name, subject or body (see :mod:`buddymatch.mailer`).

    Parameters
    ----------
    folder
        A letters folder (``.eml`` files and ``letters.json``).
    settings
        :class:`~buddymatch.mailer.SmtpSettings`: host, port, security
        (``starttls``, ``ssl``, ``none``), user and password (credentials only
        over TLS).
    resend
        Message files left ``unknown`` (cut off mid-send) to send again after
        checking they did not arrive.
    progress
        Called after each message tried with its file name and status
        (``sent``, ``failed``, ``sending`` when the answer was lost, ``not tried``).

    Returns
    -------
    SendReport
        Message files by outcome: ``sent``, ``failed`` (refused by the server:
        tried again next time), ``already_sent``, ``unknown``, ``not_tried``;
        ``complete`` is true when every message is delivered.

    Raises
    ------
    InputError
        The folder holds no messages.
    """
    from .mailer import send_folder

    return send_folder(folder, settings, resend=resend, progress=progress)


def score(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    top: int | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """Every allowed pair with its score and criterion breakdown, best first (an audit).

    Parameters
    ----------
    profiles, scheme, limits
        As for :func:`load_problem`.
    top
        Keep each person's K best pairs (for large inputs); ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        ``mentor_id, mentee_id`` (mentoring) or ``member_a, member_b``, then
        ``score`` (0–100) and one column per criterion (0–1); pairs a hard
        rule forbids are not listed.

    Raises
    ------
    InputError, ConfigError
        As for :func:`load_problem`.

    Examples
    --------
    >>> pairs = score("sample_data/profiles.csv", "constraints/mentoring.yaml")
    >>> list(pairs.columns[:3]), bool(pairs["score"].is_monotonic_decreasing)
    (['mentor_id', 'mentee_id', 'score'], True)
    """
    problem = load_problem(profiles, scheme, limits=limits)
    kind = get_scheme(problem.scheme.scheme)
    rows, cols = kind.pair_space(problem)
    weights = weight_matrix(problem, rows, cols)
    allowed = weights != NOT_ALLOWED
    if top is not None:  # rank by weight: the score in thousandths, less history penalties
        allowed &= top_mask(np.where(allowed, weights.astype(np.float64), -np.inf), top)
    if not kind.directed:
        allowed &= np.triu(np.ones_like(allowed), k=1)
    r, c = np.nonzero(allowed)
    if kind.directed:
        pairs = Pairs.from_matrix(rows, cols, r, c)
        data: dict[str, Any] = {
            "mentor_id": [problem.ids[i] for i in pairs.mentor],
            "mentee_id": [problem.ids[i] for i in pairs.mentee],
        }
    else:
        pairs = Pairs(rows[r], cols[c])
        data = {
            "member_a": [problem.ids[i] for i in pairs.a],
            "member_b": [problem.ids[i] for i in pairs.b],
        }
    data["score"] = np.round(pair_scores(problem, pairs), 2)
    layers = pair_layers(problem, pairs)
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        data[name] = np.round(layers[name].astype(np.float64), 3)
    frame = pd.DataFrame(data)
    keys = list(frame.columns[:2])
    return frame.sort_values(
        ["score", *keys], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def explain_result(
    output: str | Path,
    a: str,
    b: str,
    *,
    profiles: Profiles | None = None,
    scheme: SchemeSource | None = None,
) -> str:
    """Why two people were (or were not) matched, against a results folder.

    Parameters
    ----------
    output
        A folder written by ``buddymatch match`` (or :meth:`MatchResult.write`).
    a, b
        Two participant ids (case and spacing ignored).
    profiles, scheme
        Default to those recorded in the folder's ``summary.json``, found
        relative to the results folder and refused if their bytes changed
        since the run (SHA-256).

    Returns
    -------
    str
        The score breakdown, then: the rounds they were matched in, or every
        rule that forbids the pair, or what each of them got instead.

    Raises
    ------
    InputError
        Unknown id, changed profiles, or a folder that does not record its inputs.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp() + "/out"
    >>> written = match("sample_data/profiles.csv", "constraints/mentoring.yaml").write(folder)
    >>> text = explain_result(folder, "p00045@example.nhs.uk", "p00001@example.nhs.uk",
    ...     profiles="sample_data/profiles.csv", scheme="constraints/mentoring.yaml")
    >>> text.splitlines()[0], text.splitlines()[-1]
    ('Mentor p00045@example.nhs.uk, mentee p00001@example.nhs.uk', 'Made in round 1.')
    """
    from .io.inputs import recorded_inputs
    from .io.writers import read_results

    tables, summary = read_results(output)
    profiles = profiles or recorded_inputs(Path(output), summary, "profiles")
    scheme = scheme or recorded_inputs(Path(output), summary, "scheme")[0]
    problem = load_problem(profiles, scheme)
    if isinstance(summary.get("rematch"), dict):  # the round a re-match repaired
        problem = rematch_problem(problem, int(summary["rematch"]["round"]))
    if summary.get("input_hash") and summary["input_hash"] != problem.input_hash:
        raise InputError(
            issues=[
                Issue(
                    "the profiles have changed since this run (input hash differs)",
                    fix="explain against the files the run used, or run match again",
                )
            ]
        )
    return get_scheme(problem.scheme.scheme).explain(problem, tables, a, b)
