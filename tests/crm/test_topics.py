"""The topic store on SQLite and PostgreSQL: the customer messages the job reads, one run's
topics replacing another's, and the report's weekly windows, rising topics and filters."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import Conversation, JobRun, Message
from bot.crm.models_supervision import ConversationFact, Topic, TopicWeek
from bot.crm.store import CRMStore
from bot.crm.store.metric_defs import NO_SEGMENT, MetricFilter
from bot.crm.store.topics import TopicStore

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # a Friday
RANGE = MetricFilter(date(2026, 11, 2), date(2026, 11, 15))  # two whole weeks
DIGEST = {"complaints": {"all": "Customer: awful.", "2": "Customer: fees."}, "requests": {}}


def new_run(store: CRMStore, status: JobStatus = JobStatus.RUNNING) -> int:
    with Session(store.engine) as session, session.begin():
        run = JobRun(job="topics", status=status.value, trigger=JobTrigger.CLI.value)
        session.add(run)
        session.flush()
        return run.id


def succeed(store: CRMStore, run_id: int) -> None:
    with Session(store.engine) as session, session.begin():
        session.execute(
            update(JobRun).where(JobRun.id == run_id).values(status=JobStatus.SUCCEEDED.value)
        )


def topic(name: str, digest: dict | None = None) -> dict:
    return {
        "label": name,
        "keywords": [{"word": name, "weight": 1.0}],
        "examples": [f"about {name}"],
        "digest": digest or {"complaints": {}, "requests": {}},
    }


def week(topic: int, monday: str, messages: int, segment: int | None = 1, channel="socketio"):
    return {
        "topic": topic,
        "week": monday,
        "segment_id": segment,
        "channel": channel,
        "messages": messages,
    }


WEEKS = [
    week(0, "2026-10-19", 2, channel="web"),
    week(0, "2026-10-26", 1),
    week(0, "2026-11-02", 4),
    week(0, "2026-11-09", 10, segment=2),
    week(0, "2026-11-09", 2, segment=None, channel="web"),
    week(0, "2026-11-16", 50),
    week(1, "2026-11-02", 6),
    week(1, "2026-11-09", 3),
    week(2, "2026-10-05", 5),
]


@pytest.fixture
def topics(store: CRMStore) -> TopicStore:
    topic_store = TopicStore(store.engine)
    run_id = new_run(store)
    assert (
        topic_store.replace(run_id, [topic("fees", DIGEST), topic("cards"), topic("old")], WEEKS)
        == 3
    )
    succeed(store, run_id)
    return topic_store


def summary(found: list[dict]) -> list[tuple]:
    return [
        (t["label"], t["messages"], t["previous"], t["last_week"], t["week_before"], t["change"])
        for t in found
    ]


def test_report_counts_the_weeks_of_the_range_and_of_the_period_before(
    topics: TopicStore,
) -> None:
    found = topics.report(RANGE, now=NOW)

    assert summary(found) == [
        ("fees", 16, 3, 12, 4, 2.0),
        ("cards", 9, 0, 3, 6, -0.5),
    ]
    fees = found[0]
    assert fees["rising"] is True and found[1]["rising"] is False
    assert fees["keywords"] == [{"word": "fees", "weight": 1.0}]
    assert fees["examples"] == ["about fees"] and fees["digest"] == DIGEST
    assert set(fees) >= {"id", "label", "keywords", "messages", "previous", "change"}


def test_the_last_full_week_is_the_last_one_ended_before_now(topics: TopicStore) -> None:
    wide = MetricFilter(date(2026, 11, 2), date(2026, 11, 30))
    assert summary(topics.report(wide, now=NOW))[0] == ("fees", 66, 3, 12, 4, 2.0)
    sunday_night = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    monday = datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc)
    assert summary(topics.report(wide, now=sunday_night))[0][3:] == (12, 4, 2.0)
    assert summary(topics.report(wide, now=monday))[0][3:] == (50, 12, round(50 / 12 - 1, 4))
    one_day = MetricFilter(date(2026, 11, 11), date(2026, 11, 11))
    assert summary(topics.report(one_day, now=NOW)) == [
        ("fees", 12, 4, 4, 1, 3.0),
        ("cards", 3, 6, 6, 0, None),
    ]


def test_the_report_says_which_weeks_its_counts_cover(topics: TopicStore) -> None:
    """Counts are weekly: a one-day range counts its whole week, and says so."""
    one_day = MetricFilter(date(2026, 11, 11), date(2026, 11, 11))
    found = topics.report(one_day, now=NOW)
    assert {(t["weeks_from"], t["weeks_to"]) for t in found} == {("2026-11-09", "2026-11-15")}
    across = MetricFilter(date(2026, 11, 14), date(2026, 11, 17))  # Saturday to Tuesday
    assert {(t["weeks_from"], t["weeks_to"]) for t in topics.report(across, now=NOW)} == {
        ("2026-11-09", "2026-11-22")
    }


def test_report_filters_by_segment_and_channel(topics: TopicStore) -> None:
    second = topics.report(MetricFilter(RANGE.date_from, RANGE.date_to, segment_id=2), now=NOW)
    assert summary(second) == [("fees", 10, 0, 10, 0, None)]
    assert second[0]["rising"] is True  # new, and enough messages
    assert second[0]["digest"] == {"complaints": {"2": "Customer: fees."}, "requests": {}}

    nobody = MetricFilter(RANGE.date_from, RANGE.date_to, segment_id=NO_SEGMENT)
    assert summary(topics.report(nobody, now=NOW)) == [("fees", 2, 0, 2, 0, None)]
    assert topics.report(nobody, now=NOW)[0]["rising"] is False  # too few to call a trend

    web = MetricFilter(RANGE.date_from, RANGE.date_to, channel="web")
    assert summary(topics.report(web, now=NOW)) == [("fees", 2, 2, 2, 0, None)]
    assert topics.report(MetricFilter(RANGE.date_from, RANGE.date_to, channel="sms")) == []


def test_report_reads_the_latest_succeeded_run(store: CRMStore, topics: TopicStore) -> None:
    writing = new_run(store)
    topics.replace(writing, [topic("new")], [week(0, "2026-11-09", 7)])
    assert [t["label"] for t in topics.report(RANGE, now=NOW)] == ["fees", "cards"]

    assert topics.replace(writing, [topic("newer")], [week(0, "2026-11-09", 8)]) == 1
    succeed(store, writing)
    assert summary(topics.report(RANGE, now=NOW)) == [("newer", 8, 0, 8, 0, None)]

    topics.replace(new_run(store, JobStatus.FAILED), [topic("failed")], [])
    next_run = new_run(store)
    topics.replace(next_run, [topic("next")], [week(0, "2026-11-02", 1)])
    with Session(store.engine) as session:
        runs = session.scalars(select(Topic.run_id).distinct()).all()
        stored = session.scalar(select(func.count()).select_from(TopicWeek))
    assert sorted(runs) == [writing, next_run] and stored == 2
    assert [t["label"] for t in topics.report(RANGE, now=NOW)] == ["newer"]


def test_report_without_a_run_is_empty_and_a_reversed_range_is_refused(store: CRMStore) -> None:
    topics = TopicStore(store.engine)
    assert topics.report(RANGE) == []
    with pytest.raises(ValueError, match="starts"):
        topics.report(MetricFilter(date(2026, 11, 3), date(2026, 11, 2)))


def test_customer_messages_come_in_chunks_with_channel_and_segment(store: CRMStore) -> None:
    at = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
    with Session(store.engine) as session, session.begin():
        for cid, channel in (("c1", "socketio"), ("c2", "web"), ("c3", None), ("c4", "")):
            session.add(Conversation(id=cid, channel=channel, started_at=at, last_message_at=at))
        session.flush()
        session.execute(
            insert(ConversationFact.__table__),
            [
                {
                    "conversation_id": "c1",
                    "segment_id": 4,
                    "day": "2026-11-10",
                    "started_at": at,
                    "ended_at": at,
                    "customer_messages": 3,
                    "fallback_messages": 0,
                    "agent_messages": 0,
                    "handed_off": False,
                    "computed_at": at,
                }
            ],
        )
        for i, (cid, sender, text, sentiment) in enumerate(
            [
                ("c1", "customer", "My card is lost", -0.3),
                ("c1", "bot", "Sorry to hear that", None),
                ("c1", "customer", "/affirm", None),
                ("c1", "customer", "", None),
                ("c2", "customer", "What is the exchange rate?", 0.0),
                ("c1", "customer", "Thanks", 0.4),
                ("c3", "customer", "Where is my money?", -0.1),
                ("c4", "customer", "Hello there", 0.2),
            ]
        ):
            session.add(
                Message(
                    conversation_id=cid,
                    event_key=f"e{i}",
                    seq=i,
                    sender=sender,
                    text=text,
                    sentiment=sentiment,
                    created_at=at,
                )
            )
    topics = TopicStore(store.engine)

    chunks = list(topics.customer_messages(chunk=2))

    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    rows = [(m.text, m.sentiment, m.channel, m.segment_id) for chunk in chunks for m in chunk]
    assert rows == [
        ("My card is lost", -0.3, "socketio", 4),
        ("What is the exchange rate?", 0.0, "web", None),
        ("Thanks", 0.4, "socketio", 4),
        # no channel is "unknown", as in the facts: `channel=unknown` filters both alike
        ("Where is my money?", -0.1, "unknown", None),
        ("Hello there", 0.2, "unknown", None),
    ]
    assert chunks[0][0].created_at.replace(tzinfo=timezone.utc) == at
    assert topics.count_customer_messages() == 5
