"""The cleaning store on SQLite and PostgreSQL: a merge moves every reference to the kept
customer in one go and keeps a trace; fixes keep the old value; nothing is deleted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from analytics.dedupe import Fix
from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import (
    Account,
    BotFeedback,
    Card,
    Contact,
    Conversation,
    Customer,
    CustomerInsight,
    JobRun,
    ProductHolding,
    Segment,
    SegmentAssignment,
    Ticket,
)
from bot.crm.store import CRMStore, NotFound
from bot.crm.store.base import Conflict
from tests.crm_queries import fixes_of, merges_of

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
KEPT = 2
REFERENCES = (
    Account,
    Card,
    Conversation,
    Ticket,
    BotFeedback,
    ProductHolding,
    Contact,
    SegmentAssignment,
    CustomerInsight,
)


def job_run(store: CRMStore) -> int:
    with Session(store.engine) as session, session.begin():
        run = JobRun(
            job="cleaning",
            status=JobStatus.SUCCEEDED.value,
            trigger=JobTrigger.CLI.value,
            started_at=NOW,
        )
        session.add(run)
        session.flush()
        return run.id


def duplicate_with_references(store: CRMStore) -> tuple[int, int]:
    """Customer 2 registered again, with one reference of every kind, and an older record
    already merged into the duplicate; customer 2 is active, has no phone and a current
    segment."""
    with Session(store.engine) as session, session.begin():
        kept = session.get(Customer, KEPT)
        kept.phone = None
        kept.left_at = None
        dup = Customer(
            name=kept.name, email=kept.email.upper(), phone="0121 496 0260", created_at=NOW
        )
        session.add(dup)
        session.flush()
        earlier = Customer(name=kept.name, created_at=NOW, merged_into_id=dup.id)
        account = Account(customer_id=dup.id, iban="GB00TEST0000000001", opened_at=NOW)
        segment = Segment(name="Test", description="t", method="kmeans", profile={}, size=2)
        conversation = Conversation(id="dup-chat", customer_id=dup.id, channel="socketio")
        session.add_all([earlier, account, segment, conversation])
        session.flush()
        session.add_all(
            [
                Card(
                    customer_id=dup.id,
                    account_id=account.id,
                    last_four="1234",
                    brand="visa",
                    status="active",
                    expires="01/30",
                ),
                Ticket(
                    conversation_id="dup-chat",
                    customer_id=dup.id,
                    kind="handoff",
                    subject="s",
                    text="t",
                ),
                BotFeedback(
                    conversation_id="dup-chat",
                    customer_id=dup.id,
                    score=4,
                    rasa_message_id="dup-rating",
                ),
                ProductHolding(customer_id=dup.id, product="savings", opened_at=NOW),
                Contact(customer_id=dup.id, channel="chat", at=NOW, csat=5),
                SegmentAssignment(customer_id=dup.id, segment_id=segment.id, valid_from=NOW),
                SegmentAssignment(customer_id=KEPT, segment_id=segment.id, valid_from=NOW),
                CustomerInsight(customer_id=dup.id, risk=0.3, preferred_channel="chat"),
            ]
        )
        return dup.id, earlier.id


def references(store: CRMStore, customer_id: int) -> dict[str, int]:
    with Session(store.engine) as session:
        return {
            model.__tablename__: session.scalar(
                select(func.count()).where(model.__table__.c.customer_id == customer_id)
            )
            for model in REFERENCES
        }


def test_a_merge_moves_every_reference_and_keeps_the_merged_row(seeded_store: CRMStore) -> None:
    dup, earlier = duplicate_with_references(seeded_store)
    before_kept, before_dup = references(seeded_store, KEPT), references(seeded_store, dup)
    run_id = job_run(seeded_store)

    moved = seeded_store.cleaning.merge(KEPT, dup, 0.75, ["email", "name"], run_id)

    assert moved == {**{table: 1 for table in before_dup}, "merged_customers": 1}
    assert references(seeded_store, dup) == {table: 0 for table in before_dup}
    assert references(seeded_store, KEPT) == {
        table: before_kept[table] + before_dup[table] for table in before_kept
    }
    with Session(seeded_store.engine) as session:
        rows = {
            c.id: c
            for c in session.scalars(select(Customer).where(Customer.id.in_([KEPT, dup, earlier])))
        }
        current = session.scalar(
            select(func.count()).where(
                SegmentAssignment.customer_id == KEPT, SegmentAssignment.valid_to.is_(None)
            )
        )
    assert rows[dup].merged_into_id == KEPT and rows[earlier].merged_into_id == KEPT
    assert rows[KEPT].phone == "0121 496 0260", "the kept customer gains the missing phone"
    assert current == 1, "the kept customer has one current segment"
    [merge] = merges_of(seeded_store)
    assert (merge["kept_id"], merge["merged_id"], merge["run_id"]) == (KEPT, dup, run_id)
    assert merge["matched_on"] == ["email", "name"] and merge["moved"] == moved
    assert merge["snapshot"]["email"] == rows[KEPT].email.upper()
    assert merge["snapshot"]["merged_into_id"] is None
    assert fixes_of(seeded_store, KEPT) == [
        {
            "customer_id": KEPT,
            "field": "phone",
            "old_value": None,
            "new_value": "0121 496 0260",
            "rule": "merge_fill",
            "run_id": run_id,
        }
    ]
    assert dup not in {c["id"] for c in seeded_store.cleaning.customers()}

    assert seeded_store.cleaning.merge(KEPT, dup, 0.75, ["email"], run_id) is None
    assert len(merges_of(seeded_store)) == 1
    with pytest.raises(Conflict):
        seeded_store.cleaning.merge(3, dup, 0.75, ["email"], run_id)


def test_a_merged_id_signs_in_as_the_kept_customer_unless_erased(seeded_store: CRMStore) -> None:
    dup, earlier = duplicate_with_references(seeded_store)
    seeded_store.cleaning.merge(KEPT, dup, 0.75, ["email", "name"], None)

    for old_id in (dup, earlier):
        assert seeded_store.customers.resolve(old_id) == KEPT
        assert seeded_store.customers.profile(old_id)["id"] == KEPT
    assert seeded_store.customers.cards(seeded_store.customers.resolve(dup))

    with Session(seeded_store.engine) as session, session.begin():
        session.execute(update(Customer).where(Customer.id == KEPT).values(erased_at=NOW))
    assert seeded_store.customers.resolve(dup) is None
    assert not seeded_store.customers.exists(dup)
    with pytest.raises(NotFound):
        seeded_store.customers.profile(dup)


def test_fixes_keep_the_old_value_and_skip_values_changed_since(seeded_store: CRMStore) -> None:
    store = seeded_store.cleaning
    customer = next(c for c in store.customers() if c["id"] == 3)
    run_id = job_run(seeded_store)
    fixes = [
        Fix(3, "phone", customer["phone"], "+441214960000", "phone_format"),
        Fix(3, "city", customer["city"], None, "blank_city"),
        Fix(4, "email", "not-what-it-holds", None, "invalid_email"),
    ]

    assert store.apply_fixes(fixes, run_id) == {"phone_format": 1, "blank_city": 1}
    assert store.apply_fixes(fixes, run_id) == {}, "a second run finds the new values"

    fixed = next(c for c in store.customers() if c["id"] == 3)
    assert (fixed["phone"], fixed["city"]) == ("+441214960000", None)
    assert [(f["field"], f["old_value"], f["new_value"]) for f in fixes_of(seeded_store, 3)] == [
        ("phone", customer["phone"], "+441214960000"),
        ("city", customer["city"], None),
    ]
    assert store.missing()["city"] >= 1
    with pytest.raises(ValueError):
        store.apply_fixes([Fix(3, "created_at", None, "x", "bad")], run_id)


def test_missing_counts_blank_values_of_customers_in_use(store: CRMStore) -> None:
    with Session(store.engine) as session, session.begin():
        session.add_all(
            [
                Customer(name="A", email="a@example.com", phone=" ", city=None, created_at=NOW),
                Customer(name="B", email=None, phone="+441214960000", city="", created_at=NOW),
                Customer(
                    name="C",
                    email=None,
                    created_at=NOW - timedelta(days=1),
                    erased_at=NOW,
                ),
            ]
        )
    assert store.cleaning.missing() == {"email": 1, "phone": 1, "city": 2}


def test_an_active_duplicate_clears_the_kept_customers_left_at(seeded_store: CRMStore) -> None:
    left = NOW - timedelta(days=30)
    with Session(seeded_store.engine) as session, session.begin():
        kept = session.get(Customer, KEPT)
        kept.left_at = left
        active = Customer(name=kept.name, email=kept.email.upper(), created_at=NOW)
        also_left = Customer(name=kept.name, email=kept.email, created_at=NOW, left_at=NOW)
        session.add_all([active, also_left])
        session.flush()
        active_id, also_left_id = active.id, also_left.id
    run_id = job_run(seeded_store)

    seeded_store.cleaning.merge(KEPT, also_left_id, 0.9, ["email"], run_id)
    with Session(seeded_store.engine) as session:
        assert session.get(Customer, KEPT).left_at is not None, "both left: still left"
    assert [f for f in fixes_of(seeded_store, KEPT) if f["field"] == "left_at"] == []

    seeded_store.cleaning.merge(KEPT, active_id, 0.9, ["email"], run_id)
    with Session(seeded_store.engine) as session:
        assert session.get(Customer, KEPT).left_at is None, "the active duplicate wins"
    assert [f for f in fixes_of(seeded_store, KEPT) if f["field"] == "left_at"] == [
        {
            "customer_id": KEPT,
            "field": "left_at",
            "old_value": left.isoformat().replace("+00:00", "Z"),
            "new_value": None,
            "rule": "merge_fill",
            "run_id": run_id,
        }
    ]
    assert seeded_store.cleaning.merge(KEPT, active_id, 0.9, ["email"], run_id) is None


def test_an_active_kept_customer_stays_active(seeded_store: CRMStore) -> None:
    with Session(seeded_store.engine) as session, session.begin():
        kept = session.get(Customer, KEPT)
        kept.left_at = None
        gone = Customer(name=kept.name, email=kept.email, created_at=NOW, left_at=NOW)
        session.add(gone)
        session.flush()
        gone_id = gone.id

    seeded_store.cleaning.merge(KEPT, gone_id, 0.9, ["email"], None)

    with Session(seeded_store.engine) as session:
        assert session.get(Customer, KEPT).left_at is None
    assert [f for f in fixes_of(seeded_store, KEPT) if f["field"] == "left_at"] == []
