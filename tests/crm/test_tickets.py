"""Tickets on SQLite and PostgreSQL: a ticket is linked to its conversation."""

from __future__ import annotations

from bot.crm.enums import TicketKind
from bot.crm.store import CRMStore
from tests.crm_queries import tickets_for_conversation


def test_tickets_are_linked_to_their_conversation(store: CRMStore) -> None:
    ticket_id = store.tickets.create(
        kind=TicketKind.HANDOFF,
        subject="Customer asked for a person",
        text="agent please",
        conversation_id="c9",
    )
    assert tickets_for_conversation(store, "c9") == [
        {
            "id": ticket_id,
            "kind": "handoff",
            "status": "open",
            "subject": "Customer asked for a person",
            "text": "agent please",
            "customer_id": None,
        }
    ]
    assert store.conversations.get("c9")["handoff"] == {
        "ticket_id": ticket_id,
        "status": "open",
        "assigned_to": None,
    }
