"""The cluster side: workers of another buddymatch version are refused before any run."""

from __future__ import annotations

from pathlib import Path

import pytest

import buddymatch
from buddymatch.batch import ClusterError, run_batch
from buddymatch.batch.cluster import client_for

ROOT = Path(__file__).resolve().parents[2]


def test_workers_must_run_the_coordinators_version(
    dask_scheduler: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with client_for(None, dask_scheduler) as client:  # same version: accepted
        assert set(client.run(lambda: buddymatch.__version__).values()) == {buddymatch.__version__}
    real = buddymatch.__version__
    monkeypatch.setattr(buddymatch, "__version__", "0.0.0-coordinator")  # here only
    with pytest.raises(ClusterError) as info:
        run_batch(ROOT / "examples" / "regions.yaml", tmp_path / "out", scheduler=dask_scheduler)
    assert str(info.value) == (
        f"the cluster's workers run buddymatch {real}, this is 0.0.0-coordinator — "
        "install the same version on every worker"
    )
    assert info.value.exit_code == 2
    assert not (tmp_path / "out").exists()  # nothing ran, nothing left behind
