"""Custom actions over a seeded CRM store: whole event lists and dispatched responses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.cards import ActionBlockCard, ActionCardStatus, ValidateLostCardForm
from actions.feedback import ActionRecordCsat
from actions.handoff import ActionFallback, ActionHandoff
from actions.transactions import ActionRecentTransactions
from bot.crm.enums import HandoffReason, StaffRole, TicketStatus
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore
from bot.identity import make_claim
from bot.settings import KeyPurpose
from tests.crm_queries import tickets_for_conversation

SECRET = "actions-test-secret"


@pytest.fixture
def seeded_store(store: CRMStore, database_url: str, tmp_path, monkeypatch) -> Iterator[CRMStore]:
    """The demo CRM as of today (card deliveries are relative to now), and the action
    server's own store pointed at the same database."""
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_SECRET_KEY", SECRET)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    resources.settings.cache_clear()
    resources.crm_store.cache_clear()
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    seed_demo(store.engine, customers=5, today=today)
    yield store
    resources.crm_store().dispose()
    resources.settings.cache_clear()
    resources.crm_store.cache_clear()


def claim(customer_id: int, conversation_id: str = "conv-actions", key: str | None = None) -> dict:
    """The claim the channel puts on a verified customer's message."""
    key = key or resources.settings().key_for(KeyPurpose.CUSTOMER_CLAIM)
    return {"crm_customer": make_claim(key, conversation_id, customer_id)}


def tracker(customer_id: int | None = None, slots: dict | None = None, texts=("hi",)) -> Tracker:
    metadata = claim(customer_id) if customer_id else {}
    events = [
        {
            "event": "user",
            "text": text,
            "timestamp": 1.0 + i,
            "metadata": metadata,
            "parse_data": {"intent": {"name": "x", "confidence": 1.0}, "entities": []},
        }
        for i, text in enumerate(texts)
    ]
    return Tracker(
        sender_id="conv-actions",
        slots=slots or {},
        latest_message=events[-1]["parse_data"] | {"text": texts[-1]},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, tracker_: Tracker) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, {})
    return events, dispatcher


