"""The NLU inbox: what it collects, how it groups, and the rules of labelling and training."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any

import pytest

from bot.crm.enums import InboxSource, InboxStatus, JobTrigger, Sender, StaffRole
from bot.crm.store import Conflict, CRMStore, NotFound
from bot.crm.store.nlu_inbox import LATE_DELIVERY, InboxStore
from bot.crm.store.records import MessageRecord

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
_keys = count()


def say(
    store: CRMStore,
    conversation: str,
    sender: Sender,
    text: str | None,
    at: datetime,
    intent: str | None = None,
    confidence: float | None = None,
) -> None:
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation,
            event_key=f"k{next(_keys)}",
            seq=at.timestamp(),
            sender=sender,
            text=text,
            created_at=at,
            channel="web",
            intent=intent if sender == Sender.CUSTOMER else None,
            confidence=confidence if sender == Sender.CUSTOMER else None,
        )
    )


@pytest.fixture
def inbox(store: CRMStore) -> InboxStore:
    return InboxStore(store.engine)


@pytest.fixture
def supervisor(store: CRMStore) -> int:
    return store.staff.create("super", "password-123", StaffRole.SUPERVISOR).id


def texts(items: list[dict[str, Any]]) -> list[str]:
    return [item["text"] for item in items]


def open_items(inbox: InboxStore) -> list[dict[str, Any]]:
    return sorted(
        (item for g in inbox.groups() for item in g["items"]), key=lambda item: item["message_id"]
    )


def test_collect_takes_fallbacks_and_unsure_answers_from_customers_only(
    store: CRMStore, inbox: InboxStore
) -> None:
    at = T0
    say(store, "c1", Sender.CUSTOMER, "my card never came", at, "nlu_fallback", 0.59)
    say(store, "c1", Sender.BOT, "Sorry, could you rephrase?", at + timedelta(seconds=1))
    say(
        store,
        "c1",
        Sender.CUSTOMER,
        "the plastic one",
        at + timedelta(seconds=2),
        "card_arrival",
        0.65,
    )
    say(
        store,
        "c1",
        Sender.CUSTOMER,
        "where is my card",
        at + timedelta(seconds=3),
        "card_arrival",
        0.7,
    )
    say(store, "c1", Sender.CUSTOMER, "   ", at + timedelta(seconds=4), "nlu_fallback", 0.59)
    say(store, "c1", Sender.CUSTOMER, None, at + timedelta(seconds=5), "nlu_fallback", 0.59)
    # Rule components' own scores are not the intent model's doubt.
    say(
        store,
        "c1",
        Sender.CUSTOMER,
        "this is useless",
        at + timedelta(seconds=6),
        "frustrated",
        0.2,
    )
    say(
        store, "c1", Sender.CUSTOMER, "hola amigo", at + timedelta(seconds=7), "other_language", 0.4
    )

    assert inbox.collect(now=T0 + timedelta(minutes=1)) == 2
    items = open_items(inbox)
    assert texts(items) == ["my card never came", "the plastic one"]
    fallback, unsure = items
    assert (fallback["source"], fallback["predicted_intent"]) == (
        InboxSource.FALLBACK,
        "nlu_fallback",
    )
    assert (unsure["source"], unsure["confidence"]) == (InboxSource.LOW_CONFIDENCE, 0.65)
    assert unsure["status"] == InboxStatus.OPEN
    assert (unsure["conversation_id"], unsure["customer_id"]) == ("c1", None)
    assert inbox.collect(now=T0 + timedelta(minutes=2)) == 0


def test_collect_reads_on_from_its_watermark_with_room_for_late_messages(
    store: CRMStore, inbox: InboxStore
) -> None:
    say(store, "c1", Sender.CUSTOMER, "first doubt", T0, "nlu_fallback", 0.59)
    assert inbox.collect(now=T0 + timedelta(hours=3)) == 1
    # Delivered late with an older time, but within the re-read window: still collected.
    late = T0 + timedelta(hours=3) - LATE_DELIVERY + timedelta(minutes=5)
    say(store, "c2", Sender.CUSTOMER, "late doubt", late, "nlu_fallback", 0.59)
    # Older than the window: the watermark has passed it.
    say(
        store, "c3", Sender.CUSTOMER, "lost doubt", T0 + timedelta(minutes=30), "nlu_fallback", 0.59
    )
    # Not yet happened at `now`: left for the next collection.
    say(store, "c4", Sender.CUSTOMER, "future doubt", T0 + timedelta(hours=5), "nlu_fallback", 0.59)
    assert inbox.collect(now=T0 + timedelta(hours=4)) == 1
    assert texts(open_items(inbox)) == ["first doubt", "late doubt"]
    assert inbox.collect(now=T0 + timedelta(hours=6)) == 1
    assert "future doubt" in texts(open_items(inbox))


def test_a_reviewed_conversation_adds_the_messages_the_bot_answered(
    store: CRMStore, inbox: InboxStore
) -> None:
    lines = [
        (Sender.CUSTOMER, "hi", "greet", 0.99),
        (Sender.CUSTOMER, "card got eaten by the atm", "card_not_working", 0.8),
        (Sender.BOT, "I can help with a card that does not work.", None, None),
        (Sender.CUSTOMER, "no, the machine kept it", "nlu_fallback", 0.59),
        (Sender.BOT, "Sorry, I didn't get that.", None, None),
        (Sender.CUSTOMER, "a person please", "ask_for_human", 0.97),
        (Sender.AGENT, "Hello, I am Sam.", None, None),
        (Sender.CUSTOMER, "", "nlu_fallback", 0.59),
        (Sender.CUSTOMER, "thanks Sam", "thanks", 0.9),
    ]
    for offset, (sender, text, intent, confidence) in enumerate(lines):
        say(store, "c1", sender, text, T0 + timedelta(seconds=offset), intent, confidence)
    inbox.collect(now=T0 + timedelta(minutes=1))
    assert texts(open_items(inbox)) == ["no, the machine kept it"]

    assert inbox.add_from_conversation("c1") == 2
    items = open_items(inbox)
    assert texts(items) == ["hi", "card got eaten by the atm", "no, the machine kept it"]
    # Already in the inbox from collection: kept once, with its first source.
    assert [item["source"] for item in items] == [
        InboxSource.REVIEW,
        InboxSource.REVIEW,
        InboxSource.FALLBACK,
    ]
    assert inbox.add_from_conversation("c1") == 0
    with pytest.raises(NotFound):
        inbox.add_from_conversation("no-such-conversation")


def test_groups_put_look_alikes_together_with_a_suggestion(
    store: CRMStore, inbox: InboxStore
) -> None:
    said = [
        ("my card has not arrived", "card_arrival", 0.6),
        ("card still not arrived", "card_arrival", 0.62),
        ("when will my card arrive", "card_delivery_estimate", 0.61),
        ("what is the exchange rate for euros", "exchange_rate", 0.6),
    ]
    for offset, (text, intent, confidence) in enumerate(said):
        say(
            store,
            f"c{offset}",
            Sender.CUSTOMER,
            text,
            T0 + timedelta(seconds=offset),
            intent,
            confidence,
        )
    inbox.collect(now=T0 + timedelta(minutes=1))
    groups = inbox.groups()
    assert [g["size"] for g in groups] == [3, 1]
    assert groups[0]["suggested_intent"] == "card_arrival"
    assert groups[0]["key"] == str(groups[0]["items"][0]["id"])
    assert groups[1]["suggested_intent"] == "exchange_rate"
    assert inbox.groups(InboxStatus.LABELLED) == []
    assert len(inbox.groups(limit=1)) == 1
    with pytest.raises(ValueError, match="status must be one of"):
        inbox.groups("pending")
    with pytest.raises(ValueError, match="limit"):
        inbox.groups(limit=0)


def collected(store: CRMStore, inbox: InboxStore, *texts_: str) -> list[int]:
    for offset, text in enumerate(texts_):
        say(
            store,
            f"x{offset}",
            Sender.CUSTOMER,
            text,
            T0 + timedelta(seconds=offset),
            "nlu_fallback",
            0.59,
        )
    inbox.collect(now=T0 + timedelta(minutes=1))
    return [item["id"] for item in open_items(inbox)]


def test_labels_with_domain_and_new_intents(
    store: CRMStore, inbox: InboxStore, supervisor: int
) -> None:
    first, second, third, fourth = collected(
        store, inbox, "my card is late", "card colour options?", "pick a card colour", "refund gone"
    )
    known = inbox.label(first, supervisor, " card_arrival ", "")
    assert (known["status"], known["intent"], known["response"]) == (
        InboxStatus.LABELLED,
        "card_arrival",
        None,
    )
    assert known["labelled_by"] == supervisor and known["labelled_at"]
    # The domain's own spelling of an intent is accepted even outside the new-name rule.
    assert inbox.label(fourth, supervisor, "Refund_not_showing_up", None)["intent"] == (
        "Refund_not_showing_up"
    )
    with pytest.raises(ValueError, match="new .* give the response"):
        inbox.label(second, supervisor, "card_colour", None)
    new = inbox.label(second, supervisor, "card_colour", "Our cards come in blue and black.")
    assert new["response"] == "Our cards come in blue and black."
    # The new intent has its response now; later look-alikes need not repeat it.
    assert inbox.label(third, supervisor, "card_colour", None)["response"] is None
    # Relabelling until trained; the only response-bearing label cannot drop its response.
    with pytest.raises(ValueError, match="give the response"):
        inbox.label(second, supervisor, "card_colour", " ")
    assert inbox.label(first, supervisor, "card_delivery_estimate", None)["intent"] == (
        "card_delivery_estimate"
    )
    assert inbox.training_labels() == [
        {
            "id": first,
            "text": "my card is late",
            "intent": "card_delivery_estimate",
            "response": None,
        },
        {
            "id": second,
            "text": "card colour options?",
            "intent": "card_colour",
            "response": "Our cards come in blue and black.",
        },
        {"id": third, "text": "pick a card colour", "intent": "card_colour", "response": None},
        {"id": fourth, "text": "refund gone", "intent": "Refund_not_showing_up", "response": None},
    ]


@pytest.mark.parametrize(
    ("intent", "message"),
    [
        ("Card_Colour", "must be 2-60 characters"),
        ("card colour", "must be 2-60 characters"),
        ("c", "must be 2-60 characters"),
        ("1card", "must be 2-60 characters"),
        ("card-colour", "must be 2-60 characters"),
        ("a" * 61, "must be 2-60 characters"),
        ("", "must be 2-60 characters"),
        ("card_colour\n", None),
        ("nlu_fallback", "Rasa's own intents"),
        ("session_start", "Rasa's own intents"),
    ],
)
def test_bad_intent_names_are_refused_clearly(
    store: CRMStore, inbox: InboxStore, supervisor: int, intent: str, message: str | None
) -> None:
    [item] = collected(store, inbox, "what colours do cards come in")
    if message is None:  # surrounding whitespace is trimmed, not an error
        assert inbox.label(item, supervisor, intent, "Blue and black.")["intent"] == "card_colour"
        return
    with pytest.raises(ValueError, match=message):
        inbox.label(item, supervisor, intent, "Blue and black.")
    assert open_items(inbox)[0]["status"] == InboxStatus.OPEN


def test_responses_are_bounded_and_only_for_new_intents(
    store: CRMStore, inbox: InboxStore, supervisor: int
) -> None:
    [item] = collected(store, inbox, "what colours do cards come in")
    with pytest.raises(ValueError, match="keeps its own responses"):
        inbox.label(item, supervisor, "card_arrival", "Soon.")
    with pytest.raises(ValueError, match="longer than 500"):
        inbox.label(item, supervisor, "card_colour", "x" * 501)
    with pytest.raises(ValueError, match="response must be text"):
        inbox.label(item, supervisor, "card_colour", ["Blue"])  # type: ignore[arg-type]
    for unsafe in ("Hi {card_last_four}", "Blue\u202egnp.exe", "Blue\x07", "}"):
        with pytest.raises(ValueError, match="braces"):
            inbox.label(item, supervisor, "card_colour", unsafe)
    assert inbox.label(item, supervisor, "card_colour", "x" * 500)["response"] == "x" * 500
    answer = "Blue or green:\nchoose in the app."
    assert inbox.label(item, supervisor, "card_colour", answer)["response"] == answer


def test_dismissed_and_trained_items_cannot_be_labelled(
    store: CRMStore, inbox: InboxStore, supervisor: int
) -> None:
    kept, dismissed, trained = collected(store, inbox, "card late", "lol", "pin stuck")
    with pytest.raises(NotFound):
        inbox.label(999_999, supervisor, "card_arrival", None)
    with pytest.raises(NotFound):
        inbox.dismiss(999_999, supervisor)

    gone = inbox.dismiss(dismissed, supervisor)
    assert (gone["status"], gone["intent"]) == (InboxStatus.DISMISSED, None)
    with pytest.raises(Conflict, match="is dismissed, it cannot be labelled"):
        inbox.label(dismissed, supervisor, "card_arrival", None)
    with pytest.raises(Conflict, match="is dismissed, it cannot be dismissed"):
        inbox.dismiss(dismissed, supervisor)

    inbox.label(trained, supervisor, "pin_blocked", None)
    inbox.label(kept, supervisor, "card_arrival", None)
    run = store.jobs.start("retrain", JobTrigger.CLI, stale_after=timedelta(minutes=5))
    [trained_label] = [label for label in inbox.training_labels() if label["id"] == trained]
    dismissed_label = {"id": dismissed, "text": "lol", "intent": "card_arrival", "response": None}
    assert inbox.mark_trained([trained_label, dismissed_label], run) == 1
    with pytest.raises(Conflict, match="is trained"):
        inbox.label(trained, supervisor, "change_pin", None)
    with pytest.raises(Conflict, match="is trained"):
        inbox.dismiss(trained, supervisor)
    # A labelled item may still be dismissed before training.
    assert inbox.dismiss(kept, supervisor)["status"] == InboxStatus.DISMISSED

    assert inbox.training_labels() == [
        {"id": trained, "text": "pin stuck", "intent": "pin_blocked", "response": None}
    ]
    [trained_group] = inbox.groups(InboxStatus.TRAINED)
    assert trained_group["items"][0]["trained_run_id"] == run
    assert [g["size"] for g in inbox.groups(InboxStatus.DISMISSED)] == [1, 1]


def test_only_labels_unchanged_since_the_snapshot_are_marked_trained(
    store: CRMStore, inbox: InboxStore, supervisor: int
) -> None:
    """A retrain trains on `training_labels()`; a supervisor may relabel meanwhile. An item
    whose intent or response changed stays labelled (the model learned the old label)."""
    same, relabelled, answered = collected(
        store, inbox, "card late", "pin stuck", "card colour options?"
    )
    inbox.label(same, supervisor, "card_arrival", None)
    inbox.label(relabelled, supervisor, "pin_blocked", None)
    inbox.label(answered, supervisor, "card_colour", "Blue and black.")
    snapshot = inbox.training_labels()
    inbox.label(relabelled, supervisor, "change_pin", None)
    inbox.label(answered, supervisor, "card_colour", "Blue, black and gold.")
    run = store.jobs.start("retrain", JobTrigger.CLI, stale_after=timedelta(minutes=5))

    assert inbox.mark_trained(snapshot, run) == 1

    trained = [item for g in inbox.groups(InboxStatus.TRAINED) for item in g["items"]]
    assert [(item["id"], item["intent"]) for item in trained] == [(same, "card_arrival")]
    labelled = {
        item["id"]: (item["intent"], item["response"])
        for g in inbox.groups(InboxStatus.LABELLED)
        for item in g["items"]
    }
    assert labelled == {
        relabelled: ("change_pin", None),
        answered: ("card_colour", "Blue, black and gold."),
    }
    # The next run's snapshot has the new labels: those are marked.
    assert inbox.mark_trained(inbox.training_labels(), run) == 2


def test_new_intents_are_those_labels_created_with_their_newest_response(
    store: CRMStore, inbox: InboxStore, supervisor: int
) -> None:
    first, second, third, dismissed = collected(
        store, inbox, "card colour options?", "pick a card colour", "card late", "gold card?"
    )
    assert inbox.new_intents() == []
    inbox.label(first, supervisor, "card_colour", "Blue and black.")
    inbox.label(second, supervisor, "card_colour", "Blue, black and gold.")
    inbox.label(third, supervisor, "card_arrival", None)
    inbox.label(dismissed, supervisor, "gold_card", "Soon.")
    inbox.dismiss(dismissed, supervisor)

    assert inbox.new_intents() == [{"intent": "card_colour", "response": "Blue, black and gold."}]
