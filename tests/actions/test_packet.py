"""The handoff packet as an agent reads it: this handoff only, no internal triggers, fair mood,
and the customer's segment, strategy, risk, channel and cross-sell hints (none to a complainer)."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.packet import build_packet, similar_tickets
from actions.tracker_view import read_tracker
from analytics.thresholds import WITHHELD_AT_RISK, WITHHELD_COMPLAINING
from bot.crm.enums import HandoffReason
from bot.crm.store import CRMStore
from tests.crm.test_customer_view import HOME, MORTGAGE, T0, add, customers, rule, run


class NoSimilarTickets:
    """Stands in for the ticket index: the packet's other parts are under test."""

    def query(self, text: str, k: int) -> list[dict]:
        return []


def user(text: str, intent: str, **metadata) -> dict:
    parse_data = {"intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata}


def bot(text: str, buttons: list[dict] | None = None) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": buttons} if buttons else {}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


RATING_BUTTONS = [{"title": "Great", "payload": '/csat_score{"score": 5}'}]
FIRST_HANDOFF = [
    user("my card was declined at the shop", "card_declined"),
    action("utter_card_declined"),
    bot("Sorry about that. Card payments can be declined for several reasons."),
    user("agent", "ask_for_human"),
    action("action_handoff"),
    {"event": "pause"},
    {"event": "resume"},
    action("action_listen"),
    user("EXTERNAL: give_feedback", "give_feedback", is_external=True),
    action("utter_ask_rating"),
    bot("How would you rate the help you got?", RATING_BUTTONS),
    user('/csat_score{"score": 5}', "csat_score"),
    action("action_record_csat"),
    bot("Thanks for your rating!"),
]


def packet(
    events: list[dict],
    store: CRMStore,
    customer_id: int | None = None,
    reason: HandoffReason = HandoffReason.CUSTOMER_REQUEST,
) -> dict:
    tracker = Tracker(
        sender_id="conv-packet",
        slots={},
        latest_message=events[-1] if events[-1]["event"] == "user" else {},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    view = read_tracker(tracker)
    return build_packet(view, reason, customer_id, store, NoSimilarTickets(), frozenset())


def test_a_second_handoff_covers_only_what_came_after_the_first(store: CRMStore) -> None:
    second = FIRST_HANDOFF + [
        user("I want to change my address", "change_address"),
        action("utter_change_address"),
        bot("You can change your address in the app under Profile."),
        user("can I speak to an agent please", "ask_for_human"),
    ]
    result = packet(second, store)
    assert "declined" not in result["summary"]
    assert "address" in result["summary"]
    assert [i["intent"] for i in result["intents"]] == [
        "csat_score",
        "change_address",
        "ask_for_human",
    ]
    assert [a["intent"] for a in result["bot_attempts"]] == ["csat_score", "change_address"]


def test_the_rating_trigger_is_neither_an_intent_nor_a_bot_attempt(store: CRMStore) -> None:
    result = packet(FIRST_HANDOFF, store)
    assert "give_feedback" not in [i["intent"] for i in result["intents"]]
    assert "give_feedback" not in [a["intent"] for a in result["bot_attempts"]]
    assert "EXTERNAL" not in result["summary"]


def test_a_pressed_button_reads_as_its_label() -> None:
    view = read_tracker(Tracker("c", {}, {}, FIRST_HANDOFF, False, None, {}, "action_listen"))
    assert "Great" in view.current.customer_texts
    assert not any(text.startswith("/") for text in view.customer_texts)


def test_an_older_button_or_a_typed_payload_reads_as_a_title_not_a_payload(
    store: CRMStore,
) -> None:
    """The disambiguation question's buttons, then another bot message without any: the
    customer scrolls up and presses "Talk to a person". Then the payload typed by hand."""
    person = {"title": "Talk to a person", "payload": "/ask_for_human"}
    pressed_late = [
        user("money missing", "card_payment_not_recognised"),
        bot("Did you mean a transfer or a card payment?", [person]),
        bot("Or tell me more in your own words."),
        user("/ask_for_human", "ask_for_human"),
    ]
    typed = [
        user("my card is lost", "lost_or_stolen_card"),
        user("/ask_for_human", "ask_for_human"),
    ]
    for events in (pressed_late, typed):
        view = read_tracker(Tracker("c", {}, {}, events, False, None, {}, "action_listen"))
        assert view.customer_texts[-1] == "Talk to a person"
        assert "/" not in packet(events, store)["summary"]
    # An older question's button never names a later press: "/affirm" under another question
    # is a plain yes, not "Yes, block it".
    block = {"title": "Yes, block it", "payload": "/affirm"}
    later = [
        bot("Shall I block the card ending in 1234?", [block]),
        user("/deny", "deny"),
        bot("OK, I won't block it."),
        user("/affirm", "affirm"),
    ]
    view = read_tracker(Tracker("c", {}, {}, later, False, None, {}, "action_listen"))
    assert view.customer_texts == ("No", "Yes")


def test_a_polite_request_for_an_agent_is_not_worsening_frustration(store: CRMStore) -> None:
    polite = [
        user("hello", "greet"),
        action("utter_greet"),
        bot("Hi! How can I help?"),
        user("can I speak to an agent please", "ask_for_human"),
    ]
    mood = packet(polite, store)["sentiment_trend"]
    assert mood["trend"] != "worsening"
    assert max(mood["frustration"]) == 0.0
    assert packet(polite, store)["summary"] == "The customer asks to speak to an agent."


def test_an_angry_request_for_an_agent_still_shows_frustration(store: CRMStore) -> None:
    angry = [
        user("hello", "greet"),
        bot("Hi! How can I help?"),
        user("this is useless, I told you already, get me a human now", "ask_for_human"),
    ]
    mood = packet(angry, store)["sentiment_trend"]
    assert mood["trend"] == "worsening"
    assert max(mood["frustration"]) > 0.35


CALM = [
    user("hello", "greet"),
    bot("Hi! How can I help?"),
    user("can I speak to an agent please", "ask_for_human"),
]


def test_the_customer_card_carries_segment_strategy_risk_channel_and_hints(
    store: CRMStore,
) -> None:
    customers(store)
    add(store, rule(run(store, "rules", T0), [MORTGAGE], [HOME], 0.8, 2.5))

    card = packet(CALM, store, customer_id=1)["customer"]

    assert {key: card[key] for key in ("id", "name", "segment", "segment_id")} == {
        "id": 1,
        "name": "Ann Lee",
        "segment": "Loyal, high value",
        "segment_id": 10,
    }
    assert card["segment_description"].startswith("Long-standing")
    assert card["strategy"]["tone"] == "warm" and card["strategy"]["handoff_threshold"] == 0.45
    assert card["risk"]["score"] == 0.12
    assert card["preferred_channel"] == {"channel": "phone", "confidence": 0.82}
    assert card["cross_sell"] == {
        "hints": [{"product": HOME, "because": [MORTGAGE], "confidence": 0.8, "lift": 2.5}],
        "withheld": None,
    }
    assert packet(CALM, store)["customer"] is None, "anonymous"
    assert packet(CALM, store, customer_id=999)["customer"] is None, "unknown"


def test_no_hints_for_a_complaining_or_at_risk_customer(store: CRMStore) -> None:
    customers(store)
    add(store, rule(run(store, "rules", T0), [MORTGAGE], [HOME], 0.8, 2.5))
    angry = [
        user("hello", "greet"),
        bot("Hi! How can I help?"),
        user("this is useless, I told you already, get me a human now", "ask_for_human"),
    ]
    complaint = [user("I was charged twice for one coffee", "transaction_charged_twice")]
    withheld = {"hints": [], "withheld": WITHHELD_COMPLAINING}

    assert packet(angry, store, customer_id=1)["customer"]["cross_sell"] == withheld
    assert packet(complaint, store, customer_id=1)["customer"]["cross_sell"] == withheld
    by_strategy = packet(CALM, store, customer_id=1, reason=HandoffReason.SEGMENT_STRATEGY)
    assert by_strategy["customer"]["cross_sell"] == withheld
    at_risk = packet(CALM, store, customer_id=2)["customer"]
    assert at_risk["cross_sell"] == {"hints": [], "withheld": WITHHELD_AT_RISK}
    assert at_risk["segment"] == "High value, at risk" and at_risk["strategy"]["priority"] == 1


def test_a_handoff_gets_its_packet_when_the_ticket_index_cannot_answer(
    seeded_store: CRMStore, tmp_path, monkeypatch, caplog
) -> None:
    import nlp.intent
    from bot.crm.ticket_search import TicketSearch
    from nlp.encoder import ModelFilesError

    search = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    search.rebuild()
    assert similar_tickets(search, "my top up keeps failing")

    def no_encoder() -> None:
        raise ModelFilesError("the model package is not installed")

    monkeypatch.setattr(nlp.intent, "shared_encoder", no_encoder)
    assert similar_tickets(search, "my top up keeps failing") == []
    assert "the index did not answer" in caplog.text
