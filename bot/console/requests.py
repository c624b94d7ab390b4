"""Reading and checking request input, so every handler rejects bad input the same way.

JSON bodies are parsed by `bot.json_input`, as the customer channels parse theirs. Text is
refused when it holds NUL or other control characters (PostgreSQL cannot store NUL, and
logs and terminals misread the rest) or lone surrogates (not storable as UTF-8).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

from aiohttp import web

from bot.console.errors import ApiError
from bot.crm.store.base import MAX_DB_INT
from bot.json_input import json_object

Choice = TypeVar("Choice", bound=Enum)
"""The largest id the database's integer columns hold."""
LINE_BREAKS = frozenset("\n\r\t")
"""The only control characters allowed, and only in multi-line text."""
DIGITS = re.compile(r"-?[0-9]{1,12}")
MAX_CURSOR_CHARS = 200


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 415 unless it is sent as `application/json`.

    A page on another site can post `text/plain` (or a form) to the console without a CORS
    preflight, for instance to burn the login throttle of every staff member behind one
    address. `application/json` needs a preflight, which the console never grants.
    """
    if request.content_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the body as JSON, with Content-Type: application/json.",
        )
    return json_object(await request.read())


def clean_text(value: str, multiline: bool = False) -> bool:
    """Whether `value` has no control character (beyond line breaks, when allowed) or surrogate."""
    allowed = LINE_BREAKS if multiline else frozenset()
    return not any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in allowed for char in value
    )


def string_field(
    payload: dict[str, Any], name: str, max_length: int = 200, multiline: bool = False
) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_field", f"'{name}' must be a non-empty string.")
    if len(value) > max_length:
        raise ApiError(400, "invalid_field", f"'{name}' must be at most {max_length} characters.")
    if not clean_text(value, multiline):
        raise ApiError(400, "invalid_field", f"'{name}' must not contain control characters.")
    return value


def bool_field(payload: dict[str, Any], name: str, default: bool | None) -> bool | None:
    value = payload.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise ApiError(400, "invalid_field", f"'{name}' must be true or false.")
    return value


def text_param(request: web.Request, name: str, max_length: int) -> str | None:
    """A query parameter as clean, stripped text; None when absent or empty."""
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise ApiError(400, "invalid_parameter", f"'{name}' is too long.")
    if not clean_text(value):
        raise ApiError(400, "invalid_parameter", f"'{name}' must not contain control characters.")
    return value


def cursor_param(request: web.Request) -> str | None:
    """The `next_cursor` of a previous page, as the client sent it back."""
    return text_param(request, "cursor", MAX_CURSOR_CHARS)


def int_param(
    request: web.Request, name: str, default: int | None, minimum: int, maximum: int
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not DIGITS.fullmatch(raw):
        raise ApiError(400, "invalid_parameter", f"'{name}' must be an integer.")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ApiError(
            400, "invalid_parameter", f"'{name}' must be between {minimum} and {maximum}."
        )
    return value


def time_param(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 time (UTC when it names no zone); None when absent."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ApiError(
            400, "invalid_parameter", f"'{name}' must be an ISO 8601 time like 2026-11-01T09:00Z."
        ) from None


def enum_param(request: web.Request, name: str, choices: type[Choice]) -> Choice | None:
    """The query parameter as a member of `choices`, None when absent."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return choices(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise ApiError(400, "invalid_parameter", f"'{name}' must be one of {allowed}.") from None


def int_path(request: web.Request, name: str) -> int:
    """An id in the path; anything but 1..MAX_DB_INT in ASCII digits names nothing (404)."""
    raw = request.match_info[name]
    if not DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_DB_INT:
        raise ApiError(404, "not_found", f"No such {name}.")
    return int(raw)


def text_path(request: web.Request, name: str, max_length: int = 255) -> str:
    """A text id in the path; one no record could have (too long, control characters) is 404."""
    raw = request.match_info[name]
    if len(raw) > max_length or not clean_text(raw):
        raise ApiError(404, "not_found", f"No such {name}.")
    return raw
