"""When and how a conversation goes to a person: reason, priority, subject and topic.

Pure functions of the conversation, so the queue's order and categories can be read and
tested apart from the Rasa actions that apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from actions.intents import NLU_FALLBACK
from bot.crm.enums import HandoffReason, Sender
from nlp.summarize import Turn

REASON_BY_INTENT = {
    "frustrated": HandoffReason.FRUSTRATION,
    NLU_FALLBACK: HandoffReason.REPEATED_FALLBACK,
}
SUBJECT_BY_REASON = {
    HandoffReason.CUSTOMER_REQUEST: "Customer asked for a person",
    HandoffReason.FRUSTRATION: "Customer is frustrated",
    HandoffReason.REPEATED_FALLBACK: "The bot did not understand twice",
}
PRIORITY_BY_REASON = {
    HandoffReason.FRUSTRATION: 1,
    HandoffReason.REPEATED_FALLBACK: 2,
    HandoffReason.CUSTOMER_REQUEST: 3,
}
URGENT_INTENTS = frozenset(
    {"lost_or_stolen_card", "compromised_card", "card_payment_not_recognised"}
)
"""Card-safety topics: whatever the reason, such a handoff goes first."""
TICKET_TEXT_CHARS = 2000


def reason_for(intent: str | None) -> HandoffReason:
    """Why the customer goes to a person, from the intent that triggered the handoff."""
    return REASON_BY_INTENT.get(intent, HandoffReason.CUSTOMER_REQUEST)


def misunderstood_twice(user_intents: Sequence[str | None]) -> bool:
    """The classifier was unsure of the customer's last two messages in a row."""
    return list(user_intents[-2:]) == [NLU_FALLBACK, NLU_FALLBACK]


def priority(reason: HandoffReason, turns: Iterable[Turn]) -> int:
    """1 is most urgent: frustration and card-safety topics first."""
    if any(turn.intent in URGENT_INTENTS for turn in turns):
        return 1
    return PRIORITY_BY_REASON[reason]


def topic_turns(turns: Iterable[Turn], general: frozenset[str]) -> list[Turn]:
    """The customer's messages about a banking topic, not greetings, yes/no or feedback."""
    return [
        turn for turn in turns if turn.speaker == Sender.CUSTOMER and turn.intent not in general
    ]


def main_category(turns: Iterable[Turn], general: frozenset[str]) -> str | None:
    """The customer's latest banking topic: the ticket's category for similar-ticket search."""
    topics = [turn.intent for turn in topic_turns(turns, general) if turn.intent]
    return topics[-1] if topics else None


def request_text(turns: Sequence[Turn], general: frozenset[str]) -> str:
    """What the customer asked about, to search similar tickets: their topic messages if any."""
    topics = " ".join(turn.text for turn in topic_turns(turns, general))
    return topics or " ".join(turn.text for turn in turns if turn.speaker == Sender.CUSTOMER)


def ticket_text(customer_texts: Sequence[str]) -> str:
    """The handoff ticket's description: the customer's words, the latest if they are long."""
    return "\n".join(customer_texts)[-TICKET_TEXT_CHARS:]
