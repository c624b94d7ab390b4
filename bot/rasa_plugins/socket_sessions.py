"""socket.io session ids the server issues, and which session each connected socket joined.

A session id is the conversation id of a widget chat. The server makes it up and signs it
(`<uuid4 hex>.<hmac[:32]>`), so a client cannot choose a session, only return one it was
given; and each message's sender is the session its socket joined, looked up here, never
a field the client sends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

SESSION_ID_SHAPE = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{32}")


def _mac(session_key: str, nonce: str) -> str:
    return hmac.new(session_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def issue_session_id(session_key: str) -> str:
    """A fresh session id; `session_key` is `settings.key_for(KeyPurpose.SOCKET_SESSION)`."""
    nonce = uuid.uuid4().hex
    return f"{nonce}.{_mac(session_key, nonce)}"


def was_issued(session_key: str, session_id: object) -> bool:
    """Whether this server made the session id (any other value is refused)."""
    if not isinstance(session_id, str) or not SESSION_ID_SHAPE.fullmatch(session_id):
        return False
    nonce, mac = session_id.split(".")
    return hmac.compare_digest(mac, _mac(session_key, nonce))


class SocketSessions:
    """The session each connected socket (sid) joined; kept in this process only."""

    def __init__(self) -> None:
        self._by_sid: dict[str, str] = {}

    def join(self, sid: str, session_id: str) -> str | None:
        """Record the socket's session; returns the one it had before, if any."""
        previous = self._by_sid.get(sid)
        self._by_sid[sid] = session_id
        return previous

    def of(self, sid: str) -> str | None:
        return self._by_sid.get(sid)

    def leave(self, sid: str) -> None:
        self._by_sid.pop(sid, None)
