"""Binding a conversation to one customer, and the gate every customer message passes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import ContactChannel, Sender
from bot.crm.models import Contact
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore, MessageRecord, NotFound
from bot.crm.store.base import as_utc
from bot.identity import CLAIM_FIELD, claimed_customer, issue_customer_token
from bot.json_input import HttpError
from bot.outbox.apply import apply_entry
from bot.outbox.local import EntryKind, LocalOutbox
from bot.rasa_plugins.customer_gate import GATE_TIMEOUT_S, CustomerGate, gate_engine
from tests.conftest import POSTGRES_ENV, SEED_DAY
from tests.outbox.conftest import own_database, refuse_connections
from tests.rasa_plugins.tokens import token_issued_ago

TOKEN_KEY = "gate-token-key"
CLAIM_KEY = "gate-claim-key"
A, B = 3, 4


def token(customer_id: int, key: str = TOKEN_KEY) -> str:
    return issue_customer_token(key, customer_id)


def expired(customer_id: int) -> str:
    return token_issued_ago(TOKEN_KEY, customer_id)


def anonymous_message(store: CRMStore, conversation_id: str) -> None:
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation_id,
            event_key=f"{conversation_id}-1",
            seq=1.0,
            sender=Sender.CUSTOMER,
            text="hello",
            created_at=datetime.now(timezone.utc),
        )
    )


def chat_contacts(store: CRMStore, since: datetime) -> list[int]:
    """The customers of the chat contacts recorded at or after `since`, in order."""
    with Session(store.engine) as session:
        rows = session.execute(
            select(Contact.customer_id, Contact.at)
            .where(Contact.channel == ContactChannel.CHAT.value)
            .order_by(Contact.id)
        ).all()
    return [customer for customer, at in rows if as_utc(at) >= since]


@pytest.fixture
def gate(seeded_store: CRMStore) -> CustomerGate:
    return CustomerGate(seeded_store, TOKEN_KEY, CLAIM_KEY)


def refused(call, status: int, code: str) -> None:
    with pytest.raises(HttpError) as caught:
        call()
    assert (caught.value.status, caught.value.code) == (status, code)


# ------------------------------------------------------------------------------ binding


def test_the_first_customer_binds_and_keeps_the_conversation(seeded_store: CRMStore) -> None:
    conversations = seeded_store.conversations
    assert conversations.bound_customer("conv-1") is None
    assert conversations.bind("conv-1", A) == A
    assert conversations.bind("conv-1", B) == A
    assert conversations.bind("conv-1", A) == A
    assert conversations.bound_customer("conv-1") == A
    assert conversations.get("conv-1")["customer_id"] == A


def test_binding_an_anonymous_conversation_keeps_its_messages(seeded_store: CRMStore) -> None:
    anonymous_message(seeded_store, "conv-1")
    assert seeded_store.conversations.bound_customer("conv-1") is None
    assert seeded_store.conversations.bind("conv-1", B) == B
    conversation = seeded_store.conversations.get("conv-1")
    assert conversation["customer_id"] == B
    assert [m["text"] for m in conversation["messages"]] == ["hello"]


def test_customers_racing_for_one_conversation_bind_exactly_one(
    seeded_store: CRMStore,
) -> None:
    contenders = list(range(1, 9))
    start = threading.Barrier(len(contenders))

    def bind(customer_id: int) -> int:
        start.wait()
        return seeded_store.conversations.bind("conv-race", customer_id)

    with ThreadPoolExecutor(len(contenders)) as pool:
        results = list(pool.map(bind, contenders))
    winner = seeded_store.conversations.bound_customer("conv-race")
    assert winner in contenders
    assert results == [winner] * len(contenders)


def test_customers_racing_for_one_conversation_record_one_contact(
    seeded_store: CRMStore,
) -> None:
    started = datetime.now(timezone.utc).replace(microsecond=0)
    contenders = list(range(1, 9))
    start = threading.Barrier(len(contenders))

    def bind(customer_id: int) -> int:
        start.wait()
        return seeded_store.conversations.bind("conv-race", customer_id)

    with ThreadPoolExecutor(len(contenders)) as pool:
        results = set(pool.map(bind, contenders))
    assert chat_contacts(seeded_store, since=started) == list(results), "the winner's chat only"


# --------------------------------------------------------------------------------- gate


def test_a_signed_in_conversation_counts_as_one_chat_contact(
    gate: CustomerGate, seeded_store: CRMStore
) -> None:
    started = datetime.now(timezone.utc).replace(microsecond=0)
    for _ in range(3):
        gate.admit("conv-1", {"customer_token": token(A)})
    gate.admit("conv-2", {"customer_token": token(A)})
    refused(lambda: gate.admit("conv-1", {"customer_token": token(B)}), 403, "conversation_bound")
    assert chat_contacts(seeded_store, since=started) == [A, A], "one per conversation"


def test_a_verified_customer_binds_and_gets_a_claim_only(gate: CustomerGate) -> None:
    admitted = gate.admit("conv-1", {"customer_token": token(A)})
    assert list(admitted) == ["crm_customer"]
    assert claimed_customer(CLAIM_KEY, "conv-1", admitted["crm_customer"]) == A
    assert gate.store.conversations.bound_customer("conv-1") == A


def test_a_merged_customer_is_claimed_as_the_customer_they_were_merged_into(
    gate: CustomerGate,
) -> None:
    """An old widget token of a duplicate the cleaning job merged: the claim, the binding and
    so every card and payment the bot reads are the kept customer's."""
    gate.store.cleaning.merge(A, B, 0.9, ["email"], None)
    admitted = gate.admit("conv-1", {"customer_token": token(B)})
    assert claimed_customer(CLAIM_KEY, "conv-1", admitted["crm_customer"]) == A
    assert gate.store.conversations.bound_customer("conv-1") == A
    assert gate.token_customer(token(B)) == A


