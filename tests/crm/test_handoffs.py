"""Handoffs in the CRM store: one per conversation, queue order, claims, replies, resolution."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from bot.crm.enums import HandoffReason, StaffRole, TicketStatus
from bot.crm.store import Conflict, CRMStore, NotFound


def open_handoff(store: CRMStore, conversation: str, priority: int = 3) -> int:
    return store.handoffs.open(
        conversation_id=conversation,
        customer_id=None,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=priority,
        subject="Customer asked for a person",
        text="help",
        packet={"x": 1},
        category="card_arrival",
    )


def test_a_conversation_has_one_live_handoff(store: CRMStore) -> None:
    first = open_handoff(store, "c1")
    assert open_handoff(store, "c1") == first
    handoff = store.handoffs.get(first)
    assert handoff["packet"] == {"x": 1, "reason": "customer_request"}
    assert store.conversations.get("c1")["status"] == "handoff"


def test_the_queue_puts_urgent_then_longest_waiting_first(store: CRMStore) -> None:
    routine = open_handoff(store, "c1", priority=3)
    later_routine = open_handoff(store, "c2", priority=3)
    urgent = open_handoff(store, "c3", priority=1)
    queue = store.handoffs.list(TicketStatus.OPEN)
    assert [h["id"] for h in queue] == [urgent, routine, later_routine]
    assert [store.handoffs.queue_position(t) for t in (urgent, routine, later_routine)] == [
        1,
        2,
        3,
    ]


def test_only_one_of_two_racing_claims_wins(store: CRMStore) -> None:
    ticket = open_handoff(store, "c1")
    agents = [
        store.staff.create(name, "password-123", StaffRole.AGENT).id
        for name in ("agent-a", "agent-b")
    ]
    outcomes: list[str] = []

    def claim(agent: int) -> None:
        try:
            store.handoffs.claim(ticket, agent)
            outcomes.append("won")
        except Conflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert store.handoffs.get(ticket)["assigned_to"] in agents


def test_only_the_holder_replies_and_resolves(store: CRMStore) -> None:
    ticket = open_handoff(store, "c1")
    holder = store.staff.create("holder", "password-123", StaffRole.AGENT).id
    other = store.staff.create("other", "password-123", StaffRole.AGENT).id
    with pytest.raises(Conflict):
        store.handoffs.record_agent_message(ticket, holder, "not claimed yet")
    store.handoffs.claim(ticket, holder)
    with pytest.raises(Conflict):
        store.handoffs.record_agent_message(ticket, other, "not mine")
    message = store.handoffs.record_agent_message(ticket, holder, "Hello!")
    assert (message["sender"], message["text"], message["conversation_id"]) == (
        "agent",
        "Hello!",
        "c1",
    )
    with pytest.raises(Conflict):
        store.handoffs.resolve(ticket, other, "done", True)
    resolved = store.handoffs.resolve(ticket, holder, "Sent a new card.", False)
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "Sent a new card.")
    assert store.conversations.get("c1")["status"] == "closed"
    assert {
        "id": ticket,
        "text": "help",
        "resolution": "Sent a new card.",
        "category": "card_arrival",
    } in store.tickets.resolved()
    with pytest.raises(NotFound):
        store.handoffs.claim(999_999, holder)


def test_live_changes_report_new_handoffs_and_their_messages(store: CRMStore) -> None:
    start_message, start_ticket = store.handoffs.last_ids()
    ticket = open_handoff(store, "c1")
    agent = store.staff.create("agent", "password-123", StaffRole.AGENT).id
    store.handoffs.claim(ticket, agent)
    store.handoffs.record_agent_message(ticket, agent, "Hi there")
    changes = store.handoffs.changes_since(start_message, start_ticket)
    assert [h["id"] for h in changes["handoffs"]] == [ticket]
    assert [(m["handoff_id"], m["text"]) for m in changes["messages"]] == [(ticket, "Hi there")]
    again = store.handoffs.changes_since(changes["last_message_id"], changes["last_ticket_id"])
    assert (again["handoffs"], again["messages"]) == ([], [])


def test_re_claiming_your_own_handoff_is_idempotent(store: CRMStore) -> None:
    ticket = open_handoff(store, "c1")
    holder = store.staff.create("holder", "password-123", StaffRole.AGENT).id
    other = store.staff.create("other", "password-123", StaffRole.AGENT).id
    first = store.handoffs.claim(ticket, holder)
    assert store.handoffs.claim(ticket, holder) == first
    with pytest.raises(Conflict):
        store.handoffs.claim(ticket, other)
    store.handoffs.resolve(ticket, holder, "done", True)
    with pytest.raises(Conflict):
        store.handoffs.claim(ticket, holder)


def test_a_supervisor_releases_a_claimed_handoff_back_to_the_queue(store: CRMStore) -> None:
    ticket = open_handoff(store, "c1")
    holder = store.staff.create("holder", "password-123", StaffRole.AGENT).id
    with pytest.raises(Conflict):
        store.handoffs.release(ticket)
    store.handoffs.claim(ticket, holder)
    released, former = store.handoffs.release(ticket)
    assert former == holder
    assert (released["status"], released["assigned_to"], released["claimed_at"]) == (
        "open",
        None,
        None,
    )
    assert [h["id"] for h in store.handoffs.list(TicketStatus.OPEN)] == [ticket]
    with pytest.raises(Conflict):
        store.handoffs.release(ticket)
    with pytest.raises(NotFound):
        store.handoffs.release(999_999)


def test_a_supervisor_reassigns_a_live_handoff_to_an_active_agent(store: CRMStore) -> None:
    ticket = open_handoff(store, "c1")
    holder = store.staff.create("holder", "password-123", StaffRole.AGENT).id
    stand_in = store.staff.create("stand-in", "password-123", StaffRole.AGENT).id
    away = store.staff.create("away", "password-123", StaffRole.AGENT).id
    store.staff.update(away, active=False)
    store.handoffs.claim(ticket, holder)
    moved, former = store.handoffs.reassign(ticket, stand_in)
    assert (moved["status"], moved["assigned_to"], former) == ("claimed", stand_in, holder)
    store.handoffs.record_agent_message(ticket, stand_in, "I'm taking over.")
    with pytest.raises(Conflict):
        store.handoffs.record_agent_message(ticket, holder, "still mine?")
    with pytest.raises(Conflict):
        store.handoffs.reassign(ticket, stand_in)
    with pytest.raises(Conflict):
        store.handoffs.reassign(ticket, away)
    with pytest.raises(NotFound):
        store.handoffs.reassign(ticket, 999_999)
    store.handoffs.resolve(ticket, stand_in, "done", True)
    with pytest.raises(Conflict):
        store.handoffs.reassign(ticket, holder)


def test_a_handoff_is_due_when_the_segment_sla_says(store: CRMStore) -> None:
    due = datetime(2026, 11, 1, 9, 15, tzinfo=timezone.utc)
    ticket = store.handoffs.open(
        conversation_id="c-sla",
        customer_id=None,
        reason=HandoffReason.SEGMENT_STRATEGY,
        priority=1,
        subject="Customer is frustrated",
        text="this is a bit annoying",
        packet={},
        due_at=due,
    )
    assert store.handoffs.get(ticket)["due_at"] == "2026-11-01T09:15:00Z"
    assert store.handoffs.list(TicketStatus.OPEN)[0]["due_at"] == "2026-11-01T09:15:00Z"
    assert store.handoffs.get(open_handoff(store, "c-no-sla"))["due_at"] is None
