"""Staff sessions as signed, expiring bearer tokens that carry the staff member's role."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.crm.enums import StaffRole

STAFF_TOKEN_SALT = "northwind.staff-session"
STAFF_TOKEN_MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class StaffIdentity:
    staff_id: int
    username: str
    role: StaffRole


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=STAFF_TOKEN_SALT)


def issue_staff_token(secret_key: str, identity: StaffIdentity) -> str:
    return _serializer(secret_key).dumps(
        {"id": identity.staff_id, "username": identity.username, "role": identity.role.value}
    )


def read_staff_token(secret_key: str, token: str) -> StaffIdentity | None:
    """The identity a token carries, or None for a forged or expired one."""
    try:
        payload = _serializer(secret_key).loads(token, max_age=STAFF_TOKEN_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("role") not in StaffRole.values():
        return None
    return StaffIdentity(payload["id"], payload["username"], StaffRole(payload["role"]))


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
