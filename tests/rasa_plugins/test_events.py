"""Rasa events become CRM message records; the key makes redelivery idempotent."""

from __future__ import annotations

from bot.buttons import offered_titles
from bot.identity import make_claim
from bot.rasa_plugins.events import event_key, message_from_event

CLAIM_KEY = "events-claim-key"

USER_EVENT = {
    "sender_id": "conv-1",
    "event": "user",
    "timestamp": 1763800000.25,
    "text": "my card ends in 1234",
    "message_id": "m-1",
    "input_channel": "rest",
    "metadata": {"crm_customer": make_claim(CLAIM_KEY, "conv-1", 7)},
    "parse_data": {
        "intent": {"name": "inform", "confidence": 0.93},
        "entities": [
            {
                "entity": "card_last_four",
                "value": "1234",
                "start": 16,
                "end": 20,
                "extractor": "RegexEntityExtractor",
                "processors": ["x"],
            }
        ],
    },
}
BOT_EVENT = {
    "sender_id": "conv-1",
    "event": "bot",
    "timestamp": 1763800000.5,
    "text": "Block it?",
    "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}], "image": None},
    "metadata": {"utter_action": "utter_ask_confirm_block"},
}


def test_a_user_event_carries_intent_confidence_entities_and_customer() -> None:
    record = message_from_event(USER_EVENT, CLAIM_KEY)
    assert record.sender == "customer"
    assert (record.intent, record.confidence) == ("inform", 0.93)
    assert record.entities == [
        {
            "entity": "card_last_four",
            "value": "1234",
            "start": 16,
            "end": 20,
            "extractor": "RegexEntityExtractor",
        }
    ]
    assert (record.customer_id, record.channel, record.rasa_message_id) == (7, "rest", "m-1")
    assert record.created_at.isoformat() == "2025-11-22T08:26:40.250000+00:00"


def test_a_bot_event_keeps_its_buttons() -> None:
    record = message_from_event(BOT_EVENT, CLAIM_KEY)
    assert record.sender == "bot"
    assert record.text == "Block it?"
    assert record.data == {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    assert record.customer_id is None


def test_other_events_are_not_messages() -> None:
    for event in [
        {"sender_id": "c", "event": "action", "timestamp": 1.0, "name": "action_listen"},
        {"sender_id": "c", "event": "slot", "timestamp": 1.0, "name": "x", "value": 1},
        {"event": "user", "timestamp": 1.0, "text": "no sender"},
        {"sender_id": "c", "event": "user", "text": "no timestamp"},
    ]:
        assert message_from_event(event, CLAIM_KEY) is None


def test_the_event_key_is_stable_and_distinguishes_events() -> None:
    assert event_key(dict(USER_EVENT)) == event_key(USER_EVENT)
    assert event_key(USER_EVENT) != event_key(BOT_EVENT)
    later = {**BOT_EVENT, "timestamp": BOT_EVENT["timestamp"] + 0.001}
    assert event_key(later) != event_key(BOT_EVENT)


def test_only_a_claim_for_this_conversation_and_key_names_the_customer() -> None:
    for metadata in (
        {"crm_customer": make_claim("another-key", "conv-1", 7)},
        {"crm_customer": make_claim(CLAIM_KEY, "another-conversation", 7)},
        {"crm_customer": {**make_claim(CLAIM_KEY, "conv-1", 7), "id": 8}},
        {"customer_token": "a client's token is not a claim"},
        {},
    ):
        assert (
            message_from_event({**USER_EVENT, "metadata": metadata}, CLAIM_KEY).customer_id is None
        )


def test_personal_data_is_redacted_before_storage() -> None:
    event = {**USER_EVENT, "text": "mail me at jane.doe@example.com about 4111 1111 1111 1111"}
    record = message_from_event(event, CLAIM_KEY)
    assert record.text == "mail me at [EMAIL] about [CARD ending 1111]"


def test_the_pipelines_sentiment_is_kept_and_computed_only_when_missing() -> None:
    scored = {
        **USER_EVENT,
        "parse_data": {**USER_EVENT["parse_data"], "sentiment": {"compound": -0.4}},
    }
    assert message_from_event(scored, CLAIM_KEY).sentiment == -0.4
    unscored = {**USER_EVENT, "text": "thank you so much, that was great"}
    assert message_from_event(unscored, CLAIM_KEY).sentiment > 0.5


def test_an_internal_trigger_is_not_a_customer_message() -> None:
    """trigger_intent's `EXTERNAL: give_feedback` (the console's rating prompt after resolve)."""
    trigger = {
        "sender_id": "conv-1",
        "event": "user",
        "timestamp": 1763800001.0,
        "text": "EXTERNAL: give_feedback",
        "metadata": {"is_external": True},
        "parse_data": {"intent": {"name": "give_feedback"}},
    }
    assert message_from_event(trigger, CLAIM_KEY) is None


def test_a_pressed_button_is_stored_with_its_label() -> None:
    offered = offered_titles(
        [
            {"title": "😞 1", "payload": '/csat_score{"score": 1}'},
            {"title": "😍 5", "payload": '/csat_score{"score": 5}'},
        ]
    )
    press = {**USER_EVENT, "text": '/csat_score{"score": 5}'}
    assert message_from_event(press, CLAIM_KEY, offered).text == "😍 5"
    assert message_from_event(press, CLAIM_KEY).text == '/csat_score{"score": 5}'
    typed = {**USER_EVENT, "text": "5"}
    assert message_from_event(typed, CLAIM_KEY, offered).text == "5"
    person = {**USER_EVENT, "text": "/ask_for_human"}
    assert message_from_event(person, CLAIM_KEY).text == "Talk to a person"
