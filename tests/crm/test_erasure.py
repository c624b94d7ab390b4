"""Erasing a customer everywhere: the CRM store's tombstones, Rasa's tracker store (saved by
Rasa's own SQLTrackerStore), the outbox, the similar-ticket index; twice is once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.crm.enums import (
    ConversationStatus,
    DeliveryKind,
    HandoffReason,
    Sender,
    StaffRole,
    TicketStatus,
)
from bot.crm.erasure import erase_customer
from bot.crm.models import (
    BotFeedback,
    Contact,
    Conversation,
    Customer,
    CustomerFix,
    CustomerInsight,
    CustomerMerge,
    Message,
    Ticket,
)
from bot.crm.models_delivery import RasaDelivery
from bot.crm.models_supervision import InboxItem, QualityFlag, Topic
from bot.crm.store import Conflict, CRMStore, NotFound
from bot.crm.store.erasure import ERASED_NAME
from bot.crm.store.records import MessageRecord
from bot.crm.ticket_search import TicketSearch
from bot.outbox.local import EntryKind, LocalOutbox
from bot.settings import Settings, load_settings
from tests.crm.test_customer_view import add, run

PERSON = 5
"""The seeded customer with the most conversations and tickets."""
OTHER = 2
DUPLICATE = 900
SECRET = "my passport number is XK1234567 and I live at 12 Elm Road"
OTHERS_WORDS = "the app crashes every time I open the savings tab"


def tracker_url_for(database_url: str, tmp_path: Path) -> str:
    """As the product defaults: the CRM database on PostgreSQL, a file of its own on SQLite."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    return database_url


def rasa_tracker_store(tracker_url: str) -> SQLTrackerStore:
    """Rasa's own tracker store over this URL: its tables, its rows."""
    url = make_url(tracker_url)
    if url.get_backend_name() == "sqlite":
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.database)
    return SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host=url.host,
        port=url.port or 5432,
        db=url.database,
        username=url.username,
        password=url.password,
        query=dict(url.query),
    )


def save_trackers(tracker_url: str, conversations: list[str], at: float | None = None) -> None:
    store = rasa_tracker_store(tracker_url)
    for conversation in conversations:
        events = [UserUttered(SECRET, timestamp=at), BotUttered("Noted.", timestamp=at)]
        tracker = DialogueStateTracker.from_events(conversation, events)
        asyncio.run(store.save(tracker))
    store.engine.dispose()


def tracker_senders(tracker_url: str) -> set[str]:
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as connection:
        senders = set(connection.scalars(text("SELECT DISTINCT sender_id FROM events")))
    engine.dispose()
    return senders


def settings_for(database_url: str, tmp_path: Path) -> Settings:
    settings = load_settings(
        {
            "CRM_VAR_DIR": str(tmp_path / "var"),
            "CRM_SECRET_KEY": "test-secret",
            "CRM_DATABASE_URL": database_url,
            "RASA_TRACKER_URL": tracker_url_for(database_url, tmp_path),
        }
    )
    return replace(settings, rasa_port=5005)


def conversations_of(store: CRMStore, customer_id: int) -> list[str]:
    with store.customers._session() as session:
        return list(
            session.scalars(
                select(Conversation.id)
                .where(Conversation.customer_id == customer_id)
                .order_by(Conversation.id)
            )
        )


