"""Staff console sessions kept on the server, so logout, deactivation and role changes bite at once.

The client holds a random token; the database holds only its SHA-256, so a copy of the
database opens no session. Every request reads the staff record afresh: the role a request
runs with is the role the account has now, not the one it had at login.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.crm import models
from bot.crm.models import StaffSession, StaffUser
from bot.crm.store.base import StoreBase, as_utc
from bot.crm.store.records import StaffInfo

DEFAULT_TTL_S = 12 * 3600
LAST_SEEN_EVERY = timedelta(minutes=1)
"""How stale `last_seen_at` may get: a busy console does not write on every request."""
USER_AGENT_CHARS = 255


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live(now: datetime) -> ColumnElement:
    return and_(StaffSession.revoked_at.is_(None), StaffSession.expires_at > now)


def end_sessions(session: Session, which: ColumnElement, now: datetime) -> int:
    """Revoke the live sessions `which` selects, in the caller's transaction; how many ended."""
    return session.execute(
        update(StaffSession)
        .where(which, _live(now))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


class SessionStore(StoreBase):
    def open(
        self,
        staff_id: int,
        ttl_s: int = DEFAULT_TTL_S,
        *,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> str:
        """A new session for an authenticated account; returns its token, which is not stored."""
        token = secrets.token_urlsafe(32)
        now = models.utcnow()
        with self._session() as session:
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    staff_id=staff_id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl_s),
                    last_seen_at=now,
                    user_agent=user_agent[:USER_AGENT_CHARS] if user_agent else None,
                    ip=ip,
                )
            )
        return token

    def identity(self, token: str) -> StaffInfo | None:
        """The account behind a live session as it is now, or None (unknown, ended or inactive).

        Tokens are URL-safe base64, so a non-ASCII one (a header with a lone surrogate, which
        cannot even be hashed) names no session rather than failing the request.
        """
        if not token or not token.isascii():
            return None
        now = models.utcnow()
        with self._session() as session:
            row = session.execute(
                select(StaffSession.id, StaffSession.last_seen_at, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.staff_id)
                .where(
                    StaffSession.token_hash == token_hash(token),
                    _live(self._db_time(now)),
                    StaffUser.active,
                )
            ).first()
            if row is None:
                return None
            session_id, last_seen_at, user = row
            if now - as_utc(last_seen_at) >= LAST_SEEN_EVERY:
                session.execute(
                    update(StaffSession)
                    .where(StaffSession.id == session_id)
                    .values(last_seen_at=now)
                    .execution_options(synchronize_session=False)
                )
            return StaffInfo.of(user)

    def revoke(self, token: str) -> bool:
        """End one session (logout); False when the token named no live session."""
        with self._session() as session:
            which = StaffSession.token_hash == token_hash(token)
            return end_sessions(session, which, self._db_time(models.utcnow())) > 0

    def revoke_all(self, staff_id: int) -> int:
        """End every live session of one account; how many ended."""
        with self._session() as session:
            which = StaffSession.staff_id == staff_id
            return end_sessions(session, which, self._db_time(models.utcnow()))
