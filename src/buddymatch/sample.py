"""Realistic synthetic sign-up sheets (profiles + a matching scheme file).

Why: demos, tests and benchmarks need cohorts that look like the real thing —
a few big hospital trusts and many small GP practices, professions that follow
the organisation type, mentors who are more senior than mentees — without any
real person in them.  Everything is generated column by column with numpy
(no Python loop per row), so a million rows take seconds.

Callers may rely on:
- the columns are exactly :data:`COLUMNS` (the layout of ``sample_data/``), every
  cell a ``str`` (blank = ``""``), emails unique;
- the same ``(scheme, size, seed)`` gives an identical DataFrame, and
  :func:`write_sample` then writes identical bytes;
- the DataFrame is the same for every scheme (the role and capacity columns are
  simply not used by the ``peer`` and ``cohorts`` scheme files), so one sheet
  can be matched under all three schemes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from buddymatch.errors import ConfigError, InputError, Issue
from buddymatch.io.writers import write_atomic
from buddymatch.schemes import get_scheme

EMAIL = "Email"
NAME = "Full name"
ORGANISATION = "Organisation"
ORG_TYPE = "Organisation type"
ROLE = "I want to be a"
CAPACITY = "How many mentees can you take?"
BAND = "Band"
PROFESSION = "Profession"
REGION = "Region"
INTERESTS = "Areas you'd like support with"
EXPERTISE = "Areas you can offer"
AVAILABILITY = "When are you available?"
FACILITATOR = "Happy to facilitate a group?"
YEARS = "Years in current role"

#: The profile columns, in order (a Google Forms export adds ``Timestamp`` first).
COLUMNS: tuple[str, ...] = (
    EMAIL,
    NAME,
    ORGANISATION,
    ORG_TYPE,
    ROLE,
    CAPACITY,
    BAND,
    PROFESSION,
    REGION,
    INTERESTS,
    EXPERTISE,
    AVAILABILITY,
    FACILITATOR,
    YEARS,
)

ORG_TYPES = (
    "GP practice",
    "Acute trust",
    "Community trust",
    "Mental health trust",
    "Local authority",
    "Voluntary sector",
    "Patient group",
    "Integrated care board",
)
# Share of organisations of each type, and the typical head-count weight of one.
_ORG_SHARE = np.array([0.50, 0.07, 0.05, 0.05, 0.08, 0.12, 0.10, 0.03])
_ORG_WEIGHT = np.array([5.0, 40.0, 15.0, 15.0, 12.0, 2.5, 1.5, 6.0])
# Cap on the Zipf-like spread within a type: a big trust may be 25x a typical one,
# a GP practice or patient group only a few times its typical size.
_ORG_SPREAD = np.array([3.0, 25.0, 10.0, 10.0, 10.0, 6.0, 3.0, 6.0])

ROLES = ("Mentor", "Mentee", "Either")
_ROLE_P = np.array([0.30, 0.60, 0.10])

BANDS = ("Band 5", "Band 6", "Band 7", "Band 8a", "Band 8b", "Band 8c", "Band 8d", "Band 9")
_BAND_W = np.array(
    [
        [2, 6, 16, 26, 22, 14, 8, 6],  # Mentor: senior
        [24, 30, 25, 12, 5, 2, 1, 1],  # Mentee: junior
        [8, 18, 26, 24, 13, 6, 3, 2],  # Either: in between
    ],
    dtype=float,
)

PROFESSIONS = (
    "GP",
    "Nurse",
    "Pharmacist",
    "Allied health professional",
    "Social worker",
    "Manager",
    "Hospital doctor",
    "Patient representative",
    "Care coordinator",
)
# P(profession | organisation type); rows follow ORG_TYPES, columns PROFESSIONS.
_PROF_W = np.array(
    [
        [55, 18, 8, 4, 0, 10, 0, 1, 4],  # GP practice
        [0, 35, 8, 17, 1, 17, 22, 0, 0],  # Acute trust
        [1, 40, 6, 25, 3, 15, 2, 0, 8],  # Community trust
        [0, 35, 5, 15, 12, 15, 12, 1, 5],  # Mental health trust
        [0, 3, 0, 6, 55, 26, 0, 1, 9],  # Local authority
        [0, 6, 0, 5, 12, 35, 0, 12, 30],  # Voluntary sector
        [0, 0, 0, 0, 0, 8, 0, 85, 7],  # Patient group
        [12, 12, 8, 3, 2, 56, 5, 2, 0],  # Integrated care board
    ],
    dtype=float,
)

REGIONS = ("North", "South", "East", "West", "Central")
_REGION_P = np.array([0.24, 0.22, 0.18, 0.18, 0.18])

TOPICS = (
    "Quality improvement",
    "Finance",
    "Leadership",
    "Digital",
    "Population health",
    "Workforce",
    "Clinical governance",
    "Research",
    "Wellbeing",
    "Partnership working",
    "Change management",
    "Patient safety",
)
# Topic popularity by profession (rows PROFESSIONS, columns TOPICS).
_TOPIC_W = np.array(
    [
        [3, 3, 4, 2, 5, 3, 2, 1, 3, 3, 2, 3],  # GP
        [3, 1, 4, 2, 2, 3, 4, 2, 4, 2, 2, 5],  # Nurse
        [3, 2, 3, 3, 3, 1, 4, 2, 2, 2, 2, 5],  # Pharmacist
        [3, 1, 4, 3, 2, 2, 2, 3, 4, 3, 2, 3],  # AHP
        [2, 1, 4, 1, 3, 3, 1, 1, 5, 5, 3, 2],  # Social worker
        [3, 5, 5, 4, 2, 5, 2, 1, 3, 4, 5, 2],  # Manager
        [3, 1, 4, 2, 2, 2, 4, 5, 3, 2, 2, 4],  # Hospital doctor
        [2, 1, 2, 2, 4, 1, 2, 1, 4, 5, 2, 5],  # Patient representative
        [2, 1, 3, 2, 4, 2, 1, 1, 4, 5, 3, 2],  # Care coordinator
    ],
    dtype=float,
)

SLOTS = tuple(f"{d} {h}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for h in ("AM", "PM"))
_SLOT_W = np.array([3, 4, 5, 6, 6, 7, 6, 7, 3, 2], dtype=float)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Aisha Alex Amelia Amir Ana Andrew Anita Ben Bethan Carlos Catherine Chen Chloe Chris "
    "Claire Daniel David Deepa Eilidh Elena Emma Fatima Fiona Gareth Grace Hannah Harry Helen "
    "Ibrahim Imogen Isaac Jack James Jasmine Joanna Jonathan Joseph Kate Kwame Laura Leah Liam "
    "Lucy Mark Maryam Matthew Mei Michael Mohammed Naomi Nia Nikhil Olivia Oliver Owen Patrick "
    "Priya Rachel Rebecca Rhys Robert Rosa Ruth Ryan Sam Sarah Siobhan Sophie Stephen Sunita "
    "Tariq Thomas Tom Una Victoria Wei William Yusuf Zainab Zoe"
)
_LAST = _words(
    "Adams Ahmed Ali Allen Bailey Baker Begum Bell Brown Campbell Chen Clarke Cooper Davies "
    "Edwards Evans Fernandes Fisher Green Griffiths Hall Harris Hughes Hussain Jackson James "
    "Johnson Jones Kaur Kelly Khan King Lewis Lloyd Martin Mensah Mitchell Moore Morgan Murphy "
    "Nguyen Novak O'Brien Okafor Owen Parker Patel Phillips Price Rahman Roberts Robinson Rossi "
    "Scott Shah Singh Smith Taylor Thomas Thompson Turner Walker Ward Watson White Williams "
    "Wilson Wood Wright Young"
)

_QUALIFIERS = ("", "North ", "South ", "East ", "West ", "Upper ", "Lower ", "Great ", "Little ")
_PLACE_A = _words(
    "Ash Beech Birch Bram Brook Castle Cedar Clay Cold Elm Fair Fern Glen Green Hazel Heath "
    "High Holly Kings Lark Long Maple Mill Moor Oak Pine Queens Red Rose Sand Silver Stan "
    "Stone Thorn Water West White Willow Wold"
)
_PLACE_B = _words(
    "bank borough bridge brook bury by combe cross dale field ford gate ham hill hurst ley "
    "mere minster moor port ridge side stead stow ton vale well wick wood worth"
)
_SHIRES = ("Westshire", "Eastshire", "Northshire", "Southshire", "Midshire", "Valeshire")
# Name patterns by organisation type; "{p}" is a generated place name.
_ORG_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("{p} GP Practice", "{p} Surgery", "{p} Medical Centre", "{p} Health Centre"),
    ("{p} Hospitals NHS Trust", "{p} University Hospitals NHS Foundation Trust"),
    ("{p} Community Health NHS Trust", "{p} Community Healthcare NHS Trust"),
    ("{p} Mental Health NHS Foundation Trust", "{p} Partnership NHS Trust"),
    ("{p} County Council", "{p} Borough Council", "{p} City Council"),
    ("Carers Together {p} (voluntary)", "{p} Community Action (voluntary)", "{p} Mind (voluntary)"),
    ("Patient Voice {p}", "{p} Patients Forum", "Healthwatch {p}"),
    ("{p} Integrated Care Board",),
)

_MAX_SIZE = 20_000_000
_BLOCK = 1 << 17


def sample_profiles(scheme: str, size: int, seed: int) -> pd.DataFrame:
    """Realistic synthetic sign-ups (NHS-style organisations, bands, professions, topics).

    Parameters
    ----------
    scheme
        A registered scheme name (checked; the rows do not depend on it).
    size
        Number of people, 0 to 20,000,000.
    seed
        Any integer; the rows are deterministic in ``(size, seed)`` (numpy's
        PCG64, no dependence on hash seeds, time or threads).

    Returns
    -------
    pandas.DataFrame
        Text columns :data:`COLUMNS`, one row per person.

    Raises
    ------
    ConfigError
        Unknown scheme or a size out of range.

    Examples
    --------
    >>> frame = sample_profiles("mentoring", 5, seed=7)
    >>> frame.shape, frame.iloc[0]["Email"]
    ((5, 14), 'p00001@example.nhs.uk')
    """
    get_scheme(scheme)
    if not 0 <= size <= _MAX_SIZE:
        raise ConfigError(f"size must be between 0 and {_MAX_SIZE:,}, got {size}")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & (2**63 - 1), 7])))
    n = int(size)

    org_names, org_type, org_region, org_w = _organisations(rng, n)
    org = _choice(rng, org_w / org_w.sum(), n)
    otype = org_type[org]
    region = np.where(rng.random(n) < 0.9, org_region[org], _choice(rng, _REGION_P, n))
    prof = _choice_rows(rng, _normalise(_PROF_W), otype)
    role = _choice(rng, _ROLE_P, n)
    band = _choice_rows(rng, _normalise(_BAND_W), role)

    offers = role != 1  # mentors and "Either" can take mentees
    capacity = np.where(offers, _choice(rng, np.array([0.35, 0.35, 0.2, 0.1]), n) + 1, 0)
    n_needs = np.where(
        offers,
        _choice(rng, np.array([0.25, 0.35, 0.25, 0.1, 0.05]), n),
        _choice(rng, np.array([0.04, 0.2, 0.36, 0.25, 0.15]), n),
    )
    n_offers = np.where(
        offers,
        _choice(rng, np.array([0.02, 0.08, 0.25, 0.3, 0.2, 0.15]), n),
        _choice(rng, np.array([0.45, 0.3, 0.15, 0.07, 0.02, 0.01]), n),
    )
    needs = _subsets(rng, _TOPIC_W, prof, n_needs)
    skills = _subsets(rng, _TOPIC_W, prof, n_offers)
    slots = _subsets(rng, _SLOT_W[None, :], np.zeros(n, np.intp), _choice(rng, _SLOTS_P, n) + 1)
    facilitator = rng.random(n) < np.array([0.25, 0.08, 0.2])[role]
    years = _years(rng, band, role)

    width = max(5, len(str(n)))
    emails = np.empty(n, dtype=object)
    for lo in range(0, n, _BLOCK):  # blocks bound the fixed-width temporaries
        ids = np.char.zfill(np.arange(lo + 1, min(n, lo + _BLOCK) + 1).astype(str), width)
        emails[lo : lo + _BLOCK] = np.char.add(np.char.add("p", ids), "@example.nhs.uk")
    full = _lookup([f"{f} {s}" for f in _FIRST for s in _LAST])
    names = full[_choice(rng, np.full(len(full), 1 / len(full)), n)]

    data = {
        EMAIL: emails,
        NAME: names,
        ORGANISATION: org_names[org],
        ORG_TYPE: _lookup(ORG_TYPES)[otype],
        ROLE: _lookup(ROLES)[role],
        CAPACITY: _lookup(["", "1", "2", "3", "4"])[capacity],
        BAND: _lookup(BANDS)[band],
        PROFESSION: _lookup(PROFESSIONS)[prof],
        REGION: _lookup(REGIONS)[region],
        INTERESTS: _joined(TOPICS)[needs],
        EXPERTISE: _joined(TOPICS)[skills],
        AVAILABILITY: _joined(SLOTS)[slots],
        FACILITATOR: _lookup(["No", "Yes"])[facilitator.astype(np.intp)],
        YEARS: years,
    }
    return pd.DataFrame({k: pd.array(v, dtype="str") for k, v in data.items()})


_SLOTS_P = np.array([0.25, 0.35, 0.25, 0.15])


def sample_scheme(scheme: str) -> dict[str, Any]:
    """A scheme-file dict (YAML-ready) for :func:`sample_profiles` columns.

    The attributes are the sampler's; rules, criteria and options are the
    scheme's own example (``SchemeKind.sample_settings``).

    Examples
    --------
    >>> import buddymatch
    >>> scheme = sample_scheme("peer")
    >>> scheme["scheme"], scheme["rules"]
    ('peer', [{'different': 'organisation'}])
    >>> buddymatch.match(sample_profiles("peer", 40, seed=1), scheme).summary["matched"]
    40
    """
    attributes: dict[str, Any] = {
        "organisation": {"column": ORGANISATION},
        "org_type": {"column": ORG_TYPE},
        "band": {"column": BAND, "scale": list(BANDS)},
        "profession": {"column": PROFESSION},
        "region": {"column": REGION},
        "interests": {"column": INTERESTS, "multi": ";"},
        "expertise": {"column": EXPERTISE, "multi": ";"},
        "availability": {"column": AVAILABILITY, "multi": ";"},
        "facilitator": {"column": FACILITATOR},
        "years": {"column": YEARS, "numeric": True},
    }
    kind = get_scheme(scheme)
    out: dict[str, Any] = {"version": 1, "scheme": scheme}
    out.update(kind.sample_settings({"id": EMAIL, "role": ROLE, "capacity": CAPACITY}))
    out["participants"]["attributes"] = attributes
    return out


def write_sample(
    scheme: str, size: int, seed: int, out_dir: Path, *, force: bool = False
) -> list[Path]:
    """Write ``profiles.csv`` and ``scheme.yaml`` into ``out_dir``; return their paths.

    Refuses (``InputError``, nothing written) when either file exists, unless
    ``force``.  Each file is written to a temporary file in ``out_dir`` and
    renamed into place, so a reader never sees half a file.  Bytes depend only
    on ``(scheme, size, seed)``: UTF-8, comma-separated, ``\\n`` line ends.
    """
    get_scheme(scheme)
    out_dir = Path(out_dir)
    targets = [out_dir / "profiles.csv", out_dir / "scheme.yaml"]
    if not force:
        existing = [t for t in targets if t.exists()]
        if existing:
            raise InputError(
                issues=[
                    Issue(
                        "already exists",
                        file=str(t),
                        fix="pass --force to overwrite it, or choose another output folder",
                    )
                    for t in existing
                ]
            )
    frame = sample_profiles(scheme, size, seed)
    yaml_bytes = yaml.safe_dump(
        sample_scheme(scheme), sort_keys=False, allow_unicode=True, width=100
    ).encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(
        targets[0],
        lambda fh: frame.to_csv(fh, index=False, lineterminator="\n", encoding="utf-8"),
    )
    write_atomic(targets[1], yaml_bytes)
    return targets


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / w.sum(axis=-1, keepdims=True)


def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of indices with probabilities ``p`` (inverse CDF, vectorised)."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(idx, len(p) - 1).astype(np.intp)


def _choice_rows(rng: np.random.Generator, table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """One index per person, drawn with the probabilities ``table[codes[i]]``.

    One uniform draw per person, then a searchsorted per category (a loop over
    the few categories, never over people), so no (n, k) matrix is built.
    """
    cdf = np.cumsum(table, axis=1)
    u = rng.random(len(codes))
    out = np.empty(len(codes), dtype=np.intp)
    for c in range(len(table)):
        rows = codes == c
        out[rows] = np.searchsorted(cdf[c], u[rows] * cdf[c, -1], side="right")
    return np.minimum(out, table.shape[1] - 1)


def _subsets(
    rng: np.random.Generator, table: np.ndarray, codes: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Bitmask of ``k[i]`` distinct items per person, weighted by ``table[codes[i]]``.

    Efraimidis-Spirakis: item j gets key log(u)/w_j and the k largest keys are a
    weighted sample without replacement.  Ranks are counted item against item
    (m*m vector operations over all people; ties broken by item order, so exactly
    ``min(k, m)`` items are chosen).  Memory: one (m, n) float array.
    """
    m = table.shape[1]
    n = len(codes)
    keys = rng.random((m, n))
    np.log(keys, out=keys)
    for j in range(m):
        keys[j] /= table[codes, j]
    take = np.minimum(k, m)
    masks = np.zeros(n, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    for j in range(m):
        rank[:] = 0
        for i in range(m):
            if i != j:
                rank += keys[i] > keys[j] if i > j else keys[i] >= keys[j]
        masks |= (rank < take).astype(np.int64) << j
    return masks


def _joined(items: tuple[str, ...]) -> np.ndarray:
    """All 2**len(items) "; "-joined subsets, indexed by bitmask, in the items' order."""
    out = np.empty(1 << len(items), dtype=object)
    for mask in range(len(out)):
        out[mask] = "; ".join(t for b, t in enumerate(items) if mask >> b & 1)
    return out


def _lookup(values: tuple[str, ...] | list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _years(rng: np.random.Generator, band: np.ndarray, role: np.ndarray) -> np.ndarray:
    """Years in role, 0–30; about one in ten with a (non-zero) decimal."""
    scale = 1.6 + 0.5 * band + np.where(role == 1, 0.0, 1.5)
    tenths = np.clip(np.rint(rng.gamma(2.0, scale) * 10), 0, 300).astype(np.intp)
    whole = rng.random(len(band)) >= 0.1
    tenths = np.where(whole | (tenths % 10 == 0), tenths // 10 * 10, tenths)
    table = _lookup([str(t // 10) if t % 10 == 0 else f"{t // 10}.{t % 10}" for t in range(301)])
    return table[tenths]


def _organisations(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Organisations with types, home regions and Zipf-like head-count weights.

    Types are allotted by largest remainder so even a small sample has a trust
    and several practices; names are unique (a number is appended only when the
    generated name space runs out).
    """
    count = max(8, round(1.2 * max(n, 1) ** 0.6))
    quota = _ORG_SHARE * count
    alloc = np.floor(quota).astype(np.intp)
    alloc[np.argsort(-(quota - alloc), kind="stable")[: count - alloc.sum()]] += 1
    alloc = np.maximum(alloc, 1)
    org_type = rng.permutation(np.repeat(np.arange(len(ORG_TYPES)), alloc))
    count = len(org_type)
    weight = _ORG_WEIGHT[org_type] * np.minimum(rng.pareto(1.3, count) + 1.0, _ORG_SPREAD[org_type])
    region = _choice(rng, _REGION_P, count)

    names = np.empty(count, dtype=object)
    places = [q + a + b for q in _QUALIFIERS for a in _PLACE_A for b in _PLACE_B]
    for t, patterns in enumerate(_ORG_PATTERNS):
        where = np.flatnonzero(org_type == t)
        # Councils and ICBs are named after counties more often.
        pool = [*_SHIRES, *places] if t in (4, 7) else places
        space = len(pool) * len(patterns)
        pick = rng.choice(space, size=min(len(where), space), replace=False)
        labels = [patterns[i % len(patterns)].format(p=pool[i // len(patterns)]) for i in pick]
        labels += [
            f"{labels[i % len(labels)]} {i // len(labels) + 1}"
            for i in range(len(labels), len(where))
        ]
        names[where] = labels
    return names, org_type, region, weight
