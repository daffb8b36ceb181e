"""Who is asking and what they may do.

Three kinds of bearer secret, all stored only as SHA-256 digests (they are
32 random bytes, so a fast hash is enough): a one-time **link** printed by
``buddymatch serve`` (redeemed once for a session), a browser **session**
(cookie; carries the CSRF token its forms must echo) and an **api** token
(``Authorization: Bearer``; no cookie, so no CSRF).  Passwords (team mode)
are hashed with Argon2id.

Access to a programme is by role: ``viewer`` reads, ``coordinator`` also
changes.  A user with no role on a programme gets *not found*, exactly as if
it did not exist, so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Role, Secret, User, now

ROLES = ("viewer", "coordinator")
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist: same work, no timing oracle.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class NotFound(Exception):
    """404: missing, or no role on it (the two are indistinguishable on purpose)."""


class Forbidden(Exception):
    """403: the user has a role on the programme, but not a role that may do this."""


@dataclass(frozen=True)
class Actor:
    """The authenticated user of one request."""

    id: int
    username: str
    is_admin: bool
    csrf: str = ""  # empty for API tokens


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def ensure_user(db: Session, username: str, *, admin: bool = False) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, is_admin=admin)
        db.add(user)
        db.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 10:
        raise ValueError("passwords need at least 10 characters")
    user.password_hash = _hasher.hash(password)


def check_password(db: Session, username: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.password_hash else None


def issue_secret(
    db: Session, user: User, kind: str, *, hours: float | None, label: str = ""
) -> str:
    """A new secret of ``kind`` for ``user``; only its digest is stored."""
    token = new_token()
    expires = None if hours is None else now() + dt.timedelta(hours=hours)
    csrf = secrets.token_urlsafe(24) if kind == "session" else ""
    db.add(
        Secret(
            kind=kind,
            digest=digest(token),
            user_id=user.id,
            csrf=csrf,
            label=label,
            expires_at=expires,
        )
    )
    db.flush()
    return token


def _live(db: Session, token: str, kind: str) -> Secret | None:
    secret = db.scalar(select(Secret).where(Secret.digest == digest(token), Secret.kind == kind))
    if secret is None or secret.used_at is not None:
        return None
    if secret.expires_at is not None and secret.expires_at < now():
        return None
    return secret


def redeem_link(db: Session, token: str, session_hours: float) -> str | None:
    """Spend a one-time link: a new session token, or None if spent or unknown."""
    link = _live(db, token, "link")
    if link is None:
        return None
    link.used_at = now()
    user = db.get(User, link.user_id)
    assert user is not None
    return issue_secret(db, user, "session", hours=session_hours)


def actor_for(db: Session, token: str, kind: str) -> Actor | None:
    """The user behind a session cookie or an API token (None if not valid)."""
    secret = _live(db, token, kind)
    if secret is None:
        return None
    user = db.get(User, secret.user_id)
    if user is None:
        return None
    return Actor(user.id, user.username, user.is_admin, secret.csrf)


def revoke(db: Session, token: str) -> None:
    secret = db.scalar(select(Secret).where(Secret.digest == digest(token)))
    if secret is not None:
        secret.used_at = now()


def role_of(db: Session, actor: Actor, programme_id: int) -> str | None:
    return db.scalar(
        select(Role.role).where(Role.user_id == actor.id, Role.programme_id == programme_id)
    )


def require(db: Session, actor: Actor, programme_id: int, need: str = "viewer") -> str:
    """The actor's role on the programme; NotFound without one, Forbidden if too low."""
    role = role_of(db, actor, programme_id)
    if role is None:
        raise NotFound()
    if ROLES.index(role) < ROLES.index(need):
        raise Forbidden()
    return role


def grant(db: Session, user_id: int, programme_id: int, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    existing = db.scalar(
        select(Role).where(Role.user_id == user_id, Role.programme_id == programme_id)
    )
    if existing is None:
        db.add(Role(user_id=user_id, programme_id=programme_id, role=role))
    else:
        existing.role = role
    db.flush()


class RateLimiter:
    """At most ``attempts`` failures per key within ``window`` seconds (in memory)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            q = self._failures.get(key)
            if q is None:
                return False
            cutoff = time.monotonic() - self.window
            while q and q[0] < cutoff:
                q.popleft()
            return len(q) >= self.attempts

    def failed(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key, deque()).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
