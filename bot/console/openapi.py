"""The console API's OpenAPI document: openapi.yaml with its enums filled in from bot.crm.enums.

The YAML declares each enum once as a named schema (components.schemas.<EnumName>) without
values; the values come from the Python enums, so the document cannot drift from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.crm.enums import (
    AuditAction,
    CardStatus,
    ConversationStatus,
    DeliveryKind,
    DeliveryStatus,
    FlagKind,
    FlagStatus,
    HandoffReason,
    InboxSource,
    InboxStatus,
    JobStatus,
    JobTrigger,
    ReviewOutcome,
    Sender,
    StaffRole,
    TicketStatus,
    Tone,
    Vocabulary,
)

DOCUMENT = Path(__file__).resolve().parent / "openapi.yaml"
DOCUMENTED_ENUMS: tuple[type[Vocabulary], ...] = (
    ConversationStatus,
    TicketStatus,
    HandoffReason,
    StaffRole,
    Sender,
    CardStatus,
    AuditAction,
    JobStatus,
    JobTrigger,
    Tone,
    FlagKind,
    FlagStatus,
    ReviewOutcome,
    InboxSource,
    InboxStatus,
    DeliveryKind,
    DeliveryStatus,
)


def load_openapi() -> dict[str, Any]:
    document = yaml.safe_load(DOCUMENT.read_text())
    schemas = document["components"]["schemas"]
    for enum in DOCUMENTED_ENUMS:
        schemas[enum.__name__]["enum"] = list(enum.values())
    return document
