"""The same messages from customers of different segments: greeting, offers and handoff follow
each customer's segment strategy."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet as RasaSlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from sqlalchemy.exc import OperationalError

from actions.greeting import ActionGreet, first_name
from actions.handoff import ActionHandoff
from actions.handoff_rules import frustration_reason, queue_priority
from actions.strategy import serving_strategies
from analytics.strategy import DEFAULT_STRATEGY, FIRST_SIGN_OF_FRUSTRATION, default_strategy
from bot.crm.enums import HandoffReason, SegmentTrait, Sender, TicketStatus
from bot.crm.store import CRMStore
from bot.crm.store.strategies import DEFAULT_SERVING, ServingStrategy
from bot.crm.strategy_cache import StrategyCache
from bot.rasa_plugins.strategy_threshold import StrategyThresholds
from bot.settings import PROJECT_ROOT
from nlp.summarize import Turn
from tests.actions.test_actions import run, tracker
from tests.crm.test_strategies import AT_RISK, NEW, add_segment, assign, supervisor

MILD = "this is a bit annoying"
"""Frustration 0.3: under the stock threshold (0.55), over the first sign (0.2)."""
VALUABLE, NEWCOMER, UNSEGMENTED = 1, 2, 3


@pytest.fixture
def segmented(seeded_store: CRMStore) -> dict[str, int]:
    segments = {
        "at_risk": add_segment(seeded_store, "High value, at risk", AT_RISK),
        "new": add_segment(seeded_store, "New, low value", NEW),
    }
    assign(seeded_store, VALUABLE, segments["at_risk"])
    assign(seeded_store, NEWCOMER, segments["new"])
    return segments


def said(customer_id: int | None, texts: tuple[str, ...], intent: str) -> Tracker:
    conversation = tracker(customer_id, texts=texts)
    for event in conversation.events:
        event["parse_data"]["intent"]["name"] = intent
    return conversation


def texts_of(dispatcher) -> list[str | None]:
    return [message.get("text") or message.get("response") for message in dispatcher.messages]


async def test_anonymous_customers_get_the_stock_greeting(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(ActionGreet(), said(None, ("hi",), "greet"))
    assert (events, texts_of(dispatcher)) == ([], ["utter_greet"])


async def test_each_segment_is_greeted_its_own_way(seeded_store, segmented) -> None:
    names = {
        customer: first_name(seeded_store.customers.profile(customer)["name"])
        for customer in (VALUABLE, NEWCOMER, UNSEGMENTED)
    }
    greetings, tones = {}, {}
    for customer in names:
        events, dispatcher = await run(ActionGreet(), said(customer, ("hi",), "greet"))
        [tones[customer]] = events
        greetings[customer] = texts_of(dispatcher)
    at_risk, new = default_strategy(AT_RISK), default_strategy(NEW)
    assert tones == {
        VALUABLE: SlotSet("tone", at_risk.tone.value),
        NEWCOMER: SlotSet("tone", new.tone.value),
        UNSEGMENTED: SlotSet("tone", DEFAULT_STRATEGY.tone.value),
    }
    assert greetings[VALUABLE] == [at_risk.greet(names[VALUABLE])]
    assert greetings[NEWCOMER] == [new.greet(names[NEWCOMER]), "\n".join(new.offers)]
    assert greetings[UNSEGMENTED] == [DEFAULT_STRATEGY.greet(names[UNSEGMENTED])]
    assert all(name in greetings[customer][0] for customer, name in names.items())


async def test_mild_frustration_hands_over_only_where_the_segment_says_so(
    seeded_store, segmented
) -> None:
    before = datetime.now(timezone.utc)
    events, dispatcher = await run(ActionHandoff(), said(VALUABLE, ("hi", MILD), "frustrated"))
    assert events == [ConversationPaused()]
    assert texts_of(dispatcher) == ["utter_handoff"]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert handoff["packet"]["reason"] == HandoffReason.SEGMENT_STRATEGY
    assert handoff["subject"] == "Customer is frustrated; their segment goes to a person early"
    assert handoff["priority"] == 1
    due = datetime.fromisoformat(handoff["due_at"].replace("Z", "+00:00"))
    sla = timedelta(minutes=default_strategy(AT_RISK).sla_minutes)
    assert before + sla <= due <= datetime.now(timezone.utc) + sla
    for customer in (NEWCOMER, UNSEGMENTED, None):
        events, dispatcher = await run(ActionHandoff(), said(customer, ("hi", MILD), "frustrated"))
        assert (events, texts_of(dispatcher)) == ([], ["utter_frustration_heard"])
    assert len(seeded_store.handoffs.list(TicketStatus.OPEN)) == 1


async def test_strong_frustration_is_plain_frustration_for_everyone(
    seeded_store, segmented
) -> None:
    strong = ("this is ridiculous, I'm fed up with your bank",)
    events, _ = await run(ActionHandoff(), said(VALUABLE, strong, "frustrated"))
    assert events == [ConversationPaused()]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert (handoff["packet"]["reason"], handoff["priority"]) == ("frustration", 1)


async def test_the_segment_raises_a_requests_priority_and_sets_its_sla(
    seeded_store, segmented
) -> None:
    await run(ActionHandoff(), said(VALUABLE, ("a person please",), "ask_for_human"))
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert (handoff["packet"]["reason"], handoff["priority"]) == ("customer_request", 1)
    boss = supervisor(seeded_store)
    seeded_store.handoffs.claim(handoff["id"], boss)
    seeded_store.handoffs.resolve(handoff["id"], boss, "done", return_to_bot=True)
    await run(ActionHandoff(), said(None, ("a person please",), "ask_for_human"))
    [anonymous] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert anonymous["priority"] == 3
    created = datetime.fromisoformat(anonymous["created_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(anonymous["due_at"].replace("Z", "+00:00"))
    sla = timedelta(minutes=DEFAULT_STRATEGY.sla_minutes)
    assert abs(due - created - sla) < timedelta(seconds=5)


async def test_a_supervisors_edit_reaches_the_bot_when_the_stamp_moves(
    seeded_store, segmented
) -> None:
    cache = serving_strategies()
    assert cache.for_customer(NEWCOMER).strategy.handoff_threshold == 0.55
    seeded_store.strategies.update(
        segmented["new"], {"handoff_threshold": 0.25}, supervisor(seeded_store)
    )
    fresh = StrategyCache(seeded_store.strategies, check_seconds=0)
    assert fresh.for_customer(NEWCOMER).strategy.handoff_threshold == 0.25


class CountingStore:
    """A StrategyStore double whose answers and stamp the test sets."""

    def __init__(self) -> None:
        self.stamp_value = "a"
        self.threshold = 0.55
        self.reads = 0
        self.stamps = 0

    def stamp(self) -> str:
        self.stamps += 1
        return self.stamp_value

    def for_customer(self, customer_id: int) -> ServingStrategy:
        self.reads += 1
        strategy = replace(DEFAULT_STRATEGY, handoff_threshold=self.threshold)
        return ServingStrategy(customer_id, "segment", strategy)


def test_the_cache_checks_the_stamp_at_most_every_two_seconds() -> None:
    now = [100.0]
    store = CountingStore()
    cache = StrategyCache(store, clock=lambda: now[0], max_customers=2)  # type: ignore[arg-type]
    assert cache.for_customer(None) is DEFAULT_SERVING and store.stamps == 0
    for _ in range(3):
        assert cache.for_customer(7).strategy.handoff_threshold == 0.55
    assert (store.reads, store.stamps) == (1, 1)
    store.stamp_value, store.threshold = "b", 0.2
    now[0] += 1.9
    assert cache.for_customer(7).strategy.handoff_threshold == 0.55, "not checked yet"
    now[0] += 0.2
    assert cache.for_customer(7).strategy.handoff_threshold == 0.2
    assert (store.reads, store.stamps) == (2, 2)
    now[0] += 5
    assert cache.for_customer(7).strategy.handoff_threshold == 0.2, "same stamp, kept"
    assert store.reads == 2
    cache.for_customer(8)
    cache.for_customer(9)
    cache.for_customer(7)
    assert store.reads == 5, "the least recently served customer was dropped"


def test_a_value_read_under_an_old_stamp_is_not_kept_after_a_refresh() -> None:
    now = [100.0]
    store = CountingStore()
    cache = StrategyCache(store, clock=lambda: now[0])  # type: ignore[arg-type]
    read = store.for_customer

    def read_while_the_stamp_moves(customer_id: int) -> ServingStrategy:
        served = read(customer_id)  # read under stamp "a", with the old threshold
        if customer_id == 7:
            # Meanwhile a strategy is edited and another request refreshes the cache.
            store.stamp_value, store.threshold = "b", 0.2
            now[0] += 5
            cache.for_customer(8)
        return served

    store.for_customer = read_while_the_stamp_moves  # type: ignore[method-assign]
    assert cache.for_customer(7).strategy.handoff_threshold == 0.55
    assert cache.for_customer(7).strategy.handoff_threshold == 0.2, "read again, not the stale one"
    assert store.reads == 3


@pytest.mark.parametrize(
    "text",
    [
        "ugh",
        "I am not happy",
        "my card payment was declined again, this is a bit annoying",
        "😡",
        "why is this so slow?",
    ],
)
async def test_any_message_nlu_calls_frustrated_hands_the_valuable_customer_over(
    seeded_store, segmented, text
) -> None:
    """Whatever the lexicon scores it ("😡" and "why is this so slow?" score 0): NLU read
    frustration, and this customer goes to a person at the first sign."""
    events, dispatcher = await run(ActionHandoff(), said(VALUABLE, ("hi", text), "frustrated"))
    assert (events, texts_of(dispatcher)) == ([ConversationPaused()], ["utter_handoff"])
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert handoff["packet"]["reason"] == HandoffReason.SEGMENT_STRATEGY
    for customer in (NEWCOMER, UNSEGMENTED, None):
        events, dispatcher = await run(ActionHandoff(), said(customer, ("hi", text), "frustrated"))
        assert (events, texts_of(dispatcher)) == ([], ["utter_frustration_heard"])


async def test_a_claim_forged_for_nlu_does_not_hand_over_by_itself(seeded_store, segmented) -> None:
    """The detector trusts the claim's id; the action checks its signature, so a message
    routed to it under someone else's lower threshold is only heard."""
    conversation = said(None, ("hi", MILD), "frustrated")
    for event in conversation.events:
        event["metadata"] = {"crm_customer": {"id": VALUABLE, "sig": "forged"}}
    events, dispatcher = await run(ActionHandoff(), conversation)
    assert (events, texts_of(dispatcher)) == ([], ["utter_frustration_heard"])
    assert seeded_store.handoffs.list(TicketStatus.OPEN) == []


