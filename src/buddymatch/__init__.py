"""buddymatch: explainable mentoring pairs, buddy pairs and cohorts across organisations.

    >>> import buddymatch
    >>> result = buddymatch.match("profiles.csv", "constraints/mentoring.yaml")  # doctest: +SKIP
    >>> result.matches, result.unmatched, result.summary                          # doctest: +SKIP

Profiles may be a pandas DataFrame, a path or several paths; a scheme may be a
path (YAML/TOML) or a dict of the same shape.
"""

from ._version import __version__
from .api import explain_result, load_problem, match, score, solve, validate
from .errors import (
    BuddymatchError,
    ConfigError,
    InfeasibleError,
    InputError,
    Issue,
    SolverError,
)
from .result import MatchResult
from .sample import sample_profiles, sample_scheme
from .solvers import Status

__all__ = [
    "BuddymatchError",
    "ConfigError",
    "InfeasibleError",
    "InputError",
    "Issue",
    "MatchResult",
    "SolverError",
    "Status",
    "__version__",
    "explain_result",
    "load_problem",
    "match",
    "sample_profiles",
    "sample_scheme",
    "score",
    "solve",
    "validate",
]
