"""The JSON API, end to end on SQLite and PostgreSQL: every endpoint, and who may call it."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import yaml

from .conftest import ROOT, SAMPLE, Env, wait_run

SCHEME = yaml.safe_load((ROOT / "constraints" / "mentoring.yaml").read_text())
SCHEME["rules"] = [r for r in SCHEME["rules"] if "forbid" not in r]  # no side file needed


def _programme(env: Env, headers: dict[str, str], kind: str = "mentoring") -> int:
    r = env.client.post("/api/programmes", json={"name": "API test", "kind": kind}, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _ready(env: Env, headers: dict[str, str]) -> int:
    pid = _programme(env, headers)
    files = {"file": ("profiles.csv", SAMPLE.read_bytes(), "text/csv")}
    r = env.client.post(f"/api/programmes/{pid}/files", files=files, headers=headers)
    assert r.status_code == 201 and r.json()["issues"] == []
    r = env.client.put(f"/api/programmes/{pid}/scheme", json={"scheme": SCHEME}, headers=headers)
    assert r.status_code == 200, r.text
    return pid


def _run(env: Env, pid: int, headers: dict[str, str], seed: int = 1) -> dict[str, Any]:
    r = env.client.post(f"/api/programmes/{pid}/runs", json={"seed": seed}, headers=headers)
    assert r.status_code == 202, r.text
    number = r.json()["number"]
    url = f"/api/programmes/{pid}/runs/{number}"
    return wait_run(lambda: env.client.get(url, headers=headers).json())


def test_no_token_is_401(env: Env) -> None:
    assert env.client.get("/api/programmes").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert env.client.get("/api/programmes", headers=bad).status_code == 401


def test_whole_flow_through_the_api(env: Env) -> None:
    h = env.token(env.user())
    pid = _ready(env, h)
    assert env.client.get(f"/api/programmes/{pid}", headers=h).json()["role"] == "coordinator"
    assert [
        f["name"] for f in env.client.get(f"/api/programmes/{pid}/files", headers=h).json()
    ] == ["profiles.csv"]
    check = env.client.get(f"/api/programmes/{pid}/check", headers=h).json()
    assert check["ok"] and "150 participants" in check["text"]
    run = _run(env, pid, h)
    assert run["status"] == "done", run
    assert run["summary"]["matched"] == 141 and run["summary"]["status"] == "optimal"
    matches = env.client.get(f"/api/programmes/{pid}/runs/1/tables/matches", headers=h).json()
    assert len(matches) == run["summary"]["units"]
    unmatched = env.client.get(f"/api/programmes/{pid}/runs/1/tables/unmatched", headers=h).json()
    assert all(u["reason"] for u in unmatched)
    top = matches[0]
    text = env.client.get(
        f"/api/programmes/{pid}/runs/1/explain",
        params={"a": top["mentor_id"], "b": top["mentee_id"]},
        headers=h,
    ).json()["text"]
    assert "score" in text.lower()
    for what, magic in (("csv", b"PK"), ("xlsx", b"PK"), ("html", b"<!doctype html>")):
        r = env.client.get(f"/api/programmes/{pid}/runs/1/download/{what}", headers=h)
        assert r.status_code == 200 and r.content[: len(magic)].lower() == magic.lower()
    names = zipfile.ZipFile(
        io.BytesIO(env.client.get(f"/api/programmes/{pid}/runs/1/download/csv", headers=h).content)
    ).namelist()
    assert names == ["history.csv", "matches.csv", "unmatched.csv", "summary.json"]
    published = env.client.post(f"/api/programmes/{pid}/runs/1/publish", headers=h).json()
    assert published["published"] is True


def test_decisions_become_rules_and_the_rerun_honours_them(env: Env) -> None:
    h = env.token(env.user())
    pid = _ready(env, h)
    first = _run(env, pid, h)
    matches = env.client.get(f"/api/programmes/{pid}/runs/{1}/tables/matches", headers=h).json()
    keep, drop = matches[0], matches[1]
    for kind, row in (("lock", keep), ("forbid", drop)):
        body = {"kind": kind, "ids": [row["mentor_id"], row["mentee_id"]]}
        r = env.client.post(f"/api/programmes/{pid}/decisions", json=body, headers=h)
        assert r.status_code == 200, r.text
    excluded = matches[2]["mentee_id"]
    r = env.client.post(
        f"/api/programmes/{pid}/decisions", json={"kind": "exclude", "ids": [excluded]}, headers=h
    )
    scheme = r.json()["scheme"]
    assert {"lock": {"pairs": [[keep["mentor_id"], keep["mentee_id"]]]}} in scheme["rules"]
    assert {"forbid": {"pairs": [[drop["mentor_id"], drop["mentee_id"]]]}} in scheme["rules"]
    assert {"exclude": {"ids": [excluded]}} in scheme["rules"]
    kinds = [
        d["kind"] for d in env.client.get(f"/api/programmes/{pid}/decisions", headers=h).json()
    ]
    assert kinds == ["lock", "forbid", "exclude"]
    second = _run(env, pid, h)
    assert first["status"] == second["status"] == "done"
    rows = env.client.get(f"/api/programmes/{pid}/runs/2/tables/matches", headers=h).json()
    pairs = {(m["mentor_id"], m["mentee_id"]): m for m in rows}
    assert pairs[(keep["mentor_id"], keep["mentee_id"])]["locked"] is True
    assert (drop["mentor_id"], drop["mentee_id"]) not in pairs
    assert excluded not in {m["mentee_id"] for m in rows}
    out = env.client.get(f"/api/programmes/{pid}/runs/2/tables/unmatched", headers=h).json()
    assert {u["participant_id"]: u["reason"] for u in out}[excluded].startswith(
        "excluded by the coordinator"
    )
    undo = {"kind": "exclude", "ids": [excluded], "remove": True}
    r = env.client.post(f"/api/programmes/{pid}/decisions", json=undo, headers=h)
    assert {"exclude": {"ids": [excluded]}} not in r.json()["scheme"]["rules"]


def test_roles_viewer_reads_but_cannot_change_and_no_role_is_404(env: Env) -> None:
    owner, viewer, stranger = env.user(), env.user(), env.user()
    ho, hv, hs = env.token(owner), env.token(viewer), env.token(stranger)
    pid = _ready(env, ho)
    env.wb.add_member(owner, pid, viewer.username, "viewer")
    assert env.client.get(f"/api/programmes/{pid}", headers=hv).json()["role"] == "viewer"
    lock = {"kind": "lock", "ids": ["p00045@example.nhs.uk", "p00001@example.nhs.uk"]}
    assert (
        env.client.post(f"/api/programmes/{pid}/decisions", json=lock, headers=hv).status_code
        == 403
    )
    assert env.client.post(f"/api/programmes/{pid}/runs", json={}, headers=hv).status_code == 403
    files = {"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    assert (
        env.client.post(f"/api/programmes/{pid}/files", files=files, headers=hv).status_code == 403
    )
    for path in ("", "/files", "/scheme", "/runs", "/decisions", "/check"):
        assert env.client.get(f"/api/programmes/{pid}{path}", headers=hs).status_code == 404, path
    assert (
        env.client.post(f"/api/programmes/{pid}/decisions", json=lock, headers=hs).status_code
        == 404
    )
    assert pid not in [p["id"] for p in env.client.get("/api/programmes", headers=hs).json()]
    assert env.client.get("/api/programmes/999999", headers=ho).status_code == 404


def test_bad_input_is_422_with_every_issue(env: Env) -> None:
    h = env.token(env.user())
    pid = _programme(env, h)
    bad = {"file": ("bad.csv", b"Email,Band,Band\nx@example.test,Band 5,Band 6\n", "text/csv")}
    issues = env.client.post(f"/api/programmes/{pid}/files", files=bad, headers=h).json()["issues"]
    assert issues and issues[0]["file"] == "bad.csv" and "Band" in issues[0]["text"]
    broken = {**SCHEME, "rules": [{"gap": {"attribute": "band", "mx": 3}}], "objective": "best"}
    r = env.client.put(f"/api/programmes/{pid}/scheme", json={"scheme": broken}, headers=h)
    assert r.status_code == 422
    texts = [i["text"] for i in r.json()["issues"]]
    assert any("rules[0].gap.mx" in t and 'did you mean "max"' in t for t in texts)
    assert any("objective" in t for t in texts)
    assert env.client.post(f"/api/programmes/{pid}/runs", json={}, headers=h).status_code == 422


def test_upload_over_the_limit_is_413(env: Env) -> None:
    h = env.token(env.user())
    pid = _programme(env, h)
    big = {"file": ("big.csv", b"Email\n" + b"x" * (3 * 1024 * 1024), "text/csv")}
    r = env.client.post(f"/api/programmes/{pid}/files", files=big, headers=h)
    assert r.status_code == 413
    assert env.client.get(f"/api/programmes/{pid}/files", headers=h).json() == []


def test_cancel_a_run_and_runs_never_share_a_folder(env: Env) -> None:
    owner = env.user()
    h = env.token(owner)
    pid = _ready(env, h)
    a = env.client.post(f"/api/programmes/{pid}/runs", json={"seed": 1}, headers=h).json()
    b = env.client.post(f"/api/programmes/{pid}/runs", json={"seed": 2}, headers=h).json()
    assert (a["number"], b["number"]) == (1, 2)
    cancelled = env.client.post(f"/api/programmes/{pid}/runs/2/cancel", headers=h).json()
    assert cancelled["number"] == 2
    done_b = wait_run(lambda: env.client.get(f"/api/programmes/{pid}/runs/2", headers=h).json())
    done_a = wait_run(lambda: env.client.get(f"/api/programmes/{pid}/runs/1", headers=h).json())
    assert done_b["status"] == "cancelled" and done_a["status"] == "done"
    folders = [r.folder for r in env.wb.runs(owner, pid)]
    assert len(set(folders)) == 2
    assert (env.settings.data_dir / folders[1] / "result" / "matches.csv").is_file()
    assert not (env.settings.data_dir / folders[0] / "result").exists()
    assert (
        env.client.get(f"/api/programmes/{pid}/runs/2/tables/matches", headers=h).status_code == 404
    )


def test_openapi_describes_every_api_route(env: Env) -> None:
    spec = env.client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert (
        "/api/programmes/{pid}/decisions" in paths
        and "/api/programmes/{pid}/runs/{number}/download/{what}" in paths
    )
    assert all(p.startswith("/api/") for p in paths)
