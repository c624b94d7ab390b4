"""Cut-offs shared by the estimators and the code that acts on their scores, and the one rule
for when not to sell to a customer.

Kept apart from the estimators so the store and the console can read them without loading
scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.crm.enums import SegmentTrait

AT_RISK_SCORE = 0.5
"""From this calibrated risk score on a customer counts as at risk: nothing is sold to them."""

WITHHELD_AT_RISK = "At risk of leaving: keep the customer, do not sell."
WITHHELD_AT_RISK_SEGMENT = "In an at-risk segment: keep the customer, do not sell."
WITHHELD_COMPLAINING = "Complaining or upset: solve the problem first, do not sell."


def selling_withheld(
    traits: Iterable[SegmentTrait | str], risk: float | None, complaining: bool = False
) -> str | None:
    """Why nothing may be sold to this customer now, or None if selling is fine.

    `traits` are their current segment's, `risk` their own calibrated risk score (None when
    not scored), `complaining` read from the conversation. One rule for the bot's offers
    (the strategy served) and the agent's cross-sell hints: an offer to someone about to
    leave, or upset, reads as not listening.
    """
    if risk is not None and risk >= AT_RISK_SCORE:
        return WITHHELD_AT_RISK
    if SegmentTrait.AT_RISK.value in {getattr(trait, "value", trait) for trait in traits}:
        return WITHHELD_AT_RISK_SEGMENT
    if complaining:
        return WITHHELD_COMPLAINING
    return None
