"""Per-customer activity features on SQLite and PostgreSQL, from hand-built rows: exact values,
the 365/90-day windows, which customers count as active, and nothing dated after `as_of`."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.orm import Session

from bot.crm.models import (
    Account,
    Contact,
    Conversation,
    Customer,
    Message,
    ProductHolding,
    Ticket,
    Transaction,
)
from bot.crm.store import CRMStore
from bot.crm.store.activity import FEATURE_COLUMNS

AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)


def days(n: float) -> datetime:
    return AS_OF - timedelta(days=n)


def add_customer(session: Session, customer_id: int, joined_days_ago: float, **fields) -> Account:
    session.add(
        Customer(id=customer_id, name=f"C{customer_id}", created_at=days(joined_days_ago), **fields)
    )
    account = Account(
        customer_id=customer_id, iban=f"GB00TEST{customer_id:06d}", opened_at=days(joined_days_ago)
    )
    session.add(account)
    session.flush()
    return account


def pay(session: Session, account: Account, cents: int, days_ago: float) -> None:
    session.add(
        Transaction(
            account_id=account.id,
            kind="card_payment",
            status="completed",
            amount_cents=cents,
            currency="GBP",
            counterparty="Shop",
            created_at=days(days_ago),
        )
    )


def build(store: CRMStore) -> None:
    with Session(store.engine) as session, session.begin():
        one = add_customer(session, 1, 1000)
        pay(session, one, -1_250, 10)
        pay(session, one, 5_000, 100)
        pay(session, one, -700, 400)  # before the year: recency ignores it, frequency too
        pay(session, one, -99_900, -1)  # after as_of: never counts
        for channel, at, csat in [
            ("chat", 5, 5),
            ("chat", 60, None),
            ("phone", 200, 3),
            ("email", 500, 1),  # before the year
            ("branch", -2, 1),  # after as_of
        ]:
            session.add(Contact(customer_id=1, channel=channel, at=days(at), csat=csat))
        session.add_all(
            [
                ProductHolding(customer_id=1, product="current_account", opened_at=days(900)),
                ProductHolding(customer_id=1, product="savings", opened_at=days(300)),
                ProductHolding(
                    customer_id=1, product="overdraft", opened_at=days(500), closed_at=days(20)
                ),
                ProductHolding(customer_id=1, product="mortgage", opened_at=days(-5)),
            ]
        )
        session.add(Conversation(id="c1", customer_id=1, started_at=days(30)))
        session.flush()
        for seq, (sender, sentiment, at) in enumerate(
            [
                ("customer", -0.5, 30),
                ("customer", 0.25, 29),
                ("bot", 0.9, 29),
                ("customer", -1.0, -3),
            ]
        ):
            session.add(
                Message(
                    conversation_id="c1",
                    event_key=f"c1-{seq}",
                    seq=seq,
                    sender=sender,
                    text="x",
                    sentiment=sentiment,
                    created_at=days(at),
                )
            )
        for kind, at, csat, csat_at in [
            ("handoff", 30, 2, 29),
            ("handoff", 400, 1, 399),  # before the year
            ("lost_card", 50, None, None),
            ("handoff", 10, 4, -1),  # rated after as_of: the handoff counts, its rating not
        ]:
            session.add(
                Ticket(
                    customer_id=1,
                    kind=kind,
                    subject="s",
                    text="t",
                    created_at=days(at),
                    csat=csat,
                    csat_at=days(csat_at) if csat_at is not None else None,
                )
            )
        add_customer(session, 2, 50)  # no activity at all
        left = add_customer(session, 3, 100, left_at=days(10))  # left before as_of
        pay(session, left, -4_000, 20)
        session.add(Contact(customer_id=3, channel="phone", at=days(20), csat=1))
        session.add(ProductHolding(customer_id=3, product="savings", opened_at=days(90)))
        add_customer(session, 4, 100, left_at=days(-10))  # leaves after as_of: still active
        add_customer(session, 5, -3)  # joins after as_of
        add_customer(session, 6, 100, erased_at=days(1))
        add_customer(session, 7, 100, merged_into_id=4)


def all_features(store: CRMStore, chunk_size: int = 50_000) -> pd.DataFrame:
    return pd.concat(list(store.activity.features(AS_OF, chunk_size)), ignore_index=True)


def test_features_are_exact_and_ignore_everything_after_as_of(store: CRMStore) -> None:
    build(store)

    frame = all_features(store)

    assert list(frame.columns) == list(FEATURE_COLUMNS)
    assert frame["customer_id"].tolist() == [1, 2, 4]
    one = frame.iloc[0].to_dict()
    expected = {
        "customer_id": 1,
        "tenure_days": 1000.0,
        "recency_days": 10.0,
        "frequency": 2,
        "monetary": 62.5,
        "contacts_90d": 2,
        "share_chat": 2 / 3,
        "share_phone": 1 / 3,
        "share_email": 0.0,
        "share_branch": 0.0,
        "sentiment": -0.125,
        "csat": (5 + 3 + 2) / 3,
        "handoffs": 2,
        "products": 2,
    }
    assert one.keys() == expected.keys()
    for name, value in expected.items():
        assert math.isclose(one[name], value, abs_tol=1e-6), (name, one[name], value)


def test_a_customer_without_activity_gets_zeros_nans_and_tenure_as_recency(
    store: CRMStore,
) -> None:
    build(store)

    two = all_features(store).set_index("customer_id").loc[2]

    assert two["tenure_days"] == 50.0 and two["recency_days"] == 50.0
    assert (two[["frequency", "monetary", "contacts_90d", "handoffs", "products"]] == 0).all()
    four = all_features(store).set_index("customer_id").loc[4]
    assert four["frequency"] == 0 and four["products"] == 0  # not customer 3's, who left
    assert (two[["share_chat", "share_phone", "share_email", "share_branch"]] == 0).all()
    assert math.isnan(two["sentiment"]) and math.isnan(two["csat"])


def test_chunks_cover_every_active_customer_once(store: CRMStore) -> None:
    build(store)

    chunks = list(store.activity.features(AS_OF, chunk_size=2))

    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert all_features(store, 2).equals(all_features(store))


def test_left_between_is_the_churn_label_after_a_cutoff(store: CRMStore) -> None:
    build(store)

    assert store.activity.left_between(days(30), AS_OF) == {3}
    assert store.activity.left_between(AS_OF, AS_OF + timedelta(days=30)) == {4}
    assert store.activity.left_between(days(10), AS_OF) == set()
