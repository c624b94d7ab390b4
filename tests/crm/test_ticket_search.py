"""The similar-ticket index over the CRM's resolved tickets: build, search, add, readers."""

from __future__ import annotations

from bot.crm.enums import HandoffReason, StaffRole
from bot.crm.store import CRMStore
from bot.crm.store.records import HandoffView
from bot.crm.ticket_search import TicketSearch


def resolve_new_ticket(store: CRMStore, text: str, resolution: str) -> HandoffView:
    ticket = store.handoffs.open(
        conversation_id="c-new",
        customer_id=None,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=3,
        subject="Customer asked for a person",
        text=text,
        packet={},
        category="top_up_failed",
    )
    agent = store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id
    store.handoffs.claim(ticket, agent)
    return store.handoffs.resolve(ticket, agent, resolution, True)


def test_search_finds_past_tickets_by_customer_words_and_resolution(
    seeded_store: CRMStore, tmp_path
) -> None:
    search = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    assert search.rebuild() == len(seeded_store.tickets.resolved())
    [best] = search.query("my top up keeps failing with my debit card", k=1)
    assert "top up" in best["text"].lower()
    assert {"top", "fail"} <= set(best["matched_terms"])
    results = search.query("card never arrived in the post", k=5)
    assert len({r["text"] for r in results}) == len(results), "identical tickets count once"

    handoff = resolve_new_ticket(
        seeded_store, "the app shows an error 4012", "Cleared a stuck Zephyr session flag."
    )
    search.add_resolved(handoff)
    [found] = search.query("zephyr session", k=1)
    assert found["ticket_id"] == handoff["id"]
    assert found["text"] == "the app shows an error 4012"
    assert found["resolution"] == "Cleared a stuck Zephyr session flag."

    reader = TicketSearch(seeded_store.tickets, tmp_path / "index")
    assert reader.query("zephyr session", k=1)[0]["ticket_id"] == handoff["id"]


def test_a_reader_never_builds_and_finds_nothing_without_an_index(
    seeded_store: CRMStore, tmp_path
) -> None:
    reader = TicketSearch(seeded_store.tickets, tmp_path / "missing")
    assert reader.query("card not arrived") == []
    assert not (tmp_path / "missing").exists()


def test_the_first_resolution_builds_the_index_with_it(seeded_store: CRMStore, tmp_path) -> None:
    search = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    handoff = resolve_new_ticket(seeded_store, "pin locked", "Reset the Quokka counter.")
    search.add_resolved(handoff)
    assert search.query("quokka counter", k=1)[0]["ticket_id"] == handoff["id"]
