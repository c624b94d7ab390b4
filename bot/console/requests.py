"""Reading and checking request input, so every handler rejects bad input the same way.

JSON bodies are parsed by `bot.json_input`, as the customer channels parse theirs.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from aiohttp import web

from bot.console.errors import ApiError
from bot.json_input import json_object

Choice = TypeVar("Choice", bound=Enum)


async def json_body(request: web.Request) -> dict[str, Any]:
    return json_object(await request.read())


def string_field(payload: dict[str, Any], name: str, max_length: int = 200) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_field", f"'{name}' must be a non-empty string.")
    if len(value) > max_length:
        raise ApiError(400, "invalid_field", f"'{name}' must be at most {max_length} characters.")
    return value


def int_param(
    request: web.Request, name: str, default: int | None, minimum: int, maximum: int
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be an integer.") from None
    if not minimum <= value <= maximum:
        raise ApiError(
            400, "invalid_parameter", f"'{name}' must be between {minimum} and {maximum}."
        )
    return value


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
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ApiError(404, "not_found", f"No such {name}.") from None
