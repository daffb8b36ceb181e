"""The scheme registry: the one place that maps a scheme's name to its implementation.

Every part of the package that depends on the kind of scheme (validation,
solving, explanations, ``score``, ``validate``'s summary, ``sample``) asks
this registry.  Adding a scheme means writing one module with a
:class:`~buddymatch.schemes.base.SchemeKind` subclass and registering an
instance (see docs/architecture.md, "Adding a scheme").

    >>> from buddymatch.schemes import get_scheme, scheme_names
    >>> scheme_names()
    ('mentoring', 'peer', 'cohorts')
    >>> get_scheme("peer").directed
    False
"""

from __future__ import annotations

import difflib

from ..errors import ConfigError, Issue
from .base import RoundOutcome, SchemeKind, SchemeRun

_REGISTRY: dict[str, SchemeKind] = {}


def register(kind: SchemeKind) -> SchemeKind:
    """Make ``kind`` available as ``scheme: <kind.name>`` in scheme files."""
    if kind.name in _REGISTRY and _REGISTRY[kind.name] is not kind:
        raise ValueError(f"a scheme named {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def scheme_names() -> tuple[str, ...]:
    """Registered scheme names, in registration order."""
    return tuple(_REGISTRY)


def all_objectives() -> tuple[str, ...]:
    """Every objective name some registered scheme supports (first-seen order)."""
    return tuple(dict.fromkeys(o for k in _REGISTRY.values() for o in k.objectives))


def get_scheme(name: str) -> SchemeKind:
    """The registered scheme called ``name``; ``ConfigError`` with a suggestion if none."""
    found = _REGISTRY.get(name)
    if found is not None:
        return found
    close = difflib.get_close_matches(str(name), list(_REGISTRY), n=1, cutoff=0.6)
    fix = f'did you mean "{close[0]}"?' if close else None
    raise ConfigError(
        issues=[Issue(f'unknown scheme "{name}": choose one of {", ".join(_REGISTRY)}', fix=fix)]
    )


def _register_builtins() -> None:
    from .cohorts import SCHEME as COHORTS
    from .mentoring import SCHEME as MENTORING
    from .peer import SCHEME as PEER

    for kind in (MENTORING, PEER, COHORTS):
        register(kind)


_register_builtins()

__all__ = [
    "RoundOutcome",
    "SchemeKind",
    "SchemeRun",
    "all_objectives",
    "get_scheme",
    "register",
    "scheme_names",
]
