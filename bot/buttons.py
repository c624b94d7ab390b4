"""What a pressed button reads as: the title the customer saw, not the payload the widget sent.

A press reaches Rasa as its payload (`/csat_score{"score": 5}`); staff, the transcript and the
handoff summary should read what the customer clicked. Only the buttons of the bot's newest
message name a press: one payload has different titles in different questions (`/affirm` is
"Yes, block it" only under the block question), so an older offer could put words in the
customer's mouth. Any other payload (an older button pressed, or one typed by hand) reads as
its intent's title, unless it carries entities (`/csat_score{"score": 5}`), which a title
would hide: that one stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.intent_titles import INTENT_TITLES

BARE_PAYLOAD = re.compile(r"/(\w+)")
"""Rasa's intent payload without entities: `/intent`."""


def offered_titles(buttons: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Payload -> title of one bot message's buttons."""
    return {
        str(button["payload"]): str(button["title"])
        for button in buttons
        if button.get("payload") and button.get("title")
    }


def pressed_label(text: str, offered: Mapping[str, str]) -> str:
    """The title of the button `text` is the payload of, or `text` if it is no payload."""
    if text in offered:
        return offered[text]
    payload = BARE_PAYLOAD.fullmatch(text)
    if payload is None:
        return text
    return INTENT_TITLES.get(payload.group(1), text)
