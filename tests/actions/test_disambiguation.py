"""Close meanings get a question back ("did you mean X or Y?"), and every intent has a title."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker

from actions.disambiguation import choice_buttons, close_pair, configured_closeness
from actions.handoff import ActionFallback
from actions.intents import general_intents
from bot.crm.enums import TicketStatus
from bot.crm.store import CRMStore
from bot.intent_titles import INTENT_TITLES
from bot.nlu_config import (
    RASA_AMBIGUITY,
    RASA_THRESHOLD,
    FallbackSettings,
    fallback_settings,
    read_config,
)
from bot.settings import PROJECT_ROOT
from tests.actions.test_actions import run

GENERAL = frozenset({"greet", "affirm", "deny", "thanks", "nlu_fallback", "ask_for_human"})
BUTTON_CHARACTERS = 32


def bot_intents() -> set[str]:
    """Every intent of domain.yml and every intent with examples under data/nlu."""
    intents = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            if "intent" in item:
                intents.add(item["intent"])
    return {intent if isinstance(intent, str) else next(iter(intent)) for intent in intents}


def test_every_intent_of_the_bot_has_a_short_title_of_its_own() -> None:
    missing = sorted(bot_intents() - set(INTENT_TITLES))
    assert missing == []
    assert all(0 < len(t) <= BUTTON_CHARACTERS for t in INTENT_TITLES.values())
    banking = {i: t for i, t in INTENT_TITLES.items() if i not in general_intents()}
    assert len(set(banking.values())) == len(banking), "two meanings offered must read apart"


def ranking(*scores: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in scores]


CLOSENESS = FallbackSettings(threshold=0.5, ambiguity=0.15)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # unsure, between two banking meanings
        ((("pending_top_up", 0.44), ("top_up_failed", 0.38)), ("pending_top_up", "top_up_failed")),
        # unsure, and the runner-up a real candidate even if further away
        (
            (("pending_card_payment", 0.49), ("pending_transfer", 0.3)),
            ("pending_card_payment", "pending_transfer"),
        ),
        # sure of the top one, but the runner-up is within the ambiguity
        (
            (("failed_transfer", 0.52), ("declined_transfer", 0.4)),
            ("failed_transfer", "declined_transfer"),
        ),
        # the ranking's order is not trusted: sorted by confidence
        ((("top_up_failed", 0.38), ("pending_top_up", 0.44)), ("pending_top_up", "top_up_failed")),
        # Rasa's nlu_fallback on top and general intents in between are skipped
        (
            (
                ("nlu_fallback", 0.5),
                ("greet", 0.5),
                ("pending_transfer", 0.41),
                ("affirm", 0.4),
                ("transfer_timing", 0.35),
            ),
            ("pending_transfer", "transfer_timing"),
        ),
        # sure and clearly apart: no question
        ((("pending_top_up", 0.7), ("top_up_failed", 0.25)), None),
        # two weak guesses in an out-of-scope message are not meanings
        ((("pending_top_up", 0.18), ("top_up_failed", 0.15)), None),
        ((("pending_top_up", 0.45), ("top_up_failed", 0.12)), None),
        # one banking candidate only
        ((("pending_top_up", 0.45), ("greet", 0.44)), None),
        # an intent the bot does not know is never offered
        (
            (("made_up_intent", 0.45), ("pending_top_up", 0.44), ("top_up_failed", 0.4)),
            ("pending_top_up", "top_up_failed"),
        ),
        ((), None),
    ],
)
def test_close_pair(scores: tuple, expected: tuple[str, str] | None) -> None:
    assert close_pair(ranking(*scores), GENERAL, CLOSENESS) == expected


def test_unsure_and_close_are_config_ymls_fallback_settings(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  - name: WhitespaceTokenizer\n"
        "  - name: FallbackClassifier\n    threshold: 0.5\n    ambiguity_threshold: 0.15\n"
    )
    assert fallback_settings(read_config(config)) == FallbackSettings(0.5, 0.15)
    config.write_text("pipeline:\n  - name: FallbackClassifier\n    threshold: 0.6\n")
    assert fallback_settings(read_config(config)) == FallbackSettings(0.6, 0.1), "Rasa's default"
    config.write_text("pipeline:\n  - name: WhitespaceTokenizer\n")
    assert fallback_settings(read_config(config)) is None
    config.write_text("")
    assert fallback_settings(read_config(config)) is None
    shipped = fallback_settings(read_config(PROJECT_ROOT / "config.yml"))
    assert shipped is not None and configured_closeness() == shipped


def test_the_defaults_written_down_are_rasas_own() -> None:
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    defaults = FallbackClassifier.get_default_config()
    assert (
        defaults["threshold"],
        defaults["ambiguity_threshold"],
    ) == (RASA_THRESHOLD, RASA_AMBIGUITY)


def test_the_benchmark_reads_the_same_settings_as_the_action_server() -> None:
    from bench.intent_systems import fallback_settings as bench_fallback_settings
    from bench.intent_systems import read_config as bench_read_config

    shipped = configured_closeness()
    assert bench_fallback_settings(bench_read_config()) == {
        "threshold": shipped.threshold,
        "ambiguity_threshold": shipped.ambiguity,
    }
    with pytest.raises(ValueError, match="no FallbackClassifier"):
        bench_fallback_settings({"pipeline": [{"name": "WhitespaceTokenizer"}]})


def test_the_buttons_name_both_meanings_then_a_way_out() -> None:
    assert choice_buttons("pending_top_up", "top_up_failed") == [
        {"title": "Top-up still pending", "payload": "/pending_top_up"},
        {"title": "Top-up failed", "payload": "/top_up_failed"},
        {"title": "Something else", "payload": "/deny"},
        {"title": "Talk to a person", "payload": "/ask_for_human"},
    ]


def fallback_tracker(
    scores: tuple, history: tuple[dict, ...] = (), intent: str = "nlu_fallback"
) -> Tracker:
    parse_data = {
        "intent": {"name": intent, "confidence": 0.59},
        "intent_ranking": ranking(("nlu_fallback", 0.59), *scores),
        "entities": [],
        "text": "the money I added isn't there",
    }
    latest = {
        "event": "user",
        "text": parse_data["text"],
        "timestamp": 9.0,
        "metadata": {},
        "parse_data": parse_data,
    }
    return Tracker(
        sender_id="conv-actions",
        slots={},
        latest_message=parse_data,
        events=[*history, latest],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def test_close_meanings_are_offered_as_buttons(seeded_store: CRMStore) -> None:
    scores = (("pending_top_up", 0.45), ("top_up_reverted", 0.4))
    events, dispatcher = await run(ActionFallback(), fallback_tracker(scores))
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert (message["first"], message["second"]) == ("Top-up still pending", "Top-up reversed")
    assert [b["payload"] for b in message["buttons"]] == [
        "/pending_top_up",
        "/top_up_reverted",
        "/deny",
        "/ask_for_human",
    ]


async def test_an_unclear_message_is_still_asked_to_be_rephrased(seeded_store: CRMStore) -> None:
    scores = (("pending_top_up", 0.3), ("greet", 0.25), ("top_up_reverted", 0.05))
    _, dispatcher = await run(ActionFallback(), fallback_tracker(scores))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


async def test_a_policy_fallback_on_a_clear_message_asks_to_rephrase(
    seeded_store: CRMStore,
) -> None:
    """The classifier was sure; no rule fitted the conversation: not a question of meaning."""
    scores = (("pending_top_up", 0.45), ("top_up_reverted", 0.4))
    _, dispatcher = await run(ActionFallback(), fallback_tracker(scores, intent="pending_top_up"))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


async def test_an_unclear_answer_to_the_question_goes_to_a_person(seeded_store: CRMStore) -> None:
    asked = (
        {
            "event": "user",
            "text": "the money I added",
            "timestamp": 1.0,
            "metadata": {},
            "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.5}},
        },
        {"event": "action", "name": "action_fallback"},
    )
    scores = (("pending_top_up", 0.45), ("top_up_reverted", 0.4))
    events, dispatcher = await run(ActionFallback(), fallback_tracker(scores, asked))
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff"]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert handoff["packet"]["reason"] == "repeated_fallback"