def test_the_rasa_server_reads_the_claimed_customers_threshold(seeded_store, segmented) -> None:
    thresholds = StrategyThresholds(StrategyCache(seeded_store.strategies))
    of = {
        customer: thresholds({"crm_customer": {"id": customer, "sig": "x"}})
        for customer in (VALUABLE, NEWCOMER, UNSEGMENTED)
    }
    assert of == {
        VALUABLE: FIRST_SIGN_OF_FRUSTRATION,
        NEWCOMER: default_strategy(NEW).handoff_threshold,
        UNSEGMENTED: None,
    }
    for metadata in ({}, {"crm_customer": "7"}, {"crm_customer": {"id": True}}):
        assert thresholds(metadata) is None


def test_an_unreachable_crm_leaves_the_stock_threshold() -> None:
    class Down:
        def for_customer(self, customer_id: int) -> ServingStrategy:
            raise OperationalError("select", {}, Exception("down"))

    thresholds = StrategyThresholds(Down())  # type: ignore[arg-type]
    assert thresholds({"crm_customer": {"id": 1, "sig": "x"}}) is None


@pytest.mark.parametrize(
    ("frustrations", "threshold", "reason"),
    [
        ([0.0], 0.2, HandoffReason.SEGMENT_STRATEGY),
        ([0.0], 0.45, HandoffReason.SEGMENT_STRATEGY),
        ([0.0], 0.55, None),
        ([0.3], 0.2, HandoffReason.SEGMENT_STRATEGY),
        ([0.3], 0.55, None),
        ([0.6], 0.2, HandoffReason.FRUSTRATION),
        ([0.5, 0.5], 0.2, HandoffReason.FRUSTRATION),
        ([0.6], 0.8, None),
        ([0.9], 0.8, HandoffReason.FRUSTRATION),
        ([], 0.2, None),
    ],
)
def test_frustration_reason(frustrations, threshold, reason) -> None:
    assert frustration_reason(frustrations, threshold) is reason


