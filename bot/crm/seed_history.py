"""Customer history on top of the demo's first draws: archetypes the analytics jobs can find.

Each customer gets an archetype (`ARCHETYPES`) that drives their product holdings, two years
of payments, contacts by channel with CSAT, conversations with sentiment, past handoffs and
whether they left. Customers are added after the originals: new joiners, look-alikes that are
not duplicates, and planted duplicates with messy values for the cleaning job.

Everything here comes from a second generator (and a second Faker) seeded from the demo's
seed, so the customers, cards, payments and tickets of the first draws stay exactly as they
were. Rows go in with bulk inserts.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crm.enums import CardStatus, ContactChannel, Product
from bot.crm.models import Account, Card, Contact, Customer, ProductHolding, Transaction
from bot.crm.seed_archetypes import (
    ARCHETYPES,
    AT_RISK,
    EVERYDAY,
    LEAVERS,
    LOYAL,
    NEGATIVE,
    NEUTRAL,
    NEW,
    POSITIVE,
    SHARES,
    STRAY_LEAVERS,
    Archetype,
)
from bot.crm.seed_cases import CATEGORIES, MERCHANTS
from bot.crm.seed_people import Person, extras
from bot.crm.seed_rows import Rows, conversation, handoff
from bot.crm.store.base import as_utc
from bot.crm.store.customers import CARD_PAYMENT
from nlp.sentiment import SentimentScore

HISTORY_DAYS = 730
MONTH_MINUTES = 30 * 24 * 60
NEW_JOINER_DAYS = 60


@dataclass
class Member:
    """A customer whose history is drawn here."""

    id: int
    name: str
    joined: datetime
    account_id: int
    card_ids: list[int]
    archetype: Archetype = ARCHETYPES[EVERYDAY]
    left_at: datetime | None = None
    decline: datetime | None = None
    unhappy: float = 0.0
    """How badly things go for an at-risk or dormant customer (0-1), in three separate
    draws: `unhappy` lowers CSAT, `vocal` makes chats negative, `lapse` slows activity.
    Their mean (with noise) decides who leaves, so no single feature tells it all."""
    vocal: float = 0.0
    lapse: float = 0.0


def seed_history(session: Session, seed: int, originals: int, today: datetime) -> int:
    """Draw the history of customers 1..`originals` and add customers after them.

    Returns how many customers were added.
    """
    rng = random.Random(f"history-{seed}")
    fake = Faker("en_GB")
    fake.seed_instance(seed + 1)
    members = _originals(session, originals)
    _assign(members, rng, today)
    people = extras(rng, fake, session, originals, today)
    members += [_add_person(session, rng, person) for person in people]
    rows = Rows()
    moods: dict[str, SentimentScore] = {}
    for member in members:
        _history(member, rng, fake, today, rows, moods)
    session.bulk_update_mappings(
        Customer, [{"id": m.id, "left_at": m.left_at} for m in members if m.left_at]
    )
    rows.insert(session)
    return len(people)


def _originals(session: Session, originals: int) -> list[Member]:
    customers = session.execute(
        select(Customer.id, Customer.name, Customer.created_at)
        .where(Customer.id <= originals)
        .order_by(Customer.id)
    ).all()
    accounts = dict(
        session.execute(
            select(Account.customer_id, Account.id).where(Account.customer_id <= originals)
        ).all()
    )
    cards: dict[int, list[int]] = defaultdict(list)
    for customer_id, card_id in session.execute(
        select(Card.customer_id, Card.id).where(Card.customer_id <= originals).order_by(Card.id)
    ):
        cards[customer_id].append(card_id)
    return [
        Member(id, name, as_utc(joined), accounts[id], cards[id]) for id, name, joined in customers
    ]


def _assign(members: list[Member], rng: random.Random, today: datetime) -> None:
    """Give each original an archetype its tenure allows; customer 1, the demo's, is loyal."""
    for member in members:
        tenure = (today - member.joined).days
        member.archetype = ARCHETYPES[NEW if tenure < NEW_JOINER_DAYS else EVERYDAY]
    members[0].archetype = ARCHETYPES[LOYAL]
    pool = [m for m in members[1:] if m.archetype.name == EVERYDAY]
    rng.shuffle(pool)
    for name, share, min_tenure in SHARES:
        wanted = round(share * len(members)) - (name == LOYAL)
        eligible = [m for m in pool if (today - m.joined).days >= min_tenure]
        chosen = (eligible + [m for m in pool if m not in eligible])[: max(wanted, 0)]
        for member in chosen:
            member.archetype = ARCHETYPES[name]
            pool.remove(member)
    for name, share in LEAVERS.items():
        group = [m for m in members if m.archetype.name == name]
        for member in group:
            member.unhappy, member.vocal, member.lapse = rng.random(), rng.random(), rng.random()
        noisy = {m.id: (m.unhappy + m.vocal + m.lapse) / 3 + rng.gauss(0, 0.1) for m in group}
        group.sort(key=lambda m: noisy[m.id], reverse=True)
        for member in group[: math.ceil(share * len(group))]:
            member.left_at = today - timedelta(days=rng.randint(3, 85))
    for member in members[1:]:
        if rng.random() < STRAY_LEAVERS.get(member.archetype.name, 0.0):
            member.left_at = today - timedelta(days=rng.randint(3, 85))
    for member in members:
        if member.archetype.name == AT_RISK:
            member.decline = today - timedelta(days=rng.randint(120, 300))