def furnish(store: CRMStore) -> dict[str, str]:
    """Give PERSON (and a duplicate merged into them) a row in every table erasure touches;
    OTHER gets the same kind of text, which must stay."""
    mine, theirs = conversations_of(store, PERSON)[0], conversations_of(store, OTHER)[0]
    for conversation, words, key in ((mine, SECRET, "secret"), (theirs, OTHERS_WORDS, "other")):
        store.conversations.record_message(
            MessageRecord(
                conversation_id=conversation,
                event_key=f"erasure-{key}",
                seq=1e10,
                sender=Sender.CUSTOMER,
                text=words,
                created_at=datetime(2026, 10, 30, tzinfo=timezone.utc),
                entities=[{"entity": "city", "value": "Elm Road"}],
            )
        )
    runs = run(store, "cleaning", datetime(2026, 10, 1, tzinfo=timezone.utc))
    with store.customers._session() as session:
        message = session.scalar(select(Message.id).where(Message.event_key == "erasure-secret"))
    add(
        store,
        Customer(id=DUPLICATE, name="Jo Dupe", email="jo@example.com", merged_into_id=PERSON),
        CustomerMerge(
            run_id=runs,
            kept_id=PERSON,
            merged_id=DUPLICATE,
            score=0.9,
            matched_on=["email"],
            snapshot={"name": "Jo Dupe", "email": "jo@example.com"},
            moved={},
        ),
        CustomerFix(
            customer_id=PERSON,
            field="phone",
            old_value="07700 900123",
            new_value="+447700900123",
            rule="phone",
        ),
        CustomerInsight(customer_id=PERSON, risk=0.7, risk_drivers=["complaints"]),
        BotFeedback(conversation_id=mine, customer_id=PERSON, score=2, rasa_message_id="rate-1"),
        QualityFlag(
            conversation_id=mine,
            kind="fallbacks",
            severity=2,
            detail={},
            status="reviewed",
            note="Jo was upset about XK1234567",
        ),
        InboxItem(message_id=message, text=SECRET, source="fallback", status="open"),
        Topic(
            run_id=runs,
            label="identity",
            keywords=[],
            examples=[SECRET, OTHERS_WORDS],
            digest={"complaints": {"0": [SECRET.capitalize(), OTHERS_WORDS]}},
        ),
        RasaDelivery(
            conversation_id=mine, kind=DeliveryKind.AGENT_MESSAGE, payload={"text": SECRET}
        ),
    )
    return {"mine": mine, "theirs": theirs}


def count(store: CRMStore, query) -> int:
    with store.customers._session() as session:
        return session.scalar(query)


