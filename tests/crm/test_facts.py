"""The incremental fact rollup on SQLite and PostgreSQL: a refresh picks up exactly what
changed (a message, a resolution, a rating, a customer's return), and repeats change nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert, select, update

from analytics.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from bot.crm.models import BotFeedback, Conversation, Customer, Message, Ticket
from bot.crm.models_supervision import (
    AnalyticsWatermark,
    ConversationFact,
    ConversationIntentFact,
)
from bot.crm.store import CRMStore
from bot.crm.store.facts import FactStore
from bot.crm.store.metric_facts import (
    ConversationInput,
    CustomerConversation,
    Handoff,
    build_fact,
)

START = datetime(2026, 11, 16, 10, tzinfo=timezone.utc)  # a Monday


def add_conversation(store: CRMStore, cid: str, customer: int | None, at: datetime) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(Conversation.__table__),
            {"id": cid, "customer_id": customer, "channel": "socketio", "status": "bot",
             "started_at": at, "last_message_at": at},
        )  # fmt: skip


def add_message(
    store: CRMStore, cid: str, sender: str, at: datetime, intent: str | None = None
) -> None:
    with store.engine.begin() as connection:
        seq = connection.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0
        connection.execute(
            insert(Message.__table__),
            {"conversation_id": cid, "event_key": f"{cid}-{seq + 1}", "seq": float(seq + 1),
             "sender": sender, "text": "...", "intent": intent, "created_at": at},
        )  # fmt: skip
        connection.execute(
            update(Conversation).where(Conversation.id == cid).values(last_message_at=at)
        )


def fact(store: CRMStore, cid: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        row = connection.execute(
            select(ConversationFact.__table__).where(ConversationFact.conversation_id == cid)
        )
        return dict(row.mappings().one())


def intents(store: CRMStore, cid: str) -> dict[str, int]:
    with store.engine.connect() as connection:
        query = select(ConversationIntentFact.intent, ConversationIntentFact.messages).where(
            ConversationIntentFact.conversation_id == cid
        )
        return dict(connection.execute(query).all())


def test_refresh_rolls_up_only_what_changed_and_is_idempotent(store: CRMStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(insert(Customer.__table__), {"id": 1, "name": "C1", "created_at": START})
    facts = FactStore(store.engine)
    add_conversation(store, "a", 1, START)
    add_message(store, "a", "customer", START, "greet")
    add_message(store, "a", "customer", START + timedelta(minutes=1), "card_lost")
    add_conversation(store, "quiet", None, START)
    add_message(store, "quiet", "customer", START, "check_balance")

    now = START + timedelta(hours=1)
    assert facts.refresh(now=now) == 2  # the first refresh rolls up everything
    first = fact(store, "a")
    assert (first["intent"], first["customer_messages"], first["handed_off"]) == (
        "card_lost", 2, False,
    )  # fmt: skip
    assert intents(store, "a") == {"greet": 1, "card_lost": 1}
    assert facts.refresh(now=now + timedelta(hours=1)) == 0  # nothing changed since

    # A new message: only its conversation is rolled up again.
    later = now + timedelta(hours=2)
    add_message(store, "a", "customer", later, "nlu_fallback")
    assert facts.refresh(now=later + timedelta(minutes=5)) == 1
    assert (fact(store, "a")["customer_messages"], fact(store, "a")["fallback_messages"]) == (3, 1)
    assert intents(store, "a") == {"greet": 1, "card_lost": 1, "nlu_fallback": 1}

    # A handoff is opened, answered and resolved, each seen by the next refresh.
    handed = later + timedelta(hours=1)
    with store.engine.begin() as connection:
        connection.execute(
            insert(Ticket.__table__),
            {"conversation_id": "a", "customer_id": 1, "kind": "handoff", "status": "open",
             "subject": "s", "text": "t", "packet": {"reason": "frustration"},
             "created_at": handed, "due_at": handed + timedelta(minutes=30)},
        )  # fmt: skip
    assert facts.refresh(now=handed + timedelta(minutes=1)) == 1
    opened = fact(store, "a")
    assert (opened["handed_off"], opened["handoff_reason"], opened["resolved"]) == (
        True, "frustration", False,
    )  # fmt: skip
    assert opened["sla_met"] is None  # unanswered, not yet due

    # The due time passes with no reply: the SLA is missed without any other change.
    assert facts.refresh(now=handed + timedelta(minutes=40)) == 1
    assert fact(store, "a")["sla_met"] is False

    add_message(store, "a", "agent", handed + timedelta(minutes=45))
    resolved_at = handed + timedelta(hours=1)
    with store.engine.begin() as connection:
        connection.execute(
            update(Ticket).values(
                status="resolved",
                claimed_at=handed + timedelta(minutes=5),
                resolved_at=resolved_at,
            )
        )
    assert facts.refresh(now=resolved_at + timedelta(minutes=1)) == 1
    done = fact(store, "a")
    # Resolved a minute ago: whether it is reopened is not judged for 7 days.
    assert (done["resolved"], done["reopened"], done["first_response_s"]) == (True, None, 2700.0)
    assert done["handle_s"] == 3300.0  # claimed +5 min, resolved +60 min

    # A rating arrives.
    rated = resolved_at + timedelta(minutes=10)
    with store.engine.begin() as connection:
        connection.execute(update(Ticket).values(csat=4, csat_at=rated))
    assert facts.refresh(now=rated + timedelta(minutes=1)) == 1
    assert fact(store, "a")["csat_agent"] == 4

    # The customer comes back two days later: the earlier conversation is rolled up again
    # (its next start and its reopen change), the anonymous one is left alone.
    back = resolved_at + timedelta(days=2)
    add_conversation(store, "b", 1, back)
    add_message(store, "b", "customer", back, "card_lost")
    assert facts.refresh(now=back + timedelta(minutes=10)) == 2
    returned = fact(store, "a")
    assert (returned["reopened"], returned["next_started_at"].replace(tzinfo=timezone.utc)) == (
        True, back,
    )  # fmt: skip

    # A bot rating on the contained conversation, later on.
    rated_bot = back + timedelta(hours=1)
    with store.engine.begin() as connection:
        connection.execute(
            insert(BotFeedback.__table__),
            {"conversation_id": "quiet", "score": 5, "rasa_message_id": "r1",
             "created_at": rated_bot},
        )  # fmt: skip
    assert facts.refresh(now=rated_bot + timedelta(minutes=5)) == 1
    assert fact(store, "quiet")["csat_bot"] == 5

    # Idempotent: nothing new for another store (a second process), and rolling everything
    # up again from scratch leaves the same rows.
    before = {cid: figures(store, cid) for cid in ("a", "b", "quiet")}
    assert FactStore(store.engine).refresh(now=rated_bot + timedelta(hours=1)) == 0
    with store.engine.begin() as connection:
        connection.execute(delete(AnalyticsWatermark))
    assert facts.refresh(now=rated_bot + timedelta(hours=2)) == 3
    assert {cid: figures(store, cid) for cid in ("a", "b", "quiet")} == before


def figures(store: CRMStore, cid: str) -> dict[str, Any]:
    return {key: value for key, value in fact(store, cid).items() if key != "computed_at"}


def add_handoff(
    store: CRMStore, cid: str, customer: int | None, at: datetime, **fields: Any
) -> int:
    with store.engine.begin() as connection:
        return connection.execute(
            insert(Ticket.__table__),
            {"conversation_id": cid, "customer_id": customer, "kind": "handoff",
             "status": "open", "subject": "s", "text": "t", "packet": {"reason": "frustration"},
             "created_at": at, **fields},
        ).inserted_primary_key[0]  # fmt: skip


def test_changes_without_a_new_timestamp_are_rolled_up(store: CRMStore) -> None:
    """A late-delivered message, a released claim, a later bind and a customer merge all
    reach the facts, though none of them moves a time past the watermark."""
    with store.engine.begin() as connection:
        connection.execute(
            insert(Customer.__table__),
            [{"id": i, "name": f"C{i}", "created_at": START} for i in (1, 2)],
        )
    facts = FactStore(store.engine)
    add_conversation(store, "a", 1, START)
    add_message(store, "a", "customer", START, "card_lost")
    add_message(store, "a", "customer", START + timedelta(minutes=5), "card_lost")
    add_conversation(store, "anon", None, START)
    add_message(store, "anon", "customer", START, "check_balance")
    ticket = add_handoff(store, "a", 1, START + timedelta(minutes=1))
    now = START + timedelta(hours=3)
    assert facts.refresh(now=now) == 2

    # A message stamped two hours ago arrives now; last_message_at stays later than it.
    with store.engine.begin() as connection:
        connection.execute(
            insert(Message.__table__),
            {"conversation_id": "anon", "event_key": "late", "seq": 0.5, "sender": "customer",
             "text": "...", "intent": "nlu_fallback", "created_at": START - timedelta(hours=1)},
        )  # fmt: skip
    assert facts.refresh(now=now + timedelta(minutes=1)) == 1  # "anon" only
    assert (fact(store, "anon")["customer_messages"], fact(store, "anon")["fallback_messages"]) == (
        2, 1,
    )  # fmt: skip

    # Claimed, then released (claimed_at cleared): the claim leaves the fact.
    with store.engine.begin() as connection:
        connection.execute(
            update(Ticket)
            .where(Ticket.id == ticket)
            .values(status="claimed", claimed_at=now + timedelta(minutes=1))
        )
    facts.refresh(now=now + timedelta(minutes=2))
    assert fact(store, "a")["queue_wait_s"] == 10800.0  # created START + 1 min
    with store.engine.begin() as connection:  # what HandoffStore.release writes
        connection.execute(
            update(Ticket).where(Ticket.id == ticket).values(status="open", claimed_at=None)
        )
    facts.refresh(now=now + timedelta(minutes=3))
    assert fact(store, "a")["queue_wait_s"] is None

    # The anonymous conversation is bound to customer 2, who is then merged into 1.
    with store.engine.begin() as connection:
        connection.execute(
            update(Conversation).where(Conversation.id == "anon").values(customer_id=2)
        )
    facts.refresh(now=now + timedelta(minutes=4))
    assert fact(store, "anon")["customer_id"] == 2
    with store.engine.begin() as connection:
        connection.execute(
            update(Conversation).where(Conversation.customer_id == 2).values(customer_id=1)
        )
    facts.refresh(now=now + timedelta(minutes=5))
    assert fact(store, "anon")["customer_id"] == 1
    assert fact(store, "a")["next_started_at"] is None  # "anon" started at the same time


def test_an_empty_conversation_is_not_the_customer_coming_back(store: CRMStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(insert(Customer.__table__), {"id": 1, "name": "C1", "created_at": START})
    add_conversation(store, "a", 1, START)
    add_message(store, "a", "customer", START, "card_lost")
    add_conversation(store, "opened", 1, START + timedelta(days=1))  # the widget, no message
    add_message(store, "opened", "bot", START + timedelta(days=1))
    add_conversation(store, "greeted", 1, START + timedelta(days=2))
    add_message(store, "greeted", "customer", START + timedelta(days=2), "greet")
    FactStore(store.engine).refresh(now=START + timedelta(days=30))
    # "opened" has no customer message; "greeted" does, so the customer came back there.
    assert fact(store, "a")["next_started_at"].replace(tzinfo=timezone.utc) == START + timedelta(
        days=2
    )


def test_other_business_hours_rebuild_every_fact(store: CRMStore) -> None:
    add_conversation(store, "a", None, START)
    add_message(store, "a", "customer", START, "card_lost")
    add_handoff(store, "a", None, START, status="resolved", claimed_at=START,
                resolved_at=START + timedelta(hours=2))  # fmt: skip
    now = START + timedelta(days=10)
    assert FactStore(store.engine).refresh(now=now) == 1
    assert fact(store, "a")["handle_bh_s"] == 7200.0  # 10:00-12:00 on a Monday
    assert FactStore(store.engine).refresh(now=now) == 0
    longer = FactStore(store.engine, "Mon-Fri 11:00-17:00 Europe/London")
    assert longer.refresh(now=now) == 1  # no watermark for these hours: everything again
    assert fact(store, "a")["handle_bh_s"] == 3600.0
    assert longer.refresh(now=now) == 0
    assert FactStore(store.engine).refresh(now=now) == 1  # back to the default: again
    with store.engine.connect() as connection:
        names = set(connection.scalars(select(AnalyticsWatermark.name)))
    assert len(names) == 2 and all(name.startswith("facts") for name in names)


def resolved_conversation(timeline: list[tuple[str, datetime, str | None]]) -> ConversationInput:
    handoff = Handoff(
        created_at=START, claimed_at=START, resolved_at=START + timedelta(hours=1),
        status="resolved", agent_id=1, csat=5, due_at=None, reason="frustration",
    )  # fmt: skip
    return ConversationInput(
        id="a", customer_id=1, channel="socketio", started_at=START,
        ended_at=START + timedelta(hours=2), customer_messages=1, handoff=handoff,
        timeline=timeline,
    )  # fmt: skip


def test_the_rating_reply_and_small_talk_do_not_reopen() -> None:
    hours = BusinessHours.parse(DEFAULT_BUSINESS_HOURS)
    resolved = START + timedelta(hours=1)
    after = [
        ("customer", START, "card_lost"),
        ("customer", resolved + timedelta(minutes=1), "csat_score"),
        ("customer", resolved + timedelta(minutes=2), "thanks"),
        ("customer", resolved + timedelta(minutes=3), "goodbye"),
    ]
    late, early = START + timedelta(days=9), START + timedelta(days=2)
    this = CustomerConversation("a", START, START)
    assert build_fact(resolved_conversation(after), [this], hours, late, late)["reopened"] is False
    assert build_fact(resolved_conversation(after), [this], hours, early, early)["reopened"] is None
    again = [*after, ("customer", resolved + timedelta(days=1), "card_lost")]
    assert build_fact(resolved_conversation(again), [this], hours, early, early)["reopened"] is True
    # A new conversation reopens only once the customer says something that is not small talk.
    greeted = CustomerConversation("b", resolved + timedelta(days=1), None)
    assert (
        build_fact(resolved_conversation(after), [this, greeted], hours, late, late)["reopened"]
        is False
    )
    asked = CustomerConversation("b", resolved + timedelta(days=1), resolved + timedelta(days=6))
    assert (
        build_fact(resolved_conversation(after), [this, asked], hours, late, late)["reopened"]
        is True
    )
    too_late = CustomerConversation("b", resolved + timedelta(days=1), resolved + timedelta(days=8))
    assert (
        build_fact(resolved_conversation(after), [this, too_late], hours, late, late)["reopened"]
        is False
    )


def test_concurrent_refreshes_take_turns(store: CRMStore) -> None:
    """Refreshes racing each other (console processes and the job) are serialised: none
    fails, and the facts end up as a rebuild from scratch computes them."""
    with store.engine.begin() as connection:
        connection.execute(insert(Customer.__table__), {"id": 1, "name": "C1", "created_at": START})
    for n in range(6):
        add_conversation(store, f"c{n}", 1 if n % 2 else None, START + timedelta(hours=n))
        add_message(store, f"c{n}", "customer", START + timedelta(hours=n), "card_lost")
    now = START + timedelta(days=1)

    def refresh_and_write(n: int) -> int:
        with store.engine.begin() as connection:
            connection.execute(
                insert(Message.__table__),
                {"conversation_id": f"c{n % 6}", "event_key": f"race-{n}", "seq": 100.0 + n,
                 "sender": "customer", "text": "...", "created_at": START + timedelta(hours=n % 6)},
            )  # fmt: skip
        return FactStore(store.engine).refresh(now=now)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(count >= 0 for count in pool.map(refresh_and_write, range(12), timeout=60))
    FactStore(store.engine).refresh(now=now)
    settled = {f"c{n}": figures(store, f"c{n}") for n in range(6)}
    assert {cid: row["customer_messages"] for cid, row in settled.items()} == dict.fromkeys(
        settled, 3
    )
    with store.engine.begin() as connection:
        connection.execute(delete(AnalyticsWatermark))
    FactStore(store.engine).refresh(now=now)
    assert {f"c{n}": figures(store, f"c{n}") for n in range(6)} == settled
