"""Thin Click layer: parse options, call one ``api`` function, write, report.

Every :class:`~buddymatch.errors.BuddymatchError` becomes ``Error: ...`` lines
on stderr and its exit code (2 bad input or usage, 1 infeasible or unsolved);
no traceback for anything a user can cause.  Logs (``-v``) carry counts and
timings only, never names or e-mails.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ._version import __version__
from .errors import BuddymatchError, ConfigError, InputError, Issue
from .io.atomic import committed, forget_commits

# The library (pandas, pydantic, the schemes) is imported inside each command:
# `buddymatch --version` and `--help` stay fast, and `validate` never loads a solver.

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("buddymatch")


def _fail(exc: BuddymatchError) -> None:
    for line in exc.lines:
        click.echo(f"Error: {line}", err=True)
    sys.exit(exc.exit_code)


def handle_errors(func: F) -> F:
    """Translate the project's errors once, for every command.

    Messages about writing are true: after an interrupt (Ctrl-C, SIGTERM) they say
    whether a result was committed (see :mod:`buddymatch.io.atomic`).  A closed
    pipe (``buddymatch validate … | head -1``) ends the command quietly.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        forget_commits()
        try:
            value = func(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
            return value
        except BrokenPipeError:
            _closed_pipe()
        except BuddymatchError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo(f"Error: interrupted; {_written()}", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: say so plainly, keep personal data out
            if os.environ.get("BUDDYMATCH_DEBUG"):
                raise
            click.echo(
                f"Error: internal error ({type(exc).__name__}); {_written()}. "
                "Please report it; set BUDDYMATCH_DEBUG=1 to see the traceback.",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _written() -> str:
    paths = committed()
    if not paths:
        return "nothing was written"
    shown = ", ".join(f'"{_shown(p)}"' for p in paths)
    return f"{shown} {'was' if len(paths) == 1 else 'were'} written completely before that"


def _shown(path: Path) -> str:
    """A path as the user most likely typed it: relative when under the working folder."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _closed_pipe() -> None:
    """The reader of stdout went away: stop quietly (nothing more can be shown)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)


def _interrupt_on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # same clean-up and truthful message as Ctrl-C


def smtp_options(func: F) -> F:
    """The SMTP server options (``introduce --send``, ``serve``): options or BUDDYMATCH_SMTP_*."""
    func = click.option(
        "--smtp-user",
        envvar="BUDDYMATCH_SMTP_USER",
        default=None,
        help="Password from BUDDYMATCH_SMTP_PASSWORD only.",
    )(func)
    func = click.option(
        "--smtp-security",
        envvar="BUDDYMATCH_SMTP_SECURITY",
        type=click.Choice(["starttls", "ssl", "none"]),
        default="starttls",
        show_default=True,
    )(func)
    func = click.option(
        "--smtp-port", envvar="BUDDYMATCH_SMTP_PORT", type=int, default=587, show_default=True
    )(func)
    return click.option("--smtp-host", envvar="BUDDYMATCH_SMTP_HOST", default=None)(func)


def smtp_settings(host: str | None, port: int, security: str, user: str | None) -> Any:
    """The :class:`~buddymatch.mailer.SmtpSettings` of the options (None without a host);
    the password comes from BUDDYMATCH_SMTP_PASSWORD only."""
    if not host:
        return None
    from .mailer import SmtpSettings

    return SmtpSettings(host, port, security, user, os.environ.get("BUDDYMATCH_SMTP_PASSWORD"))


def profiles_and_scheme(func: F) -> F:
    """The shared PROFILES... -c SCHEME arguments."""
    func = click.option(
        "-c",
        "--scheme",
        "scheme",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Scheme file (YAML or TOML): rules, criteria, capacities.",
    )(func)
    return click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path))(
        func
    )


