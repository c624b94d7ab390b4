"""Deterministic demo data: the same customers, cards, payments and past tickets everywhere."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from faker import Faker
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.crm.enums import CardStatus, ConversationStatus, Sender, TicketKind, TicketStatus
from bot.crm.models import Account, Card, Conversation, Customer, Message, Ticket, Transaction
from bot.crm.seed_cases import (
    AGENT_CLOSING,
    CATEGORIES,
    HANDOFF_NOTICE,
    MERCHANTS,
    RESOLVED_CASES,
    handoff_packet,
)
from bot.crm.seed_history import seed_history
from bot.crm.seed_ledger import seed_ledger
from bot.crm.store.customers import CARD_PAYMENT
from nlp.sentiment import score

__all__ = ["RESOLVED_CASES", "seed_demo"]
CARD_KINDS = ("physical", "physical", "virtual")


def seed_demo(
    engine: Engine, customers: int = 200, seed: int = 7, today: datetime | None = None
) -> int:
    """Create demo data unless the store already has customers; returns customers created.

    `customers` customers come from the first draws; their history (holdings, contacts,
    years of payments, churn) and the customers added after them (new joiners, look-alikes,
    planted duplicates) come from `seed_history`'s own generator, so the first draws stay
    what they always were. Everything is drawn from seeded generators and dated relative to
    `today` (midnight UTC of the seeding day by default), so the data is identical up to
    that shift. `seed_ledger` then adds the demo customer's money in flight, failed and
    refunded, and everyone's identity check, without drawing from either generator.
    """
    today = today or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(engine, future=True) as session, session.begin():
        if session.scalar(select(func.count(Customer.id))):
            return 0
        rng = random.Random(seed)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        payments: list[dict[str, Any]] = []
        for index in tqdm(range(customers), desc="seeding demo customers", unit="customer"):
            payments += _seed_customer(session, rng, fake, index, today)
        session.execute(insert(Transaction.__table__), payments)
        for index in range(len(RESOLVED_CASES) * 5):
            _seed_ticket(session, rng, customers, index, today)
        session.flush()
        added = seed_history(session, seed, customers, today)
        seed_ledger(session, today)
        return customers + added


def _seed_customer(
    session: Session, rng: random.Random, fake: Faker, index: int, today: datetime
) -> list[dict[str, Any]]:
    """Add the customer, account and cards; return their payments, inserted in bulk later."""
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
    payments = []
    for _ in range(rng.randint(5, 25)):
        card = rng.choice(cards)
        kind = rng.choice([CARD_PAYMENT] * 6 + ["transfer_out", "transfer_in", "top_up"])
        amount = rng.randint(100, 20_000) if kind == CARD_PAYMENT else rng.randint(1_000, 100_000)
        payments.append(
            {
                "account_id": account.id,
                "card_id": card.id if kind == CARD_PAYMENT else None,
                "kind": kind,
                "status": rng.choice(["completed"] * 8 + ["pending", "reverted"]),
                "amount_cents": -amount if kind in (CARD_PAYMENT, "transfer_out") else amount,
                "currency": "GBP",
                "counterparty": rng.choice(MERCHANTS) if kind == CARD_PAYMENT else fake.name(),
                "created_at": today - timedelta(minutes=rng.randint(10, 60 * 24 * 90)),
            }
        )
    return payments


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
            packet=handoff_packet(text, category, mood, customer.id, customer.name),
            created_at=opened,
            claimed_at=claimed,
            resolved_at=resolved,
        )
    )
