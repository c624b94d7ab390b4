"""Answers from a customer's cards and identity check: expiry, a virtual card that won't work,
activating a new card, and where their identity check stands.

Pure functions over the CRM's records, so each answer can be read and tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from actions.formatting import day
from bot.crm.enums import CardStatus
from bot.crm.store.customers import VIRTUAL
from bot.crm.store.ledger import CardDetail, IdentityCheck, IdentityStatus

SOON_MONTHS = 2
"""A card expiring this month or within the next two is "about to expire"."""
NEW_VIRTUAL = "create a new one for free under Cards → Add card → Virtual card in the Northwind app"
ISSUES = {
    "document_unreadable": (
        "we couldn't read the photo of your document (blur, glare or a cut-off corner)",
        "take the photo again in good light, with the whole document in the frame and no flash",
    ),
    "document_expired": (
        "the document you used had expired",
        "use a passport, driving licence or national ID card that is still valid",
    ),
    "selfie_mismatch": (
        "we couldn't match your selfie to the photo on your document",
        "retake the selfie facing the camera in good light, without glasses or a hat",
    ),
    "name_mismatch": (
        "the name on your document doesn't match the name on your profile",
        "if your name has changed, update it first under Profile → Personal details (you can "
        "upload the document there), then try the check again",
    ),
}
"""Why a check failed (bot.crm.store.ledger.IDENTITY_ISSUES) and what fixes it."""
HOW_TO_VERIFY = (
    "Open the Northwind app and go to Profile → Verify identity: you'll take a photo of your "
    "passport, driving licence or national ID card and a short selfie, and most checks are "
    "finished within a few minutes."
)


def card_label(card: CardDetail) -> str:
    brand = "Mastercard" if card.brand.lower() == "mastercard" else f"{card.brand.title()} card"
    kind = f"{VIRTUAL} " if card.kind == VIRTUAL else ""
    return f"{kind}{brand} ending in {card.last_four}"


def months_left(expires: str, now: datetime) -> int | None:
    """Whole months from this month to the card's expiry month (0: expires this month,
    negative: expired); None if the date on record can't be read."""
    try:
        month, year = (int(part) for part in expires.split("/"))
    except ValueError:
        return None
    return (2000 + year - now.year) * 12 + month - now.month


def by_expiry(cards: Sequence[CardDetail]) -> list[CardDetail]:
    """The cards soonest-expiring first (MM/YY compared as a date, not as text); a card whose
    expiry can't be read comes last."""

    def key(card: CardDetail) -> tuple[int, int, int]:
        try:
            month, year = (int(part) for part in card.expires.split("/"))
        except ValueError:
            return (1, 0, 0)
        return (0, year, month)

    return sorted(cards, key=key)


def usable(cards: Sequence[CardDetail]) -> list[CardDetail]:
    return [card for card in cards if card.status != CardStatus.BLOCKED]


def replacement_note(expired: CardDetail, held: Sequence[CardDetail], now: datetime) -> str:
    """What an expired physical card's holder can use instead: a newer physical card still in
    date, wherever it stands, or else how to order one."""
    newer = [
        card
        for card in held
        if card.kind != VIRTUAL
        and card.ordered_at > expired.ordered_at
        and (left := months_left(card.expires, now)) is not None
        and left >= 0
    ]
    if not newer:
        return "order a replacement for free under Cards → Replace card in the Northwind app"
    card = newer[0]
    if card.status == CardStatus.ACTIVE:
        return f"use your {card_label(card)} instead, which is active"
    if card.status == CardStatus.DELIVERED:
        return f"your {card_label(card)} has arrived, so activate it under Cards in the app"
    due = f", expected by {day(card.expected_delivery)}" if card.expected_delivery else ""
    return f"your {card_label(card)} is on its way{due}, and you can activate it once it arrives"


def expiry_answer(cards: Sequence[CardDetail], now: datetime) -> list[str]:
    """Which of the customer's cards expire soon, and what happens to each."""
    held = usable(cards)
    if not held:
        return [
            "You have no card in use at the moment, so there's nothing about to expire. You can "
            "order a card under Cards in the Northwind app."
        ]
    soon = [
        c for c in held if (left := months_left(c.expires, now)) is not None and left <= SOON_MONTHS
    ]
    if not soon:
        listed = ", ".join(f"your {card_label(c)} on {c.expires}" for c in by_expiry(held))
        return [f"None of your cards expires in the next {SOON_MONTHS} months: {listed}."]
    lines = []
    for card in by_expiry(soon):
        left = months_left(card.expires, now)
        if card.kind == VIRTUAL:
            when = "has expired" if left < 0 else f"expires at the end of {card.expires}"
            lines.append(
                f"Your {card_label(card)} {when}. Virtual cards aren't renewed: {NEW_VIRTUAL}."
            )
        elif left < 0:
            lines.append(
                f"Your {card_label(card)} expired at the end of {card.expires}, so it can't be "
                f"used any more: {replacement_note(card, held, now)}."
            )
        else:
            lines.append(
                f"Your {card_label(card)} expires at the end of {card.expires}. We post a "
                "replacement to your address on file about a month before a card expires, free "
                "of charge; if it hasn't come 2 weeks before the expiry, order one under Cards → "
                "Replace card."
            )
    return lines


