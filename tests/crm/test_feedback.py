"""Ratings in the CRM store: one per resolved handoff, one per bot-only answer, none overwritten."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from bot.crm.enums import HandoffReason, StaffRole
from bot.crm.models import BotFeedback
from bot.crm.store import CRMStore

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def resolved_handoff(store: CRMStore, conversation: str, agent: int) -> int:
    ticket = store.handoffs.open(
        conversation_id=conversation,
        customer_id=None,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=3,
        subject="Customer asked for a person",
        text="help",
        packet={},
    )
    store.handoffs.claim(ticket, agent)
    store.handoffs.resolve(ticket, agent, "fixed", True)
    return ticket


@pytest.fixture
def agent(store: CRMStore) -> int:
    return store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id


def test_a_handoff_keeps_its_first_rating(store: CRMStore, agent: int) -> None:
    ticket = resolved_handoff(store, "c1", agent)
    assert store.feedback.rate_handoff("c1", 4) == ticket
    assert store.feedback.rate_handoff("c1", 2) is None
    assert store.handoffs.get(ticket)["csat"] == 4


def test_only_the_latest_resolved_handoff_can_be_rated(store: CRMStore, agent: int) -> None:
    first = resolved_handoff(store, "c1", agent)
    assert store.feedback.rate_handoff("c1", 5) == first
    second = resolved_handoff(store, "c1", agent)
    assert store.feedback.rate_handoff("c1", 1) == second
    assert store.feedback.rate_handoff("c1", 3) is None
    assert [store.handoffs.get(t)["csat"] for t in (first, second)] == [5, 1]


def test_a_handoff_rating_needs_a_resolved_handoff_and_a_score_from_one_to_five(
    store: CRMStore, agent: int
) -> None:
    assert store.feedback.rate_handoff("c1", 5) is None
    resolved_handoff(store, "c1", agent)
    for score in (0, 6, 10):
        with pytest.raises(ValueError):
            store.feedback.rate_handoff("c1", score)


def test_bot_feedback_is_stored_once_per_answer(store: CRMStore) -> None:
    assert store.feedback.rate_bot(
        conversation_id="c2", customer_id=None, score=5, rasa_message_id="m1"
    )
    assert not store.feedback.rate_bot(
        conversation_id="c2", customer_id=None, score=1, rasa_message_id="m1"
    )
    assert store.feedback.rate_bot(
        conversation_id="c2", customer_id=None, score=3, rasa_message_id="m2"
    )
    assert [(r["conversation_id"], r["score"]) for r in store.feedback.bot_ratings("c2")] == [
        ("c2", 5),
        ("c2", 3),
    ]
    assert store.feedback.bot_ratings("other") == []


def test_bot_feedback_names_the_customer_and_leaves_handoffs_alone(
    seeded_store: CRMStore,
) -> None:
    seeded_store.feedback.rate_bot(
        conversation_id="c3", customer_id=2, score=4, rasa_message_id="m3"
    )
    [rating] = seeded_store.feedback.bot_ratings("c3")
    assert (rating["customer_id"], rating["score"]) == (2, 4)
    assert rating["created_at"].endswith("Z")
    assert seeded_store.feedback.rate_handoff("c3", 4) is None


def test_the_database_refuses_a_rating_off_the_scale(store: CRMStore) -> None:
    store.feedback.rate_bot(conversation_id="c4", customer_id=None, score=2, rasa_message_id="m4")
    with store.engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(
            BotFeedback.__table__.insert().values(
                conversation_id="c4", score=9, rasa_message_id="m5", created_at=NOW
            )
        )
    with pytest.raises(ValueError):
        store.feedback.rate_bot(
            conversation_id="c4", customer_id=None, score=0, rasa_message_id="m6"
        )
