"""Topics of customer messages: what the `topics` job reads and writes, and the report.

A run writes its topics and their weekly counts (`topic_weeks`: messages per topic, ISO week,
segment and channel); readers use the latest succeeded run's, so a run that fails or is
still writing never shows. The report sums those weekly rows in the database: its cost
depends on topics and weeks, not on how many messages there were.

Counts are weekly, so a date range is read as the whole ISO weeks it touches, and the
period before it as the same number of weeks just before: each topic of the report says
which days its counts cover (`weeks_from`, `weeks_to`), not the range asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from bot.crm import models
from bot.crm.enums import JobStatus, Sender
from bot.crm.models import Conversation, JobRun, Message
from bot.crm.models_supervision import ConversationFact, Topic, TopicWeek
from bot.crm.store.base import StoreBase, batches
from bot.crm.store.metric_defs import NO_SEGMENT, MetricFilter
from bot.crm.store.metric_facts import UNKNOWN

TOPICS_JOB = "topics"
"""The job whose runs own the topics."""
CHUNK = 5_000
"""Messages per read: bounded memory for any number of messages."""
BATCH = 5_000
RISING_FACTOR = 1.5
"""A topic is rising when its last full week had at least this many times the week before's
messages (or it is new), ..."""
RISING_MIN_MESSAGES = 5
"""... and at least this many messages: two messages after one is noise, not a trend."""


class TopicMessage(NamedTuple):
    """A customer message as the topics job reads it; `segment_id` is the customer's
    segment when the conversation started (the analytics rollup's), None for none; the
    channel is "unknown" when the conversation has none, as in the facts, so a
    `channel=unknown` filter finds the same conversations in topics and metrics."""

    id: int
    text: str
    created_at: datetime
    sentiment: float | None
    channel: str
    segment_id: int | None


def week_of(day: date) -> date:
    """The Monday of the ISO week `day` is in."""
    return day - timedelta(days=day.weekday())


def covered_weeks(f: MetricFilter) -> tuple[date, date]:
    """The days the report's counts cover for the filter's range: from the Monday of its
    first week to the Sunday of its last (the counts are weekly)."""
    return week_of(f.date_from), week_of(f.date_to) + timedelta(days=6)


class TopicStore(StoreBase):
    def count_customer_messages(self) -> int:
        with self._session() as session:
            return session.scalar(select(func.count()).where(self._customer_text())) or 0

    def customer_messages(self, chunk: int = CHUNK) -> Iterator[list[TopicMessage]]:
        """Every customer message with text, oldest id first, `chunk` at a time.

        The segment comes from `conversation_facts`, so topics and the other dashboard
        numbers put a conversation in the same segment (roll the facts up first).
        """
        after = 0
        while True:
            query = (
                select(
                    Message.id,
                    Message.text,
                    Message.created_at,
                    Message.sentiment,
                    func.coalesce(func.nullif(Conversation.channel, ""), UNKNOWN),
                    ConversationFact.segment_id,
                )
                .join(Conversation, Conversation.id == Message.conversation_id)
                .outerjoin(
                    ConversationFact, ConversationFact.conversation_id == Message.conversation_id
                )
                .where(self._customer_text(), Message.id > after)
                .order_by(Message.id)
                .limit(chunk)
            )
            with self.engine.connect() as connection:
                rows = [TopicMessage(*row) for row in connection.execute(query)]
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def replace(self, run_id: int, topics: Sequence[dict], weeks: Sequence[dict]) -> int:
        """Store one run's topics and weekly counts; the number of topics stored.

        `topics[i]` has "label", "keywords", "examples" and "digest"; each week row has
        "topic" (an index into `topics`), "week" (ISO Monday), "segment_id", "channel" and
        "messages". Writing a run again replaces what it wrote; older runs are deleted,
        except the latest succeeded one, which readers keep using until this run succeeds.
        """
        with self._session() as session:
            shown = latest_topics_run(session)
            kept = Topic.run_id.not_in([shown] if shown not in (None, run_id) else [])
            session.execute(
                delete(TopicWeek)
                .where(TopicWeek.topic_id.in_(select(Topic.id).where(kept)))
                .execution_options(synchronize_session=False)
            )
            session.execute(delete(Topic).where(kept).execution_options(synchronize_session=False))
            ids = []
            for topic in topics:
                row = Topic(
                    run_id=run_id,
                    label=topic["label"],
                    keywords=topic["keywords"],
                    examples=topic["examples"],
                    digest=topic.get("digest"),
                )
                session.add(row)
                session.flush()
                ids.append(row.id)
            rows = (
                {
                    "topic_id": ids[week["topic"]],
                    "week": week["week"],
                    "segment_id": week["segment_id"],
                    "channel": week["channel"],
                    "messages": int(week["messages"]),
                }
                for week in weeks
            )
            for batch in batches(rows, BATCH):
                session.execute(TopicWeek.__table__.insert(), batch)
        return len(ids)

    def report(self, f: MetricFilter, now: datetime | None = None) -> list[dict[str, Any]]:
        """The latest run's topics with their messages in the whole weeks the range touches
        (`messages`; those days are `weeks_from`..`weeks_to`), in as many weeks before
        (`previous`), and the week-over-week `change` of the last full week
        of the range against the week before it (`last_week` / `week_before` - 1, None when
        the week before had none); most messages first.

        Filtered by `f.segment_id` (`NO_SEGMENT` for customers with none) and `f.channel`;
        `f.intent` does not apply (topics cut across intents). The digest is narrowed to
        the filtered segment. Topics with no messages in either period are left out.
        """
        if f.date_from > f.date_to:
            raise ValueError(f"the range starts ({f.date_from}) after it ends ({f.date_to})")
        now = now or models.utcnow()
        first, last = week_of(f.date_from), week_of(f.date_to)
        weeks = (last - first).days // 7 + 1
        before = first - timedelta(weeks=weeks)
        closed = min(f.date_to, now.astimezone(timezone.utc).date() - timedelta(days=1))
        last_full = week_of(closed + timedelta(days=1)) - timedelta(weeks=1)
        week_before = last_full - timedelta(weeks=1)
        W = TopicWeek

        def total(low: date, high: date) -> Any:
            inside = and_(W.week >= low.isoformat(), W.week <= high.isoformat())
            return func.coalesce(func.sum(case((inside, W.messages), else_=0)), 0)

        with self._session() as session:
            run_id = latest_topics_run(session)
            if run_id is None:
                return []
            lowest = min(before, week_before).isoformat()
            query = (
                select(
                    Topic.id,
                    total(first, last),
                    total(before, first - timedelta(weeks=1)),
                    total(last_full, last_full),
                    total(week_before, week_before),
                )
                .join(W, W.topic_id == Topic.id)
                .where(Topic.run_id == run_id, W.week >= lowest, W.week <= last.isoformat())
                .group_by(Topic.id)
            )
            if f.segment_id == NO_SEGMENT:
                query = query.where(W.segment_id.is_(None))
            elif f.segment_id is not None:
                query = query.where(W.segment_id == f.segment_id)
            if f.channel is not None:
                query = query.where(W.channel == f.channel)
            counts = {row[0]: [int(value) for value in row[1:]] for row in session.execute(query)}
            topics = session.scalars(select(Topic).where(Topic.id.in_(counts or [-1]))).all()
        weeks_from, weeks_to = covered_weeks(f)
        covered = {"weeks_from": weeks_from.isoformat(), "weeks_to": weeks_to.isoformat()}
        found = [
            {**_topic_json(topic, *counts[topic.id], f.segment_id), **covered}
            for topic in topics
            if counts[topic.id][0] or counts[topic.id][1]
        ]
        return sorted(found, key=lambda topic: (-topic["messages"], topic["id"]))

    def _customer_text(self) -> Any:
        """Customer messages with words in them (button payloads such as "/affirm" have none)."""
        return and_(
            Message.sender == Sender.CUSTOMER.value,
            Message.text.is_not(None),
            Message.text != "",
            Message.text.not_like("/%"),
        )


def latest_topics_run(session: Session) -> int | None:
    """The last `topics` run that succeeded: its topics are the ones shown."""
    return session.scalar(
        select(func.max(JobRun.id)).where(
            JobRun.job == TOPICS_JOB, JobRun.status == JobStatus.SUCCEEDED
        )
    )


def _topic_json(
    topic: Topic,
    messages: int,
    previous: int,
    last_week: int,
    week_before: int,
    segment_id: int | None,
) -> dict[str, Any]:
    change = round(last_week / week_before - 1, 4) if week_before else None
    rising = last_week >= RISING_MIN_MESSAGES and last_week >= RISING_FACTOR * week_before
    digest = topic.digest or {}
    if segment_id is not None:
        key = str(segment_id)
        digest = {kind: {k: v for k, v in by.items() if k == key} for kind, by in digest.items()}
    return {
        "id": topic.id,
        "label": topic.label,
        "keywords": topic.keywords,
        "messages": messages,
        "previous": previous,
        "last_week": last_week,
        "week_before": week_before,
        "change": change,
        "rising": rising,
        "examples": topic.examples,
        "digest": digest,
    }