def test_the_strategy_only_ever_raises_priority() -> None:
    card_loss = [Turn(Sender.CUSTOMER, "lost my card", "lost_or_stolen_card")]
    assert queue_priority(HandoffReason.CUSTOMER_REQUEST, [], 1) == 1
    assert queue_priority(HandoffReason.CUSTOMER_REQUEST, [], 5) == 3
    assert queue_priority(HandoffReason.CUSTOMER_REQUEST, card_loss, 4) == 1


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Ada Lovelace", "Ada"),
        ("  ADA  LOVELACE ", "Ada"),
        ("jean-luc picard", "Jean-luc"),
        ("McKenzie Ross", "McKenzie"),
        ("", ""),
    ],
)
def test_first_names_read_well(name: str, first: str) -> None:
    assert first_name(name) == first


def test_segment_traits_matter_to_the_strategy() -> None:
    assert default_strategy([SegmentTrait.NEW]) != default_strategy(AT_RISK)


@pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed")
@pytest.mark.parametrize(
    ("tone", "opening"),
    [
        ("reassuring", "I'm sorry, this isn't how it should be."),
        ("concise", "Sorry about that."),
        ("welcoming", "I'm sorry this is taking longer than it should."),
        (None, "I'm sorry this is taking longer than it should."),
    ],
)
async def test_annoyance_is_heard_in_the_segments_tone(tone: str | None, opening: str) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    events = [RasaSlotSet("tone", tone)] if tone else []
    conversation = DialogueStateTracker.from_events("tone", events, slots=domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    heard = await nlg.generate("utter_frustration_heard", conversation, "rest")
    assert heard["text"].startswith(opening)
    assert "connect you with a person" in heard["text"]
