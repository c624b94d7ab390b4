"""Reading and checking request input, so every handler rejects bad input the same way."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.console.errors import ApiError


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_utf8", "The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, "invalid_json", f"The request body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_body", "The request body must be a JSON object.")
    return payload


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


def choice_param(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be one of {', '.join(choices)}.")
    return raw


def int_path(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ApiError(404, "not_found", f"No such {name}.") from None