class _Registered(click.Choice):
    """A choice among the registry's scheme or objective names, looked up when needed.

    Importing the registry loads pandas; a plain ``Choice`` would do that for
    every command, ``--version`` included.
    """

    def __init__(self, what: str) -> None:
        super().__init__([])
        self.what = what
        self.loaded = False

    def _load(self) -> None:
        if not self.loaded:
            from .schemes import all_objectives, scheme_names

            names = scheme_names() if self.what == "scheme" else all_objectives()
            self.choices = tuple(names)
            self.loaded = True

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        self._load()
        return super().convert(value, param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        self._load()
        return super().get_metavar(param, ctx)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each message."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_logging(verbose: int) -> None:
    """Warnings always, progress with -v: to stderr, on the ``buddymatch`` logger only."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    log.setLevel(level)
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="buddymatch")
@click.option("-v", "--verbose", count=True, help="Log progress (counts and timings only).")
def cli(verbose: int) -> None:
    """Explainable mentoring pairs, buddy pairs and cohorts across organisations.

    \b
    Start with:
      buddymatch validate sample_data/profiles.csv -c constraints/mentoring.yaml
      buddymatch match sample_data/profiles.csv -c constraints/mentoring.yaml -o out
    """
    _setup_logging(verbose)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt_on_term)


@cli.command()
@profiles_and_scheme
@handle_errors
def validate(profiles: tuple[Path, ...], scheme: Path) -> None:
    """Check profiles against a scheme: every problem at once, then a summary.

    \b
    Example:
      buddymatch validate mentors.csv mentees.csv -c constraints/mentoring.yaml
    """
    started = time.perf_counter()
    from . import api

    result = api.validate(list(profiles), scheme)
    log.info("validated %d participants in %.2fs", result.problem.n, time.perf_counter() - started)
    click.echo("OK: no problems found.")
    click.echo(result.text())


@cli.command()
@profiles_and_scheme
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Output folder."
)
@click.option("--seed", type=int, default=None, help="Random seed (default: the scheme's, else 0).")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds for searches that have a limit (cohorts).",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Search budget independent of time (cohorts): fully reproducible.",
)
@click.option(
    "--objective",
    type=_Registered("objective"),
    default=None,
    help="Override the scheme's objective (one the scheme supports).",
)
@click.option("--rounds", type=click.IntRange(min=1), default=None, help="Rotations in one run.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--quiet", is_flag=True, help="No progress bar or summary line.")
@click.option(
    "--timings",
    is_flag=True,
    help="Record runtime_s in summary.json (outputs then differ between runs).",
)
@handle_errors
def match(
    profiles: tuple[Path, ...],
    scheme: Path,
    output: Path,
    seed: int | None,
    time_limit: float | None,
    iterations: int | None,
    objective: str | None,
    rounds: int | None,
    fmt: str,
    force: bool,
    quiet: bool,
    timings: bool,
) -> None:
    """Build the pairs or groups and write them with reasons.

    \b
    Writes OUTPUT/matches.csv (or groups.csv), unmatched.csv, summary.json.
    Example:
      buddymatch match sample_data/profiles.csv -c constraints/mentoring.yaml -o out --seed 1
    """
    from . import api
    from .io.inputs import describe_inputs, run_inputs
    from .io.writers import refuse_overwriting_inputs

    _refuse_existing(output, force)
    refuse_overwriting_inputs(Path(os.path.abspath(output)), [*profiles, scheme], str(output))
    _note_cold_start(quiet)
    with _progress(quiet) as progress:
        result = api.match(
            list(profiles),
            scheme,
            seed=seed,
            time_limit=time_limit,
            iterations=iterations,
            objective=objective,
            rounds=rounds,
            progress=progress,
            record_time=timings,
        )
    inputs = run_inputs(list(profiles), scheme, result.problem.scheme)
    result.summary["inputs"] = describe_inputs(output, inputs)
    result.write(output, fmt=fmt, force=force, protect=[p for ps in inputs.values() for p in ps])
    s = result.summary
    log.info("wrote %s (%d units, status %s)", output, s["units"], s["status"])
    if not quiet:
        unit = "group" if "groups" in result.tables else "pair"
        unit += "" if s["units"] == 1 else "s"
        click.echo(
            f"{s['status']}: {s['matched']} of {s['participants']} participants matched "
            f"in {s['units']} {unit}; {s['unmatched']} unmatched (reasons in "
            f"{output / ('results.xlsx' if fmt == 'xlsx' else 'unmatched.csv')})."
        )


@cli.command()
@click.argument("previous", type=click.Path(exists=True, file_okay=False, path_type=Path))
@profiles_and_scheme
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Output folder."
)
@click.option(
    "--max-changes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Kept pairs the optimiser may break (cohorts: people it may move) to place more "
    "people or raise the objective.",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: the scheme's, else 0).")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds for searches that have a limit.",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Search budget independent of time (cohorts): fully reproducible.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--quiet", is_flag=True, help="No progress bar or summary line.")
@handle_errors
def rematch(
    previous: Path,
    profiles: tuple[Path, ...],
    scheme: Path,
    output: Path,
    max_changes: int,
    seed: int | None,
    time_limit: float | None,
    iterations: int | None,
    fmt: str,
    force: bool,
    quiet: bool,
) -> None:
    """Repair a previous result after dropouts, joiners and changed answers.

    \b
    Keeps every pair (or group place) that still holds, says why each other
    one ended, places everyone else without moving anyone who is kept, and
    writes the usual files plus OUTPUT/changes.csv.
    Example:
      buddymatch rematch out/round-1 sample_data/profiles_later.csv \\
          -c constraints/mentoring.yaml -o out/round-1b
    """
    from . import api
    from .io.inputs import describe_inputs, run_inputs
    from .io.writers import refuse_overwriting_inputs

    _refuse_existing(output, force)
    refuse_overwriting_inputs(Path(os.path.abspath(output)), [*profiles, scheme], str(output))
    _note_cold_start(quiet)
    with _progress(quiet) as progress:
        result = api.rematch(
            previous,
            list(profiles),
            scheme,
            max_changes=max_changes,
            seed=seed,
            time_limit=time_limit,
            iterations=iterations,
            progress=progress,
        )
    inputs = run_inputs(list(profiles), scheme, result.problem.scheme)
    inputs["previous"] = [previous]
    result.summary["inputs"] = describe_inputs(output, inputs)
    protect = [p for ps in inputs.values() for p in ps]
    result.write(output, fmt=fmt, force=force, protect=protect)
    if not quiet:
        click.echo(_rematch_line(result.summary, output, fmt))


def _rematch_line(s: dict[str, Any], output: Path, fmt: str) -> str:
    r = s["rematch"]
    unit = r["unit"]
    ended = ", ".join(f"{n} {why}" for why, n in r["ended_by_reason"].items() if n)
    where = output / ("results.xlsx" if fmt == "xlsx" else "changes.csv")
    return (
        f"{s['status']}: kept {r['kept']} {unit}, ended {r['ended']}"
        + (f" ({ended})" if ended else "")
        + f", {r['new']} new"
        + (f" ({r['changes_used']} of {r['max_changes']} changes used)" if r["max_changes"] else "")
        + f"; {s['matched']} of {s['participants']} participants matched, "
        f"{s['unmatched']} unmatched (changes in {where})."
    )


def _refuse_existing(output: Path, force: bool) -> None:
    """Fail before solving, not after, when the folder would be refused."""
    if output.exists() and not force and (output.is_file() or any(output.iterdir())):
        raise InputError(
            f'Output folder "{output}" already exists and is not empty — choose another folder '
            "or pass --force to replace it"
        )


class _progress:
    """A rich progress line for long searches, only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Callable[[dict[str, Any]], None] | None:
        if not self.enabled:
            return None
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("searching"),
            TimeElapsedColumn(),
            TextColumn("best {task.fields[best]}"),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task("search", total=None, best="-")

        def update(info: dict[str, Any]) -> None:
            best = info.get("best")
            shown = f"{best:,.1f}" if isinstance(best, int | float) else str(best)
            self._bar.update(task, best=shown)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@cli.command()
@profiles_and_scheme
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file for the allowed pairs.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="Keep each person's K best pairs (large inputs).",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
@handle_errors
def score(
    profiles: tuple[Path, ...], scheme: Path, output: Path, top: int | None, force: bool
) -> None:
    """Export every allowed pair with its score and criterion breakdown.

    \b
    Example:
      buddymatch score sample_data/profiles.csv -c constraints/mentoring.yaml -o pairs.csv --top 5
    """
    from . import api
    from .config import load_scheme
    from .io.inputs import side_files
    from .io.writers import refuse_overwriting_inputs, write_csv

    if output.exists() and not force:
        raise InputError(f'File "{output}" already exists — choose another name or pass --force')
    spec, base = load_scheme(scheme)
    refuse_overwriting_inputs(output, [*profiles, scheme, *side_files(spec, base)], str(output))
    frame = api.score(list(profiles), scheme, top=top)
    write_csv(output, frame)
    click.echo(f"{len(frame)} allowed pairs written to {output}.")


@cli.command()
@click.argument("output", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--pair", nargs=2, required=True, help="Two participant ids.")
@click.option(
    "--profiles",
    "profiles",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Profile files (default: those recorded in OUTPUT/summary.json).",
)
@click.option(
    "-c",
    "--scheme",
    type=click.Path(path_type=Path),
    default=None,
    help="Scheme file (default: the one recorded in OUTPUT/summary.json).",
)
@handle_errors
def explain(
    output: Path, pair: tuple[str, str], profiles: tuple[Path, ...], scheme: Path | None
) -> None:
    """Why a pair was (or was not) made, with what its score would be.

    \b
    Example:
      buddymatch explain out --pair p00017@example.nhs.uk p00102@example.nhs.uk
    """
    from . import api

    text = api.explain_result(
        output, pair[0], pair[1], profiles=list(profiles) or None, scheme=scheme
    )
    click.echo(text)


@cli.command()
@click.argument("result", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Letters folder."
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Template file (default: the scheme's shipped template).",
)
@click.option("--programme", required=True, help="The programme's name, for the messages.")
@click.option("--sender", required=True, help='From address: "Name <address@example.org>".')
@click.option("--name-column", default=None, help="Carried column with display names.")
@click.option("--email-column", default=None, help="Carried column with addresses (default: ids).")
@click.option("--only-new", is_flag=True, help="Skip pairs or groups a re-match kept.")
@click.option("--date", "date_text", default=None, help="Date header, ISO 8601 (default: now).")
@click.option("--force", is_flag=True, help="Replace letters not yet sent.")
@click.option("--send", is_flag=True, help="Send through SMTP (default: dry run, write only).")
@smtp_options
@click.option(
    "--resend",
    multiple=True,
    help="A message left 'unknown' (e.g. 0007.eml) to send again after checking.",
)
@handle_errors
def introduce(
    result: Path,
    output: Path,
    template: Path | None,
    programme: str,
    sender: str,
    name_column: str | None,
    email_column: str | None,
    only_new: bool,
    date_text: str | None,
    force: bool,
    send: bool,
    smtp_host: str | None,
    smtp_port: int,
    smtp_security: str,
    smtp_user: str | None,
    resend: tuple[str, ...],
) -> None:
    """Write one introduction per pair or group (.eml + mailmerge.csv); send with --send.

    \b
    Dry run by default: the messages are written to OUTPUT for review.  With
    --send they go through SMTP (host, port, security and user from options or
    BUDDYMATCH_SMTP_* variables, the password from BUDDYMATCH_SMTP_PASSWORD);
    run the same command again after a failure: nobody is sent anything twice.
    Example:
      buddymatch introduce out/round-1 -o out/letters --programme "Mentoring 2026" \\
          --sender "Programme team <mentoring@example.nhs.uk>"
    """
    from . import api
    from .letters import read_manifest, same_letters
    from .mailer import sent_count

    settings = None
    if send:
        if not smtp_host:
            raise ConfigError(
                issues=[
                    Issue(
                        "--send needs an SMTP host",
                        fix="pass --smtp-host or set BUDDYMATCH_SMTP_HOST",
                    )
                ]
            )
        settings = smtp_settings(smtp_host, smtp_port, smtp_security, smtp_user)
    letters = api.introduce(
        result, template, programme=programme, sender=sender, name_column=name_column,
        email_column=email_column, only_new=only_new, date=_date(date_text),
    )  # fmt: skip
    busy = output.is_dir() and any(output.iterdir())
    if not (send and busy and same_letters(read_manifest(output), letters)):
        if busy and sent_count(output) == 0 and not force:
            _refuse_existing(output, force)
        inputs = [p for p in (result, template) if p is not None]
        letters.write(output, force=force, protect=inputs)
    if settings is None:
        click.echo(
            f"{len(letters.letters)} messages written to {output} (dry run: nothing sent; "
            "add --send to send them)."
        )
        return
    report = api.send_letters(output, settings, resend=resend)
    click.echo(f"{report.text()}; log in {output / 'send-log.csv'}.")
    if not report.complete:
        click.echo("Error: not every message was delivered; run the same command again", err=True)
        sys.exit(1)


def _date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            issues=[Issue("--date must be ISO 8601, e.g. 2026-09-01T09:00")]
        ) from None
    return value if value.tzinfo else value.astimezone()


@cli.command()
@click.argument("output", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o", "--out", "target", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
@handle_errors
def report(output: Path, target: Path, force: bool) -> None:
    """Write a self-contained HTML report of a results folder.

    \b
    Example:
      buddymatch report out -o report.html
    """
    from .io.writers import refuse_overwriting_inputs
    from .report import write_report

    results = [p for p in output.iterdir() if p.suffix in (".csv", ".xlsx", ".json")]
    refuse_overwriting_inputs(target, results, str(target))
    path = write_report(output, target, force=force)
    click.echo(f"Report written to {path}.")


@cli.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: one folder per run, batch.csv, sweep.html.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: one per core; 1 runs one at a time).",
)
@click.option(
    "--scheduler",
    envvar="BUDDYMATCH_SCHEDULER",
    default=None,
    help="Address of a running Dask scheduler (tcp://host:8786) instead of local workers.",
)
@click.option("--resume", is_flag=True, help="Skip runs already complete with the same inputs.")
@click.option("--force", is_flag=True, help="Run every run again into a non-empty folder.")
@click.option("--quiet", is_flag=True, help="No progress bar or summary line.")
@click.option(
    "--timings",
    is_flag=True,
    help="Record runtime_s in batch.csv (the file then differs between batches).",
)
@handle_errors
def batch(
    manifest: Path,
    output: Path,
    workers: int | None,
    scheduler: str | None,
    resume: bool,
    force: bool,
    quiet: bool,
    timings: bool,
) -> None:
    """Run many matches from a manifest: per cohort, per region, or a what-if sweep.

    \b
    Exit code 0 when every run completed, 1 when some failed (their rows in
    OUTPUT/batch.csv say why), 2 for a bad manifest.
    Example:
      buddymatch batch examples/regions.yaml -o out/regions
    """
    from .batch import run_batch

    if workers is not None and scheduler is not None:
        source = click.get_current_context().get_parameter_source("scheduler")
        if source != click.core.ParameterSource.ENVIRONMENT:
            raise ConfigError("give --workers (local processes) or --scheduler, not both")
        scheduler = None  # --workers on the command line wins over BUDDYMATCH_SCHEDULER
    with _batch_progress(quiet) as progress:
        report = run_batch(
            manifest,
            output,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            force=force,
            timings=timings,
            progress=progress,
        )
    failed = len(report.failed)
    log.info("batch of %d runs in %.1fs", len(report.rows), report.seconds)
    if not quiet:
        reused = f" ({len(report.reused)} reused)" if resume else ""
        click.echo(
            f"{len(report.rows)} runs: {len(report.rows) - failed} complete{reused}, "
            f"{failed} failed; one row each in {output / 'batch.csv'}."
        )
        if report.sweep_report is not None:
            click.echo(f"Sweep report: {output / report.sweep_report.name}.")
    if failed:
        click.echo(
            f"Error: {failed} of {len(report.rows)} runs failed — see the error column "
            f"of {output / 'batch.csv'}",
            err=True,
        )
        sys.exit(1)


class _batch_progress:
    """A rich bar of runs done and failed, only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Callable[[str, dict[str, Any]], None] | None:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task("runs", total=None, failed=0)

        def update(event: str, info: dict[str, Any]) -> None:
            if event == "start":
                self._bar.update(task, total=info["total"], completed=info["done"])
            else:
                failed = self._bar.tasks[0].fields["failed"] + (info["status"] == "failed")
                self._bar.update(task, advance=1, failed=failed)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _note_cold_start(quiet: bool) -> None:
    """Say why a first run after a plain install is slow (on a terminal only)."""
    from .warmup import warmed_up

    if not quiet and sys.stderr.isatty() and not warmed_up():
        click.echo(
            "Note: the solver kernels compile on first use (about a minute, once per "
            "version); `buddymatch warm-up` does it ahead of time and ends this note.",
            err=True,
        )


@cli.command("warm-up")
@click.option("--quiet", is_flag=True, help="Print nothing.")
@handle_errors
def warm_up(quiet: bool) -> None:
    """Compile the solver kernels once (about a minute) so later runs start fast.

    The Makefile runs this after installing; after a plain `pip install`, run it
    once yourself. Only the kernel cache is written: ~/.cache/buddymatch/numba,
    or BUDDYMATCH_CACHE_DIR/numba when that is set (see the README).

    \b
    Example:
      buddymatch warm-up
    """
    from .warmup import warm_up as compile_all

    spent = compile_all(None if quiet else click.echo)
    if not quiet:
        click.echo(f"Kernels compiled and cached in {sum(spent.values()):.1f} s.")


@cli.command()
@click.option("--scheme", "kind", required=True, type=_Registered("scheme"))
@click.option("--size", required=True, type=click.IntRange(min=1, max=10_000_000))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace existing files.")
@handle_errors
def sample(kind: str, size: int, seed: int, output: Path, force: bool) -> None:
    """Write realistic synthetic profiles and a matching scheme file.

    \b
    Example:
      buddymatch sample --scheme mentoring --size 500 --seed 7 -o cohort
    """
    from .sample import write_sample

    paths = write_sample(kind, size, seed, output, force=force)
    click.echo("Wrote " + ", ".join(str(p) for p in paths) + ".")


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="0: any free port.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("buddymatch-data"),
    show_default=True,
    help="Run folders and the SQLite file.",
)
@click.option(
    "--db",
    default=None,
    help="Database URL (default: SQLite in --data-dir; postgresql://user@host/db for a team).",
)
@click.option(
    "--demo", is_flag=True, help="Load sample_data/ with the example schemes as three programmes."
)
@click.option("--team", is_flag=True, help="Accounts with passwords and roles per programme.")
@click.option("--secure-cookies", is_flag=True, help="Mark cookies Secure (behind an HTTPS proxy).")
@click.option("--max-upload-mb", type=click.IntRange(1, 1024), default=20, show_default=True)
@click.option("--no-browser", is_flag=True, help="Print the sign-in link only.")
@smtp_options
@handle_errors
def serve(
    port: int,
    data_dir: Path,
    db: str | None,
    demo: bool,
    team: bool,
    secure_cookies: bool,
    max_upload_mb: int,
    no_browser: bool,
    smtp_host: str | None,
    smtp_port: int,
    smtp_security: str,
    smtp_user: str | None,
) -> None:
    """Start the coordinator workbench on 127.0.0.1 (a browser app; see docs/workbench.md).

    \b
    Introductions are sent through the SMTP server of --smtp-* (or the
    BUDDYMATCH_SMTP_* variables; the password only from BUDDYMATCH_SMTP_PASSWORD);
    without a host the workbench previews and downloads them but cannot send.
    Example:
      buddymatch serve --demo
    """
    try:
        from .web.serve import serve as run_server
    except ImportError as exc:  # the web extra is optional for library users
        raise InputError(
            f"the workbench needs its extra: pip install 'buddymatch[web]' ({exc.name})"
        ) from None
    smtp = smtp_settings(smtp_host, smtp_port, smtp_security, smtp_user)
    run_server(port, data_dir, db, demo, team, secure_cookies, max_upload_mb, not no_browser, smtp)
