"""The NLU improvement inbox: customer messages the bot may have misunderstood, grouped by
what they say; a supervisor's label becomes training data for the `retrain` job, a dismissal
keeps the message out of it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.audit import Target, record, record_analytics_read
from bot.console.context import STORE
from bot.console.csv_export import csv_response, wants_csv
from bot.console.errors import ApiError
from bot.console.requests import clean_text, enum_param, int_path, json_body, string_field
from bot.console.rollup import rolled_up
from bot.console.routes.quality import known_fields
from bot.crm.enums import AuditAction, InboxStatus, StaffRole
from bot.training import domain_intents

MAX_INTENT_CHARS = 100
"""As long as the inbox's `intent` column holds; the store checks the name itself."""
LABEL_FIELDS = ("intent", "response")
MAX_GROUPS = 500


async def list_inbox(request: web.Request) -> web.Response:
    """The groups of a status, and the intents a label may name: the domain's and those
    earlier labels created (`new_intents`, with their response, which a label may omit)."""
    status = enum_param(request, "status", InboxStatus) or InboxStatus.OPEN
    exported = wants_csv(request)
    await rolled_up(request)
    inbox = request.app[STORE].inbox
    groups = await asyncio.to_thread(inbox.groups, status, MAX_GROUPS)
    await record_analytics_read(
        request,
        exported,
        "nlu_inbox",
        status=status,
        item_ids=[item["id"] for group in groups for item in group["items"]],
    )
    if exported:
        rows = [
            {
                "group": group["key"],
                "group_label": group["label"],
                "suggested_intent": group["suggested_intent"],
                **item,
            }
            for group in groups
            for item in group["items"]
        ]
        return csv_response("nlu-inbox", (status, datetime.now(timezone.utc).date()), rows)
    known = await asyncio.to_thread(domain_intents)
    created = await asyncio.to_thread(inbox.new_intents)
    intents = sorted(known | {new["intent"] for new in created})
    return web.json_response(
        {"status": status, "groups": groups, "intents": intents, "new_intents": created}
    )


def response_field(payload: dict[str, Any]) -> str | None:
    """The answer a new intent gets; None (or absent) for a domain intent. The store checks
    which of the two the label needs, and the length."""
    response = payload.get("response")
    if response is None:
        return None
    if not isinstance(response, str):
        raise ApiError(400, "invalid_field", "'response' must be a string or null.")
    if not clean_text(response, multiline=True):
        raise ApiError(400, "invalid_field", "'response' must not contain control characters.")
    return response


async def label_item(request: web.Request) -> web.Response:
    """Label a message with its right intent (a new one needs a response), or dismiss it."""
    item_id = int_path(request, "item_id")
    payload = await json_body(request)
    inbox, staff_id = request.app[STORE].inbox, staff_of(request).id
    if "dismiss" in payload:
        known_fields(payload, ("dismiss",))
        if payload["dismiss"] is not True:
            raise ApiError(400, "invalid_field", "'dismiss' must be true; to label, send 'intent'.")
        item = await asyncio.to_thread(inbox.dismiss, item_id, staff_id)
        detail: dict[str, Any] = {"item_id": item_id, "dismissed": True}
    else:
        known_fields(payload, LABEL_FIELDS)
        intent = string_field(payload, "intent", MAX_INTENT_CHARS)
        response = response_field(payload)
        try:
            item = await asyncio.to_thread(inbox.label, item_id, staff_id, intent, response)
        except ValueError as error:
            raise ApiError(400, "invalid_field", str(error)) from None
        detail = {"item_id": item_id, "intent": intent, "response": response}
    await record(
        request,
        AuditAction.LABEL_MESSAGE,
        Target.CONVERSATION,
        item["conversation_id"],
        customer_id=item.get("customer_id"),
        detail=detail,
    )
    return web.json_response(item)


INBOX = "/api/v1/nlu/inbox"
ROUTES = (
    Route("GET", INBOX, list_inbox, name="list_nlu_inbox", role=StaffRole.SUPERVISOR),
    Route(
        "POST",
        f"{INBOX}/{{item_id}}/label",
        label_item,
        name="label_nlu_inbox_item",
        role=StaffRole.SUPERVISOR,
    ),
)
