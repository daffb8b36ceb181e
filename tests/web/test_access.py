"""Secrets, passwords, roles and the login rate limiter."""

from __future__ import annotations

import pytest

from buddymatch.web.access import (
    Actor,
    Forbidden,
    NotFound,
    RateLimiter,
    actor_for,
    check_password,
    ensure_user,
    grant,
    issue_secret,
    redeem_link,
    require,
    set_password,
)
from buddymatch.web.database import Database
from buddymatch.web.models import Programme, Secret


@pytest.fixture
def db(tmp_path) -> Database:  # type: ignore[no-untyped-def]
    return Database(f"sqlite:///{tmp_path / 'a.sqlite3'}")


def test_only_digests_are_stored_and_links_work_once(db: Database) -> None:
    with db.session() as s:
        user = ensure_user(s, "ann")
        link = issue_secret(s, user, "link", hours=1)
        assert link not in {x.digest for x in s.query(Secret)}
        session = redeem_link(s, link, 1)
        assert session and redeem_link(s, link, 1) is None
        actor = actor_for(s, session, "session")
        assert actor is not None and actor.username == "ann" and len(actor.csrf) > 20
        assert actor_for(s, session, "api") is None  # a session cookie is not an API token


def test_passwords_are_argon2_and_checked(db: Database) -> None:
    with db.session() as s:
        user = ensure_user(s, "bob")
        with pytest.raises(ValueError):
            set_password(user, "short")
        set_password(user, "a long passphrase")
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
        assert check_password(s, "bob", "a long passphrase") is user
        assert check_password(s, "bob", "wrong") is None
        assert check_password(s, "nobody", "a long passphrase") is None


def test_roles(db: Database) -> None:
    with db.session() as s:
        a, b = ensure_user(s, "a"), ensure_user(s, "b")
        p = Programme(name="p", kind="peer")
        s.add(p)
        s.flush()
        grant(s, a.id, p.id, "viewer")
        viewer = Actor(a.id, "a", False)
        assert require(s, viewer, p.id) == "viewer"
        with pytest.raises(Forbidden):
            require(s, viewer, p.id, "coordinator")
        with pytest.raises(NotFound):
            require(s, Actor(b.id, "b", False), p.id)


def test_rate_limiter_blocks_after_the_allowed_failures() -> None:
    limiter = RateLimiter(2, 60)
    assert not limiter.blocked("k")
    limiter.failed("k")
    limiter.failed("k")
    assert limiter.blocked("k") and not limiter.blocked("other")
    limiter.clear("k")
    assert not limiter.blocked("k")
