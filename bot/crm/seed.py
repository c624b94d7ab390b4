"""Deterministic demo data: the same customers, cards, payments and past tickets everywhere."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.crm.enums import (
    CardStatus,
    ConversationStatus,
    HandoffReason,
    Sender,
    TicketKind,
    TicketStatus,
)
from bot.crm.models import Account, Card, Conversation, Customer, Message, Ticket, Transaction
from bot.crm.store.customers import CARD_PAYMENT
from nlp.sentiment import score, trend

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
CARD_KINDS = ("physical", "physical", "virtual")
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


def seed_demo(
    engine: Engine, customers: int = 200, seed: int = 7, today: datetime | None = None
) -> int:
    """Create demo data unless the store already has customers; returns customers created.

    Everything is drawn from a seeded generator and dated relative to `today` (midnight UTC
    of the seeding day by default), so the data is identical up to that shift.
    """
    today = today or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(engine, future=True) as session, session.begin():
        if session.scalar(select(func.count(Customer.id))):
            return 0
        rng = random.Random(seed)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        for index in tqdm(range(customers), desc="seeding demo customers", unit="customer"):
            _seed_customer(session, rng, fake, index, today)
        session.flush()
        for index in range(len(RESOLVED_CASES) * 5):
            _seed_ticket(session, rng, customers, index, today)
    return customers


def _seed_customer(
    session: Session, rng: random.Random, fake: Faker, index: int, today: datetime
) -> None:
    joined = today - timedelta(days=rng.randint(30, 1500))
    customer = Customer(
        name=fake.name(),
        email=fake.unique.email(),
        phone=fake.phone_number(),
        city=fake.city(),
        created_at=joined,
    )
    account = Account(
        customer=customer,
        iban=fake.unique.iban(),
        currency="GBP",
        balance_cents=rng.randint(0, 500_000),
        opened_at=joined,
    )
    session.add_all([customer, account])
    session.flush()
    # Customer 1 always has a card on its way, so the demo can ask "where is my card?".
    statuses = (
        [CardStatus.SHIPPED, CardStatus.ACTIVE]
        if index == 0
        else rng.sample(
            [CardStatus.ACTIVE] * 3 + [CardStatus.SHIPPED, CardStatus.ORDERED, CardStatus.BLOCKED],
            k=rng.randint(1, 2),
        )
    )
    cards = []
    for status in statuses:
        days_ago = 3 if (index == 0 and status == CardStatus.SHIPPED) else rng.randint(1, 400)
        ordered = today - timedelta(days=days_ago)
        shipped = ordered + timedelta(days=1) if status != CardStatus.ORDERED else None
        card = Card(
            customer_id=customer.id,
            account_id=account.id,
            last_four=f"{rng.randint(0, 9999):04d}",
            brand=rng.choice(["visa", "mastercard"]),
            kind=(
                "physical"
                if status in (CardStatus.ORDERED, CardStatus.SHIPPED)
                else rng.choice(CARD_KINDS)
            ),
            status=status,
            ordered_at=ordered,
            shipped_at=shipped,
            expected_delivery=ordered + timedelta(days=rng.randint(5, 9)),
            blocked_at=ordered + timedelta(days=30) if status == CardStatus.BLOCKED else None,
            blocked_reason="reported lost" if status == CardStatus.BLOCKED else None,
            expires=f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}",
        )
        cards.append(card)
    session.add_all(cards)
    session.flush()
    for _ in range(rng.randint(5, 25)):
        card = rng.choice(cards)
        kind = rng.choice([CARD_PAYMENT] * 6 + ["transfer_out", "transfer_in", "top_up"])
        amount = rng.randint(100, 20_000) if kind == CARD_PAYMENT else rng.randint(1_000, 100_000)
        session.add(
            Transaction(
                account_id=account.id,
                card_id=card.id if kind == CARD_PAYMENT else None,
                kind=kind,
                status=rng.choice(["completed"] * 8 + ["pending", "reverted"]),
                amount_cents=-amount if kind in (CARD_PAYMENT, "transfer_out") else amount,
                currency="GBP",
                counterparty=rng.choice(MERCHANTS) if kind == CARD_PAYMENT else fake.name(),
                created_at=today - timedelta(minutes=rng.randint(10, 60 * 24 * 90)),
            )
        )


def _seed_ticket(
    session: Session, rng: random.Random, customers: int, index: int, today: datetime
) -> None:
    """A past handoff as the live system leaves one: its conversation, messages and packet.

    The API documents `conversation_id` and `packet` as required; seeding them keeps the demo
    data and the OpenAPI document in agreement. All values derive from the ticket's own draws,
    so adding the conversation did not change which tickets are seeded.
    """
    subject, text, resolution = RESOLVED_CASES[index % len(RESOLVED_CASES)]
    opened = today - timedelta(days=rng.randint(1, 300), minutes=rng.randint(0, 1440))
    customer = session.get(Customer, rng.randint(1, customers))
    priority = rng.randint(1, 5)
    category = CATEGORIES[subject]
    claimed = opened + timedelta(minutes=rng.randint(1, 30))
    resolved = opened + timedelta(minutes=rng.randint(31, 600))
    conversation = Conversation(
        id=f"seed-{index + 1:03d}",
        customer_id=customer.id,
        channel="socketio",
        status=ConversationStatus.BOT,
        started_at=opened - timedelta(minutes=1),
        last_message_at=resolved,
    )
    mood = score(text)
    said = [
        (Sender.CUSTOMER, text, opened - timedelta(minutes=1), category),
        (Sender.BOT, HANDOFF_NOTICE, opened, None),
        (Sender.AGENT, AGENT_CLOSING.format(resolution=resolution), resolved, None),
    ]
    session.add(conversation)
    session.add_all(
        Message(
            conversation_id=conversation.id,
            event_key=f"seed-{index + 1:03d}-{turn}",
            seq=at.timestamp(),
            sender=sender,
            text=message,
            intent=intent,
            confidence=0.9 if intent else None,
            entities=[],
            sentiment=mood.compound if sender == Sender.CUSTOMER else None,
            channel="socketio" if sender != Sender.AGENT else "console",
            created_at=at,
        )
        for turn, (sender, message, at, intent) in enumerate(said)
    )
    session.add(
        Ticket(
            conversation_id=conversation.id,
            customer_id=customer.id,
            kind=TicketKind.HANDOFF,
            category=category,
            status=TicketStatus.RESOLVED,
            priority=priority,
            subject=subject,
            text=text,
            resolution=resolution,
            packet={
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
                "customer": {
                    "id": customer.id,
                    "name": customer.name,
                    "segment": customer.segment,
                },
                "similar_tickets": [],
                "reason": HandoffReason.CUSTOMER_REQUEST,
            },
            created_at=opened,
            claimed_at=claimed,
            resolved_at=resolved,
        )
    )
