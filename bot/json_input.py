"""Reading a JSON request body and shaping errors, shared by the customer channels and the console.

Both answer bad input the same way: a 4xx with `{"error": {"code", "message"}}`. The body is
checked before and while it is parsed, so no input reaches the parser's recursion limit, the
integer-digit limit or the database as a value it cannot store (NUL, lone surrogates, NaN).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 20
MAX_INTEGER = 2**63 - 1
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))

# A JSON string, its closing quote optional so an unterminated one is consumed in one linear match.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
# Openers become +1 and closers -1 once read as signed bytes.
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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


def nesting_depth(body: bytes) -> int:
    """How deep the body's arrays and objects nest, counted without parsing (so without recursion).

    Exact for valid JSON; for invalid JSON it only has to bound what the parser would recurse into.
    """
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    return max(accumulate(array("b", brackets.translate(_BRACKET_STEP))), default=0)


def _integer(text: str) -> int:
    """A 64-bit integer: longer digit runs are refused before `int()` spends time on them."""
    digits = text.lstrip("-")
    if len(digits) > _MAX_INTEGER_DIGITS or int(digits) > MAX_INTEGER:
        raise InputError(
            400,
            "number_out_of_range",
            f"Integers must be between -{MAX_INTEGER} and {MAX_INTEGER}.",
        )
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(400, "number_out_of_range", f"The number {text[:40]} is too large.")
    return value


def _constant(name: str) -> float:
    raise InputError(400, "invalid_json", f"The request body is not JSON: {name} is not a number.")


def _check_strings(payload: Any) -> None:
    """Refuse NUL and lone surrogates in any key or string value (JSON escapes can spell both)."""
    pending = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and (found := _UNSTORABLE.search(value)):
            if found.group() == "\x00":
                raise InputError(400, "nul_character", "The request body contains a NUL character.")
            raise InputError(
                400, "invalid_unicode", "The request body contains an unpaired surrogate escape."
            )


def json_object(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """The body as a JSON object, or an InputError saying what is wrong with it."""
    if b"\x00" in body:
        raise InputError(400, "nul_character", "The request body contains a NUL byte.")
    if nesting_depth(body) > max_depth:
        raise InputError(
            400, "too_deep", f"The request body nests deeper than {max_depth} arrays or objects."
        )
    try:
        payload = json.loads(
            body.decode("utf-8"),
            parse_int=_integer,
            parse_float=_finite,
            parse_constant=_constant,
        )
    except UnicodeDecodeError:
        raise InputError(400, "invalid_utf8", "The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise InputError(400, "invalid_json", f"The request body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise InputError(400, "invalid_body", "The request body must be a JSON object.")
    _check_strings(payload)
    return payload
