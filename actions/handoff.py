"""Hands the conversation to a person: a ticket with its packet in the queue, and the bot pauses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.disambiguation import choice_buttons, close_pair, configured_closeness
from actions.handoff_rules import (
    SUBJECT_BY_REASON,
    frustration_reason,
    main_category,
    misunderstood_twice,
    queue_priority,
    reason_for,
    ticket_text,
)
from actions.intents import NLU_FALLBACK, general_intents
from actions.packet import build_packet
from actions.resources import crm_store, identified_customer, ticket_search
from actions.strategy import serving_strategies
from actions.tracker_view import TrackerView, read_tracker
from bot.crm.enums import HandoffReason
from bot.crm.store.handoffs import MINUTES_PER_PLACE
from bot.intent_titles import INTENT_TITLES
from nlp.sentiment import score_conversation


def hand_over(
    dispatcher: CollectingDispatcher, view: TrackerView, reason: HandoffReason
) -> list[dict[str, Any]]:
    """Queue the conversation with its packet, tell the customer their place, pause the bot.

    The customer's segment strategy may make the handoff more urgent than the rules would,
    and sets when a person should have answered (its SLA).
    """
    store = crm_store()
    general = general_intents()
    customer_id = identified_customer(view)
    strategy = serving_strategies().for_customer(customer_id).strategy
    ticket_id = store.handoffs.open(
        conversation_id=view.conversation_id,
        customer_id=customer_id,
        reason=reason,
        priority=queue_priority(reason, view.turns, strategy.priority),
        subject=SUBJECT_BY_REASON[reason],
        text=ticket_text(view.customer_texts),
        packet=build_packet(view, reason, customer_id, store, ticket_search(), general),
        category=main_category(view.turns, general),
        due_at=datetime.now(timezone.utc) + timedelta(minutes=strategy.sla_minutes),
    )
    place = store.handoffs.queue_position(ticket_id)
    dispatcher.utter_message(
        response="utter_handoff",
        queue_position=place,
        expected_wait_minutes=place * MINUTES_PER_PLACE,
    )
    return [ConversationPaused()]


class ActionHandoff(Action):
    """Hands over on request or frustration; the reason comes from the triggering intent.

    Frustration hands over only when it is strong or sustained (actions.handoff_rules), counted
    since an agent last handed the conversation back; milder annoyance is acknowledged with a
    person on offer, so "a bit annoying" does not jump the queue as an urgent case. What is
    strong enough is the customer's segment strategy's threshold: a high-value customer at
    risk goes to a person at the first sign of frustration. The FrustrationDetector applies
    that threshold too (bot/rasa_plugins/strategy_threshold.py), so such a customer's mild
    complaint reaches this action whatever else it was about; the reason is decided here,
    from the claim verified for this conversation.
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        reason = reason_for(view.latest_intent)
        if reason is HandoffReason.FRUSTRATION:
            strategy = serving_strategies().for_customer(identified_customer(view)).strategy
            scores = score_conversation(view.current.customer_texts)
            reason = frustration_reason(
                [scored.frustration for scored in scores], strategy.handoff_threshold
            )
            if reason is None:
                dispatcher.utter_message(response="utter_frustration_heard")
                return []
        return hand_over(dispatcher, view, reason)


class ActionFallback(Action):
    """Asks which of two close meanings the customer has in mind, or to rephrase; a second
    misunderstanding in a row goes to a person.

    When the classifier was unsure of the message and its two best banking intents are close
    (actions.disambiguation), the customer gets both as buttons instead of a guess; otherwise
    (or when a policy, not the classifier, fell back) they are asked to rephrase.
    Either question counts as the first misunderstanding (see
    actions.handoff_rules.misunderstood_twice), and only since an agent last handed the
    conversation back: a misunderstanding before a handoff is the agent's to have cleared.
    """

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        if misunderstood_twice(view.latest_intent, view.current.bot_attempts):
            return hand_over(dispatcher, view, HandoffReason.REPEATED_FALLBACK)
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        pair = (
            close_pair(ranking, general_intents(), configured_closeness())
            if view.latest_intent == NLU_FALLBACK
            else None
        )
        if pair is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        first, second = pair
        dispatcher.utter_message(
            response="utter_did_you_mean",
            first=INTENT_TITLES[first],
            second=INTENT_TITLES[second],
            buttons=choice_buttons(first, second),
        )
        return []
