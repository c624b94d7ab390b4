"""Card rules: which cards are on their way, which one a customer may block, what staff are told.

Pure functions over the CRM's card records, apart from the Rasa actions that talk to the
customer, so the rules can be read and tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TypedDict

from bot.crm.enums import CardStatus, TicketKind, TicketStatus
from bot.crm.store import CardInfo

CARD_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")
IN_TRANSIT = frozenset({CardStatus.ORDERED, CardStatus.SHIPPED})
BLOCK_REASON = "reported lost or stolen in chat"


class LostCardTicket(TypedDict, total=False):
    """What a lost-card ticket says, before the conversation's details are added."""

    kind: TicketKind
    subject: str
    priority: int
    status: TicketStatus
    resolution: str


def card_digits(text: object) -> str | None:
    """The four digits a customer gave for a card's last four, if they gave exactly four."""
    match = CARD_DIGITS.search(text) if isinstance(text, str) else None
    return match.group(1) if match else None


def in_transit(cards: Iterable[CardInfo]) -> list[CardInfo]:
    return [card for card in cards if card.status in IN_TRANSIT]


def active_last_fours(cards: Iterable[CardInfo]) -> list[str]:
    return [card.last_four for card in cards if card.status == CardStatus.ACTIVE]


def overdue(card: CardInfo, now: datetime) -> bool:
    """Past its expected delivery: it may be lost in the post."""
    return card.expected_delivery is not None and card.expected_delivery < now


def blockable(cards: Iterable[CardInfo], last_four: str) -> bool:
    """One of the customer's cards ends in these digits and is not blocked already."""
    return any(c.last_four == last_four and c.status != CardStatus.BLOCKED for c in cards)


def unverified_loss_report(last_four: str) -> LostCardTicket:
    """A lost card we cannot block without knowing whose it is: staff follow it up first."""
    return {
        "kind": TicketKind.LOST_CARD,
        "subject": f"Lost card ending in {last_four}: unverified customer",
        "priority": 1,
    }


def blocked_in_chat(last_four: str) -> LostCardTicket:
    """The record of a card the bot blocked: resolved already, kept for staff to see."""
    return {
        "kind": TicketKind.LOST_CARD,
        "subject": f"Card ending in {last_four} blocked by the bot",
        "status": TicketStatus.RESOLVED,
        "resolution": "Card blocked in chat at the customer's request; replacement ordered.",
    }
