"""The lifecycle's JSON API on SQLite and PostgreSQL: new intake, re-match proposals
accepted or rejected (a stale one refused), feedback with every problem, introductions;
who may call each."""

from __future__ import annotations

import io
import zipfile

from .conftest import ROOT, Env, wait_run
from .test_api import _ready, _run

LATER = ROOT / "sample_data" / "profiles_later.csv"
FEEDBACK = ROOT / "sample_data" / "feedback.csv"
SENDER = {"sender": "Mentoring team <mentoring@example.nhs.uk>"}


def _published(env: Env, h: dict[str, str]) -> int:
    pid = _ready(env, h)
    assert _run(env, pid, h)["status"] == "done"
    assert env.client.post(f"/api/programmes/{pid}/runs/1/publish", headers=h).status_code == 200
    return pid


def test_intake_rematch_review_accept_and_a_stale_proposal(env: Env) -> None:
    h = env.token(env.user())
    pid = _published(env, h)
    files = [("files", ("later.csv", LATER.read_bytes(), "text/csv"))]
    r = env.client.post(f"/api/programmes/{pid}/intake", files=files, headers=h)
    assert r.status_code == 201 and r.json()["issues"] == []
    names = [f["name"] for f in env.client.get(f"/api/programmes/{pid}/files", headers=h).json()]
    assert names == ["later.csv"]

    for body in ({"max_changes": 3}, {}):  # two proposals of run 1, side by side
        r = env.client.post(f"/api/programmes/{pid}/rematch", json=body, headers=h)
        assert r.status_code == 202 and r.json()["base_run"] == 1
    two, three = (
        wait_run(lambda n=n: env.client.get(f"/api/programmes/{pid}/runs/{n}", headers=h).json())
        for n in (2, 3)
    )
    assert two["kind"] == three["kind"] == "rematch" and two["max_changes"] == 3
    assert two["status"] == three["status"] == "done"
    changes = env.client.get(f"/api/programmes/{pid}/runs/2/changes", headers=h).json()
    assert changes["rematch"] == two["summary"]["rematch"] and changes["base_run"] == 1
    assert not changes["accepted"] and changes["rematch"]["dropped_out"] == 8
    table = env.client.get(f"/api/programmes/{pid}/runs/2/tables/changes", headers=h).json()
    assert table == changes["changes"] and {c["change"] for c in table} >= {"left", "joined"}
    assert env.client.get(f"/api/programmes/{pid}/runs/1/changes", headers=h).status_code == 404

    r = env.client.post(f"/api/programmes/{pid}/runs/2/publish", headers=h)
    assert r.status_code == 422
    accepted = env.client.post(f"/api/programmes/{pid}/runs/3/accept", headers=h).json()
    assert accepted["published"] is True
    r = env.client.post(f"/api/programmes/{pid}/runs/2/accept", headers=h)
    assert r.status_code == 422 and "current round is run 3" in r.json()["issues"][0]["text"]
    rejected = env.client.post(f"/api/programmes/{pid}/runs/2/reject", headers=h).json()
    assert rejected["status"] == "rejected"
    assert env.client.get(f"/api/programmes/{pid}/runs/2/changes", headers=h).status_code == 404
    assert env.client.post(f"/api/programmes/{pid}/runs/3/reject", headers=h).status_code == 422

    four = env.client.post(f"/api/programmes/{pid}/rematch", json={}, headers=h).json()
    assert four["base_run"] == 3  # the next re-match repairs the accepted one
    env.client.post(f"/api/programmes/{pid}/runs/4/cancel", headers=h)  # cancelled like a run
    url = f"/api/programmes/{pid}/runs/4"
    assert wait_run(lambda: env.client.get(url, headers=h).json())["status"] == "cancelled"


