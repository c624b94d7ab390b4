"""Who a customer message comes from: signed customer tokens and the server's claim.

A site vouches for its signed-in customer with a short-lived token (`issue_customer_token`).
The customer channels check it on every message and replace it with a claim
(`make_claim`): the customer id signed together with the conversation id, so the token
itself is never stored and a claim cannot be moved to another conversation. The actions
and the event broker trust only the claim of the message at hand (`claimed_customer`).
Each signature uses its own key, derived from the master secret for that purpose.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

CUSTOMER_TOKEN_SALT = "northwind.customer-token"
CUSTOMER_TOKEN_MAX_AGE_S = 3600
"""An hour: long enough for a chat, short enough that a leaked token soon stops working."""
MAX_TOKEN_CHARS = 1000
TOKEN_FIELD = "customer_token"
"""The metadata key a client sends its token in."""
CLAIM_FIELD = "crm_customer"
"""The metadata key of the server's claim; the channels drop any client-sent value first."""


def _serializer(token_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(token_key, salt=CUSTOMER_TOKEN_SALT)


def issue_customer_token(token_key: str, customer_id: int) -> str:
    """A token for this customer; `token_key` is `settings.key_for(KeyPurpose.CUSTOMER_TOKEN)`."""
    return _serializer(token_key).dumps({"customer_id": customer_id})


def customer_id_from_token(token_key: str, token: object) -> int | None:
    """The customer a token names, or None for a missing, forged or expired token."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        payload = _serializer(token_key).loads(token, max_age=CUSTOMER_TOKEN_MAX_AGE_S)
    except BadSignature:
        return None
    customer_id = payload.get("customer_id") if isinstance(payload, dict) else None
    return customer_id if _is_id(customer_id) else None


def verified_customer(
    token_key: str, token: object, resolve_customer: Callable[[int], int | None]
) -> int | None:
    """The customer a valid token names, as the CRM knows them now: None once erased, and
    the kept customer once the cleaning job merged a duplicate into it, so everything the
    conversation reads and writes is theirs (`CustomerStore.resolve`)."""
    customer_id = customer_id_from_token(token_key, token)
    return None if customer_id is None else resolve_customer(customer_id)


def _claim_signature(claim_key: str, conversation_id: str, customer_id: int) -> str:
    message = f"{conversation_id}\0{customer_id}".encode()
    return hmac.new(claim_key.encode(), message, hashlib.sha256).hexdigest()


def make_claim(claim_key: str, conversation_id: str, customer_id: int) -> dict[str, Any]:
    """The server's word that this message of this conversation comes from this customer.

    `claim_key` is `settings.key_for(KeyPurpose.CUSTOMER_CLAIM)`.
    """
    return {"id": customer_id, "sig": _claim_signature(claim_key, conversation_id, customer_id)}


def claimed_customer(claim_key: str, conversation_id: str, claim: object) -> int | None:
    """The customer a claim names if the server made it for this conversation, else None."""
    if not isinstance(claim, dict):
        return None
    customer_id, signature = claim.get("id"), claim.get("sig")
    if not _is_id(customer_id) or not isinstance(signature, str):
        return None
    expected = _claim_signature(claim_key, conversation_id, customer_id)
    return customer_id if hmac.compare_digest(signature.encode(), expected.encode()) else None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