def test_client_keys_and_client_claims_are_dropped(gate: CustomerGate) -> None:
    forged_claim = {"id": B, "sig": "0" * 64}
    sent = {"customer_token": token(A), "crm_customer": forged_claim, "locale": "en"}
    admitted = gate.admit("conv-1", sent)
    assert claimed_customer(CLAIM_KEY, "conv-1", admitted["crm_customer"]) == A
    assert gate.admit("conv-2", {"crm_customer": forged_claim, "locale": "en"}) == {}


def test_an_anonymous_message_is_admitted_only_while_unbound(gate: CustomerGate) -> None:
    assert gate.admit("conv-1", {}) == {}
    assert gate.store.conversations.bound_customer("conv-1") is None
    gate.admit("conv-1", {"customer_token": token(A)})
    refused(lambda: gate.admit("conv-1", {}), 403, "conversation_bound")


def test_another_customers_token_is_refused_in_a_bound_conversation(gate: CustomerGate) -> None:
    gate.admit("conv-1", {"customer_token": token(A)})
    refused(lambda: gate.admit("conv-1", {"customer_token": token(B)}), 403, "conversation_bound")
    assert gate.store.conversations.bound_customer("conv-1") == A


@pytest.mark.parametrize(
    "bad_token",
    [
        lambda: token(A, key="another-key"),
        lambda: token(A) + "x",
        lambda: expired(A),
        lambda: token(999_999),
        lambda: "",
        lambda: 42,
    ],
    ids=["forged", "tampered", "expired", "unknown_customer", "empty", "not_a_string"],
)
def test_a_token_that_fails_is_refused_and_stores_nothing(gate: CustomerGate, bad_token) -> None:
    refused(
        lambda: gate.admit("conv-1", {"customer_token": bad_token()}), 401, "invalid_customer_token"
    )
    with pytest.raises(NotFound):
        gate.store.conversations.get("conv-1")


def test_joining_a_bound_conversation_needs_its_customers_token(gate: CustomerGate) -> None:
    assert gate.may_join_as("conv-1", gate.token_customer(None))
    gate.admit("conv-1", {"customer_token": token(A)})
    assert gate.may_join_as("conv-1", gate.token_customer(token(A)))
    assert not gate.may_join_as("conv-1", gate.token_customer(None))
    assert not gate.may_join_as("conv-1", gate.token_customer(token(B)))
    assert not gate.may_join_as("conv-1", gate.token_customer(expired(A)))
    assert not gate.may_join_as("conv-1", gate.token_customer(token(A, key="another-key")))


