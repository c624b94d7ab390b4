"""Signed customer tokens: a site vouches for who is chatting without the widget holding secrets.

`verified_customer` is the one place that turns a token into a CRM customer; the event
broker and the actions both call it.
"""

from __future__ import annotations

from collections.abc import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

CUSTOMER_TOKEN_SALT = "northwind.customer-token"
CUSTOMER_TOKEN_MAX_AGE_S = 30 * 24 * 3600
MAX_TOKEN_CHARS = 1000


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CUSTOMER_TOKEN_SALT)


def issue_customer_token(secret_key: str, customer_id: int) -> str:
    return _serializer(secret_key).dumps({"customer_id": customer_id})


def customer_id_from_token(secret_key: str, token: object) -> int | None:
    """The customer a token names, or None for a missing, forged or expired token."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        payload = _serializer(secret_key).loads(token, max_age=CUSTOMER_TOKEN_MAX_AGE_S)
    except BadSignature:
        return None
    customer_id = payload.get("customer_id") if isinstance(payload, dict) else None
    return customer_id if isinstance(customer_id, int) else None


def verified_customer(
    secret_key: str, token: object, customer_exists: Callable[[int], bool]
) -> int | None:
    """The customer a valid token names, if the CRM still knows them (not erased)."""
    customer_id = customer_id_from_token(secret_key, token)
    if customer_id is None or not customer_exists(customer_id):
        return None
    return customer_id