def _add_person(session: Session, rng: random.Random, person: Person) -> Member:
    """A customer added after the originals, with an account and a card like theirs."""
    customer = Customer(**person.values)
    account = Account(
        customer=customer,
        iban=f"GB{rng.randint(10, 99)}DEMO{rng.randint(0, 10**14 - 1):014d}",
        currency="GBP",
        balance_cents=rng.randint(0, 300_000),
        opened_at=customer.created_at,
    )
    session.add_all([customer, account])
    session.flush()
    card = Card(
        customer_id=customer.id,
        account_id=account.id,
        last_four=f"{rng.randint(0, 9999):04d}",
        brand=rng.choice(["visa", "mastercard"]),
        kind="physical",
        status=CardStatus.ACTIVE,
        ordered_at=customer.created_at,
        shipped_at=customer.created_at + timedelta(days=1),
        expected_delivery=customer.created_at + timedelta(days=6),
        expires=f"{rng.randint(1, 12):02d}/{rng.randint(28, 31)}",
    )
    session.add(card)
    session.flush()
    member = Member(customer.id, customer.name, customer.created_at, account.id, [card.id])
    member.archetype = ARCHETYPES[person.archetype]
    return member


def _history(
    member: Member,
    rng: random.Random,
    fake: Faker,
    today: datetime,
    rows: Rows,
    moods: dict[str, SentimentScore],
) -> None:
    kind = member.archetype
    start = max(member.joined, today - timedelta(days=HISTORY_DAYS))
    end = member.left_at or today
    _holdings(member, rng, today, rows)
    _payments(member, rng, fake, start, end, rows)
    dominant = _pick(rng, kind.channels)
    years = max((end - start).days, 1) / 365
    busy_from = member.decline or start
    for _ in range(round(rng.uniform(*kind.contacts_per_year) * years)):
        at = _between(rng, busy_from if rng.random() < 0.7 else start, end)
        before_decline = member.decline is not None and at < member.decline
        channel = dominant if rng.random() < 0.75 else rng.choice(list(ContactChannel))
        mean = 3.6 if before_decline else kind.csat - 1.6 * member.unhappy
        csat = min(5, max(1, round(rng.gauss(mean, 0.8)))) if rng.random() < 0.6 else None
        topic = rng.choice(list(CATEGORIES.values()))
        rows.add(Contact, customer_id=member.id, channel=channel, at=at, topic=topic, csat=csat)
    for _ in range(rng.randint(*kind.conversations)):
        positive, neutral, negative = kind.moods
        weights = (positive, neutral, negative * (0.3 + 1.4 * member.vocal))
        texts = rng.choices((POSITIVE, NEUTRAL, NEGATIVE), weights=weights)[0]
        conversation(rows, member.id, rng.choice(texts), _between(rng, busy_from, end), moods)
    for _ in range(rng.randint(*kind.handoffs)):
        handoff(
            rows,
            rng,
            member.id,
            member.name,
            _between(rng, busy_from, end),
            kind.handoff_csat,
            moods,
        )


