"""Sampler: realistic shape, exact columns, determinism, and safe writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.errors import ConfigError, InputError
from buddymatch.io.readers import read_table
from buddymatch.sample import (
    AVAILABILITY,
    BAND,
    BANDS,
    CAPACITY,
    COLUMNS,
    EMAIL,
    EXPERTISE,
    FACILITATOR,
    INTERESTS,
    ORG_TYPE,
    ORG_TYPES,
    ORGANISATION,
    PROFESSION,
    PROFESSIONS,
    REGION,
    REGIONS,
    ROLE,
    SLOTS,
    TOPICS,
    YEARS,
    sample_profiles,
    sample_scheme,
    write_sample,
)

SCHEMES = ["mentoring", "peer", "cohorts"]


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return sample_profiles("mentoring", 20_000, 11)


def split(column: pd.Series) -> list[list[str]]:
    return [v.split("; ") if v else [] for v in column]


# --------------------------------------------------------------------------- invariants


@settings(max_examples=30, deadline=None)
@given(scheme=st.sampled_from(SCHEMES), size=st.integers(0, 300), seed=st.integers(0, 2**63))
def test_every_sample_has_the_documented_shape(scheme: str, size: int, seed: int) -> None:
    frame = sample_profiles(scheme, size, seed)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == size
    assert all(pd.api.types.is_string_dtype(t) for t in frame.dtypes)  # pandas 2 and 3
    assert frame[EMAIL].is_unique
    assert frame[EMAIL].str.fullmatch(r"p\d{5,}@example\.nhs\.uk").all()
    assert set(frame[ORG_TYPE]) <= set(ORG_TYPES)
    assert set(frame[ROLE]) <= {"Mentor", "Mentee", "Either"}
    assert set(frame[BAND]) <= set(BANDS)
    assert set(frame[PROFESSION]) <= set(PROFESSIONS)
    assert set(frame[REGION]) <= set(REGIONS)
    assert set(frame[FACILITATOR]) <= {"Yes", "No"}
    mentee = frame[ROLE] == "Mentee"
    assert (frame.loc[mentee, CAPACITY] == "").all()
    assert set(frame.loc[~mentee, CAPACITY]) <= {"1", "2", "3", "4"}
    for column, most, items in [
        (INTERESTS, 4, TOPICS),
        (EXPERTISE, 5, TOPICS),
        (AVAILABILITY, 4, SLOTS),
    ]:
        for chosen in split(frame[column]):
            assert len(chosen) <= most
            assert len(set(chosen)) == len(chosen)
            assert chosen == [t for t in items if t in chosen]  # the form's option order
    assert all(len(s) >= 1 for s in split(frame[AVAILABILITY]))
    years = frame[YEARS].astype(float)
    assert ((years >= 0) & (years <= 30)).all()
    assert not frame[YEARS].str.endswith(".0").any()
    assert frame[YEARS].str.fullmatch(r"\d{1,2}(\.[1-9])?").all()
    # One organisation has one type.
    assert (frame.groupby(ORGANISATION)[ORG_TYPE].nunique() <= 1).all()


def test_same_arguments_same_frame_and_seeds_matter() -> None:
    a = sample_profiles("mentoring", 500, 42)
    pd.testing.assert_frame_equal(a, sample_profiles("mentoring", 500, 42))
    assert not a.equals(sample_profiles("mentoring", 500, 43))
    # The rows do not depend on the scheme: one sheet serves all three schemes.
    pd.testing.assert_frame_equal(a, sample_profiles("cohorts", 500, 42))


def test_zero_rows_and_bad_arguments() -> None:
    empty = sample_profiles("peer", 0, 1)
    assert list(empty.columns) == list(COLUMNS) and empty.empty
    with pytest.raises(ConfigError) as caught:
        sample_profiles("speed-dating", 10, 1)
    assert (
        str(caught.value) == 'unknown scheme "speed-dating": choose one of mentoring, peer, cohorts'
    )
    with pytest.raises(ConfigError) as caught:
        sample_profiles("peer", -1, 1)
    assert str(caught.value) == "size must be between 0 and 20,000,000, got -1"


# --------------------------------------------------------------------------- realism


def test_role_mix_and_facilitators(big: pd.DataFrame) -> None:
    share = big[ROLE].value_counts(normalize=True)
    assert share["Mentor"] == pytest.approx(0.30, abs=0.02)
    assert share["Mentee"] == pytest.approx(0.60, abs=0.02)
    assert share["Either"] == pytest.approx(0.10, abs=0.02)
    assert (big[FACILITATOR] == "Yes").mean() == pytest.approx(0.15, abs=0.02)


def test_mentors_are_more_senior(big: pd.DataFrame) -> None:
    level = big[BAND].map({b: i for i, b in enumerate(BANDS)})
    mentor = level[big[ROLE] == "Mentor"]
    mentee = level[big[ROLE] == "Mentee"]
    assert mentor.mean() > mentee.mean() + 1.5
    assert (big.loc[big[ROLE] == "Mentor", YEARS].astype(float).mean()) > (
        big.loc[big[ROLE] == "Mentee", YEARS].astype(float).mean()
    )


def test_professions_follow_organisation_type(big: pd.DataFrame) -> None:
    table = pd.crosstab(big[ORG_TYPE], big[PROFESSION], normalize="index")

    def share(org_type: str, profession: str) -> float:
        return float(table.loc[org_type, profession])  # type: ignore[arg-type]

    assert share("GP practice", "GP") > 0.4
    assert table["GP"].drop(["GP practice", "Integrated care board"]).max() < 0.02
    assert share("Local authority", "Social worker") > 0.4
    assert share("Patient group", "Patient representative") > 0.7
    assert share("Acute trust", "Hospital doctor") > 0.15


def test_organisation_sizes_are_skewed(big: pd.DataFrame) -> None:
    sizes = big[ORGANISATION].value_counts()
    assert sizes.iloc[0] > 20 * sizes.median()
    by_type = big.groupby(ORG_TYPE)[ORGANISATION].agg(lambda s: s.value_counts().median())
    assert by_type["Acute trust"] > 5 * by_type["GP practice"]
    orgs = big.drop_duplicates(ORGANISATION)[ORG_TYPE].value_counts()
    assert orgs.idxmax() == "GP practice"  # many small practices
    assert big[ORGANISATION].str.contains("NHS").any()


def test_interests_and_expertise_by_role(big: pd.DataFrame) -> None:
    needs = big[INTERESTS].map(lambda v: len(v.split("; ")) if v else 0)
    offers = big[EXPERTISE].map(lambda v: len(v.split("; ")) if v else 0)
    mentee = big[ROLE] == "Mentee"
    assert needs[mentee].mean() > needs[~mentee].mean()
    assert offers[~mentee].mean() > offers[mentee].mean() + 1.5
    assert set(needs) == {0, 1, 2, 3, 4}
    assert set(offers) == {0, 1, 2, 3, 4, 5}
    assert (big[YEARS].str.contains(r"\.")).mean() == pytest.approx(0.09, abs=0.03)


def test_regions_follow_organisations(big: pd.DataFrame) -> None:
    home = big.groupby(ORGANISATION)[REGION].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    sizes = big[ORGANISATION].value_counts()
    assert home[sizes[sizes >= 50].index].min() > 0.8


# --------------------------------------------------------------------------- scheme


def test_scheme_dicts_reference_existing_columns() -> None:
    for scheme in SCHEMES:
        spec = sample_scheme(scheme)
        assert spec["version"] == 1 and spec["scheme"] == scheme
        participants = spec["participants"]
        assert participants["id"] in COLUMNS
        for attribute in participants["attributes"].values():
            assert attribute["column"] in COLUMNS
        assert yaml.safe_load(yaml.safe_dump(spec, sort_keys=False)) == spec
    mentoring = sample_scheme("mentoring")
    assert list(mentoring) == [
        "version",
        "scheme",
        "participants",
        "rules",
        "criteria",
        "objective",
    ]
    assert mentoring["participants"]["role"]["column"] == ROLE
    assert mentoring["participants"]["capacity"] == {"column": CAPACITY, "default": 1}
    assert mentoring["participants"]["attributes"]["band"]["scale"] == list(BANDS)
    assert list(sample_scheme("peer")) == [
        "version",
        "scheme",
        "participants",
        "rules",
        "criteria",
        "leftover",
        "rounds",
    ]
    assert sample_scheme("cohorts")["groups"] == {"size": {"min": 6, "max": 8}}


def test_scheme_dicts_pass_the_config_validator() -> None:
    config = pytest.importorskip("buddymatch.config")
    validate = getattr(config, "validate_scheme", None)
    if validate is None:
        pytest.skip("config.validate_scheme not available")
    for scheme in SCHEMES:
        validate(sample_scheme(scheme))


# --------------------------------------------------------------------------- writing


def test_write_sample_is_byte_identical_and_reads_back(tmp_path: Path) -> None:
    first = write_sample("mentoring", 300, 9, tmp_path / "a")
    second = write_sample("mentoring", 300, 9, tmp_path / "b" / "nested")
    assert [p.name for p in first] == ["profiles.csv", "scheme.yaml"]
    for x, y in zip(first, second, strict=True):
        assert x.read_bytes() == y.read_bytes()
    table = read_table(first[0])
    pd.testing.assert_frame_equal(table.frame, sample_profiles("mentoring", 300, 9))
    assert yaml.safe_load(first[1].read_text()) == sample_scheme("mentoring")
    assert first[1].read_text().startswith("version: 1\nscheme: mentoring\nparticipants:\n")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["profiles.csv", "scheme.yaml"]


def test_write_sample_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "scheme.yaml").write_text("mine\n")
    with pytest.raises(InputError) as caught:
        write_sample("peer", 10, 1, tmp_path)
    assert caught.value.lines == [
        f"{tmp_path / 'scheme.yaml'}: already exists — pass --force to overwrite it, or choose "
        "another output folder"
    ]
    assert not (tmp_path / "profiles.csv").exists()
    assert (tmp_path / "scheme.yaml").read_text() == "mine\n"
    paths = write_sample("peer", 10, 1, tmp_path, force=True)
    assert yaml.safe_load(paths[1].read_text())["scheme"] == "peer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles.csv", "scheme.yaml"]


def test_write_sample_unknown_scheme_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_sample("buddies", 10, 1, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_million_rows_shape() -> None:
    frame = sample_profiles("mentoring", 1_000_000, 1)
    assert frame[EMAIL].is_unique
    assert len(frame) == 1_000_000
    assert np.isin(frame[BAND].unique(), BANDS).all()


def test_sample_data_is_what_its_readme_says() -> None:
    """sample_data/README.md documents the seeds; keep the committed files honest."""
    folder = Path(__file__).resolve().parents[1] / "sample_data"
    profiles = read_table(folder / "profiles.csv").frame
    pd.testing.assert_frame_equal(profiles, sample_profiles("mentoring", 150, 4))
    form = read_table(folder / "google_form_export.csv").frame
    assert list(form.columns) == ["Timestamp", *COLUMNS]
    expected = sample_profiles("mentoring", 60, 111).drop(columns=EMAIL)
    pd.testing.assert_frame_equal(form.drop(columns=["Timestamp", EMAIL]), expected)
    assert form[EMAIL].tolist() == [f"p{20000 + i}@example.nhs.uk" for i in range(1, 61)]
    assert form["Timestamp"].str.fullmatch(r"2026/09/\d\d \d\d:\d\d:\d\d [ap]m GMT\+1").all()


@pytest.mark.parametrize("size", [40, 41, 150])
def test_the_sample_cohorts_scheme_holds_for_its_own_samples(size: int) -> None:
    """Found while adding `buddymatch warm-up`: the sampler's cohorts rules (at most
    2 per organisation, exactly 1 facilitator) were infeasible at almost every size."""
    import buddymatch

    for seed in (1, 2):
        result = buddymatch.match(
            sample_profiles("cohorts", size, seed), sample_scheme("cohorts"), iterations=2
        )
        assert result.summary["matched"] == size
