"""The demo seed's history: deterministic, drawn after the first draws without changing them,
and shaped by archetypes the analytics jobs can find (churn, channels, planted rules)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import bot.crm.seed_history as seed_history
from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import Product
from bot.crm.models import (
    Account,
    Card,
    Contact,
    Conversation,
    Customer,
    Message,
    ProductHolding,
    Ticket,
    Transaction,
)
from bot.crm.seed import seed_demo
from bot.crm.seed_archetypes import ARCHETYPES, AT_RISK, DORMANT, LOYAL, NEW
from bot.crm.seed_people import LOOKALIKES, PLANTED_DUPLICATES
from bot.crm.store.base import as_utc
from tests.conftest import SEED_DAY

CUSTOMERS = 20
REFERENCE = {
    "customers": (20, "88a74fbd33b2f26c45ea71bee093be6c0ec77a479dca976f53820f35c13d9618"),
    "accounts": (20, "d67c9219aec1c6f3d17861cdadca7de7872c0068dcb1ebbce504926a636857be"),
    "cards": (30, "cf9c0529c3f181b5bb6447d36bf39840336c7aa12ee6dae63e8c51b1ed87016f"),
    "transactions": (261, "d58fe2f406acbe2a73868b403564685985b20e3222d974935714d78e0324b0e0"),
    "conversations": (80, "1734d45e8a66301ed8a5b2d9f7684ac372c1d84b4d206269875bcff3b1e45078"),
    "messages": (240, "fa36db5e5500bf6e1f3a6bb1c742b7e32ab5f91ea7bc7f19e4382a325e150fdf"),
    "tickets": (80, "d568075c53baf14c0bcfd5e704ef2808aafd5642de37ffc47cef0b22d28b2d99"),
}
"""Row counts and digests (`first_draws`) of the first draws of `seed_demo(customers=20,
today=SEED_DAY)` on SQLite, taken from the seed as it was before it had any history."""
TABLES = (
    (Customer, "id name email phone city created_at erased_at"),
    (Account, "id customer_id iban currency balance_cents status opened_at"),
    (
        Card,
        "id customer_id account_id last_four brand kind status ordered_at shipped_at "
        "expected_delivery blocked_at blocked_reason expires",
    ),
    (
        Transaction,
        "id account_id card_id kind status amount_cents currency counterparty created_at",
    ),
    (Conversation, "id customer_id channel status started_at last_message_at"),
    (
        Message,
        "id conversation_id event_key seq sender text data intent confidence entities sentiment "
        "channel rasa_message_id created_at",
    ),
    (
        Ticket,
        "id conversation_id customer_id kind category status priority subject text resolution "
        "packet assigned_to created_at claimed_at resolved_at csat csat_at",
    ),
)
"""The columns the first draws filled, as they were before this history existed."""


def first_draws(engine: Engine, counts: dict[str, int]) -> dict[str, tuple[int, str]]:
    """The first `counts[table]` rows of each first-draw table (by id) and their digest."""
    digests = {}
    with Session(engine) as session:
        for model, names in TABLES:
            table = model.__table__
            columns = [table.c[name] for name in names.split()]
            rows = session.execute(
                select(*columns).order_by(table.c.id).limit(counts[table.name])
            ).all()
            text = json.dumps([list(row) for row in rows], default=str, sort_keys=True)
            digests[table.name] = (len(rows), hashlib.sha256(text.encode()).hexdigest())
    return digests


def seeded(tmp_path, name: str, customers: int = CUSTOMERS) -> Engine:
    url = f"sqlite:///{tmp_path / name}.sqlite3"
    migrate(url)
    engine = create_crm_engine(url)
    seed_demo(engine, customers=customers, today=SEED_DAY)
    return engine


def everything(engine: Engine) -> dict[str, list]:
    with Session(engine) as session:
        return {
            model.__tablename__: [list(row) for row in session.execute(select(model.__table__))]
            for model in (
                *(model for model, _ in TABLES),
                ProductHolding,
                Contact,
            )
        }


def test_two_seeds_are_identical(tmp_path) -> None:
    first, second = seeded(tmp_path, "a"), seeded(tmp_path, "b")
    assert everything(first) == everything(second)
    first.dispose()
    second.dispose()


def test_the_first_draws_are_unchanged(tmp_path) -> None:
    engine = seeded(tmp_path, "a")
    counts = {table: count for table, (count, _) in REFERENCE.items()}
    assert first_draws(engine, counts) == REFERENCE
    engine.dispose()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Iterator[tuple[Engine, dict[int, str]]]:
    """A seeded store and each customer's archetype, as the seed drew it."""
    archetypes: dict[int, str] = {}
    draw = seed_history._history

    def recording(member: seed_history.Member, *args, **kwargs) -> None:
        archetypes[member.id] = member.archetype.name
        draw(member, *args, **kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(seed_history, "_history", recording)
    engine = seeded(tmp_path_factory.mktemp("history"), "seed")
    patch.undo()
    yield engine, archetypes
    engine.dispose()


def test_every_archetype_is_there_and_the_demo_customer_is_loyal(history) -> None:
    engine, archetypes = history
    new_joiners = max(2, CUSTOMERS // 10)
    assert len(archetypes) == CUSTOMERS + new_joiners + LOOKALIKES + PLANTED_DUPLICATES
    assert set(archetypes.values()) == set(ARCHETYPES)
    assert archetypes[1] == LOYAL
    with Session(engine) as session:
        products = session.scalars(
            select(ProductHolding.product).where(
                ProductHolding.customer_id == 1, ProductHolding.closed_at.is_(None)
            )
        ).all()
        joined = {c.id: as_utc(c.created_at) for c in session.scalars(select(Customer))}
    assert len(products) >= 4
    new = [i for i, kind in archetypes.items() if kind == NEW and i <= CUSTOMERS]
    assert all(SEED_DAY - joined[i] < timedelta(days=60) for i in new)


def test_churn_follows_low_csat_and_lapsing_activity(history) -> None:
    engine, archetypes = history
    cutoff = SEED_DAY - timedelta(days=90)
    with Session(engine) as session:
        left = {
            c.id
            for c in session.scalars(select(Customer).where(Customer.left_at.is_not(None)))
            if cutoff < as_utc(c.left_at) <= SEED_DAY
        }
        csat: dict[int, list[int]] = defaultdict(list)
        for customer_id, score, at in session.execute(
            select(Contact.customer_id, Contact.csat, Contact.at).where(Contact.csat.is_not(None))
        ):
            if as_utc(at) <= cutoff:
                csat[customer_id].append(score)
        payments = Counter(
            customer_id
            for customer_id, at in session.execute(
                select(Account.customer_id, Transaction.created_at).join(
                    Transaction, Transaction.account_id == Account.id
                )
            )
            if cutoff - timedelta(days=90) < as_utc(at) <= cutoff
        )
    stayed = set(archetypes) - left
    assert len(left) >= 3 and 1 not in left
    assert {archetypes[i] for i in left} & {AT_RISK, DORMANT}

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    assert mean([mean(csat[i]) for i in left if csat[i]]) < mean(
        [mean(csat[i]) for i in stayed if csat[i]]
    )
    assert mean([payments[i] for i in left]) < mean([payments[i] for i in stayed])


def test_contacts_have_a_dominant_channel_and_the_planted_rule_holds(history) -> None:
    engine, _ = history
    with Session(engine) as session:
        channels: dict[int, Counter] = defaultdict(Counter)
        for customer_id, channel in session.execute(select(Contact.customer_id, Contact.channel)):
            channels[customer_id][channel] += 1
        held: dict[int, set[str]] = defaultdict(set)
        for customer_id, product in session.execute(
            select(ProductHolding.customer_id, ProductHolding.product).where(
                ProductHolding.closed_at.is_(None)
            )
        ):
            held[customer_id].add(product)
    busy = [counts for counts in channels.values() if sum(counts.values()) >= 4]
    assert busy
    assert sum(max(c.values()) / sum(c.values()) for c in busy) / len(busy) >= 0.6
    with_mortgage = [p for p in held.values() if Product.MORTGAGE in p]
    without = [p for p in held.values() if Product.MORTGAGE not in p]
    covered = sum(Product.HOME_INSURANCE in p for p in with_mortgage) / len(with_mortgage)
    assert covered >= 0.6
    assert covered > sum(Product.HOME_INSURANCE in p for p in without) / len(without)
