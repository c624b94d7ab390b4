"""The similar-ticket index over the CRM's resolved tickets: build, search, add, readers,
erased tickets left out, and one writer at a time across processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_an_erased_ticket_is_never_shown_and_pruning_rewrites_the_index(
    seeded_store: CRMStore, tmp_path
) -> None:
    search = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    search.rebuild()
    [best] = search.query("my top up keeps failing with my debit card", k=1)
    owner = seeded_store.handoffs.get(best["ticket_id"])["customer_id"]
    seeded_store.erasure.erase_customer(owner)
    assert best["ticket_id"] not in [r["ticket_id"] for r in search.query("top up", k=50)]
    assert search.prune() > 0
    assert str(best["ticket_id"]) not in search._index.ticket_ids_
    assert search.prune() == 0


WRITER = """
import os
import sys
import time
from pathlib import Path

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.crm.ticket_search import TicketSearch

url, directory, gate, *ids = sys.argv[1:]
store = CRMStore(create_crm_engine(url))
search = TicketSearch(store.tickets, Path(directory), writer=True)
views = [store.handoffs.get(int(ticket_id)) for ticket_id in ids]
(Path(gate) / f"ready-{os.getpid()}").touch()
deadline = time.monotonic() + 120
while not (Path(gate) / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.01)
for n, view in enumerate(views):
    search.add_resolved(view)
    if n % 2:
        search.rebuild()
store.dispose()
"""


def test_two_writer_processes_racing_lose_no_ticket(
    seeded_store: CRMStore, database_url: str, tmp_path
) -> None:
    """Each process adds its own tickets on top of what it last loaded, rebuilding in
    between, both released at once: without the one-writer lock one's additions overwrite
    the other's. A reader querying all along always finds an index."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the lock is on files: one database is enough for the race")
    directory, gate = tmp_path / "index", tmp_path / "gate"
    gate.mkdir()
    agent = seeded_store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id
    new = []
    for n in range(6):
        ticket = seeded_store.handoffs.open(
            conversation_id=f"race-{n}",
            customer_id=None,
            reason=HandoffReason.CUSTOMER_REQUEST,
            priority=3,
            subject="Customer asked for a person",
            text=f"error code {n} when paying",
            packet={},
        )
        seeded_store.handoffs.claim(ticket, agent)
        new.append(seeded_store.handoffs.resolve(ticket, agent, f"Cleared flag {n}.", True)["id"])
    TicketSearch(seeded_store.tickets, directory, writer=True).rebuild()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, str(directory), str(gate), *map(str, ids)],
            cwd=Path(__file__).resolve().parents[2],
        )
        for ids in (new[0::2], new[1::2])
    ]
    reader = TicketSearch(seeded_store.tickets, directory)
    deadline = time.monotonic() + 180
    while len(list(gate.glob("ready-*"))) < 2:
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.05)
    (gate / "go").touch()
    while any(writer.poll() is None for writer in writers):
        assert time.monotonic() < deadline, "the writers did not finish in 3 minutes"
        assert reader.query("card never arrived", k=1)
        time.sleep(0.02)
    assert [writer.wait(timeout=10) for writer in writers] == [0, 0]

    final = TicketSearch(seeded_store.tickets, directory)
    final.query("card", k=1)
    expected = {str(row["id"]) for row in seeded_store.tickets.resolved()}
    assert set(final._index.ticket_ids_) == expected and {str(t) for t in new} <= expected
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        ["meta.json", "writer.lock", final._loaded_version]
    )


def test_an_index_built_for_another_encoder_is_rebuilt_by_the_writer_only(
    seeded_store: CRMStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    import nlp.similar.categories
    import nlp.similar.index

    writer = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    writer.rebuild()
    built = (tmp_path / "index" / "meta.json").read_text()
    for module in (nlp.similar.index, nlp.similar.categories):
        monkeypatch.setattr(module, "encoder_id", lambda: "another-encoder")
    reader = TicketSearch(seeded_store.tickets, tmp_path / "index")
    assert reader.query("my top up keeps failing", k=1) == []
    assert reader.query("my card never came", k=1) == []
    assert caplog.text.count("not used until its writer rebuilds it") == 1
    assert (tmp_path / "index" / "meta.json").read_text() == built

    fresh_writer = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    [best] = fresh_writer.query("my top up keeps failing", k=1)
    assert "top up" in best["text"].lower()
    assert (tmp_path / "index" / "meta.json").read_text() != built
    assert reader.query("my top up keeps failing", k=1)[0]["ticket_id"] == best["ticket_id"]


def test_an_index_saved_before_indexes_named_their_encoder_is_rebuilt_at_setup(
    seeded_store: CRMStore, tmp_path: Path
) -> None:
    """`bot.setup` prunes the index at every start: that is where a writer meets it."""
    import json

    writer = TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True)
    writer.rebuild()
    version = json.loads((tmp_path / "index" / "meta.json").read_text())["current"]
    meta_path = tmp_path / "index" / version / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["encoder"]
    meta_path.write_text(json.dumps(meta))

    reader = TicketSearch(seeded_store.tickets, tmp_path / "index")
    assert reader.query("my top up keeps failing", k=1) == []
    assert TicketSearch(seeded_store.tickets, tmp_path / "index", writer=True).prune() == 0
    rebuilt = json.loads((tmp_path / "index" / "meta.json").read_text())["current"]
    assert rebuilt != version
    assert "top up" in reader.query("my top up keeps failing", k=1)[0]["text"].lower()
