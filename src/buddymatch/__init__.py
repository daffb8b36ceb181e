"""buddymatch: explainable mentoring pairs, buddy pairs and cohorts across organisations.

    >>> import buddymatch
    >>> result = buddymatch.match("sample_data/profiles.csv", "constraints/mentoring.yaml")
    >>> result.status, len(result.matches)
    ('optimal', 100)

Profiles may be a pandas DataFrame, a path or several paths; a scheme may be a
path (YAML/TOML) or a dict of the same shape.  The names below are loaded on
first use, so ``import buddymatch`` (and ``buddymatch --version``) is quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    BuddymatchError,
    ConfigError,
    InfeasibleError,
    InputError,
    Issue,
    SolverError,
)

if TYPE_CHECKING:
    from .api import (
        explain_result,
        introduce,
        load_problem,
        match,
        rematch,
        score,
        send_letters,
        solve,
        validate,
    )
    from .result import MatchResult
    from .sample import sample_profiles, sample_scheme
    from .solvers import Status

_LAZY = {
    "explain_result": "api",
    "load_problem": "api",
    "match": "api",
    "rematch": "api",
    "introduce": "api",
    "send_letters": "api",
    "score": "api",
    "solve": "api",
    "validate": "api",
    "MatchResult": "result",
    "sample_profiles": "sample",
    "sample_scheme": "sample",
    "Status": "solvers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'buddymatch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "introduce",
    "load_problem",
    "match",
    "rematch",
    "sample_profiles",
    "sample_scheme",
    "score",
    "send_letters",
    "solve",
    "validate",
]
