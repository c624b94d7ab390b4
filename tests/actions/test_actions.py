"""Custom actions over a seeded CRM store: whole event lists and dispatched responses."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.cards import ActionCardStatus
from actions.handoff import ActionFallback, ActionHandoff
from actions.transactions import ActionRecentTransactions
from bot.crm.enums import TicketStatus
from bot.crm.store import CRMStore
from bot.crm.store.handoffs import MINUTES_PER_PLACE
from bot.identity import make_claim
from bot.settings import KeyPurpose


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


async def test_handoff_queues_a_packet_and_pauses_the_bot(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(ActionHandoff(), tracker(2, texts=("card declined", "agent")))
    assert events == [ConversationPaused()]
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[0]["queue_position"] == 1
    assert dispatcher.messages[0]["expected_wait_minutes"] == MINUTES_PER_PLACE
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
    # Only the bot's own "please rephrase" makes the first message a misunderstanding.
    twice.events.insert(1, {"event": "action", "name": "action_fallback"})
    events, dispatcher = await run(ActionFallback(), twice)
    assert events == [ConversationPaused()]
    assert (
        seeded_store.handoffs.list(TicketStatus.OPEN)[0]["packet"]["reason"] == "repeated_fallback"
    )
