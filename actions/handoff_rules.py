"""When and how a conversation goes to a person: reason, priority, subject and topic.

Pure functions of the conversation, so the queue's order and categories can be read and
tested apart from the Rasa actions that apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from actions.intents import NLU_FALLBACK
from actions.tracker_view import BotAttempt
from bot.crm.enums import HandoffReason, Sender
from nlp.card_loss import reports_lost_card
from nlp.summarize import Turn

REASON_BY_INTENT = {
    "frustrated": HandoffReason.FRUSTRATION,
    NLU_FALLBACK: HandoffReason.REPEATED_FALLBACK,
}
SUBJECT_BY_REASON = {
    HandoffReason.CUSTOMER_REQUEST: "Customer asked for a person",
    HandoffReason.FRUSTRATION: "Customer is frustrated",
    HandoffReason.REPEATED_FALLBACK: "The bot did not understand twice",
    HandoffReason.SEGMENT_STRATEGY: "Customer is frustrated; their segment goes to a person early",
}
PRIORITY_BY_REASON = {
    HandoffReason.FRUSTRATION: 1,
    HandoffReason.REPEATED_FALLBACK: 2,
    HandoffReason.SEGMENT_STRATEGY: 2,
    HandoffReason.CUSTOMER_REQUEST: 3,
}
"""Before the customer's segment strategy caps it (`queue_priority`)."""
LOST_CARD = "lost_or_stolen_card"
URGENT_INTENTS = frozenset({LOST_CARD, "compromised_card", "card_payment_not_recognised"})
"""Card-safety topics: whatever the reason, such a handoff goes first."""
LANGUAGE_ENTITY = "language"
"""The entity nlp.rasa_language.OtherLanguageClassifier puts on a message in another language
(spelled here so the action server does not import Rasa); it stays when frustration then
overrides the intent."""
TICKET_TEXT_CHARS = 2000
ASK_TO_REPHRASE = "action_fallback"
STRONG_FRUSTRATION = 0.55
"""One message this frustrated hands over: the FrustrationDetector's threshold (config.yml)."""
SUSTAINED_FRUSTRATION = 0.45
"""Two messages in a row at least this frustrated hand over too; milder annoyance ("a bit
annoying", "this is taking long") is acknowledged and a person offered, not forced."""


def reason_for(intent: str | None) -> HandoffReason:
    """Why the customer goes to a person, from the intent that triggered the handoff."""
    return REASON_BY_INTENT.get(intent, HandoffReason.CUSTOMER_REQUEST)


def misunderstood_twice(latest_intent: str | None, answered: Sequence[BotAttempt]) -> bool:
    """The classifier is unsure of this message, and the bot's answer to the message before was
    to ask the customer to rephrase.

    `answered` holds the customer messages answered so far (this one is not answered yet). A
    message something else took care of (a form re-asking for card digits, an emoji, another
    language, a thanks) is not a misunderstanding, whatever the classifier made of it.
    """
    return (
        latest_intent == NLU_FALLBACK
        and bool(answered)
        and answered[-1].intent == NLU_FALLBACK
        and ASK_TO_REPHRASE in answered[-1].actions
    )


def frustration_hands_over(
    frustrations: Sequence[float], strong: float = STRONG_FRUSTRATION
) -> bool:
    """Strong frustration in the latest message, or frustration sustained over the last two.

    `frustrations` are the customer's messages' scores (nlp.sentiment), oldest first; `strong`
    is what counts as strong for this customer (their segment strategy's handoff threshold).
    """
    if not frustrations:
        return False
    if frustrations[-1] >= strong:
        return True
    return len(frustrations) >= 2 and min(frustrations[-2:]) >= SUSTAINED_FRUSTRATION


def frustration_reason(frustrations: Sequence[float], threshold: float) -> HandoffReason | None:
    """Why this frustration goes to a person, or None if it does not.

    Asked when NLU called the latest message `frustrated`. FRUSTRATION when the default rules
    hand over; SEGMENT_STRATEGY when only the customer's segment strategy does, with a
    threshold lower than STRONG_FRUSTRATION (a high-value customer at risk is handed over at
    the first sign). For such a strategy the latest message counts as at least at its
    threshold: NLU read frustration the lexicon may score 0 ("😡", "why is this so slow?"),
    and the FrustrationDetector already applied this customer's threshold to the rest. A
    strategy with a higher threshold asks more patience of the bot before a single message
    hands over.
    """
    if not frustrations:
        return None
    scores = list(frustrations)
    if threshold < STRONG_FRUSTRATION:
        scores[-1] = max(scores[-1], threshold)
    if frustration_hands_over(scores, threshold):
        default = frustration_hands_over(frustrations)
        return HandoffReason.FRUSTRATION if default else HandoffReason.SEGMENT_STRATEGY
    return None


def topic(turn: Turn) -> str | None:
    """A message's topic: its intent, or a lost card for a card loss reported in another
    language, which the English intent model can only call `other_language` (nlp.card_loss)."""
    foreign = any(entity.get("entity") == LANGUAGE_ENTITY for entity in turn.entities)
    if turn.speaker == Sender.CUSTOMER and foreign and reports_lost_card(turn.text):
        return LOST_CARD
    return turn.intent


def priority(reason: HandoffReason, turns: Iterable[Turn]) -> int:
    """1 is most urgent: frustration and card-safety topics first, in any language."""
    if any(topic(turn) in URGENT_INTENTS for turn in turns):
        return 1
    return PRIORITY_BY_REASON[reason]


def queue_priority(reason: HandoffReason, turns: Iterable[Turn], strategy_priority: int) -> int:
    """The rules' priority, raised to the segment strategy's when that is more urgent."""
    return min(priority(reason, turns), strategy_priority)


def topic_turns(turns: Iterable[Turn], general: frozenset[str]) -> list[Turn]:
    """The customer's messages about a banking topic, not greetings, yes/no or feedback."""
    return [
        turn for turn in turns if turn.speaker == Sender.CUSTOMER and topic(turn) not in general
    ]


def main_category(turns: Iterable[Turn], general: frozenset[str]) -> str | None:
    """The customer's latest banking topic: the ticket's category for similar-ticket search."""
    topics = [name for name in map(topic, topic_turns(turns, general)) if name]
    return topics[-1] if topics else None


def request_text(turns: Sequence[Turn], general: frozenset[str]) -> str:
    """What the customer asked about, to search similar tickets: their topic messages if any."""
    topics = " ".join(turn.text for turn in topic_turns(turns, general))
    return topics or " ".join(turn.text for turn in turns if turn.speaker == Sender.CUSTOMER)


def ticket_text(customer_texts: Sequence[str]) -> str:
    """The handoff ticket's description: the customer's words, the latest if they are long."""
    return "\n".join(customer_texts)[-TICKET_TEXT_CHARS:]