def test_feedback_and_introductions_through_the_api(env: Env) -> None:
    h = env.token(env.user())
    pid = _published(env, h)
    bad = FEEDBACK.read_text().replace("p00015@example.nhs.uk,did-not-work", ",did-not-work")
    files = {"file": ("feedback.csv", bad.encode(), "text/csv")}
    r = env.client.post(f"/api/programmes/{pid}/feedback", files=files, headers=h)
    assert r.status_code == 422
    issue = r.json()["issues"][0]
    assert (issue["file"], issue["row"], issue["column"]) == ("feedback.csv", 2, "mentee_id")
    files = {"file": ("feedback.csv", FEEDBACK.read_bytes(), "text/csv")}
    r = env.client.post(
        f"/api/programmes/{pid}/feedback",
        files=files,
        data={"continuing_bonus": "10"},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["scheme"]["feedback"] == {"file": "feedback.csv", "continuing_bonus": 10.0}
    check = env.client.get(f"/api/programmes/{pid}/check", headers=h).json()
    assert "feedback: 4 pairs (2 continuing, 1 ended, 1 did-not-work)" in check["text"]
    r = env.client.delete(f"/api/programmes/{pid}/feedback", headers=h)
    assert "feedback" not in r.json()["scheme"]

    url = f"/api/programmes/{pid}/runs/1/introductions"
    preview = env.client.post(f"{url}/preview?limit=2", json=SENDER, headers=h).json()
    assert preview["count"] == 100 and len(preview["messages"]) == 2
    assert preview["messages"][0]["name"] == "0001.eml"
    r = env.client.post(f"{url}/download/eml", json=SENDER, headers=h)
    assert len(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == 100
    r = env.client.post(f"{url}/download/mailmerge", json=SENDER, headers=h)
    assert r.text.startswith("message,round,unit,to,names,subject,body\n")
    status = env.client.get(f"{url}/status", headers=h).json()
    assert status == {
        "configured": False,
        "sending": False,
        "outcome": "",
        "sender": None,
        "template": None,
        "only_new": None,
        "statuses": {},
    }
    r = env.client.post(f"{url}/send", json=SENDER, headers=h)
    assert r.status_code == 422 and "not configured" in r.json()["issues"][0]["text"]
    r = env.client.post(f"{url}/preview", json={"sender": "nobody"}, headers=h)
    assert r.status_code == 422 and "sender" in r.json()["issues"][0]["text"]


def test_viewers_cannot_change_and_strangers_get_404(env: Env) -> None:
    owner, viewer, stranger = env.user(), env.user(), env.user()
    ho, hv, hs = env.token(owner), env.token(viewer), env.token(stranger)
    pid = _ready(env, ho)
    env.wb.add_member(owner, pid, viewer.username, "viewer")
    intake = {"files": ("later.csv", LATER.read_bytes(), "text/csv")}
    feedback = {"file": ("feedback.csv", FEEDBACK.read_bytes(), "text/csv")}
    calls = [
        ("post", "/intake", {"files": intake}),
        ("post", "/rematch", {"json": {}}),
        ("post", "/runs/1/accept", {}),
        ("post", "/runs/1/reject", {}),
        ("post", "/feedback", {"files": feedback}),
        ("delete", "/feedback", {}),
        ("post", "/runs/1/introductions/send", {"json": SENDER}),
    ]
    for method, path, kwargs in calls:
        url = f"/api/programmes/{pid}{path}"
        assert getattr(env.client, method)(url, headers=hv, **kwargs).status_code == 403, path
        assert getattr(env.client, method)(url, headers=hs, **kwargs).status_code == 404, path
    for path in ("/runs/1/changes", "/runs/1/introductions/status"):
        assert env.client.get(f"/api/programmes/{pid}{path}", headers=hs).status_code == 404
    r = env.client.post(
        f"/api/programmes/{pid}/runs/1/introductions/preview", json=SENDER, headers=hs
    )
    assert r.status_code == 404
    assert [
        f["name"] for f in env.client.get(f"/api/programmes/{pid}/files", headers=ho).json()
    ] == ["profiles.csv"]


def test_openapi_describes_the_lifecycle(env: Env) -> None:
    paths = set(env.client.get("/api/openapi.json").json()["paths"])
    for path in (
        "/api/programmes/{pid}/intake",
        "/api/programmes/{pid}/rematch",
        "/api/programmes/{pid}/runs/{number}/changes",
        "/api/programmes/{pid}/runs/{number}/accept",
        "/api/programmes/{pid}/runs/{number}/reject",
        "/api/programmes/{pid}/feedback",
        "/api/programmes/{pid}/runs/{number}/introductions/preview",
        "/api/programmes/{pid}/runs/{number}/introductions/download/{what}",
        "/api/programmes/{pid}/runs/{number}/introductions/send",
        "/api/programmes/{pid}/runs/{number}/introductions/status",
    ):
        assert path in paths, path
