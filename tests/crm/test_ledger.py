"""The ledger the bot answers from: one customer's records only, the demo's records in flight,
everyone's identity check, migration 0008, and what erasure leaves of the identity check."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.crm.database import alembic_config, create_crm_engine, migrate
from bot.crm.models import Account, Customer, Transaction
from bot.crm.seed_ledger import DEMO_CUSTOMER, DEMO_EVENTS, DEMO_VIRTUAL_CARD
from bot.crm.store import CRMStore
from bot.crm.store.erasure import ERASED_NAME
from bot.crm.store.ledger import (
    IDENTITY_ISSUES,
    IdentityStatus,
    LedgerStore,
    TransactionKind,
    TransactionStatus,
)
from tests.conftest import SEED_DAY

K, S = TransactionKind, TransactionStatus
IDENTITY_COLUMNS = {"identity_status", "identity_issue", "identity_checked_at"}


def test_0008_adds_the_identity_check_and_downgrades_cleanly(database_url: str) -> None:
    migrate(database_url)
    engine = create_crm_engine(database_url)
    columns = {column["name"] for column in inspect(engine).get_columns("customers")}
    assert columns >= IDENTITY_COLUMNS
    command.downgrade(alembic_config(database_url), "0007")
    engine.dispose()
    engine = create_crm_engine(database_url)
    columns = {column["name"] for column in inspect(engine).get_columns("customers")}
    assert not IDENTITY_COLUMNS & columns
    engine.dispose()
    migrate(database_url)


def test_the_demo_customer_has_every_kind_of_record_the_bot_answers_from(
    seeded_store: CRMStore,
) -> None:
    ledger = LedgerStore(seeded_store.engine)
    since = SEED_DAY - timedelta(days=30)
    for kind, status, amount, counterparty, _ in DEMO_EVENTS:
        found = ledger.movements(DEMO_CUSTOMER, [kind], [status], since=since, limit=50)
        assert any(m.counterparty == counterparty and m.amount_cents == amount for m in found)
    cards = ledger.card_details(DEMO_CUSTOMER)
    assert any(c.last_four == DEMO_VIRTUAL_CARD and c.kind == "virtual" for c in cards)
    with Session(seeded_store.engine) as session:
        demo_accounts = select(Account.id).where(Account.customer_id == DEMO_CUSTOMER)
        elsewhere = session.scalars(
            select(Transaction.counterparty).where(Transaction.account_id.not_in(demo_accounts))
        ).all()
    assert not {counterparty for *_, counterparty, _ in DEMO_EVENTS} & set(elsewhere)


def test_movements_are_one_customers_only_and_filtered(seeded_store: CRMStore) -> None:
    ledger = LedgerStore(seeded_store.engine)
    with Session(seeded_store.engine) as session:
        accounts = dict(session.execute(select(Account.id, Account.customer_id)).all())
        owner = {t.id: accounts[t.account_id] for t in session.scalars(select(Transaction)).all()}
    for customer_id in (1, 2, 3):
        everything = ledger.movements(customer_id, tuple(K), limit=10_000)
        assert everything and {owner[m.id] for m in everything} == {customer_id}
        assert [m.created_at for m in everything] == sorted(
            (m.created_at for m in everything), reverse=True
        )
    pending = ledger.movements(1, [K.TRANSFER_OUT], [S.PENDING], limit=50)
    assert pending and all(m.kind == K.TRANSFER_OUT and m.status == S.PENDING for m in pending)
    recent = ledger.movements(1, tuple(K), since=SEED_DAY - timedelta(days=2), limit=50)
    assert recent and all(m.created_at >= SEED_DAY - timedelta(days=2) for m in recent)
    assert len(ledger.movements(1, tuple(K), limit=3)) == 3
    assert ledger.movements(1, [], limit=50) == []


def test_balances_and_cards_are_the_customers_own(seeded_store: CRMStore) -> None:
    ledger = LedgerStore(seeded_store.engine)
    [balance] = ledger.balances(2)
    with Session(seeded_store.engine) as session:
        account = session.scalars(select(Account).where(Account.customer_id == 2)).one()
    assert (balance.balance_cents, balance.account_ending) == (
        account.balance_cents,
        account.iban[-4:],
    )
    assert ledger.balances(10_000) == [] and ledger.card_details(10_000) == []
    assert {c.last_four for c in ledger.card_details(2)} == {
        c.last_four for c in seeded_store.customers.cards(2)
    }


def test_every_customer_has_an_identity_check_state(seeded_store: CRMStore) -> None:
    ledger = LedgerStore(seeded_store.engine)
    with Session(seeded_store.engine) as session:
        ids = session.scalars(select(Customer.id)).all()
    checks = {customer_id: ledger.identity(customer_id) for customer_id in ids}
    assert checks[DEMO_CUSTOMER].status == IdentityStatus.VERIFIED
    states = Counter(check.status for check in checks.values())
    assert set(states) == {*IdentityStatus, None}
    assert states[IdentityStatus.VERIFIED] > len(ids) / 2
    failed = [check for check in checks.values() if check.status == IdentityStatus.FAILED]
    assert {check.issue for check in failed} <= set(IDENTITY_ISSUES)
    assert all(check.issue is None for check in checks.values() if check not in failed)
    assert ledger.identity(10_000) is None


def test_an_erased_customer_keeps_the_check_as_a_record_the_bot_no_longer_reads(
    seeded_store: CRMStore,
) -> None:
    ledger = LedgerStore(seeded_store.engine)
    assert ledger.identity(2) is not None
    seeded_store.erasure.erase_customer(2)
    with Session(seeded_store.engine) as session:
        erased = session.get(Customer, 2)
        assert (erased.name, erased.email, erased.phone, erased.city) == (
            ERASED_NAME,
            None,
            None,
            None,
        )
        # a status and a reason code from a fixed list: the bank's compliance record, like
        # the ledger, naming no one once the customer row is a tombstone
        assert erased.identity_status == IdentityStatus.FAILED
        assert erased.identity_issue in IDENTITY_ISSUES
    assert ledger.identity(2) is None


def test_movements_oldest_first_keeps_the_longest_stuck_within_the_limit(
    seeded_store: CRMStore,
) -> None:
    ledger = LedgerStore(seeded_store.engine)
    pending = ledger.movements(DEMO_CUSTOMER, tuple(K), [S.PENDING], limit=50)
    oldest = ledger.movements(DEMO_CUSTOMER, tuple(K), [S.PENDING], limit=2, oldest_first=True)
    assert oldest == pending[::-1][:2]
    assert oldest[0].created_at <= oldest[1].created_at
