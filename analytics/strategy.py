"""How a segment's customers are served, derived from what its centroid says about them.

A segment's profile lists its traits (`SegmentTrait`, from the segmentation job); the default
strategy below turns them into a tone, a greeting, offers, a queue priority, a frustration
threshold for handing over and an SLA. Supervisors may then edit a strategy; `check_fields`
is the one validation both the store and the console apply to an edit.
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.crm.enums import Product, SegmentTrait, Tone

DEFAULT_HANDOFF_THRESHOLD = 0.55
"""A message this frustrated hands over: actions.handoff_rules.STRONG_FRUSTRATION, the
FrustrationDetector's own threshold (spelled here so analytics does not import the actions)."""
FIRST_SIGN_OF_FRUSTRATION = 0.2
"""Low enough that mild annoyance ("this is a bit annoying" scores 0.3) hands over."""
NAME_FIELD = "first_name"
MAX_GREETING_CHARS = 400
MAX_OFFERS = 3
MAX_OFFER_CHARS = 200
MAX_SLA_MINUTES = 7 * 24 * 60
PRIORITIES = range(1, 6)
FIELDS = ("tone", "greeting", "offers", "priority", "handoff_threshold", "sla_minutes")

OFFER_WORDING: dict[Product, str] = {
    Product.SAVINGS: (
        "An Easy Saver account puts money aside for you; you can open one in the app in "
        "two minutes."
    ),
    Product.INVESTMENTS: (
        "Our investment accounts let you grow savings you won't need soon; a specialist can "
        "walk you through them."
    ),
    Product.TRAVEL_INSURANCE: (
        "Travelling soon? Travel insurance can be added to your account in the app."
    ),
    Product.CREDIT_CARD: "A Northwind credit card spreads the cost of larger purchases.",
    Product.HOME_INSURANCE: "Home insurance can be quoted in the app in a few minutes.",
}
"""What the bot says when it offers a product: plain, one sentence, no pressure."""


class InvalidStrategy(ValueError):
    """An edit with a field a strategy cannot have; `field` names it for the caller."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Strategy:
    """How to serve a segment. `priority` 1 is most urgent and caps a handoff's queue priority;
    a handoff is due `sla_minutes` after it is opened."""

    tone: Tone
    greeting: str
    """A template with `{first_name}`."""
    offers: tuple[str, ...]
    priority: int
    handoff_threshold: float
    sla_minutes: int

    def greet(self, first_name: str) -> str:
        return self.greeting.format(first_name=first_name)

    def as_fields(self) -> dict[str, Any]:
        """The strategy as JSON-ready fields (the API's and the strategies table's)."""
        return {
            "tone": self.tone.value,
            "greeting": self.greeting,
            "offers": list(self.offers),
            "priority": self.priority,
            "handoff_threshold": self.handoff_threshold,
            "sla_minutes": self.sla_minutes,
        }


DEFAULT_STRATEGY = Strategy(
    tone=Tone.WARM,
    greeting="Hi {first_name}! I'm the Northwind Bank assistant. How can I help you today?",
    offers=(),
    priority=3,
    handoff_threshold=DEFAULT_HANDOFF_THRESHOLD,
    sla_minutes=15,
)
"""For a customer in no segment: the bot's stock behaviour, greeting them by name."""


def _offers(*products: Product) -> tuple[str, ...]:
    return tuple(OFFER_WORDING[product] for product in products)


def offers_for(offers: tuple[str, ...], held: Collection[str]) -> tuple[str, ...]:
    """The offers worth making to a customer: not one for a product they already hold.

    Generated offers are known by their wording; an offer a supervisor wrote names no product
    and is kept.
    """
    owned = {
        OFFER_WORDING[Product(product)] for product in held if Product(product) in OFFER_WORDING
    }
    return tuple(offer for offer in offers if offer not in owned)