async def test_card_status_reports_the_card_in_the_post(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(ActionCardStatus(), tracker(customer_id=1))
    shipped = next(c for c in seeded_store.customers.cards(1) if c.status == "shipped")
    assert events == []
    first = dispatcher.messages[0]["text"]
    assert f"ending in {shipped.last_four} was posted on" in first
    assert "should arrive by" in first


async def test_anonymous_customers_are_asked_to_sign_in(seeded_store: CRMStore) -> None:
    for action in (ActionCardStatus(), ActionRecentTransactions()):
        events, dispatcher = await run(action, tracker())
        assert events == []
        assert [m["response"] for m in dispatcher.messages] == ["utter_need_sign_in"]


@pytest.mark.parametrize(
    "metadata",
    [
        lambda: claim(1, key="other-key"),
        lambda: claim(1, conversation_id="another-conversation"),
        lambda: {"crm_customer": {**claim(1)["crm_customer"], "id": 2}},
        lambda: {"customer_token": "a client's token is not a claim"},
    ],
    ids=["forged", "other_conversation", "tampered", "token_only"],
)
async def test_anything_but_this_conversations_claim_is_anonymous(
    seeded_store: CRMStore, metadata
) -> None:
    forged = tracker()
    forged.events[-1]["metadata"] = metadata()
    _, dispatcher = await run(ActionCardStatus(), forged)
    assert [m["response"] for m in dispatcher.messages] == ["utter_need_sign_in"]


async def test_an_earlier_messages_claim_does_not_carry_over(seeded_store: CRMStore) -> None:
    later = tracker(customer_id=1, texts=("hi", "show my payments"))
    later.events[-1]["metadata"] = {}
    for action in (ActionCardStatus(), ActionRecentTransactions()):
        _, dispatcher = await run(action, later)
        assert [m["response"] for m in dispatcher.messages] == ["utter_need_sign_in"]
    events, _ = await run(ActionHandoff(), later)
    assert events == [ConversationPaused()]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert handoff["customer_id"] is None
    assert handoff["packet"]["customer"] is None


async def test_recent_transactions_lists_the_latest_card_payments(seeded_store: CRMStore) -> None:
    _, dispatcher = await run(ActionRecentTransactions(), tracker(customer_id=1))
    listing = dispatcher.messages[0]["text"]
    latest = seeded_store.customers.recent_card_payments(1, limit=5)
    assert listing.startswith("Here are your latest card payments:")
    assert listing.count("\n- ") == len(latest)
    assert latest[0]["counterparty"] in listing.splitlines()[1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1234", "1234"), ("it ends in 9876 I think", "9876"), ("12345", None), ("yes", None)],
)
async def test_anonymous_card_digits_need_exactly_four_digits(
    seeded_store: CRMStore, value: str, expected: str | None
) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateLostCardForm().validate_card_last_four(value, dispatcher, tracker(), {})
    assert result == {"card_last_four": expected}
    assert [m["response"] for m in dispatcher.messages] == (
        [] if expected else ["utter_invalid_card_digits"]
    )


async def test_a_known_customer_must_name_one_of_their_cards(seeded_store: CRMStore) -> None:
    own = next(c for c in seeded_store.customers.cards(1) if c.status != "blocked").last_four
    foreign = next(
        f"{n:04d}"
        for n in range(10000)
        if f"{n:04d}" not in {c.last_four for c in seeded_store.customers.cards(1)}
    )
    validate = ValidateLostCardForm().validate_card_last_four
    dispatcher = CollectingDispatcher()
    assert await validate(own, dispatcher, tracker(1), {}) == {"card_last_four": own}
    assert await validate(foreign, dispatcher, tracker(1), {}) == {"card_last_four": None}
    assert [m["response"] for m in dispatcher.messages] == ["utter_card_not_found"]


async def test_blocking_a_known_customers_card(seeded_store: CRMStore) -> None:
    card = next(c for c in seeded_store.customers.cards(1) if c.status != "blocked")
    slots = {"card_last_four": card.last_four, "confirm_block": True}
    events, dispatcher = await run(ActionBlockCard(), tracker(1, slots, ("I lost my card",)))
    assert events == [SlotSet("card_last_four", None), SlotSet("confirm_block", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_card_blocked"]
    assert next(c for c in seeded_store.customers.cards(1) if c.id == card.id).status == "blocked"
    [ticket] = tickets_for_conversation(seeded_store, "conv-actions")
    assert (ticket["kind"], ticket["status"], ticket["customer_id"]) == ("lost_card", "resolved", 1)


async def test_declining_the_block_changes_nothing(seeded_store: CRMStore) -> None:
    before = seeded_store.customers.cards(1)
    slots = {"card_last_four": before[0].last_four, "confirm_block": False}
    events, dispatcher = await run(ActionBlockCard(), tracker(1, slots))
    assert events == [SlotSet("card_last_four", None), SlotSet("confirm_block", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_block_cancelled"]
    assert seeded_store.customers.cards(1) == before
    assert tickets_for_conversation(seeded_store, "conv-actions") == []


async def test_an_anonymous_lost_card_report_opens_a_ticket(seeded_store: CRMStore) -> None:
    slots = {"card_last_four": "4321", "confirm_block": True}
    _, dispatcher = await run(ActionBlockCard(), tracker(None, slots, ("lost my card", "4321")))
    assert [m["response"] for m in dispatcher.messages] == ["utter_lost_card_reported"]
    [ticket] = tickets_for_conversation(seeded_store, "conv-actions")
    assert (ticket["kind"], ticket["status"], ticket["customer_id"]) == ("lost_card", "open", None)
    assert ticket["text"] == "lost my card\n4321"


async def test_handoff_queues_a_packet_and_pauses_the_bot(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(ActionHandoff(), tracker(2, texts=("card declined", "agent")))
    assert events == [ConversationPaused()]
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[0]["queue_position"] == 1
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert (handoff["conversation_id"], handoff["customer_id"]) == ("conv-actions", 2)
    assert handoff["text"] == "card declined\nagent"
    packet = handoff["packet"]
    assert packet["reason"] == "customer_request"
    assert packet["customer"]["id"] == 2
    assert [i["intent"] for i in packet["intents"]] == ["x", "x"]


async def test_a_second_misunderstanding_in_a_row_hands_over(seeded_store: CRMStore) -> None:
    once = tracker(texts=("hello", "blorp"))
    once.events[-1]["parse_data"]["intent"]["name"] = "nlu_fallback"
    events, dispatcher = await run(ActionFallback(), once)
    assert (events, [m["response"] for m in dispatcher.messages]) == ([], ["utter_ask_rephrase"])
    twice = tracker(texts=("blorp", "flib"))
    for event in twice.events:
        event["parse_data"]["intent"]["name"] = "nlu_fallback"
    events, dispatcher = await run(ActionFallback(), twice)
    assert events == [ConversationPaused()]
    assert (
        seeded_store.handoffs.list(TicketStatus.OPEN)[0]["packet"]["reason"] == "repeated_fallback"
    )


@pytest.mark.parametrize(
    ("entities", "text", "stored", "response"),
    [
        ([{"entity": "csat_score", "value": "4"}], "/csat_score", 4, "utter_thanks_for_rating"),
        ([], "I'd say 5", 5, "utter_thanks_for_rating"),
        ([], "great", None, "utter_ask_rating_again"),
        ([], "9", None, "utter_ask_rating_again"),
    ],
)
async def test_ratings_are_recorded_on_the_resolved_handoff(
    seeded_store: CRMStore, entities, text, stored, response
) -> None:
    ticket_id = seeded_store.handoffs.open(
        conversation_id="conv-actions",
        customer_id=1,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=3,
        subject="s",
        text="t",
        packet={},
    )
    staff = seeded_store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    seeded_store.handoffs.claim(ticket_id, staff.id)
    seeded_store.handoffs.resolve(ticket_id, staff.id, "fixed", True)
    rating_tracker = tracker(texts=(text,))
    rating_tracker.latest_message["entities"] = entities
    _, dispatcher = await run(ActionRecordCsat(), rating_tracker)
    assert [m["response"] for m in dispatcher.messages] == [response]
    assert seeded_store.handoffs.get(ticket_id)["csat"] == stored
