"""Handoffs in the CRM store: one per conversation, queue order, claims, replies, resolution."""

from __future__ import annotations

import threading

import pytest

from bot.crm.repository import Conflict, CRMRepository, NotFound


def open_handoff(repository: CRMRepository, conversation: str, priority: int = 3) -> int:
    return repository.open_handoff(
        conversation_id=conversation,
        customer_id=None,
        reason="customer_request",
        priority=priority,
        subject="Customer asked for a person",
        text="help",
        packet={"x": 1},
        category="card_arrival",
    )


def test_a_conversation_has_one_live_handoff(repository: CRMRepository) -> None:
    first = open_handoff(repository, "c1")
    assert open_handoff(repository, "c1") == first
    handoff = repository.get_handoff(first)
    assert handoff["packet"] == {"x": 1, "reason": "customer_request"}
    assert repository.get_conversation("c1")["status"] == "handoff"


def test_the_queue_puts_urgent_then_longest_waiting_first(repository: CRMRepository) -> None:
    routine = open_handoff(repository, "c1", priority=3)
    later_routine = open_handoff(repository, "c2", priority=3)
    urgent = open_handoff(repository, "c3", priority=1)
    assert [h["id"] for h in repository.list_handoffs("open")] == [urgent, routine, later_routine]
    assert [repository.queue_position(t) for t in (urgent, routine, later_routine)] == [1, 2, 3]


def test_only_one_of_two_racing_claims_wins(repository: CRMRepository) -> None:
    ticket = open_handoff(repository, "c1")
    agents = [repository.create_staff(name, "password-123", "agent").id for name in ("a", "b")]
    outcomes: list[str] = []

    def claim(agent: int) -> None:
        try:
            repository.claim_handoff(ticket, agent)
            outcomes.append("won")
        except Conflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert repository.get_handoff(ticket)["assigned_to"] in agents


def test_only_the_holder_replies_and_resolves(repository: CRMRepository) -> None:
    ticket = open_handoff(repository, "c1")
    holder = repository.create_staff("holder", "password-123", "agent").id
    other = repository.create_staff("other", "password-123", "agent").id
    with pytest.raises(Conflict):
        repository.record_agent_message(ticket, holder, "not claimed yet")
    repository.claim_handoff(ticket, holder)
    with pytest.raises(Conflict):
        repository.record_agent_message(ticket, other, "not mine")
    message = repository.record_agent_message(ticket, holder, "Hello!")
    assert (message["sender"], message["text"], message["conversation_id"]) == (
        "agent",
        "Hello!",
        "c1",
    )
    with pytest.raises(Conflict):
        repository.resolve_handoff(ticket, other, "done", True)
    resolved = repository.resolve_handoff(ticket, holder, "Sent a new card.", False)
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "Sent a new card.")
    assert repository.get_conversation("c1")["status"] == "closed"
    assert {
        "id": ticket,
        "text": "help",
        "resolution": "Sent a new card.",
        "category": "card_arrival",
    } in repository.resolved_tickets()
    with pytest.raises(NotFound):
        repository.claim_handoff(999_999, holder)


def test_live_changes_report_new_handoffs_and_their_messages(repository: CRMRepository) -> None:
    start_message, start_ticket = repository.last_ids()
    ticket = open_handoff(repository, "c1")
    agent = repository.create_staff("agent", "password-123", "agent").id
    repository.claim_handoff(ticket, agent)
    repository.record_agent_message(ticket, agent, "Hi there")
    changes = repository.changes_since(start_message, start_ticket)
    assert [h["id"] for h in changes["handoffs"]] == [ticket]
    assert [(m["handoff_id"], m["text"]) for m in changes["messages"]] == [(ticket, "Hi there")]
    again = repository.changes_since(changes["last_message_id"], changes["last_ticket_id"])
    assert (again["handoffs"], again["messages"]) == ([], [])


def test_csat_needs_a_resolved_handoff_and_a_score_from_one_to_five(
    repository: CRMRepository,
) -> None:
    assert repository.record_csat("c1", 5) is None
    with pytest.raises(ValueError):
        repository.record_csat("c1", 6)
