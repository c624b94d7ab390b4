"""HMAC signatures for calls between the product's own processes (console to Rasa channel).

Free of Rasa and Sanic imports, so the console can sign without loading either.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CRM-Signature"


def sign(secret_key: str, body: bytes) -> str:
    return hmac.new(secret_key.encode(), body, hashlib.sha256).hexdigest()


def verify(secret_key: str, body: bytes, signature: str) -> bool:
    """True when `signature` is this body's signature; compared in constant time.

    `hmac.compare_digest` raises on non-ASCII text, and a header may carry any character: a
    signature that is not ASCII is simply wrong.
    """
    if not signature.isascii():
        return False
    return hmac.compare_digest(signature.encode(), sign(secret_key, body).encode())