@pytest.fixture
def settings(seeded_store: CRMStore, database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


def test_erasure_leaves_tombstones_without_a_word_of_the_customer(
    seeded_store: CRMStore, settings: Settings
) -> None:
    store = seeded_store
    talk = furnish(store)
    mine = conversations_of(store, PERSON)
    save_trackers(settings.tracker_url, [*mine[:2], talk["theirs"]])
    outbox = LocalOutbox(settings.outbox_dir / "rasa-5005.sqlite3")
    outbox.append(EntryKind.EVENT, talk["mine"], {"text": SECRET})
    outbox.append(EntryKind.EVENT, talk["theirs"], {"text": OTHERS_WORDS})
    outbox.close()
    index = TicketSearch(store.tickets, settings.similar_index_dir, writer=True)
    index.rebuild()
    with store.customers._session() as session:
        tickets = set(session.scalars(select(Ticket.id).where(Ticket.customer_id == PERSON)))
    assert tickets and tickets <= {int(t) for t in index._index.ticket_ids_}

    erasure = erase_customer(store, settings, index, DUPLICATE)

    assert erasure["customer_id"] == PERSON and erasure["erased_ids"] == [PERSON, DUPLICATE]
    assert not erasure["already_erased"] and erasure["conversation_ids"] == mine
    erased = erasure["erased"]
    assert erased["customers"] == 2 and erased["tracker_events"] == 4
    assert erased["outbox_entries"] == 1 and erased["index_tickets"] == len(tickets)
    for kind in ("nlu_inbox", "bot_feedback", "deliveries", "quality_notes", "topics"):
        assert erased[kind] == 1, kind
    with store.customers._session() as session:
        people = session.scalars(select(Customer).where(Customer.id.in_([PERSON, DUPLICATE])))
        for person in people:
            assert (person.name, person.email, person.phone, person.city) == (
                ERASED_NAME,
                None,
                None,
                None,
            )
            assert person.erased_at is not None
        assert (
            session.scalar(
                select(func.count()).where(
                    Message.conversation_id.in_(mine), Message.text.is_not(None)
                )
            )
            == 0
        )
        assert session.scalar(select(func.count()).where(Message.conversation_id.in_(mine))) > 0, (
            "rows stay"
        )
        for ticket in session.scalars(select(Ticket).where(Ticket.customer_id == PERSON)):
            assert (ticket.text, ticket.resolution, ticket.packet) == ("", None, None)
        [topic] = session.scalars(select(Topic))
        assert topic.examples == [OTHERS_WORDS]
        assert topic.digest == {"complaints": {"0": [OTHERS_WORDS]}}
        assert session.scalar(select(QualityFlag.note)) is None
        assert session.get(CustomerInsight, PERSON) is None
        assert session.scalar(select(func.count()).where(Contact.customer_id == PERSON)) == 0
        assert session.scalar(select(CustomerFix.old_value)) is None
        assert session.scalar(select(CustomerMerge.snapshot)) == {"erased": True}
        other = session.scalar(select(Message.text).where(Message.event_key == "erasure-other"))
        assert other == OTHERS_WORDS
    assert tracker_senders(settings.tracker_url) == {talk["theirs"]}
    assert not tickets & {int(t) for t in index._index.ticket_ids_}
    reader = TicketSearch(store.tickets, settings.similar_index_dir)
    assert not tickets & {r["ticket_id"] for r in reader.query("card", k=50)}
    leftovers = [p.name for p in settings.similar_index_dir.iterdir()]
    assert sorted(leftovers) == sorted(["meta.json", "writer.lock", index._loaded_version])

    with pytest.raises(NotFound):
        store.customers.profile(PERSON)
    assert store.customers.resolve(DUPLICATE) is None
    assert PERSON not in [c["id"] for c in store.customers.search(limit=200)[0]]

    again = erase_customer(store, settings, index, PERSON)
    assert again["already_erased"] and again["erased_at"] == erasure["erased_at"]
    assert set(again["erased"].values()) == {0}


def test_a_late_write_of_an_erased_conversation_keeps_no_text(
    seeded_store: CRMStore, settings: Settings
) -> None:
    store = seeded_store
    mine = conversations_of(store, PERSON)[0]
    store.erasure.erase_customer(PERSON)
    late = MessageRecord(
        conversation_id=mine,
        event_key="late-1",
        seq=2e10,
        sender=Sender.CUSTOMER,
        text=SECRET,
        created_at=datetime(2026, 11, 2, tzinfo=timezone.utc),
        data={"button": SECRET},
        entities=[{"entity": "x", "value": "y"}],
        intent="inform",
    )
    new_conversation = replace(
        late, conversation_id="fresh", event_key="late-2", customer_id=PERSON
    )
    assert store.conversations.record_message(late)
    assert store.conversations.record_message(new_conversation)
    for conversation in (mine, "fresh"):
        [stored] = [
            m for m in store.conversations.get(conversation)["messages"] if m["intent"] == "inform"
        ]
        assert (stored["text"], stored["data"], stored["entities"]) == (None, None, [])
    assert count(store, select(func.count()).where(Message.text == SECRET)) == 0


def test_an_unknown_customer_is_not_found(seeded_store: CRMStore) -> None:
    with pytest.raises(NotFound):
        seeded_store.erasure.erase_customer(99_999)


def open_handoff(store: CRMStore, conversation: str) -> int:
    return store.handoffs.open(
        conversation_id=conversation,
        customer_id=PERSON,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=3,
        subject="Customer asked for a person",
        text="my address is 1 Secret Road",
        packet={},
    )


def test_erasure_closes_live_handoffs_and_refuses_an_agent_reply(
    seeded_store: CRMStore, tmp_path: Path, database_url: str
) -> None:
    """Nobody is left to answer, and a reply would put the person's details back in writing;
    a handoff a turn in flight opened after the erasure refuses the reply too."""
    store = seeded_store
    settings = settings_for(database_url, tmp_path)
    index = TicketSearch(store.tickets, settings.similar_index_dir, writer=True)
    waiting, held = conversations_of(store, PERSON)[:2]
    agent = store.staff.create("erasure-agent", "erasure-agent-password", StaffRole.AGENT)
    first, second = open_handoff(store, waiting), open_handoff(store, held)
    store.handoffs.claim(second, agent.id)

    erasure = erase_customer(store, settings, index, PERSON)
    assert erasure["erased"]["handoffs_closed"] == 2
    assert {store.handoffs.get(t)["status"] for t in (first, second)} == {TicketStatus.RESOLVED}
    assert store.conversations.status(held) is ConversationStatus.CLOSED
    with pytest.raises(Conflict):
        store.handoffs.record_agent_message(second, agent.id, "Hello again")

    late = open_handoff(store, held)
    store.handoffs.claim(late, agent.id)
    with pytest.raises(Conflict, match="erased"):
        store.handoffs.record_agent_message(late, agent.id, "Your address is noted")
    texts = {m["text"] for m in store.conversations.get(held)["messages"]}
    assert "Your address is noted" not in texts
