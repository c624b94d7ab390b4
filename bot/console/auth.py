"""Staff sessions as signed, expiring bearer tokens; supervisors may do everything agents do."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.console.errors import ApiError

STAFF_TOKEN_SALT = "northwind.staff-session"
STAFF_TOKEN_MAX_AGE_S = 12 * 3600
ROLE_RANK = {"agent": 1, "supervisor": 2}


@dataclass(frozen=True)
class StaffIdentity:
    staff_id: int
    username: str
    role: str


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=STAFF_TOKEN_SALT)


def issue_staff_token(secret_key: str, identity: StaffIdentity) -> str:
    return _serializer(secret_key).dumps(
        {"id": identity.staff_id, "username": identity.username, "role": identity.role}
    )


def read_staff_token(secret_key: str, token: str) -> StaffIdentity | None:
    try:
        payload = _serializer(secret_key).loads(token, max_age=STAFF_TOKEN_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("role") not in ROLE_RANK:
        return None
    return StaffIdentity(payload["id"], payload["username"], payload["role"])


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_role(request: web.Request, secret_key: str, role: str) -> StaffIdentity:
    """The caller's identity, or a 401/403 ApiError when they may not do this."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "Log in and send 'Authorization: Bearer TOKEN'.")
    identity = read_staff_token(secret_key, token)
    if identity is None:
        raise ApiError(401, "unauthorized", "The session token is invalid or has expired.")
    if ROLE_RANK[identity.role] < ROLE_RANK[role]:
        raise ApiError(403, "forbidden", f"This needs the {role} role.")
    return identity
