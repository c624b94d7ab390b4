"""Reading a JSON request body and shaping errors, shared by the customer channels and the console.

Both answer bad input the same way: a 4xx with `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import json
from typing import Any


class HttpError(Exception):
    """An answer other than success: the HTTP status, a stable code and a readable message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class InputError(HttpError, ValueError):
    """Input a client must fix (a 4xx)."""


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or an InputError saying what is wrong with it."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(400, "invalid_utf8", "The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise InputError(400, "invalid_json", f"The request body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise InputError(400, "invalid_body", "The request body must be a JSON object.")
    return payload
