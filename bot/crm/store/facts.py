"""The `conversation_facts` rollup, refreshed incrementally from the conversation tables.

Every dashboard number is an aggregate over this table, so the dashboard never reads
messages. A refresh rolls up only the conversations that may have changed since the last
one, plus the same customers' other conversations (their `next_started_at` and reopen
depend on each other). What "may have changed" means (`_stale`):

- a message written since the last refresh, found by write order (`messages.id` above the
  last id rolled up), so a message delivered late with an old `created_at` is seen too;
- a conversation started or written in since the time watermark (`last_message_at`);
- a handoff created, claimed, resolved or rated since then, falling due, or whose 7-day
  reopen window closed; a live (open or claimed) handoff whose holder is not the fact's (a
  release clears the claim without a timestamp);
- a bot rating; a customer's first segment;
- a conversation whose customer is not the fact's (a later `bind`, a customer merge) or
  that has no fact yet.

Both watermarks are rows of `analytics_watermarks` named after the business hours the
facts were computed with (`facts:<digest>`, `facts-id:<digest>`): with other hours there is
no watermark, so the first refresh rebuilds every fact. The message id is kept in the
row's `at` column as seconds after the epoch (the table has no integer column).

Batches are serialised across processes (PostgreSQL `pg_advisory_xact_lock`, SQLite
`BEGIN IMMEDIATE`) and compute inside their write transaction, so a refresh that started
earlier can never write older figures over a newer refresh's.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text, union
from sqlalchemy.engine import Connection, Engine

from analytics.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from bot.crm import models
from bot.crm.enums import TicketKind, TicketStatus
from bot.crm.models import BotFeedback, Conversation, Message, SegmentAssignment, Ticket
from bot.crm.models_supervision import (
    AnalyticsWatermark,
    ConversationFact,
    ConversationIntentFact,
)
from bot.crm.store import fact_sources
from bot.crm.store.base import StoreBase, as_utc, batches
from bot.crm.store.metric_facts import (
    RETURN_WINDOW,
    ConversationInput,
    build_fact,
)

WATERMARK = "facts"
OVERLAP = timedelta(minutes=2)
"""How far before its start a refresh sets the time watermark: writes stamped a little
before they commit (a message's time is the Rasa event's) are still seen by the next one."""
BATCH = 2_000
"""Conversations per batch: bounded memory and `IN (...)` lists on either database."""
SQLITE_BATCH = 500
"""On SQLite a batch holds the single write lock while it computes (about 0.75 s for 500 at the
100k benchmark's full-build rate), so the bot's message writes wait well within
their busy timeout."""
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LOCK_KEY = 0x66616374  # "fact": the advisory lock that serialises the batches on PostgreSQL
LIVE = (TicketStatus.OPEN.value, TicketStatus.CLAIMED.value)


class FactStore(StoreBase):
    def __init__(self, engine: Engine, business_hours: str | None = None) -> None:
        """`business_hours` is `Settings.business_hours` (the jobs pass it). `CRMStore`
        has no settings and passes none: then `CRM_BUSINESS_HOURS` from the environment,
        which is where `load_settings` reads it too, else the default."""
        super().__init__(engine)
        spec = business_hours or os.environ.get("CRM_BUSINESS_HOURS") or DEFAULT_BUSINESS_HOURS
        self.hours = BusinessHours.parse(spec)
        self.spec = spec
        digest = hashlib.sha256(spec.strip().encode()).hexdigest()[:16]
        self._time_mark, self._id_mark = f"{WATERMARK}:{digest}", f"{WATERMARK}-id:{digest}"

    def refresh(self, now: datetime | None = None) -> int:
        """Roll up every conversation that may have changed since the watermarks (all of
        them the first time, or when the business hours changed); returns how many.
        `now` is for tests; by default each batch judges at its own time."""
        started = models.utcnow()
        with self.engine.connect() as connection:
            marks = dict(
                connection.execute(
                    select(AnalyticsWatermark.name, AnalyticsWatermark.at).where(
                        AnalyticsWatermark.name.in_((self._time_mark, self._id_mark))
                    )
                ).all()
            )
            since = as_utc(marks.get(self._time_mark))
            last_id = self._decode_id(marks.get(self._id_mark))
            newest_id = connection.scalar(select(func.max(Message.id))) or 0
            judged_at = as_utc(now) if now else started
            if since is None:
                stale = set(connection.scalars(select(Conversation.id)))
            else:
                stale = self._stale(connection, since, last_id, judged_at)
        size = SQLITE_BATCH if self.engine.dialect.name == "sqlite" else BATCH
        for batch in batches(sorted(stale), size):
            self._refresh_batch(batch, now)
        self._set_watermarks(judged_at - OVERLAP, newest_id)
        return len(stale)

    @staticmethod
    def _decode_id(at: datetime | None) -> int:
        return int((as_utc(at) - EPOCH).total_seconds()) if at is not None else 0

    def _stale(
        self, connection: Connection, since: datetime, last_id: int, now: datetime
    ) -> set[str]:
        at, until = self._db_time(since), self._db_time(now)
        closed_from, closed_to = (
            self._db_time(since - RETURN_WINDOW),
            self._db_time(now - RETURN_WINDOW),
        )
        handoff = Ticket.kind == TicketKind.HANDOFF.value
        with_conversation = Ticket.conversation_id.is_not(None)
        sources = [
            select(Message.conversation_id).where(Message.id > last_id),
            select(Conversation.id).where(Conversation.last_message_at >= at),
            *(
                select(Ticket.conversation_id).where(with_conversation, column >= at)
                for column in (Ticket.created_at, Ticket.claimed_at, Ticket.csat_at)
            ),
            select(Ticket.conversation_id).where(with_conversation, Ticket.resolved_at >= at),
            select(Ticket.conversation_id).where(
                with_conversation, Ticket.due_at > at, Ticket.due_at <= until
            ),
            # The reopen window closed: "not judged yet" becomes "not reopened".
            select(Ticket.conversation_id).where(
                with_conversation,
                Ticket.resolved_at > closed_from,
                Ticket.resolved_at <= closed_to,
            ),
            # A release clears the claim and a reassignment moves it (its claimed_at is new
            # anyway): a live handoff whose fact names another holder is rolled up again.
            select(Ticket.conversation_id)
            .join(ConversationFact, ConversationFact.conversation_id == Ticket.conversation_id)
            .where(
                handoff,
                Ticket.status.in_(LIVE),
                or_(
                    ConversationFact.agent_id.is_distinct_from(Ticket.assigned_to),
                    and_(Ticket.claimed_at.is_(None), ConversationFact.queue_wait_s.is_not(None)),
                ),
            ),
            select(BotFeedback.conversation_id).where(BotFeedback.created_at >= at),
            # A later bind or a customer merge moves conversations.customer_id silently.
            select(Conversation.id)
            .outerjoin(ConversationFact, ConversationFact.conversation_id == Conversation.id)
            .where(
                or_(
                    ConversationFact.conversation_id.is_(None),
                    and_(
                        Conversation.customer_id.is_not(None),
                        ConversationFact.customer_id.is_(None),
                    ),
                    Conversation.customer_id != ConversationFact.customer_id,
                )
            ),
        ]
        changed = {cid for cid in connection.scalars(union(*sources)) if cid is not None}
        customers: set[int] = set()
        for batch in batches(sorted(changed), BATCH):
            customers |= set(
                connection.scalars(
                    select(Conversation.customer_id).where(
                        Conversation.id.in_(batch), Conversation.customer_id.is_not(None)
                    )
                )
            )
        # A customer's first segment reaches back to their earlier, unsegmented conversations.
        newly_segmented = select(SegmentAssignment.customer_id).where(
            SegmentAssignment.valid_from >= at
        )
        changed |= set(
            connection.scalars(
                select(ConversationFact.conversation_id).where(
                    ConversationFact.segment_id.is_(None),
                    ConversationFact.customer_id.in_(newly_segmented),
                )
            )
        )
        for batch in batches(sorted(customers), BATCH):
            changed |= set(
                connection.scalars(
                    select(Conversation.id).where(Conversation.customer_id.in_(batch))
                )
            )
        return changed

    def _refresh_batch(self, ids: list[str], now: datetime | None) -> None:
        """Replace the batch's facts, computed inside the transaction that writes them and
        after taking the lock: what it writes is never older than what is already there."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            else:  # pysqlite starts no transaction before a read: take the write lock now
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            computed_at = models.utcnow()
            judged_at = as_utc(now) if now else computed_at
            facts, intents = self._compute(connection, ids, judged_at, computed_at)
            connection.execute(
                delete(ConversationIntentFact).where(
                    ConversationIntentFact.conversation_id.in_(ids)
                )
            )
            connection.execute(
                delete(ConversationFact).where(ConversationFact.conversation_id.in_(ids))
            )
            if facts:
                connection.execute(insert(ConversationFact.__table__), facts)
            if intents:
                connection.execute(insert(ConversationIntentFact.__table__), intents)

    def _set_watermarks(self, at: datetime, newest_id: int) -> None:
        """Moved forward only (a slower refresh that started earlier never moves them
        back); the rows of other business hours go, so a return to them rebuilds too."""
        values = {self._time_mark: at, self._id_mark: EPOCH + timedelta(seconds=newest_id)}
        with self.engine.begin() as connection:
            connection.execute(
                delete(AnalyticsWatermark).where(
                    or_(
                        AnalyticsWatermark.name == WATERMARK,
                        AnalyticsWatermark.name.like(f"{WATERMARK}:%"),
                        AnalyticsWatermark.name.like(f"{WATERMARK}-id:%"),
                    ),
                    AnalyticsWatermark.name.not_in(list(values)),
                )
            )
            for name, value in values.items():
                statement = self._insert(AnalyticsWatermark).values(
                    name=name, at=self._db_time(value)
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"at": statement.excluded.at},
                    where=AnalyticsWatermark.at < statement.excluded.at,
                )
                connection.execute(statement)

    def _compute(
        self, connection: Connection, ids: list[str], now: datetime, computed_at: datetime
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        items = {
            row.id: ConversationInput(
                id=row.id,
                customer_id=row.customer_id,
                channel=row.channel,
                started_at=as_utc(row.started_at),
                ended_at=as_utc(row.last_message_at),
            )
            for row in connection.execute(
                select(
                    Conversation.id,
                    Conversation.customer_id,
                    Conversation.channel,
                    Conversation.started_at,
                    Conversation.last_message_at,
                ).where(Conversation.id.in_(ids))
            )
        }
        fact_sources.messages(connection, ids, items)
        fact_sources.handoffs(connection, ids, items)
        for row in connection.execute(
            select(BotFeedback.conversation_id, BotFeedback.score)
            .where(BotFeedback.conversation_id.in_(ids))
            .order_by(BotFeedback.created_at, BotFeedback.id)
        ):
            items[row.conversation_id].csat_bot = row.score  # the latest rating wins
        customers = sorted({item.customer_id for item in items.values() if item.customer_id})
        written = fact_sources.customer_conversations(connection, customers)
        fact_sources.segments(connection, customers, items)
        facts = [
            build_fact(item, written.get(item.customer_id, []), self.hours, now, computed_at)
            for item in items.values()
        ]
        by_id = {fact["conversation_id"]: fact for fact in facts}
        intents = [
            {
                "conversation_id": conversation_id,
                "intent": intent,
                "day": by_id[conversation_id]["day"],
                "channel": by_id[conversation_id]["channel"],
                "segment_id": by_id[conversation_id]["segment_id"],
                "messages": count,
            }
            for conversation_id, intent, count in fact_sources.intent_counts(connection, ids)
        ]
        return facts, intents
