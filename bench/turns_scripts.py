"""What the simulated customers say: conversations each bot knows, in the bench's own words.

The product's customers hold a banking conversation (a greeting, a card question, a fee
question, a transfer question, thanks, goodbye), worded differently from customer to customer
so the NLU does not see one sentence over and over. The stock project only knows greetings,
moods, yes/no and goodbye: its customers say those. The long conversation mixes questions
that neither end the Rasa session nor hand the customer to a person, so all its turns stay
in one session (the product's sessions expire after 60 idle minutes; none is idle here).
None of the sentences holds personal data, so the CRM stores them as sent (no redaction).
"""

from __future__ import annotations

from collections.abc import Sequence

Script = tuple[str, ...]

GREETINGS = ("hi there", "hello, good afternoon", "hey, morning", "good evening")
CARD_QUESTIONS = (
    "my new debit card has not turned up in the post yet",
    "is it possible to pick a new PIN for my card?",
    "can I add my card to Apple Pay on my phone?",
    "will my card work in a cash machine abroad?",
)
FEE_QUESTIONS = (
    "why did you charge me a fee when I paid by card in euros?",
    "I was charged a fee for taking out cash, why?",
    "what do you charge to convert dollars into pounds?",
    "how much does it cost to top up with a card?",
)
TRANSFER_QUESTIONS = (
    "how many days does a transfer to another bank take?",
    "there is a fee on the money I sent to my brother, why?",
    "my transfer still shows as pending, what is going on?",
    "can I cancel a transfer I just made?",
)
THANKS = ("thanks very much", "great, thank you", "cheers, that helps", "thank you kindly")
GOODBYES = ("bye for now", "goodbye", "ok, see you later", "that's all, bye")

PRODUCT_SCRIPTS: tuple[Script, ...] = tuple(
    (
        GREETINGS[n % 4],
        CARD_QUESTIONS[n % 4],
        FEE_QUESTIONS[(n + 1 + n // 4) % 4],
        TRANSFER_QUESTIONS[(n + 2 + 3 * (n // 4)) % 4],
        THANKS[(n + n // 4) % 4],
        GOODBYES[(n + 1) % 4],
    )
    for n in range(8)
)
"""Eight six-turn conversations: customer i starts with script i % 8, then takes the next."""

STOCK_SCRIPTS: tuple[Script, ...] = (
    ("hello there", "I feel really great today", "yes indeed", "no way", "perfect", "bye"),
    ("hi", "I am quite sad", "yes", "not really", "wonderful", "see you around"),
    ("good morning", "I'm feeling very good", "of course", "no", "amazing", "goodbye"),
    ("hey", "I am unhappy today", "that sounds good", "I don't think so", "great", "bye bye"),
    ("good evening", "super good mood here", "correct", "never", "so good", "have a nice day"),
    ("hey there", "feeling down", "indeed", "no thanks", "extremely good", "see you later"),
)
"""The stock bot's intents (greet, mood_great, mood_unhappy, affirm, deny, goodbye)."""

LONG_PRODUCT: Script = (
    "hello there",
    *CARD_QUESTIONS,
    "ok, I see",
    *FEE_QUESTIONS,
    "thanks very much",
    *TRANSFER_QUESTIONS,
    "which countries can I use your service in?",
    "is the card a Visa or a Mastercard?",
    "how do I get a virtual card for shopping online?",
    "what is the most I can top up?",
    "are you a bot?",
    "great, thank you",
)
"""Questions the product answers without ending the session or calling a person, cycled."""

LONG_STOCK: Script = (
    "hello there",
    "I feel really great today",
    "yes",
    "I am quite sad",
    "no",
    "hey",
    "perfect",
    "of course",
    "feeling down",
    "not really",
    "are you a bot?",
    "amazing",
)
"""The stock bot's intents, cycled (it has no session-ending action; `goodbye` only says bye)."""


def long_conversation(script: Sequence[str], turns: int) -> list[str]:
    """`turns` messages: the script over and over, in order."""
    return [script[n % len(script)] for n in range(turns)]


def script_for(scripts: Sequence[Script], customer: int, conversation: int) -> Script:
    """The customer's `conversation`-th script: customers start at different scripts."""
    return scripts[(customer + conversation) % len(scripts)]
