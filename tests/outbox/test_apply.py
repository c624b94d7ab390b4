"""A customer's button press lands in the CRM store as the title they saw under the bot's
newest message; any other payload as its intent's title, never an older question's words."""

from __future__ import annotations

from rasa.shared.core.events import BotUttered

from bot.crm.store import CRMStore
from bot.outbox.apply import apply_entry
from bot.outbox.local import EntryKind
from tests.outbox.events import SENT_AT, customer_says, published

CLAIM_KEY = "apply-claim-key"
PERSON = {"title": "Talk to a person", "payload": "/ask_for_human"}
BLOCK = {"title": "Yes, block it", "payload": "/affirm"}
RATING = {"title": "😍 5", "payload": '/csat_score{"score": 5}'}


def stored_texts(store: CRMStore, conversation_id: str) -> list[str]:
    return [m["text"] for m in store.conversations.get(conversation_id)["messages"]]


def test_only_the_newest_offer_names_a_press(store: CRMStore) -> None:
    conversation = "apply-older-button"
    events = [
        customer_says(conversation, "hmm", SENT_AT),
        published(
            conversation,
            BotUttered("Shall I block it?", {"buttons": [BLOCK, PERSON]}, timestamp=SENT_AT + 1),
        ),
        published(conversation, BotUttered("Or say it in your own words.", timestamp=SENT_AT + 2)),
        customer_says(conversation, "/affirm", SENT_AT + 3),
        published(
            conversation, BotUttered("How was it?", {"buttons": [RATING]}, timestamp=SENT_AT + 4)
        ),
        customer_says(conversation, '/csat_score{"score": 5}', SENT_AT + 5),
        customer_says(conversation, "/ask_for_human", SENT_AT + 6),
    ]
    for event in events:
        assert apply_entry(store, CLAIM_KEY, EntryKind.EVENT, event)
    assert stored_texts(store, conversation) == [
        "hmm",
        "Shall I block it?",
        "Or say it in your own words.",
        "Yes",
        "How was it?",
        "😍 5",
        "Talk to a person",
    ]
