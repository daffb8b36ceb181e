"""Introductions in the workbench (SQLite and PostgreSQL): preview with the scheme's
template or an uploaded one (sandboxed by the library: errors name their line),
download the .eml files and the mail-merge CSV, and send through a real local SMTP
server (aiosmtpd) — a refusal half-way, a broken connection, resumes that send nobody
twice — with each message's status in the page.  The SMTP server is the server's
setting; a server without one previews and downloads only."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from buddymatch.mailer import SmtpSettings
from buddymatch.web.app import create_app
from buddymatch.web.settings import Settings
from tests.test_mailer import Recorder, _free_port

from .conftest import Env
from .test_lifecycle import _wait
from .test_pages import _setup

SENDER = "Mentoring team <mentoring@example.nhs.uk>"


@pytest.fixture(scope="module")
def smtp() -> Iterator[Recorder]:
    handler = Recorder()
    handler.port = _free_port()  # type: ignore[attr-defined]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)  # type: ignore[attr-defined]
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def mail_env(
    db_url: str, smtp: Recorder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    """The workbench with introductions sent through the local SMTP server."""
    settings = Settings(
        db_url=db_url,
        data_dir=tmp_path_factory.mktemp("mail-data"),
        team=True,
        max_upload_bytes=2 * 1024 * 1024,
        smtp=SmtpSettings("127.0.0.1", smtp.port, security="none", timeout=10),  # type: ignore[attr-defined]
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Env(client, settings)
    app.state.db.dispose()


@pytest.fixture(scope="module")
def programme(mail_env: Env) -> tuple[Any, str, int]:
    """A mentoring programme with run 1 published and run 2 finished, not published."""
    client, csrf, pid = _setup(mail_env)
    for seed in ("1", "2"):
        client.post(f"/programmes/{pid}/runs", data={"csrf": csrf, "seed": seed})
    assert _wait(client, pid, 1)["status"] == _wait(client, pid, 2)["status"] == "done"
    client.post(f"/programmes/{pid}/runs/1/publish", data={"csrf": csrf})
    return client, csrf, pid


def _reset(handler: Recorder, **behaviour: int | None) -> None:
    handler.received.clear()
    handler.seen = 0
    handler.refuse = behaviour.get("refuse")
    handler.drop = behaviour.get("drop")


def _send(env: Env, client: Any, csrf: str, url: str, **fields: Any) -> None:
    r = client.post(f"{url}/send", data={"csrf": csrf, **fields}, follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]
    env.client.app.state.introductions.wait()  # type: ignore[attr-defined]


def _counts(page: str) -> dict[str, int]:
    found = re.findall(r"<dt>(Sent|Failed|Unknown|Not sent yet)</dt><dd>(\d+)</dd>", page)
    return {k: int(v) for k, v in found}


def test_preview_download_and_templates(
    mail_env: Env, programme: tuple[Any, str, int], smtp: Recorder
) -> None:
    client, csrf, pid = programme
    url = f"/programmes/{pid}/runs/2/introductions"  # any finished run previews
    page = client.get(url).text
    assert "Give the sender" in page and 'id="letters-count"' not in page
    page = client.get(url, params={"sender": SENDER}).text
    assert "100 messages" in page and page.count('<article class="letter"') == 10
    assert "meet your mentoring partner" in page and "Why we paired you:" in page
    assert "Publish this run" in page  # but only the published round is sent
    _reset(smtp)
    r = client.post(f"{url}/send", data={"csrf": csrf, "sender": SENDER})
    assert r.status_code == 422 and smtp.received == []

    eml = client.get(f"{url}/download/eml", params={"sender": SENDER})
    names = zipfile.ZipFile(io.BytesIO(eml.content)).namelist()
    assert eml.status_code == 200 and len(names) == 100 and names[0] == "0001.eml"
    first = message_from_bytes(
        zipfile.ZipFile(io.BytesIO(eml.content)).read(names[0]), policy=default
    )
    assert len(first["To"].addresses) == 2 and first["From"].addresses[0].username == "mentoring"

    bad = b"Subject: {{ programme }}\n\nDear {{ mentee.name }},\n{{ mentor.nmae }}\n"
    files = {"file": ("intro.md", bad, "text/markdown")}
    r = client.post(
        f"/programmes/{pid}/templates",
        data={"csrf": csrf, "run": "1", "sender": SENDER},
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 303 and "template=" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert "The introductions cannot be written" in page and "intro.md" in page
    assert "line 4" in page and "nmae" in page

    formula = b"Subject: =1+1 {{ programme }}\n\nHello {{ mentee.name }}\n"
    files = {"file": ("formula.md", formula, "text/markdown")}
    r = client.post(
        f"/programmes/{pid}/templates",
        data={"csrf": csrf, "run": "1", "sender": SENDER},
        files=files,
        follow_redirects=False,
    )
    template = re.search(r"template=(\d+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
    csv = client.get(
        f"{url}/download/mailmerge", params={"sender": SENDER, "template": template}
    ).text
    assert csv.splitlines()[0] == "message,round,unit,to,names,subject,body"
    assert ",'=1+1 Page test," in csv  # formula-safe, as every export

    sandbox = b"Subject: x\n\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    files = {"file": ("escape.md", sandbox, "text/markdown")}
    r = client.post(
        f"/programmes/{pid}/templates",
        data={"csrf": csrf, "run": "1", "sender": SENDER},
        files=files,
        follow_redirects=False,
    )
    page = client.get(r.headers["location"]).text
    assert "The introductions cannot be written" in page and "unsafe" in page
    assert "subclasses" not in _body(page)


def _body(page: str) -> str:
    return "".join(re.findall(r'<pre class="summary">(.*?)</pre>', page, re.S))


def test_send_resumes_after_a_failure_and_sends_nobody_twice(
    mail_env: Env, programme: tuple[Any, str, int], smtp: Recorder, db_url: str
) -> None:
    env = mail_env
    client, csrf, pid = programme
    url = f"/programmes/{pid}/runs/1/introductions"
    viewer = env.user()
    env.wb.add_member(_owner(env, pid), pid, viewer.username, "viewer")
    vc, vcsrf = env.browser(viewer)
    assert vc.get(url, params={"sender": SENDER}).status_code == 200  # a viewer reads
    r = vc.post(f"{url}/send", data={"csrf": vcsrf, "sender": SENDER})
    assert r.status_code == 403 and smtp.received == []

    _reset(smtp, refuse=3)
    _send(env, client, csrf, url, sender=SENDER)
    assert len(smtp.received) == 99
    page = client.get(url).text
    assert _counts(page) == {"Sent": 99, "Failed": 1, "Unknown": 0, "Not sent yet": 0}
    assert "<td>0003.eml</td>" in page and "<td>failed</td>" in page
    first = smtp.message_ids()

    _reset(smtp, drop=1)  # the failed one is tried again; the line drops mid-send
    _send(env, client, csrf, url)
    page = client.get(url).text
    assert _counts(page)["Unknown"] == 1 and 'name="resend" value="0003.eml"' in page
    _reset(smtp)
    _send(env, client, csrf, url)  # an unknown message is not sent again unless asked
    assert smtp.received == []
    _send(env, client, csrf, url, resend="0003.eml")
    assert len(smtp.received) == 1
    page = client.get(url).text
    assert _counts(page) == {"Sent": 100, "Failed": 0, "Unknown": 0, "Not sent yet": 0}
    assert "Every message was sent." in page
    assert len(set(first + smtp.message_ids())) == 100  # every message delivered once

    _reset(smtp)
    _send(env, client, csrf, url, sender="Someone else <x@example.org>")  # resumes: nothing left
    assert smtp.received == []
    audit = client.get(f"/programmes/{pid}/people").text
    assert "write introductions" in audit and "introductions sent" in audit

    # The same database served without SMTP: previews and downloads, never sends.
    plain = create_app(Settings(db_url=db_url, data_dir=env.settings.data_dir, team=True))
    with TestClient(plain, base_url="http://127.0.0.1") as other:
        other.cookies.update(client.cookies)
        page = other.get(url).text
        assert "Sending is not set up on this server" in page
        assert other.post(f"{url}/send", data={"csrf": csrf}).status_code == 422
    plain.state.db.dispose()


def _owner(env: Env, pid: int):  # type: ignore[no-untyped-def]
    from .test_pages import _owner as owner

    return owner(env, pid)
