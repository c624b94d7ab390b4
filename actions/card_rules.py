"""Card rules: which cards are on their way, which one a customer may block, what they are told.

Pure functions over the CRM's card records and the conversation, apart from the Rasa actions
that talk to the customer, so the rules can be read and tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from actions.formatting import day
from bot.crm.enums import CardStatus, TicketKind, TicketStatus
from bot.crm.store import CardInfo
from bot.crm.store.customers import VIRTUAL

CARD_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")
IN_TRANSIT = frozenset({CardStatus.ORDERED, CardStatus.SHIPPED})
BLOCK_REASON = "reported lost or stolen in chat"
PENDING = "pending"
OFFER_PERSON_AFTER = 2
"""Failed answers in a row to one question of the lost-card form before a person is offered."""
UNBLOCK = re.compile(r"\b(un-?block|undo|reactivate|re-activate)")
BRAND = re.compile(r"\b(visa|master ?card)\b")
KIND = re.compile(r"\b(virtual|physical|plastic)\b")
NOT_SIDE_QUESTIONS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "inform"})
"""Intents with a response of their own that are not a question to answer inside the form."""


class LostCardTicket(TypedDict, total=False):
    """What a lost-card ticket says, before the conversation's details are added."""

    kind: TicketKind
    subject: str
    status: TicketStatus
    resolution: str


def card_digits(text: object) -> str | None:
    """The four digits a customer gave for a card's last four, if they gave exactly four."""
    match = CARD_DIGITS.search(text) if isinstance(text, str) else None
    return match.group(1) if match else None


def card_name(card: CardInfo) -> str:
    """How the customer calls the card: "Visa card", "Mastercard", "virtual Visa card"."""
    brand = "Mastercard" if card.brand.lower() == "mastercard" else f"{card.brand.title()} card"
    return f"{VIRTUAL} {brand}" if card.kind == VIRTUAL else brand


def in_transit(cards: Iterable[CardInfo]) -> list[CardInfo]:
    return [card for card in cards if card.status in IN_TRANSIT]


def active_last_fours(cards: Iterable[CardInfo]) -> list[str]:
    return [card.last_four for card in cards if card.status == CardStatus.ACTIVE]


def overdue(card: CardInfo, now: datetime) -> bool:
    """Past its expected delivery: it may be lost in the post."""
    return card.expected_delivery is not None and card.expected_delivery < now


def describe_delivery(card: CardInfo, now: datetime) -> str:
    name = f"Your {card_name(card)} ending in {card.last_four}"
    if card.expected_delivery is None:
        return f"{name} is being prepared."
    due = day(card.expected_delivery)
    if overdue(card, now):
        return (
            f"{name} should have arrived by {due}. If it hasn't, it may be lost in the post: "
            "tell me it's lost and I'll block it and send a new one."
        )
    if card.status == CardStatus.ORDERED:
        return f"{name} has been ordered and should arrive by {due}."
    return f"{name} was posted on {day(card.shipped_at)} and should arrive by {due}."


def delivery_answer(cards: list[CardInfo], now: datetime) -> list[str]:
    """Where the customer's new cards are; the usual delivery time only while it still applies."""
    on_the_way = in_transit(cards)
    if not on_the_way:
        active = active_last_fours(cards)
        held = (
            f"Your active cards end in {', '.join(active)}."
            if active
            else "You have no active card at the moment."
        )
        return [f"You have no card on its way at the moment. {held}"]
    lines = [describe_delivery(card, now) for card in on_the_way]
    if not any(overdue(card, now) for card in on_the_way):
        lines.append("New cards usually arrive within 5 to 9 working days.")
    return lines


def blockable(cards: Iterable[CardInfo], last_four: str) -> bool:
    """One of the customer's cards ends in these digits and is not blocked already."""
    return any(c.last_four == last_four and c.status != CardStatus.BLOCKED for c in cards)


def already_blocked(cards: Iterable[CardInfo], last_four: str) -> bool:
    """These digits are a card of the customer's that is blocked, not a typo: telling them so
    ends the report instead of asking them to check digits that are right."""
    return not blockable(cards, last_four) and any(c.last_four == last_four for c in cards)


def asks_to_unblock(text: object) -> bool:
    """The customer wants a blocked card back, which the bank cannot do: blocking is permanent."""
    return isinstance(text, str) and UNBLOCK.search(text.lower()) is not None


def card_words(text: object) -> tuple[str | None, str | None] | None:
    """The brand and kind a customer named a card by ("the mastercard", "the virtual one"),
    so they need not know its digits; None if the text names neither."""
    lowered = text.lower() if isinstance(text, str) else ""
    brand, kind = BRAND.search(lowered), KIND.search(lowered)
    if brand is None and kind is None:
        return None
    return (
        brand and brand.group(1).replace(" ", ""),
        kind and (VIRTUAL if kind.group(1) == VIRTUAL else "physical"),
    )


def cards_named(cards: Iterable[CardInfo], words: tuple[str | None, str | None]) -> list[CardInfo]:
    """The unblocked cards of that brand and kind (either left open): the ones a report can
    be about."""
    brand, kind = words
    return [
        card
        for card in cards
        if card.status != CardStatus.BLOCKED
        and brand in (None, card.brand.lower())
        and kind in (None, card.kind)
    ]


def side_question_response(intent: str | None, responses: Mapping[str, Any]) -> str | None:
    """The answer to a banking question asked in the middle of the form, if it has one.

    The form answers it and asks its own question again, instead of reading the question
    as card digits or a yes/no.
    """
    response = f"utter_{intent}"
    if intent is None or intent in NOT_SIDE_QUESTIONS or response not in responses:
        return None
    return response


def blocked_in_chat(last_four: str, replacement: CardInfo) -> LostCardTicket:
    """The record of a card the bot blocked: resolved already, kept for staff to see."""
    return {
        "kind": TicketKind.LOST_CARD,
        "subject": f"Card ending in {last_four} blocked by the bot",
        "status": TicketStatus.RESOLVED,
        "resolution": "Card blocked in chat at the customer's request; replacement "
        f"ending in {replacement.last_four} ordered.",
    }
