"""The HTML pages over HTTP: sign-in, every page and form, CSRF, roles, limits, headers."""

from __future__ import annotations

import re

from .conftest import ROOT, SAMPLE, Env, wait_run

MENTORING = (ROOT / "constraints" / "mentoring.yaml").read_bytes()
CONFLICTS = (ROOT / "constraints" / "conflicts.csv").read_bytes()


def _setup(env: Env, kind: str = "mentoring", scheme: bytes = MENTORING) -> tuple[object, str, int]:
    owner = env.user()
    client, csrf = env.browser(owner)
    r = client.post(
        "/programmes",
        data={"csrf": csrf, "name": "Page test", "kind": kind},
        follow_redirects=False,
    )
    assert r.status_code == 303
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    files = [("files", ("profiles.csv", SAMPLE.read_bytes(), "text/csv"))]
    r = client.post(
        f"/programmes/{pid}/files", data={"csrf": csrf}, files=files, follow_redirects=False
    )
    assert r.status_code == 303
    side = [("files", ("conflicts.csv", CONFLICTS, "text/csv"))]
    client.post(f"/programmes/{pid}/files", data={"csrf": csrf, "purpose": "scheme"}, files=side)
    upload = {"file": (f"{kind}.yaml", scheme, "application/yaml")}
    r = client.post(
        f"/programmes/{pid}/scheme/upload",
        data={"csrf": csrf},
        files=upload,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client, csrf, pid


def test_pages_need_a_session_and_links_work_once(env: Env) -> None:
    r = env.client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert env.client.get("/login").status_code == 200
    assert env.client.get("/login?token=nonsense").status_code == 400
    user = env.user()
    from buddymatch.web.access import issue_secret
    from buddymatch.web.models import User

    with env.wb.db.session() as s:
        link = issue_secret(s, s.get(User, user.id), "link", hours=1)
    first = env.client.get(f"/login?token={link}", follow_redirects=False)
    assert first.status_code == 303 and "bm_session" in first.headers["set-cookie"]
    assert "httponly" in first.headers["set-cookie"].lower()
    assert "samesite=strict" in first.headers["set-cookie"].lower()
    assert env.client.get(f"/login?token={link}").status_code == 400


def test_security_headers_on_every_response(env: Env) -> None:
    r = env.client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_every_form_refuses_a_missing_or_wrong_csrf_token(env: Env) -> None:
    client, _csrf, pid = _setup(env)
    posts = [
        ("/programmes", {"name": "x", "kind": "peer"}),
        (f"/programmes/{pid}/scheme", {"scheme": "mentoring"}),
        (f"/programmes/{pid}/runs", {}),
        (f"/programmes/{pid}/decisions", {"kind": "exclude", "a": "p00001@example.nhs.uk"}),
        (f"/programmes/{pid}/people", {"username": "x", "role": "viewer"}),
        ("/account/tokens", {"label": "x"}),
        ("/logout", {}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path  # type: ignore[attr-defined]
        assert client.post(path, data={**data, "csrf": "wrong"}).status_code == 403, path  # type: ignore[attr-defined]
    assert client.get(f"/programmes/{pid}").status_code == 200  # type: ignore[attr-defined]


def test_programme_journey_over_http(env: Env) -> None:
    client, csrf, pid = _setup(env)
    page = client.get(f"/programmes/{pid}").text  # type: ignore[attr-defined]
    assert "No problems found." in page and "150 participants" in page
    from buddymatch._version import __version__

    assert f"buddymatch {__version__} ·" in page
    scheme = client.get(f"/programmes/{pid}/scheme").text  # type: ignore[attr-defined]
    assert 'value="organisation"' in scheme and "forbid" in scheme
    yaml_text = client.get(f"/programmes/{pid}/scheme.yaml").text  # type: ignore[attr-defined]
    assert yaml_text.startswith("version: 1\nscheme: mentoring")
    r = client.post(
        f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": "1"}, follow_redirects=False
    )  # type: ignore[attr-defined]
    assert r.status_code == 303
    status = wait_run(lambda: client.get(f"/programmes/{pid}/runs/1/status").json())  # type: ignore[attr-defined]
    assert status["status"] == "done"
    review = client.get(f"/programmes/{pid}/runs/1").text  # type: ignore[attr-defined]
    assert "141 of 150" in review and "Share matched by Organisation" in review
    assert "“Areas you&#39;d like support with” covered by “Areas you can offer”" in review
    mentor, mentee = re.search(
        r'name="a" value="([^"]+)">\s*<input type="hidden" name="b" value="([^"]+)"', review
    ).groups()  # type: ignore[union-attr]
    found = client.get(f"/programmes/{pid}/runs/1", params={"q": mentee}).text  # type: ignore[attr-defined]
    assert mentee in found and "Matches (1)" in found
    explained = client.get(f"/programmes/{pid}/runs/1", params={"a": mentor, "b": mentee}).text  # type: ignore[attr-defined]
    assert 'id="explanation"' in explained
    for what in ("csv", "xlsx", "html"):
        assert client.get(f"/programmes/{pid}/runs/1/download/{what}").status_code == 200  # type: ignore[attr-defined]
    r = client.post(
        f"/programmes/{pid}/decisions",
        data={
            "csrf": csrf,
            "kind": "lock",
            "a": mentor,
            "b": mentee,
            "next": f"/programmes/{pid}/runs/1",
        },
        follow_redirects=False,
    )  # type: ignore[attr-defined]
    assert r.status_code == 303 and r.headers["location"] == f"/programmes/{pid}/runs/1"
    locked = client.get(f"/programmes/{pid}/scheme.yaml").text  # type: ignore[attr-defined]
    assert f"- lock:\n    pairs:\n    - - {mentor}\n      - {mentee}\n" in locked
    client.post(f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": "1"})  # type: ignore[attr-defined]
    wait_run(lambda: client.get(f"/programmes/{pid}/runs/2/status").json())  # type: ignore[attr-defined]
    compared = client.get(f"/programmes/{pid}/compare", params={"a": 1, "b": 2}).text  # type: ignore[attr-defined]
    assert "Scheme changes" in compared and "+- lock:" in compared
    r = client.post(
        f"/programmes/{pid}/runs/2/publish", data={"csrf": csrf}, follow_redirects=False
    )  # type: ignore[attr-defined]
    assert r.status_code == 303
    assert "published" in client.get(f"/programmes/{pid}/runs/2").text  # type: ignore[attr-defined]
    audit = client.get(f"/programmes/{pid}/people").text  # type: ignore[attr-defined]
    for action in ("create programme", "upload file", "save scheme", "start run", "publish run"):
        assert action in audit


def test_builder_form_saves_what_it_shows(env: Env) -> None:
    client, _csrf, pid = _setup(env)
    page = client.get(f"/programmes/{pid}/scheme").text  # type: ignore[attr-defined]
    fields = dict(re.findall(r'<input id="([^"]+)" name="\1" value="([^"]*)"', page))
    fields.update(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    for sel in re.finditer(r'<select id="([^"]+)" name="\1">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"\s*selected', sel.group(2))
        fields[sel.group(1)] = chosen.group(1) if chosen else ""
    import html

    fields = {k: html.unescape(v) for k, v in fields.items()}
    fields["carry"] = ["Full name"]  # type: ignore[assignment]
    before = client.get(f"/programmes/{pid}/scheme.yaml").text  # type: ignore[attr-defined]
    r = client.post(f"/programmes/{pid}/scheme", data=fields, follow_redirects=False)  # type: ignore[attr-defined]
    assert r.status_code == 303, r.text[-2000:]
    after = client.get(f"/programmes/{pid}/scheme.yaml").text  # type: ignore[attr-defined]
    import yaml

    from buddymatch.config import validate_scheme

    assert validate_scheme(yaml.safe_load(after)) == validate_scheme(yaml.safe_load(before))
    fields["rule_0_kind"] = "gap"
    fields["rule_0_mx"] = "3"
    fields["crit_0_weight"] = "-1"
    r = client.post(f"/programmes/{pid}/scheme", data=fields)  # type: ignore[attr-defined]
    assert r.status_code == 422 and "criteria[0]" in r.text and "The scheme was not saved" in r.text


def test_a_sheet_with_an_error_is_reported_with_row_and_fix(env: Env) -> None:
    client, csrf, pid = _setup(env)
    bad = SAMPLE.read_text().replace("Band 7,Pharmacist", "Band 77,Pharmacist", 1)
    files = [("files", ("profiles.csv", bad.encode(), "text/csv"))]
    client.post(f"/programmes/{pid}/files", data={"csrf": csrf}, files=files)  # type: ignore[attr-defined]
    page = client.get(f"/programmes/{pid}").text  # type: ignore[attr-defined]
    assert "profiles.csv, row 2, column “Band”" in page and "Fix:" in page
    r = client.post(f"/programmes/{pid}/runs", data={"csrf": csrf})  # type: ignore[attr-defined]
    assert r.status_code == 422 and "The run could not start" in r.text


def test_viewer_sees_but_cannot_change_and_strangers_get_404(env: Env) -> None:
    _client, _csrf, pid = _setup(env)
    viewer, stranger = env.user(), env.user()
    with env.wb.db.session() as s:
        from buddymatch.web.access import grant

        grant(s, viewer.id, pid, "viewer")
    vc, vcsrf = env.browser(viewer)
    page = vc.get(f"/programmes/{pid}").text
    assert "Your role: viewer" in page and "Run the match" not in page
    lock = {
        "csrf": vcsrf,
        "kind": "lock",
        "a": "p00045@example.nhs.uk",
        "b": "p00001@example.nhs.uk",
    }
    assert vc.post(f"/programmes/{pid}/decisions", data=lock).status_code == 403
    assert vc.post(f"/programmes/{pid}/runs", data={"csrf": vcsrf}).status_code == 403
    sc, scsrf = env.browser(stranger)
    for path in ("", "/scheme", "/scheme.yaml", "/people", "/compare", "/runs/1", "/runs/1/status"):
        assert sc.get(f"/programmes/{pid}{path}").status_code == 404, path
    assert sc.post(f"/programmes/{pid}/decisions", data={**lock, "csrf": scsrf}).status_code == 404


def test_team_login_with_password_is_rate_limited(env: Env) -> None:
    from fastapi.testclient import TestClient

    env.user("carol", password="correct horse battery")
    client = TestClient(env.client.app, base_url="http://127.0.0.1")
    page = client.get("/login").text
    pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    ok = client.post(
        "/login",
        data={"pre": pre, "username": "carol", "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    other = TestClient(env.client.app, base_url="http://127.0.0.1")
    pre = re.search(r'name="pre" value="([^"]+)"', other.get("/login").text).group(1)  # type: ignore[union-attr]
    codes = [
        other.post(
            "/login", data={"pre": pre, "username": "dave", "password": "wrong password!"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert (
        other.post("/login", data={"username": "carol", "password": "x"}).status_code == 403
    )  # no pre token


def test_admin_creates_accounts_and_api_tokens(env: Env) -> None:
    admin = env.user(admin=True)
    client, csrf = env.browser(admin)
    r = client.post("/account/users", data={"csrf": csrf, "username": "erin", "password": "short"})
    assert r.status_code == 422 and "10 characters" in r.text
    r = client.post(
        "/account/users",
        data={"csrf": csrf, "username": "erin", "password": "long enough password"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "erin" in client.get("/account").text
    page = client.post("/account/tokens", data={"csrf": csrf, "label": "hr portal"}).text
    token = re.search(r'id="new-token">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert (
        client.get("/api/programmes", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    plain, pcsrf = env.browser(env.user())
    assert (
        plain.post(
            "/account/users",
            data={"csrf": pcsrf, "username": "x", "password": "long enough password"},
        ).status_code
        == 403
    )


def test_upload_limit_on_pages(env: Env) -> None:
    client, csrf, pid = _setup(env)
    big = [("files", ("big.csv", b"Email\n" + b"x" * (3 * 1024 * 1024), "text/csv"))]
    r = client.post(f"/programmes/{pid}/files", data={"csrf": csrf}, files=big)  # type: ignore[attr-defined]
    assert r.status_code == 413
    assert "big.csv" not in client.get(f"/programmes/{pid}").text  # type: ignore[attr-defined]


def test_cohorts_move_a_person_to_another_group(env: Env) -> None:
    scheme = (
        (ROOT / "constraints" / "cohorts.yaml")
        .read_bytes()
        .replace(b"iterations: 30", b"iterations: 1")
    )
    client, csrf, pid = _setup(env, "cohorts", scheme)
    client.post(f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": "1"})  # type: ignore[attr-defined]
    assert (
        wait_run(lambda: client.get(f"/programmes/{pid}/runs/1/status").json())["status"] == "done"
    )  # type: ignore[attr-defined]
    review = client.get(f"/programmes/{pid}/runs/1").text  # type: ignore[attr-defined]
    assert "Group scores" in review and "Move" in review
    tables = env.wb.result(_owner(env, pid), pid, 1).tables["groups"]
    person = str(tables.iloc[0]["participant_id"])
    target = (
        int(tables["group"].max())
        if int(tables.iloc[0]["group"]) != int(tables["group"].max())
        else 1
    )
    client.post(
        f"/programmes/{pid}/decisions",
        data={"csrf": csrf, "kind": "place", "a": person, "group": str(target)},
    )  # type: ignore[attr-defined]
    client.post(f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": "1"})  # type: ignore[attr-defined]
    assert (
        wait_run(lambda: client.get(f"/programmes/{pid}/runs/2/status").json())["status"] == "done"
    )  # type: ignore[attr-defined]
    groups = env.wb.result(_owner(env, pid), pid, 2).tables["groups"]
    assert int(groups.set_index("participant_id").loc[person, "group"]) == target


def _owner(env: Env, pid: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from buddymatch.web.access import Actor
    from buddymatch.web.models import Role, User

    with env.wb.db.session() as s:
        user = s.scalar(
            select(User)
            .join(Role, Role.user_id == User.id)
            .where(Role.programme_id == pid, Role.role == "coordinator")
        )
        return Actor(user.id, user.username, user.is_admin)  # type: ignore[union-attr]