def _holdings(member: Member, rng: random.Random, today: datetime, rows: Rows) -> None:
    """Products by archetype, then the planted rules: mortgage -> home insurance, credit
    card + travel insurance -> travel money, savings -> investments for high value."""
    kind = member.archetype
    held = {Product.CURRENT_ACCOUNT} | {
        p for p, chance in kind.products.items() if rng.random() < chance
    }
    if kind.name != NEW:
        high_value = kind.name in (LOYAL, AT_RISK)
        rules = (
            (Product.HOME_INSURANCE, 0.85 if Product.MORTGAGE in held else 0.05),
            (
                Product.TRAVEL_MONEY,
                0.85 if {Product.CREDIT_CARD, Product.TRAVEL_INSURANCE} <= held else 0.08,
            ),
            (Product.INVESTMENTS, 0.75 if Product.SAVINGS in held and high_value else 0.08),
        )
        held |= {product for product, chance in rules if rng.random() < chance}
    for product in sorted(held):
        opened = (
            member.joined
            if product == Product.CURRENT_ACCOUNT
            else _between(rng, member.joined, today - timedelta(days=1))
        )
        closed = member.left_at
        if closed is None and member.decline and product != Product.CURRENT_ACCOUNT:
            closed = (
                member.decline + timedelta(days=rng.randint(0, 90)) if rng.random() < 0.4 else None
            )
        if closed is not None and closed <= opened:
            closed = opened + timedelta(days=1)
        rows.add(
            ProductHolding,
            customer_id=member.id,
            product=product,
            opened_at=opened,
            closed_at=closed,
        )


def _payments(
    member: Member, rng: random.Random, fake: Faker, start: datetime, end: datetime, rows: Rows
) -> None:
    """Card payments at the archetype's pace (a customer at risk slows down after their
    decline, the more the more they lapse) and a monthly salary for those who have one here.

    The salary keeps coming after a decline: a valuable customer at risk is still valuable
    until they leave, which is what makes them worth a person's time.
    """
    kind = member.archetype
    pace = rng.uniform(*kind.payments_per_month)
    if member.decline is None:
        pace *= 1 - 0.7 * member.lapse
    spans = [(start, member.decline or end, pace)]
    if member.decline and member.decline < end:
        lapsed = pace * (0.7 - 0.5 * member.lapse)
        spans = [(start, member.decline, pace), (member.decline, end, lapsed)]
    low, high = (pounds * 100 for pounds in kind.payment_pounds)
    payments = rows.tables[Transaction]
    for begin, until, rate in spans:
        minutes = max(int((until - begin).total_seconds() // 60), 0)
        for _ in range(round(rate * minutes / MONTH_MINUTES)):
            # rng.random() draws: tens of thousands of payments stay quick to make.
            payments.append(
                {
                    "account_id": member.account_id,
                    "card_id": member.card_ids[int(rng.random() * len(member.card_ids))],
                    "kind": CARD_PAYMENT,
                    "status": "completed",
                    "amount_cents": -int(low + rng.random() * (high - low)),
                    "currency": "GBP",
                    "counterparty": MERCHANTS[int(rng.random() * len(MERCHANTS))],
                    "created_at": begin + timedelta(minutes=int(rng.random() * minutes)),
                }
            )
    if kind.salary_pounds is None:
        return
    salary, employer = rng.randint(*kind.salary_pounds) * 100, fake.company()
    payday = start + timedelta(days=rng.randint(0, 29))
    while payday < end:
        rows.add(
            Transaction,
            account_id=member.account_id,
            card_id=None,
            kind="transfer_in",
            status="completed",
            amount_cents=salary,
            currency="GBP",
            counterparty=employer,
            created_at=payday,
        )
        payday += timedelta(days=30)


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A time between two others, to the minute (`start` if they are in the wrong order)."""
    minutes = max(int((end - start).total_seconds() // 60), 0)
    return start + timedelta(minutes=rng.randint(0, minutes))
