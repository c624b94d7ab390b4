"""What the demo's past cases look like: merchants, resolved handoffs and their packet.

Shared by the first draws (`bot.crm.seed`) and the customer history drawn after them
(`bot.crm.seed_history`).
"""

from __future__ import annotations

from typing import Any

from bot.crm.enums import HandoffReason
from nlp.sentiment import SentimentScore, trend

MERCHANTS = (
    "Tesco",
    "Sainsbury's",
    "Amazon",
    "Uber",
    "Pret A Manger",
    "Netflix",
    "Spotify",
    "Shell",
    "Boots",
    "IKEA",
    "Ryanair",
    "Airbnb",
    "Deliveroo",
    "Apple",
    "Zara",
    "Currys",
)
# Past cases the demo agents resolved: (subject, what the customer wrote, resolution);
# the category is named like the bot's intents (BANKING77's categories).
RESOLVED_CASES = (
    (
        "Card not arrived",
        "My new card still hasn't arrived and it has been over two weeks.",
        "Card was lost in the post; blocked it and sent a replacement by tracked courier.",
    ),
    (
        "Card not arrived",
        "Ordered a card ten days ago, still nothing in the mail.",
        "Confirmed address was missing the flat number; corrected it and reissued the card.",
    ),
    (
        "Transfer not received",
        "I sent money to my landlord yesterday and he says it isn't there.",
        "Transfer was held for a routine check; released it and it arrived within the hour.",
    ),
    (
        "Transfer not received",
        "Recipient has not got the payment I made on Monday.",
        "Recipient's bank rejected it for a wrong account number; refunded and asked to resend.",
    ),
    (
        "Refund missing",
        "The shop says they refunded me a week ago but I can't see it.",
        "Merchant refund was pending with the card scheme; it posted two days later.",
    ),
    (
        "Top-up failed",
        "Tried to top up with my debit card three times and it keeps failing.",
        "The issuing bank blocked the top-up as suspicious; customer approved it with them.",
    ),
    (
        "Charged twice",
        "I was charged twice for the same coffee this morning.",
        "One charge was a pre-authorisation that dropped off after 3 working days.",
    ),
    (
        "Unknown payment",
        "There's a payment I don't recognise from an online store.",
        "Payment was a subscription under a different trading name; customer recognised it.",
    ),
    (
        "Unknown payment",
        "Someone used my card for purchases I didn't make.",
        "Blocked the card, raised a chargeback for the three payments, issued a new card.",
    ),
    (
        "PIN blocked",
        "I entered the wrong PIN too many times and now it's blocked.",
        "Unblocked the PIN after identity check; customer reset it at an ATM.",
    ),
    (
        "Identity verification",
        "The app won't accept my passport photo for verification.",
        "Photo had glare; asked for a new photo in daylight and verification passed.",
    ),
    (
        "Card declined",
        "My card was declined at the supermarket but I have money.",
        "Card had a gambling-block merchant category false positive; cleared the flag.",
    ),
    (
        "Exchange rate",
        "The exchange rate I got abroad was worse than the one in the app.",
        "Weekend markup applied; explained the weekend fee and refunded it as a goodwill gesture.",
    ),
    (
        "Close account",
        "I want to close my account and move my money out.",
        "Transferred the balance to the customer's other bank and closed the account.",
    ),
    (
        "Contactless not working",
        "Contactless stopped working on my card.",
        "Contactless resets after 5 uses in a row; a chip and PIN payment re-enabled it.",
    ),
    (
        "Change address",
        "I've moved house and need to update my address.",
        "Updated the address after checking proof of address in the app.",
    ),
)

HANDOFF_NOTICE = "I'm passing you to a member of our team, who will pick this up shortly."
AGENT_CLOSING = "Thanks for waiting. {resolution} Is there anything else I can help with?"

CATEGORIES = {
    "Card not arrived": "card_arrival",
    "Transfer not received": "transfer_not_received_by_recipient",
    "Refund missing": "Refund_not_showing_up",
    "Top-up failed": "top_up_failed",
    "Charged twice": "transaction_charged_twice",
    "Unknown payment": "card_payment_not_recognised",
    "PIN blocked": "pin_blocked",
    "Identity verification": "unable_to_verify_identity",
    "Card declined": "declined_card_payment",
    "Exchange rate": "card_payment_wrong_exchange_rate",
    "Close account": "terminate_account",
    "Contactless not working": "contactless_not_working",
    "Change address": "edit_personal_details",
}


def handoff_packet(
    text: str, category: str, mood: SentimentScore, customer_id: int, name: str
) -> dict[str, Any]:
    """The packet of a resolved past handoff, as the live system leaves one.

    The customer card's `segment` is None: segments are assigned by the segmentation job.
    """
    return {
        "summary": f"The customer wrote: {text}",
        "intents": [{"intent": category, "confidence": 0.9}],
        "entities": [],
        "slots": {},
        "bot_attempts": [],
        "sentiment_trend": {
            "trend": trend([mood]),
            "scores": [round(mood.compound, 3)],
            "frustration": [round(mood.frustration, 3)],
        },
        "customer": {"id": customer_id, "name": name, "segment": None},
        "similar_tickets": [],
        "reason": HandoffReason.CUSTOMER_REQUEST,
    }
