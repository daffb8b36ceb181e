"""After the first round, over the HTML pages (SQLite and PostgreSQL): a new intake, a
re-match reviewed before it is accepted or rejected, feedback validated by the library;
CSRF, roles and upload limits on every new form; audit entries."""

from __future__ import annotations

import re
from typing import Any

import buddymatch

from .conftest import ROOT, Env, wait_run
from .test_pages import _setup

LATER = ROOT / "sample_data" / "profiles_later.csv"
FEEDBACK = ROOT / "sample_data" / "feedback.csv"


def _published(env: Env) -> tuple[Any, str, int]:
    """A mentoring programme whose run 1 (seed 1) is published."""
    client, csrf, pid = _setup(env)
    client.post(f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": "1"})
    assert _wait(client, pid, 1)["status"] == "done"
    r = client.post(
        f"/programmes/{pid}/runs/1/publish", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    return client, csrf, pid


def _wait(client: Any, pid: int, number: int) -> dict[str, Any]:
    return wait_run(lambda: client.get(f"/programmes/{pid}/runs/{number}/status").json())


def _intake(client: Any, csrf: str, pid: int, content: bytes, name: str = "later.csv") -> Any:
    files = [("files", (name, content, "text/csv"))]
    return client.post(
        f"/programmes/{pid}/intake", data={"csrf": csrf}, files=files, follow_redirects=False
    )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_rematch_is_reviewed_then_accepted_or_rejected(env: Env) -> None:
    client, csrf, pid = _published(env)
    page = client.get(f"/programmes/{pid}").text
    assert "current round" in page and "A new intake" in page
    assert _intake(client, csrf, pid, LATER.read_bytes()).status_code == 303
    page = client.get(f"/programmes/{pid}").text
    assert "later.csv" in page and "sign-up sheet (intake 2)" in page
    assert "profiles.csv</td>" not in page  # the new intake replaced the old sheet
    r = client.post(
        f"/programmes/{pid}/rematch",
        data={"csrf": csrf, "max_changes": "2"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/programmes/{pid}/runs/2"
    client.post(f"/programmes/{pid}/rematch", data={"csrf": csrf, "max_changes": "0"})  # another
    assert _wait(client, pid, 2)["status"] == "done"
    assert _wait(client, pid, 3)["status"] == "done"
    waiting = client.get(f"/programmes/{pid}").text.split("waiting for your review")[1][:300]
    assert ">re-match 2</a>" in waiting and ">re-match 3</a>" in waiting

    # What the page proposes is the library's re-match of run 1's folder, nothing else.
    run1 = env.wb.runs(_owner(env, pid), pid)[-1]
    expected = buddymatch.rematch(
        env.settings.data_dir / run1.folder / "result",
        LATER,
        ROOT / "constraints" / "mentoring.yaml",
        max_changes=2,
        seed=1,
    ).summary["rematch"]
    review = client.get(f"/programmes/{pid}/runs/2").text
    facts = _text(review)
    assert "Re-match 2 of run 1" in facts and "Proposed changes" in facts
    for label, key in (("Kept", "kept"), ("Ended", "ended"), ("New", "new")):
        assert f"{label} {expected[key]} " in facts, label
    assert f"Changes used {expected['changes_used']} of 2" in facts
    assert "rule now fails" in facts and "p00151@example.nhs.uk joined" in facts
    assert 'id="trade-off"' in review and "Publish this round" not in review
    assert "Accept this re-match" in review and '<th scope="col">Kept</th>' in review
    changes = env.wb.result(_owner(env, pid), pid, 2).tables["changes"]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(left|joined|changed|placed|unplaced)</td>", review)
    assert [r[0] for r in rows] == changes["participant_id"].tolist()  # changes.csv as written

    # Why (not) this pair: the library's explanation, naming who each of the two got.
    page = client.get(
        f"/programmes/{pid}/runs/1",
        params={"a": "p00005@example.nhs.uk", "b": "p00006@example.nhs.uk"},
    ).text
    why = _text(page.split('id="explanation">')[1].split("</pre>")[0])
    assert "the mentee got p00050@example.nhs.uk" in why and "the mentor got p00" in why
    page = client.get(
        f"/programmes/{pid}/runs/2",
        params={"a": "p00045@example.nhs.uk", "b": "p00001@example.nhs.uk"},
    ).text
    assert "Paired before the re-match; that ended: rule now fails" in page

    # Not the current round until accepted; not publishable directly.
    assert "run 1</a> (published" in client.get(f"/programmes/{pid}").text
    r = client.post(f"/programmes/{pid}/runs/2/publish", data={"csrf": csrf})
    assert r.status_code == 422 and "accepted or rejected" in r.text
    r = client.post(f"/programmes/{pid}/runs/2/accept", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "accepted" in client.get(f"/programmes/{pid}/runs/2").text
    assert "run 2</a> (published" in client.get(f"/programmes/{pid}").text
    assert client.post(f"/programmes/{pid}/runs/2/accept", data={"csrf": csrf}).status_code == 422

    # The other proposal repairs run 1, no longer current: it can only be rejected,
    # and then nothing of it is kept.
    assert "cannot be accepted" in client.get(f"/programmes/{pid}/runs/3").text
    assert client.post(f"/programmes/{pid}/runs/3/accept", data={"csrf": csrf}).status_code == 422
    r = client.post(f"/programmes/{pid}/runs/3/reject", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    run3 = next(r for r in env.wb.runs(_owner(env, pid), pid) if r.number == 3)
    assert run3.status == "rejected" and not (env.settings.data_dir / run3.folder).exists()
    assert client.get(f"/programmes/{pid}/runs/3/download/csv").status_code == 404
    assert "run 2</a> (published" in client.get(f"/programmes/{pid}").text
    audit = client.get(f"/programmes/{pid}/people").text
    for action in ("new intake", "start re-match", "accept re-match", "reject re-match"):
        assert action in audit, action


def test_rematch_needs_a_published_round_and_a_whole_number(env: Env) -> None:
    client, csrf, pid = _setup(env)
    r = client.post(f"/programmes/{pid}/rematch", data={"csrf": csrf, "max_changes": "0"})
    assert r.status_code == 422 and "no published round" in r.text
    for bad in ("-1", "2.5", "many", "10001"):
        r = client.post(f"/programmes/{pid}/rematch", data={"csrf": csrf, "max_changes": bad})
        assert r.status_code == 422 and "The re-match could not start" in r.text, bad


def test_a_new_intake_with_problems_is_reported_with_row_and_column(env: Env) -> None:
    client, csrf, pid = _setup(env)
    bad = LATER.read_text(encoding="utf-8").replace(",Band 7,", ",Band 77,", 1).encode()
    r = _intake(client, csrf, pid, bad)
    assert r.status_code == 422
    assert "Problems in the new intake" in r.text and "later.csv, row" in r.text
    assert "column “Band”" in r.text and "Fix:" in r.text


def test_feedback_is_validated_by_the_library_then_part_of_the_scheme(env: Env) -> None:
    client, csrf, pid = _setup(env)
    before = client.get(f"/programmes/{pid}/scheme.yaml").text
    bad = FEEDBACK.read_text().replace("did-not-work,1", "maybe,7").encode()
    files = {"file": ("feedback.csv", bad, "text/csv")}
    r = client.post(f"/programmes/{pid}/feedback", data={"csrf": csrf}, files=files)
    assert r.status_code == 422 and "The feedback was not used (2)" in r.text
    text = _text(r.text)
    assert "feedback.csv, row 2, column “outcome”" in text
    assert "feedback.csv, row 2, column “rating”" in text
    assert client.get(f"/programmes/{pid}/scheme.yaml").text == before  # nothing stored
    assert "feedback.csv" not in client.get(f"/programmes/{pid}").text

    files = {"file": ("feedback.csv", FEEDBACK.read_bytes(), "text/csv")}
    data = {"csrf": csrf, "continuing_bonus": "10", "rating_points": "5"}
    r = client.post(f"/programmes/{pid}/feedback", data=data, files=files, follow_redirects=False)
    assert r.status_code == 303
    scheme = client.get(f"/programmes/{pid}/scheme.yaml").text
    assert (
        "feedback:\n  file: feedback.csv\n  continuing_bonus: 10.0\n  rating_points: 5.0" in scheme
    )
    page = _text(client.get(f"/programmes/{pid}").text)
    assert "Feedback in the scheme" in page and "feedback: 4 pairs" in page
    assert "1 did not work (never paired again)" in page
    assert "named by the scheme" in page  # stored like the other side files
    r = client.post(f"/programmes/{pid}/feedback", data={"csrf": csrf}, files=files)
    assert "continuing_bonus: 10.0" in client.get(f"/programmes/{pid}/scheme.yaml").text  # kept
    r = client.post(
        f"/programmes/{pid}/feedback/remove", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "feedback" not in client.get(f"/programmes/{pid}/scheme.yaml").text
    audit = client.get(f"/programmes/{pid}/people").text
    assert "upload feedback" in audit and "remove feedback" in audit


def test_new_forms_need_csrf_a_coordinator_and_a_role(env: Env) -> None:
    client, _csrf, pid = _setup(env)
    posts = [
        f"/programmes/{pid}/intake",
        f"/programmes/{pid}/rematch",
        f"/programmes/{pid}/runs/1/accept",
        f"/programmes/{pid}/runs/1/reject",
        f"/programmes/{pid}/feedback",
        f"/programmes/{pid}/feedback/remove",
        f"/programmes/{pid}/templates",
        f"/programmes/{pid}/runs/1/introductions/send",
    ]
    for path in posts:
        assert client.post(path, data={}).status_code == 403, path
        assert client.post(path, data={"csrf": "wrong"}).status_code == 403, path
    viewer, stranger = env.user(), env.user()
    env.wb.add_member(_owner(env, pid), pid, viewer.username, "viewer")
    vc, vcsrf = env.browser(viewer)
    page = vc.get(f"/programmes/{pid}").text
    assert "Propose a re-match" not in page and "Use this feedback" not in page
    files = {"file": ("feedback.csv", FEEDBACK.read_bytes(), "text/csv")}
    for path in posts:
        assert vc.post(path, data={"csrf": vcsrf, "run": "1"}, files=files).status_code == 403
    sc, scsrf = env.browser(stranger)
    for path in posts:
        assert sc.post(path, data={"csrf": scsrf, "run": "1"}).status_code == 404, path
    for path in ("/runs/1/introductions", "/runs/1/introductions/status"):
        assert sc.get(f"/programmes/{pid}{path}").status_code == 404, path


def test_upload_limits_on_the_new_forms(env: Env) -> None:
    client, csrf, pid = _setup(env)
    big = b"Email\n" + b"x" * (3 * 1024 * 1024)
    assert _intake(client, csrf, pid, big, "big.csv").status_code == 413
    files = {"file": ("big.csv", big, "text/csv")}
    for path in ("feedback", "templates"):
        r = client.post(f"/programmes/{pid}/{path}", data={"csrf": csrf, "run": "1"}, files=files)
        assert r.status_code == 413, path
    assert "big.csv" not in client.get(f"/programmes/{pid}").text


def _owner(env: Env, pid: int):  # type: ignore[no-untyped-def]
    from .test_pages import _owner as owner

    return owner(env, pid)