# ------------------------------------------------------------------ the store unavailable


@pytest.fixture
def sqlite_crm(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    migrate(url)
    seed_demo(create_crm_engine(url), customers=5, today=SEED_DAY)
    return url


def test_a_locked_store_lets_messages_on_anonymously_within_the_timeout(
    sqlite_crm: str, tmp_path: Path
) -> None:
    gate = CustomerGate(CRMStore(gate_engine(sqlite_crm)), TOKEN_KEY, CLAIM_KEY)
    assert CLAIM_FIELD in gate.admit("bound", {"customer_token": token(A)})
    lock = sqlite3.connect(tmp_path / "crm.sqlite3", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert gate.admit("new", {"customer_token": token(A)}) == {}
        assert gate.admit("new", {}) == {}
        assert time.monotonic() - started < 2 * (GATE_TIMEOUT_S + 1)
        # a conversation already bound to the customer needs no write: its claim stays
        assert CLAIM_FIELD in gate.admit("bound", {"customer_token": token(A)})
    finally:
        lock.close()
        gate.close()


def test_a_locked_store_keeps_the_claim_and_binds_through_the_outbox(
    sqlite_crm: str, tmp_path: Path
) -> None:
    """A locked SQLite file still reads: the token and the binding are checked, only the
    write waits, so the customer stays signed in and the outbox binds the conversation,
    signed, once the lock is gone; a forged bind entry is never applied."""
    outbox = LocalOutbox(tmp_path / "outbox" / "rasa-1.sqlite3")
    gate = CustomerGate(CRMStore(gate_engine(sqlite_crm)), TOKEN_KEY, CLAIM_KEY, lambda: outbox)
    lock = sqlite3.connect(tmp_path / "crm.sqlite3", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        admitted = gate.admit("new", {"customer_token": token(A)})
    finally:
        lock.close()
    assert claimed_customer(CLAIM_KEY, "new", admitted[CLAIM_FIELD]) == A
    [entry] = outbox.head()
    assert entry.kind is EntryKind.BIND and "customer_id" not in entry.payload
    store = CRMStore(create_crm_engine(sqlite_crm))
    assert apply_entry(store, CLAIM_KEY, entry.kind, entry.payload)
    assert store.conversations.bound_customer("new") == A
    forged = {"conversation_id": "other", "claim": {"id": A, "sig": "forged"}}
    with pytest.raises(ValueError, match="valid claim"):
        apply_entry(store, CLAIM_KEY, EntryKind.BIND, forged)
    assert store.conversations.bound_customer("other") is None
    store.dispose()
    gate.close()
    outbox.close()


def test_an_unreachable_store_lets_messages_on_anonymously(tmp_path: Path) -> None:
    gate = CustomerGate(CRMStore(gate_engine(f"sqlite:///{tmp_path}")), TOKEN_KEY, CLAIM_KEY)
    assert gate.admit("conv-1", {"customer_token": token(A)}) == {}
    assert gate.token_customer(token(A)) is None
    assert not gate.may_join_as("conv-1", None), "a session it cannot check is not joined"
    gate.close()


@pytest.fixture
def own_postgres() -> Iterator[str]:
    with own_database() as url:
        yield url


def test_postgres_refusing_connections_lets_messages_on_anonymously(own_postgres: str) -> None:
    seed_demo(create_crm_engine(own_postgres), customers=5, today=SEED_DAY)
    gate = CustomerGate(CRMStore(gate_engine(own_postgres)), TOKEN_KEY, CLAIM_KEY)
    database = make_url(own_postgres).database
    try:
        assert CLAIM_FIELD in gate.admit("pg", {"customer_token": token(A)})
        refuse_connections(os.environ[POSTGRES_ENV], database, refuse=True)
        started = time.monotonic()
        assert gate.admit("pg", {"customer_token": token(A)}) == {}
        assert time.monotonic() - started < GATE_TIMEOUT_S + 2
        refuse_connections(os.environ[POSTGRES_ENV], database, refuse=False)
        assert CLAIM_FIELD in gate.admit("pg", {"customer_token": token(A)})
    finally:
        refuse_connections(os.environ[POSTGRES_ENV], database, refuse=False)
        gate.close()