def default_strategy(traits: Iterable[SegmentTrait | str]) -> Strategy:
    """The strategy a segment with these traits starts with.

    At-risk segments are served by people early and offered nothing: an offer to someone
    about to leave reads as not listening. Valuable ones (high value, or long-standing: years
    of custom, whatever they spend now) at risk go to a person at the first sign of
    frustration. High value earns a shorter queue; new customers a welcome; everyone else
    the stock behaviour, worded for how they use the bank.
    """
    have = {SegmentTrait(trait) for trait in traits}
    at_risk = SegmentTrait.AT_RISK in have
    high_value = SegmentTrait.HIGH_VALUE in have
    valuable = high_value or SegmentTrait.LONG_STANDING in have
    if at_risk and valuable:
        strategy = Strategy(
            tone=Tone.REASSURING,
            greeting=(
                "Hello {first_name}, thank you for banking with Northwind. I'm here to help, "
                "and if you'd rather talk to a person at any point, just say so. What can I "
                "do for you today?"
            ),
            offers=(),
            priority=1,
            handoff_threshold=FIRST_SIGN_OF_FRUSTRATION,
            sla_minutes=5,
        )
    elif at_risk:
        strategy = Strategy(
            tone=Tone.REASSURING,
            greeting=(
                "Hello {first_name}, I'm here to help. If anything isn't right, tell me and "
                "I'll sort it out or connect you with a person. What can I do for you?"
            ),
            offers=(),
            priority=2,
            handoff_threshold=0.35,
            sla_minutes=10,
        )
    elif high_value:
        strategy = Strategy(
            tone=Tone.WARM,
            greeting=(
                "Welcome back, {first_name}! It's good to hear from you. How can I help today?"
            ),
            offers=_offers(Product.INVESTMENTS),
            priority=2,
            handoff_threshold=0.45,
            sla_minutes=10,
        )
    elif SegmentTrait.NEW in have:
        strategy = Strategy(
            tone=Tone.WELCOMING,
            greeting=(
                "Hi {first_name}, welcome to Northwind! I'm the bank's assistant: I can help "
                "with your cards, payments and account. What can I do for you?"
            ),
            offers=_offers(Product.SAVINGS),
            priority=3,
            handoff_threshold=DEFAULT_HANDOFF_THRESHOLD,
            sla_minutes=15,
        )
    elif SegmentTrait.DORMANT in have:
        strategy = Strategy(
            tone=Tone.WARM,
            greeting="Hi {first_name}, good to see you again. How can I help?",
            offers=(),
            priority=4,
            handoff_threshold=DEFAULT_HANDOFF_THRESHOLD,
            sla_minutes=30,
        )
    else:
        strategy = Strategy(
            tone=Tone.CONCISE,
            greeting="Hi {first_name}, how can I help today?",
            offers=_offers(Product.SAVINGS) if SegmentTrait.LOW_VALUE in have else (),
            priority=3,
            handoff_threshold=DEFAULT_HANDOFF_THRESHOLD,
            sla_minutes=20,
        )
    if SegmentTrait.PREFERS_PHONE in have:
        # They would rather talk to a person: do not make them fight the bot for one.
        strategy = replace(strategy, handoff_threshold=min(strategy.handoff_threshold, 0.45))
    return strategy


def _text(value: object, field: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidStrategy(field, f"'{field}' must be a non-empty string.")
    if len(value) > max_chars:
        raise InvalidStrategy(field, f"'{field}' must be at most {max_chars} characters.")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise InvalidStrategy(field, f"'{field}' must not contain control characters.")
    return value.strip()


def _greeting(value: object) -> str:
    greeting = _text(value, "greeting", MAX_GREETING_CHARS)
    try:
        parts = list(string.Formatter().parse(greeting))
    except ValueError:
        parts = None
    names = {name for _, name, _, _ in parts or () if name is not None}
    plain = all(not spec and not conversion for _, _, spec, conversion in parts or ())
    if parts is None or not names <= {NAME_FIELD} or not plain:
        raise InvalidStrategy(
            "greeting",
            "'greeting' may use only the placeholder {first_name}; write { and } as {{ and }}.",
        )
    return greeting


def _int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidStrategy(field, f"'{field}' must be an integer from {low} to {high}.")
    return value


def check_fields(fields: Mapping[str, object], traits: Collection[SegmentTrait | str] = ()) -> dict:
    """The edit's fields, checked and normalised; raises InvalidStrategy on the first bad one.

    `traits` are the segment's: an at-risk segment may not be given offers.
    """
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidStrategy(
            unknown[0], f"'{unknown[0]}' is not a strategy field; fields: {', '.join(FIELDS)}."
        )
    if not fields:
        raise InvalidStrategy("body", f"Send at least one of {', '.join(FIELDS)}.")
    checked: dict[str, Any] = {}
    if "tone" in fields:
        if fields["tone"] not in Tone.values():
            raise InvalidStrategy("tone", f"'tone' must be one of {', '.join(Tone.values())}.")
        checked["tone"] = Tone(fields["tone"])
    if "greeting" in fields:
        checked["greeting"] = _greeting(fields["greeting"])
    if "offers" in fields:
        offers = fields["offers"]
        if not isinstance(offers, list) or len(offers) > MAX_OFFERS:
            raise InvalidStrategy(
                "offers", f"'offers' must be a list of at most {MAX_OFFERS} texts."
            )
        checked["offers"] = [_text(offer, "offers", MAX_OFFER_CHARS) for offer in offers]
        if checked["offers"] and SegmentTrait.AT_RISK in {SegmentTrait(t) for t in traits}:
            raise InvalidStrategy("offers", "An at-risk segment may not be made offers.")
    if "priority" in fields:
        checked["priority"] = _int(fields["priority"], "priority", PRIORITIES[0], PRIORITIES[-1])
    if "handoff_threshold" in fields:
        threshold = fields["handoff_threshold"]
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not math.isfinite(threshold)
            or not 0 <= threshold <= 1
        ):
            raise InvalidStrategy(
                "handoff_threshold", "'handoff_threshold' must be a number from 0 to 1."
            )
        checked["handoff_threshold"] = float(threshold)
    if "sla_minutes" in fields:
        checked["sla_minutes"] = _int(fields["sla_minutes"], "sla_minutes", 1, MAX_SLA_MINUTES)
    return checked


def strategy_of(fields: Mapping[str, Any]) -> Strategy:
    """A Strategy from stored fields (a strategies row or `as_fields`)."""
    return Strategy(
        tone=Tone(fields["tone"]),
        greeting=fields["greeting"],
        offers=tuple(fields["offers"] or ()),
        priority=int(fields["priority"]),
        handoff_threshold=float(fields["handoff_threshold"]),
        sla_minutes=int(fields["sla_minutes"]),
    )
