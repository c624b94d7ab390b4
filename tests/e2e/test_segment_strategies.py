"""The same words from customers of two segments get different treatment, through the real stack.

The demo data is segmented by the real jobs, started through the console API (segmentation,
then strategies). A valuable customer at risk and a new customer, both signed in, then say
"hi" and something mildly annoyed: each is greeted their segment's way (the new one with an
offer), and only the one at risk is handed to a person, first in line, with the segment's SLA,
and with a packet that tells the agent their segment and strategy. So is a mild complaint
about a banking topic, and an angry emoji the lexicon cannot score: in a new conversation
each, the customer at risk goes to a person, the new one gets the usual answer.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from actions.greeting import first_name
from analytics.strategy import DEFAULT_HANDOFF_THRESHOLD, FIRST_SIGN_OF_FRUSTRATION, strategy_of
from bot.crm.enums import HandoffReason, JobStatus, SegmentTrait
from bot.crm.strategy_cache import CHECK_SECONDS
from tests.e2e.conftest import Stack
from tests.e2e.test_silence_and_escalation import handoffs_of

pytestmark = pytest.mark.e2e
MILD = "this is a bit annoying"
"""Frustration 0.3 (nlp.sentiment): below the stock threshold, above the first sign."""
DECLINED = "my card payment was declined again, this is a bit annoying"
"""Frustration 0.35 with a banking topic: the stock bot answers the declined card."""
ANGRY = "😡"
"""NLU calls it frustrated; the lexicon scores it 0."""
JOB_TIMEOUT_S = 300


def run_job(stack: Stack, name: str) -> dict:
    """Start the job through the API and wait for its run to end."""
    started = stack.api("POST", f"/api/v1/jobs/{name}/run")
    assert started.status == 202, started.body
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        run = stack.api("GET", f"/api/v1/jobs/runs/{started.body['run_id']}").body
        if run["status"] != JobStatus.RUNNING:
            assert run["status"] == JobStatus.SUCCEEDED, run.get("error")
            return run
        time.sleep(0.5)
    raise AssertionError(f"the {name} job did not finish in {JOB_TIMEOUT_S} s")


def a_member(stack: Stack, segment: dict) -> dict:
    reply = stack.api("GET", f"/api/v1/customers?segment={segment['id']}&limit=1")
    assert reply.status == 200, reply.body
    [listed] = reply.body["customers"]
    return stack.api("GET", f"/api/v1/customers/{listed['id']}").body


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_two_segments_same_words_different_treatment(stack: Stack) -> None:
    run_job(stack, "segmentation")
    strategies = run_job(stack, "strategies")
    segments = stack.api("GET", "/api/v1/segments").body["segments"]
    assert strategies["rows"]["segments"] == len(segments) >= 4
    traits = {segment["id"]: set(segment["profile"]["traits"]) for segment in segments}
    at_risk = next(
        (
            s
            for s in segments
            if SegmentTrait.AT_RISK in traits[s["id"]]
            and s["strategy"]["handoff_threshold"] == FIRST_SIGN_OF_FRUSTRATION
        ),
        None,
    )
    new = next((s for s in segments if SegmentTrait.NEW in traits[s["id"]]), None)
    found = [(s["name"], sorted(traits[s["id"]])) for s in segments]
    assert at_risk is not None and new is not None, f"segments found: {found}"
    assert new["strategy"]["handoff_threshold"] == DEFAULT_HANDOFF_THRESHOLD
    # The action server notices the finished runs at its next stamp check.
    time.sleep(CHECK_SECONDS + 1)

    replies: dict[str, dict[str, list[str]]] = {}
    customers = {"at_risk": a_member(stack, at_risk), "new": a_member(stack, new)}
    tokens = {}
    for kind, customer in customers.items():
        token = stack.api("POST", f"/api/v1/customers/{customer['id']}/widget-token").body["token"]
        tokens[kind] = token
        sender = f"e2e-segment-{kind}"
        replies[kind] = {
            text: [reply.get("text", "") for reply in stack.say(sender, text, token)]
            for text in ("hi", MILD)
        }

    valuable = strategy_of(at_risk["strategy"])
    newcomer = strategy_of(new["strategy"])
    names = {kind: first_name(customer["name"]) for kind, customer in customers.items()}
    assert replies["at_risk"]["hi"] == [valuable.greet(names["at_risk"])]
    assert newcomer.offers and not valuable.offers
    # Offers for a product the customer already holds are left out (as served to them).
    offers = customers["new"]["strategy"]["offers"]
    assert set(offers) <= set(newcomer.offers)
    assert replies["new"]["hi"] == [newcomer.greet(names["new"])] + (
        ["\n".join(offers)] if offers else []
    )
    assert replies["at_risk"]["hi"] != replies["new"]["hi"]

    # Mild annoyance: the customer at risk goes to a person, the new one is heard.
    assert "in the queue" in " ".join(replies["at_risk"][MILD])
    heard = " ".join(replies["new"][MILD])
    assert "connect you with a person" in heard and "in the queue" not in heard
    assert handoffs_of(stack, "e2e-segment-new") == []
    [handoff] = handoffs_of(stack, "e2e-segment-at_risk")
    assert handoff["packet"]["reason"] == HandoffReason.SEGMENT_STRATEGY
    assert handoff["priority"] == valuable.priority == 1
    due = when(handoff["due_at"]) - when(handoff["created_at"])
    assert abs(due - timedelta(minutes=valuable.sla_minutes)) < timedelta(seconds=5)
    assert valuable.sla_minutes < newcomer.sla_minutes

    # The packet tells the agent who this is and how their segment is served.
    card = handoff["packet"]["customer"]
    assert (card["id"], card["segment_id"], card["segment"]) == (
        customers["at_risk"]["id"],
        at_risk["id"],
        at_risk["name"],
    )
    assert card["strategy"]["handoff_threshold"] == FIRST_SIGN_OF_FRUSTRATION
    assert card["strategy"]["priority"] == 1 and card["strategy"]["offers"] == []
    assert card["cross_sell"]["hints"] == [] and card["cross_sell"]["withheld"]

    # Whatever the complaint is about, and however NLU read it, the same split: the new
    # customer gets what the stock bot says (the declined-card answer; frustration heard).
    usual = {DECLINED: "Card payments are usually declined", ANGRY: "connect you with a person"}
    for number, text in enumerate((DECLINED, ANGRY)):
        said = {
            kind: " ".join(
                reply.get("text", "")
                for reply in stack.say(f"e2e-segment-{kind}-{number}", text, tokens[kind])
            )
            for kind in customers
        }
        assert "in the queue" in said["at_risk"], (text, said)
        assert usual[text] in said["new"] and "in the queue" not in said["new"], (text, said)
        assert handoffs_of(stack, f"e2e-segment-new-{number}") == []
        [early] = handoffs_of(stack, f"e2e-segment-at_risk-{number}")
        assert early["packet"]["reason"] == HandoffReason.SEGMENT_STRATEGY, text
        assert early["packet"]["customer"]["id"] == customers["at_risk"]["id"]
