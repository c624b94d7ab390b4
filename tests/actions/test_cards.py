"""The lost-card form and card answers over a seeded CRM: every detour, and what the CRM holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.card_rules import (
    card_name,
    card_words,
    cards_named,
    delivery_answer,
    side_question_response,
)
from actions.cards import ActionBlockCard, ActionCardStatus
from actions.handoff import ActionHandoff
from actions.lost_card_form import (
    ActionAskCardLastFour,
    ActionAskConfirmBlock,
    ActionLostCardFrustration,
    ValidateLostCardForm,
    reset_form_slots,
)
from actions.transactions import ActionRecentTransactions
from bot.crm.enums import CardStatus, TicketStatus
from bot.crm.store import CardInfo, CRMStore
from nlp.reactions import hesitates
from tests.actions.test_actions import claim, run
from tests.crm_queries import tickets_for_conversation

CONVERSATION = "conv-actions"
RESPONSES = {
    "responses": {"utter_change_pin": [], "utter_greet": [], "utter_ask_card_last_four": []}
}
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def tracker(
    customer_id: int | None = None,
    slots: dict | None = None,
    text: str = "hi",
    intent: str = "inform",
    history: tuple[str, ...] = (),
) -> Tracker:
    """A conversation whose latest message is `text` with `intent`, signed in or not."""
    metadata = claim(customer_id) if customer_id else {}
    events = [
        {
            "event": "user",
            "text": said,
            "timestamp": 1.0 + i,
            "metadata": metadata,
            "parse_data": {"intent": {"name": "lost_or_stolen_card", "confidence": 1.0}},
        }
        for i, said in enumerate(history)
    ]
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text}
    events.append(
        {
            "event": "user",
            "text": text,
            "timestamp": 9.0,
            "metadata": metadata,
            "parse_data": latest,
        }
    )
    return Tracker(
        sender_id=CONVERSATION,
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "lost_card_form"},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


def own_card(store: CRMStore, customer_id: int = 1) -> CardInfo:
    return next(c for c in store.customers.cards(customer_id) if c.status != CardStatus.BLOCKED)


def card(last_four: str, status: CardStatus, due_in_days: int | None, brand: str = "visa"):
    due = None if due_in_days is None else NOW + timedelta(days=due_in_days)
    return CardInfo(1, last_four, brand, "physical", status, NOW - timedelta(days=1), due)


# ----------------------------------------------------------------- card answers (case 9)


def test_cards_are_named_the_way_customers_say_them() -> None:
    visa = card("1111", CardStatus.SHIPPED, 3)
    assert card_name(replace(visa, brand="mastercard")) == "Mastercard"
    assert card_name(visa) == "Visa card"
    assert card_name(replace(visa, kind="virtual")) == "virtual Visa card"


def test_no_active_card_is_said_in_words() -> None:
    [line] = delivery_answer([card("1111", CardStatus.BLOCKED, None)], NOW)
    assert (
        line == "You have no card on its way at the moment. You have no active card at the moment."
    )
    [line] = delivery_answer([card("2222", CardStatus.ACTIVE, None)], NOW)
    assert line.endswith("Your active cards end in 2222.")


def test_the_usual_delivery_time_is_not_quoted_for_a_late_card() -> None:
    late = delivery_answer([card("1111", CardStatus.SHIPPED, -90, "mastercard")], NOW)
    assert late[0].startswith("Your Mastercard ending in 1111 should have arrived by")
    assert not any("5 to 9 working days" in line for line in late)
    on_time = delivery_answer([card("1111", CardStatus.SHIPPED, 3)], NOW)
    assert on_time[-1] == "New cards usually arrive within 5 to 9 working days."


async def test_pending_payments_are_mentioned_only_when_one_is_pending(
    seeded_store: CRMStore, monkeypatch
) -> None:
    payments = seeded_store.customers.recent_card_payments(1, limit=5)
    for status, mentioned in (("completed", False), ("pending", True)):
        listed = [{**p, "status": status} for p in payments]
        monkeypatch.setattr(
            type(seeded_store.customers),
            "recent_card_payments",
            lambda *_a, listed=listed, **_k: listed,
        )
        _, dispatcher = await run(ActionRecentTransactions(), tracker(1))
        texts = " ".join(m["text"] for m in dispatcher.messages)
        assert ("pending payment" in texts) is mentioned
        assert "tell me your card is compromised" in texts


# --------------------------------------------------------------- the form's answers (case 4)


async def validate_digits(value, tracker_: Tracker, domain=RESPONSES):
    dispatcher = CollectingDispatcher()
    result = await ValidateLostCardForm().validate_card_last_four(
        value, dispatcher, tracker_, domain
    )
    return result, responses(dispatcher)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1234", "1234"), ("it ends in 9876 I think", "9876"), ("12345", None), ("yes", None)],
)
async def test_anonymous_card_digits_need_exactly_four_digits(
    seeded_store: CRMStore, value: str, expected: str | None
) -> None:
    asked = tracker(slots={"requested_slot": "card_last_four"}, text=value)
    result, said = await validate_digits(value, asked)
    assert result["card_last_four"] == expected
    assert said == ([] if expected else ["utter_invalid_card_digits"])


async def test_a_known_customer_must_name_one_of_their_cards(seeded_store: CRMStore) -> None:
    own = own_card(seeded_store).last_four
    mine = {c.last_four for c in seeded_store.customers.cards(1)}
    foreign = next(f"{n:04d}" for n in range(10000) if f"{n:04d}" not in mine)
    asking = {"requested_slot": "card_last_four"}
    assert (await validate_digits(own, tracker(1, asking, own)))[0]["card_last_four"] == own
    result, said = await validate_digits(foreign, tracker(1, asking, foreign))
    assert (result, said) == ({"card_last_four": None}, ["utter_card_not_found"])


async def test_a_side_question_is_answered_and_not_counted(seeded_store: CRMStore) -> None:
    asked = tracker(slots={"requested_slot": "card_last_four"}, text="PIN?", intent="change_pin")
    result, said = await validate_digits("PIN?", asked)
    assert (result, said) == ({"card_last_four": None}, ["utter_change_pin"])


async def test_where_is_my_card_is_answered_from_the_crm_in_the_form(
    seeded_store: CRMStore,
) -> None:
    asked = tracker(1, {"requested_slot": "card_last_four"}, "where is my card", "card_arrival")
    dispatcher = CollectingDispatcher()
    result = await ValidateLostCardForm().validate_card_last_four(
        "where is my card", dispatcher, asked, RESPONSES
    )
    assert result == {"card_last_four": None}
    expected = delivery_answer(seeded_store.customers.cards(1), datetime.now(timezone.utc))
    assert [m["text"] for m in dispatcher.messages] == expected


async def test_repeated_failures_offer_a_person(seeded_store: CRMStore) -> None:
    first = tracker(slots={"requested_slot": "card_last_four"}, text="hmm", intent="nlu_fallback")
    result, said = await validate_digits("hmm", first)
    assert (result["lost_card_failures"], said) == (1, ["utter_invalid_card_digits"])
    second = tracker(slots={"requested_slot": "card_last_four", "lost_card_failures": 1}, text="?")
    result, said = await validate_digits("?", second)
    assert (result["lost_card_failures"], said) == (2, ["utter_lost_card_offer_person"])


async def test_a_card_left_from_an_earlier_report_is_asked_again(seeded_store: CRMStore) -> None:
    opening = tracker(1, {"card_last_four": "4821"}, "I lost my card", "lost_or_stolen_card")
    assert await validate_digits("4821", opening) == ({"card_last_four": None}, [])


async def test_an_already_blocked_card_ends_the_report_without_a_failure(
    seeded_store: CRMStore,
) -> None:
    digits = own_card(seeded_store).last_four
    seeded_store.customers.block_and_replace(1, digits, reason="test")
    left = {"card_last_four": None, "lost_card_failures": None, "requested_slot": None}
    asking = {"requested_slot": "card_last_four", "lost_card_failures": 1}
    said = await validate_digits(digits, tracker(1, asking, digits))
    assert said == (left, ["utter_card_already_blocked"])
    unblock = f"oh no, can you unblock {digits}?"
    said = await validate_digits(digits, tracker(1, asking, unblock, "card_not_working"))
    assert said == (left, ["utter_card_block_permanent"])
    opening = await validate_digits(
        digits, tracker(1, {}, f"I lost {digits}", "lost_or_stolen_card")
    )
    assert opening == (left, ["utter_card_already_blocked"])


@pytest.mark.parametrize(
    "text", ["wait", "hang on, let me check", "hmm let me think", "one moment"]
)
async def test_hesitation_is_not_a_failed_answer(seeded_store: CRMStore, text: str) -> None:
    assert hesitates(text)
    asking = {"requested_slot": "card_last_four", "lost_card_failures": 1}
    said = await validate_digits(text, tracker(1, asking, text, "nlu_fallback"))
    assert said == ({"card_last_four": None}, ["utter_take_your_time"])
    confirming = {"requested_slot": "confirm_block", "block_card_asked": "4821"}
    result, said = await validate_yes_no(text, {**confirming, "card_last_four": "4821"}, text)
    assert (result, said) == ({"confirm_block": None}, ["utter_take_your_time"])


def test_hmm_alone_is_not_hesitation() -> None:
    assert not hesitates("hmm")


NAMED_CARDS = [
    CardInfo(1, "2471", "mastercard", "physical", CardStatus.SHIPPED, NOW, NOW),
    CardInfo(2, "5991", "visa", "physical", CardStatus.ACTIVE, None, None),
    CardInfo(3, "8080", "visa", "virtual", CardStatus.ACTIVE, None, None),
    CardInfo(4, "1111", "mastercard", "virtual", CardStatus.BLOCKED, None, None),
]


def test_a_card_is_named_by_brand_and_kind() -> None:
    def named(text: str) -> list[str]:
        words = card_words(text)
        return [] if words is None else [c.last_four for c in cards_named(NAMED_CARDS, words)]

    assert named("the mastercard") == ["2471"]
    assert named("no the virtual one") == ["8080"]
    assert named("the physical one") == ["2471", "5991"]
    assert named("my visa card") == ["5991", "8080"]
    assert named("the virtual mastercard") == []
    assert card_words("the one I use most") is None


@pytest.fixture
def named_cards(seeded_store: CRMStore, monkeypatch) -> None:
    monkeypatch.setattr(type(seeded_store.customers), "cards", lambda *_a: NAMED_CARDS)


@pytest.mark.parametrize(
    ("text", "digits"), [("the mastercard", "2471"), ("the virtual one", "8080")]
)
async def test_a_card_named_by_brand_or_kind_is_taken_as_its_digits(
    named_cards: None, text: str, digits: str
) -> None:
    asking = {"requested_slot": "card_last_four", "lost_card_failures": 1}
    said = await validate_digits(text, tracker(1, asking, text, "card_not_working"))
    assert said == ({"card_last_four": digits, "lost_card_failures": None}, [])


async def test_several_cards_fitting_the_words_are_listed(named_cards: None) -> None:
    dispatcher = CollectingDispatcher()
    asking = tracker(1, {"requested_slot": "card_last_four"}, "the physical one", "inform")
    result = await ValidateLostCardForm().validate_card_last_four(
        "the physical one", dispatcher, asking, RESPONSES
    )
    assert result == {"card_last_four": None}
    [message] = dispatcher.messages
    assert (message["response"], message["card_choices"]) == ("utter_which_card", "2471 or 5991")


async def test_a_card_named_at_the_confirmation_replaces_the_one_asked_about(
    named_cards: None,
) -> None:
    asked = {
        "requested_slot": "confirm_block",
        "block_card_asked": "2471",
        "card_last_four": "2471",
    }
    dispatcher = CollectingDispatcher()
    result = await ValidateLostCardForm().validate_confirm_block(
        False, dispatcher, tracker(1, asked, "no the virtual one", "deny"), RESPONSES
    )
    assert (result, dispatcher.messages) == ({"card_last_four": "8080", "confirm_block": None}, [])
    yes = await ValidateLostCardForm().validate_confirm_block(
        True, dispatcher, tracker(1, asked, "yes, the mastercard", "affirm"), RESPONSES
    )
    assert yes == {"confirm_block": True, "lost_card_failures": None}


async def validate_yes_no(value, slots: dict, text: str = "yes"):
    dispatcher = CollectingDispatcher()
    result = await ValidateLostCardForm().validate_confirm_block(
        value, dispatcher, tracker(1, slots, text, "affirm"), RESPONSES
    )
    return result, responses(dispatcher)


async def test_only_a_yes_about_the_card_just_named_confirms() -> None:
    asked = {"requested_slot": "confirm_block", "block_card_asked": "4821"}
    named = {**asked, "card_last_four": "4821"}
    assert (await validate_yes_no(True, named))[0]["confirm_block"] is True
    assert (await validate_yes_no(False, named))[0]["confirm_block"] is False
    corrected = {**asked, "card_last_four": "7421"}
    for answer in (True, False):
        assert await validate_yes_no(answer, corrected, "no, 7421") == ({"confirm_block": None}, [])
    not_asked = {"card_last_four": "4821", "block_card_asked": "4821"}
    assert (await validate_yes_no(True, not_asked))[0] == {"confirm_block": None}


async def test_anything_but_yes_or_no_at_the_confirmation_is_asked_again() -> None:
    named = {
        "requested_slot": "confirm_block",
        "block_card_asked": "4821",
        "card_last_four": "4821",
    }
    result, said = await validate_yes_no("hmm", named, "hmm")
    assert (result["confirm_block"], said) == (None, ["utter_answer_yes_or_no"])


async def test_a_signed_out_customer_is_never_asked_to_confirm_a_block(
    seeded_store: CRMStore,
) -> None:
    form = ValidateLostCardForm()
    slots = ["card_last_four", "confirm_block"]
    dispatcher = CollectingDispatcher()
    assert await form.required_slots(slots, dispatcher, tracker(), {}) == ["card_last_four"]
    assert await form.required_slots(slots, dispatcher, tracker(1), {}) == slots


async def test_only_the_first_question_says_sorry_and_the_confirmation_names_the_card() -> None:
    events, dispatcher = await run(ActionAskCardLastFour(), tracker())
    assert responses(dispatcher) == ["utter_ask_card_last_four"]
    assert events == [SlotSet("block_card_asked", None), SlotSet("lost_card_failures", None)]
    again = tracker(slots={"requested_slot": "card_last_four"})
    assert responses((await run(ActionAskCardLastFour(), again))[1]) == [
        "utter_ask_card_last_four_again"
    ]
    events, dispatcher = await run(
        ActionAskConfirmBlock(), tracker(slots={"card_last_four": "4821"})
    )
    assert events == [SlotSet("block_card_asked", "4821")]
    assert dispatcher.messages[0]["card_last_four"] == "4821"


# -------------------------------------------- blocking: only on a just-given yes (cases 1, 3, 5)


def confirmed(last_four: str) -> dict:
    return {"card_last_four": last_four, "confirm_block": True, "block_card_asked": last_four}


async def test_blocking_a_known_customers_card_orders_its_replacement(
    seeded_store: CRMStore,
) -> None:
    card_ = own_card(seeded_store)
    yes = tracker(1, confirmed(card_.last_four), "yes", "affirm", ("I lost my card",))
    events, dispatcher = await run(ActionBlockCard(), yes)
    assert events == reset_form_slots()
    cards = seeded_store.customers.cards(1)
    assert next(c for c in cards if c.id == card_.id).status == CardStatus.BLOCKED
    replacement = cards[0]
    assert replacement.id != card_.id and replacement.brand == card_.brand
    [message] = dispatcher.messages
    assert message["new_last_four"] == replacement.last_four
    [ticket] = tickets_for_conversation(seeded_store, CONVERSATION)
    assert (ticket["kind"], ticket["status"], ticket["customer_id"]) == ("lost_card", "resolved", 1)
    if replacement.status == CardStatus.ORDERED:
        assert message["response"] == "utter_card_blocked"
        _, status = await run(ActionCardStatus(), tracker(1, text="where is my card"))
        assert f"ending in {replacement.last_four} has been ordered" in status.messages[0]["text"]


@pytest.mark.parametrize(
    ("slots", "intent"),
    [
        ("confirmed", "inform"),  # a yes left in the slot, but the latest message is no yes
        ("other_card", "affirm"),  # a yes, but the question named another card
        ("declined", "deny"),
    ],
)
async def test_no_card_is_blocked_without_a_just_given_yes(
    seeded_store: CRMStore, slots: str, intent: str
) -> None:
    digits = own_card(seeded_store).last_four
    values = {
        "confirmed": confirmed(digits),
        "other_card": {**confirmed(digits), "block_card_asked": "0000"},
        "declined": {**confirmed(digits), "confirm_block": False},
    }[slots]
    before = seeded_store.customers.cards(1)
    events, dispatcher = await run(ActionBlockCard(), tracker(1, values, "ok", intent))
    assert events == reset_form_slots()
    assert responses(dispatcher) == ["utter_block_cancelled"]
    assert seeded_store.customers.cards(1) == before
    assert tickets_for_conversation(seeded_store, CONVERSATION) == []


async def test_a_report_the_form_ended_without_a_card_adds_no_cancel_message(
    seeded_store: CRMStore,
) -> None:
    """The form ends on an already blocked card having said so; "I haven't blocked anything"
    after "it is already blocked" would only confuse."""
    before = seeded_store.customers.cards(1)
    events, dispatcher = await run(ActionBlockCard(), tracker(1, {}, "5991", "inform"))
    assert events == reset_form_slots()
    assert responses(dispatcher) == []
    assert seeded_store.customers.cards(1) == before


async def test_a_signed_out_customers_report_goes_to_a_person_urgently(
    seeded_store: CRMStore,
) -> None:
    report = tracker(None, {"card_last_four": "4321"}, "4321", "inform", ("I lost my card",))
    events, dispatcher = await run(ActionBlockCard(), report)
    assert events == [*reset_form_slots(), ConversationPaused()]
    assert responses(dispatcher) == ["utter_lost_card_to_person", "utter_handoff"]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert (handoff["conversation_id"], handoff["customer_id"]) == (CONVERSATION, None)
    assert handoff["priority"] == 1
    assert handoff["text"] == "I lost my card\n4321"
    assert handoff["packet"]["slots"]["card_last_four"] == "4321"
    assert [t["kind"] for t in tickets_for_conversation(seeded_store, CONVERSATION)] == ["handoff"]


def test_side_questions_are_banking_answers_only() -> None:
    assert side_question_response("change_pin", RESPONSES["responses"]) == "utter_change_pin"
    assert side_question_response("greet", RESPONSES["responses"]) is None
    assert side_question_response("card_arrival", RESPONSES["responses"]) is None


@pytest.mark.parametrize("hands_over", [True, False])
async def test_frustration_in_the_form_ends_it_only_with_a_handoff(monkeypatch, hands_over) -> None:
    async def decided(self, dispatcher, tracker_, domain):
        return [ConversationPaused()] if hands_over else []

    monkeypatch.setattr(ActionHandoff, "run", decided)
    events, _ = await run(ActionLostCardFrustration(), tracker(1, intent="frustrated"))
    if hands_over:
        assert events == [ActiveLoop(None), SlotSet("requested_slot", None), ConversationPaused()]
    else:
        assert events == [ActiveLoop("lost_card_form")]
