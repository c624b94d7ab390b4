"""The kinds of customer the demo's history is drawn for, and what each does.

`seed_history` gives every customer one of `ARCHETYPES`; the segmentation, risk, channel
and rules jobs are expected to find them again (clusters, churn drivers, dominant
channels, planted product rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.crm.enums import ContactChannel, Product

POSITIVE = (
    "Thanks, that was quick and really helpful!",
    "Great, all sorted, thank you!",
    "Brilliant service as always, thanks.",
    "Lovely, the new savings rate looks great.",
)
NEUTRAL = (
    "Can I change the date of my standing order?",
    "How do I add my card to Apple Pay?",
    "What is my sort code?",
    "When does my statement come out?",
)
NEGATIVE = (
    "Still waiting and nobody answers, this service is terrible.",
    "I am thinking of moving my account elsewhere, this keeps going wrong.",
    "This is awful, you charged me a fee again without any warning.",
    "I'm really disappointed, the app failed again and I lost money.",
    "Terrible experience, nobody has fixed my problem after three calls.",
)

READINGS: dict[str, tuple[str, float]] = {
    "Thanks, that was quick and really helpful!": ("thanks", 0.97),
    "Great, all sorted, thank you!": ("thanks", 0.95),
    "Brilliant service as always, thanks.": ("thanks", 0.91),
    "Lovely, the new savings rate looks great.": ("nlu_fallback", 0.41),
    "Can I change the date of my standing order?": ("nlu_fallback", 0.38),
    "How do I add my card to Apple Pay?": ("apple_pay_or_google_pay", 0.93),
    "What is my sort code?": ("out_of_scope", 0.62),
    "When does my statement come out?": ("nlu_fallback", 0.44),
    "Still waiting and nobody answers, this service is terrible.": ("frustrated", 0.9),
    "I am thinking of moving my account elsewhere, this keeps going wrong.": (
        "terminate_account",
        0.64,
    ),
    "This is awful, you charged me a fee again without any warning.": (
        "card_payment_fee_charged",
        0.81,
    ),
    "I'm really disappointed, the app failed again and I lost money.": ("frustrated", 0.88),
    "Terrible experience, nobody has fixed my problem after three calls.": ("frustrated", 0.86),
}
"""How the bot's NLU read each history text (intent, confidence): the supervisors' dashboard
breaks the history down by intent, and the texts the bot could not place (savings, standing
orders, statements, sort codes, a guarded churn cue) fill the demo's NLU inbox."""


@dataclass(frozen=True)
class Archetype:
    """How one kind of customer behaves; every draw spreads around these values."""

    name: str
    payments_per_month: tuple[float, float]
    payment_pounds: tuple[int, int]
    salary_pounds: tuple[int, int] | None
    products: dict[Product, float]
    channels: dict[ContactChannel, float]
    """Weights of the customer's dominant channel; 75% of their contacts use it."""
    contacts_per_year: tuple[int, int]
    csat: float
    moods: tuple[float, float, float]
    """Chances that a conversation is positive, neutral, negative."""
    conversations: tuple[int, int]
    handoffs: tuple[int, int]
    handoff_csat: tuple[int, int]


NEW = "new"
LOYAL = "loyal_high_value"
AT_RISK = "high_value_at_risk"
EVERYDAY = "everyday"
DORMANT = "dormant"
P = Product
C = ContactChannel
ARCHETYPES: dict[str, Archetype] = {
    NEW: Archetype(
        NEW, (1, 3), (5, 60), None,
        {P.CREDIT_CARD: 0.25, P.SAVINGS: 0.25, P.TRAVEL_MONEY: 0.1, P.OVERDRAFT: 0.1},
        {C.CHAT: 1.0}, (1, 3), 4.2, (0.4, 0.6, 0.0), (1, 2), (0, 0), (4, 5),
    ),
    LOYAL: Archetype(
        LOYAL, (10, 16), (20, 400), (3_000, 7_000),
        {P.SAVINGS: 0.9, P.MORTGAGE: 0.75, P.CREDIT_CARD: 0.7, P.TRAVEL_INSURANCE: 0.45,
         P.PERSONAL_LOAN: 0.1},
        {C.PHONE: 0.55, C.BRANCH: 0.45}, (6, 12), 4.6, (0.7, 0.3, 0.0), (1, 3),
        (0, 1), (4, 5),
    ),
    AT_RISK: Archetype(
        AT_RISK, (10, 15), (20, 350), (3_000, 6_000),
        {P.SAVINGS: 0.7, P.MORTGAGE: 0.6, P.CREDIT_CARD: 0.6, P.TRAVEL_INSURANCE: 0.35,
         P.PERSONAL_LOAN: 0.2},
        {C.PHONE: 0.5, C.EMAIL: 0.5}, (10, 18), 2.8, (0.05, 0.15, 0.8), (2, 4), (2, 4), (1, 2),
    ),
    EVERYDAY: Archetype(
        EVERYDAY, (6, 10), (5, 80), (1_200, 2_200),
        {P.CREDIT_CARD: 0.65, P.OVERDRAFT: 0.6, P.TRAVEL_INSURANCE: 0.4,
         P.PERSONAL_LOAN: 0.25, P.SAVINGS: 0.2},
        {C.CHAT: 0.85, C.EMAIL: 0.15}, (4, 8), 4.0, (0.35, 0.5, 0.15), (0, 2), (0, 1), (3, 5),
    ),
    DORMANT: Archetype(
        DORMANT, (0.2, 0.8), (5, 60), None,
        {P.SAVINGS: 0.35, P.CREDIT_CARD: 0.2, P.TRAVEL_INSURANCE: 0.05},
        {C.EMAIL: 0.5, C.BRANCH: 0.5}, (0, 2), 3.6, (0.2, 0.8, 0.0), (0, 1), (0, 0), (3, 4),
    ),
}  # fmt: skip
SHARES = ((LOYAL, 0.22, 730), (AT_RISK, 0.25, 365), (DORMANT, 0.15, 180))
"""Share of the originals and the tenure (days) each archetype needs; the rest are everyday."""
LEAVERS = {AT_RISK: 0.45, DORMANT: 0.3}
"""Share of an archetype that left in the last 90 days (the risk job's label window)."""
STRAY_LEAVERS = {EVERYDAY: 0.05, LOYAL: 0.02}
"""Chance that someone who looked fine left anyway: the noise a churn model has to live with."""
