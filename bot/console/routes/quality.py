"""The quality review queue: conversations the rules flagged, most severe first, and the
reviewer's verdict on each (kept when the rules run again)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from functools import partial
from typing import Any

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.audit import Target, record, record_analytics_read
from bot.console.context import STORE
from bot.console.csv_export import EXPORT_PAGE, csv_response, every_page, wants_csv
from bot.console.errors import ApiError
from bot.console.requests import (
    clean_text,
    cursor_param,
    enum_param,
    int_param,
    int_path,
    json_body,
)
from bot.console.rollup import rolled_up
from bot.crm.enums import AuditAction, FlagKind, FlagStatus, ReviewOutcome, StaffRole

MAX_NOTE_CHARS = 2000
REVIEW_FIELDS = ("note", "outcome")


def known_fields(payload: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Refuse a field the endpoint does not know: a misspelt one would be silently lost."""
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        raise ApiError(
            400,
            "invalid_field",
            f"'{unknown[0][:40]}' is not a field here; fields: {', '.join(fields)}.",
        )


def with_links(request: web.Request, flag: dict[str, Any]) -> dict[str, Any]:
    transcript = request.app.router["get_conversation"]
    return {**flag, "url": str(transcript.url_for(conversation_id=flag["conversation_id"]))}


async def list_flags(request: web.Request) -> web.Response:
    status = enum_param(request, "status", FlagStatus)
    kind = enum_param(request, "kind", FlagKind)
    exported = wants_csv(request)
    await rolled_up(request)
    page = partial(request.app[STORE].quality.list, status, kind)
    if exported:
        flags, next_cursor = await asyncio.to_thread(every_page, partial(page, limit=EXPORT_PAGE))
    else:
        limit, cursor = int_param(request, "limit", 100, 1, 500), cursor_param(request)
        flags, next_cursor = await asyncio.to_thread(page, limit=limit, cursor=cursor)
    flags = [with_links(request, flag) for flag in flags]
    await record_analytics_read(
        request,
        exported,
        "quality_flags",
        status=status,
        kind=kind,
        conversation_ids=[flag["conversation_id"] for flag in flags],
    )
    if exported:
        today = datetime.now(timezone.utc).date()
        return csv_response("quality-flags", (status or "all", today), flags)
    return web.json_response({"flags": flags, "next_cursor": next_cursor})


def note_field(payload: dict[str, Any]) -> str:
    note = payload.get("note", "")
    if not isinstance(note, str):
        raise ApiError(400, "invalid_field", "'note' must be a string.")
    if len(note) > MAX_NOTE_CHARS:
        raise ApiError(400, "invalid_field", f"'note' must be at most {MAX_NOTE_CHARS} characters.")
    if not clean_text(note, multiline=True):
        raise ApiError(400, "invalid_field", "'note' must not contain control characters.")
    return note.strip()


def outcome_field(payload: dict[str, Any]) -> ReviewOutcome:
    outcome = payload.get("outcome")
    if outcome not in ReviewOutcome.values():
        allowed = ", ".join(ReviewOutcome.values())
        raise ApiError(400, "invalid_field", f"'outcome' must be one of {allowed}.")
    return ReviewOutcome(outcome)


async def review_flag(request: web.Request) -> web.Response:
    """Record the verdict; a flag already reviewed is a 409, so two reviewers cannot overwrite
    each other's verdicts."""
    flag_id = int_path(request, "flag_id")
    payload = await json_body(request)
    known_fields(payload, REVIEW_FIELDS)
    note, outcome = note_field(payload), outcome_field(payload)
    flag = await asyncio.to_thread(
        request.app[STORE].quality.review, flag_id, staff_of(request).id, note, outcome
    )
    await record(
        request,
        AuditAction.REVIEW_FLAG,
        Target.CONVERSATION,
        flag["conversation_id"],
        customer_id=flag.get("customer_id"),
        detail={"flag_id": flag_id, "kind": flag["kind"], "outcome": outcome},
    )
    return web.json_response(with_links(request, flag))


FLAGS = "/api/v1/quality/flags"
ROUTES = (
    Route("GET", FLAGS, list_flags, name="list_quality_flags", role=StaffRole.SUPERVISOR),
    Route(
        "POST",
        f"{FLAGS}/{{flag_id}}/review",
        review_flag,
        name="review_quality_flag",
        role=StaffRole.SUPERVISOR,
    ),
)