def virtual_card_answer(cards: Sequence[CardDetail], now: datetime) -> list[str]:
    """Why the customer's virtual card may not work, from what we hold on it."""
    virtual = [card for card in cards if card.kind == VIRTUAL]
    if not virtual:
        return [f"You don't have a virtual card yet: {NEW_VIRTUAL}. It's ready to use at once."]
    lines = []
    for card in by_expiry(virtual):
        left = months_left(card.expires, now)
        if card.status == CardStatus.BLOCKED:
            lines.append(f"Your {card_label(card)} is blocked, so it can't be used: {NEW_VIRTUAL}.")
        elif left is not None and left < 0:
            lines.append(
                f"Your {card_label(card)} expired at the end of {card.expires}: {NEW_VIRTUAL}."
            )
        else:
            lines.append(f"Your {card_label(card)} is active and valid until {card.expires}.")
    if any(card.status != CardStatus.BLOCKED for card in virtual):
        lines.append(
            "Virtual cards work online and in apps, but not at ATMs or where the physical card "
            "has to be shown (some hotels, car hire, fuel pumps). Check the card isn't frozen "
            "(Cards → Unfreeze) and that online payments are on under Cards → Security, and type "
            "the card details exactly as the app shows them."
        )
    return lines


def activation_answer(cards: Sequence[CardDetail], now: datetime) -> list[str]:
    """Which of the customer's cards can be activated now, and how."""
    how = (
        "In the Northwind app go to Cards, tap the card and choose 'Activate', then enter the "
        "6-digit code from the letter that came with it; your first chip-and-PIN payment or "
        "ATM withdrawal also activates it."
    )
    delivered = [c for c in cards if c.status == CardStatus.DELIVERED]
    coming = [c for c in cards if c.status in (CardStatus.ORDERED, CardStatus.SHIPPED)]
    lines = [f"Your {card_label(c)} has arrived and is ready to activate." for c in delivered]
    for card in coming:
        due = card.expected_delivery
        if due is not None and due < now:
            lines.append(
                f"Your {card_label(card)} should have arrived by {day(due)}. If it has, activate "
                "it as below; if it hasn't, it may be lost in the post: tell me it's lost and "
                "I'll block it and send a new one."
            )
            continue
        expected = f" (expected by {day(due)})" if due else ""
        lines.append(
            f"Your {card_label(card)} is still on its way{expected}: you can activate it once "
            "it arrives."
        )
    if not lines:
        active = [c.last_four for c in cards if c.status == CardStatus.ACTIVE]
        held = (
            f"Your cards ending in {', '.join(active)} are already active."
            if active
            else "You have no card waiting to be activated."
        )
        return [f"{held} When a new card arrives:", how]
    return lines + [how]


def identity_answer(check: IdentityCheck) -> list[str]:
    """Where the customer's identity check stands, and what they can do."""
    if check.status == IdentityStatus.VERIFIED:
        since = f" since {day(check.checked_at)}" if check.checked_at else ""
        return [f"Your identity is already verified{since}: there's nothing more you need to do."]
    if check.status == IdentityStatus.PENDING:
        since = f" on {day(check.checked_at)}" if check.checked_at else ""
        return [
            f"Your identity check was sent{since} and is still being reviewed. Most finish "
            "within a few minutes; when a person has to look at the documents it can take up "
            "to 1 working day. We'll let you know in the app, and you don't need to send "
            "anything again."
        ]
    if check.status == IdentityStatus.FAILED:
        why, fix = ISSUES.get(
            check.issue or "",
            ("we couldn't confirm the details", "check your document and selfie are clear"),
        )
        return [
            f"Your last identity check didn't pass because {why}.",
            f"To try again, {fix}, then go to Profile → Verify identity in the Northwind app. "
            "If it still doesn't work, I can connect you with a person.",
        ]
    return ["You haven't started an identity check yet.", HOW_TO_VERIFY]
