"""Tables of the supervisors' side: metric rollups, topics, quality flags and the NLU inbox.

They share `bot.crm.models.Base`; every row here is derived from the conversation tables
(rebuildable by the `analytics` and `topics` jobs) except reviews and labels, which are
supervisors' work and are never recomputed away.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.crm.models import Base, utcnow


class ConversationFact(Base):
    """One conversation's figures, as docs/metrics.md defines them; every dashboard query
    reads this rollup, never the messages. `day` is the UTC date the conversation started
    (ISO text, so grouping is the same in SQLite and PostgreSQL)."""

    __tablename__ = "conversation_facts"
    __table_args__ = (
        Index("ix_conversation_facts_day", "day"),
        Index("ix_conversation_facts_customer_started", "customer_id", "started_at"),
        Index("ix_conversation_facts_segment_day", "segment_id", "day"),
        Index("ix_conversation_facts_intent_day", "intent", "day"),
        Index("ix_conversation_facts_channel_day", "channel", "day"),
        Index("ix_conversation_facts_computed_at", "computed_at"),
        Index("ix_conversation_facts_started", "started_at", "conversation_id"),
        Index("ix_conversation_facts_handoff_at", "handoff_at"),
        Index(
            "ix_conversation_facts_day_customer",
            *("day", "customer_messages", "segment_id", "channel", "intent", "customer_id"),
        ),
        Index(
            "ix_conversation_facts_handed_day",
            *("handed_off", "day", "customer_messages", "segment_id", "channel", "intent"),
            *("handoff_reason", "first_response_s", "first_response_bh_s", "handle_s"),
            *("handle_bh_s", "queue_wait_s"),
        ),
    )

    conversation_id = Column(String(255), ForeignKey("conversations.id"), primary_key=True)
    customer_id = Column(Integer)
    channel = Column(String(50))
    segment_id = Column(Integer)
    """The customer's segment when the conversation started (segment_assignments)."""
    intent = Column(String(100))
    """The opening intent: the first customer message's intent that is not small talk."""
    day = Column(String(10), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False)
    ended_at = Column(DateTime(timezone=True), nullable=False)
    customer_messages = Column(Integer, nullable=False)
    fallback_messages = Column(Integer, nullable=False)
    agent_messages = Column(Integer, nullable=False)
    handed_off = Column(Boolean, nullable=False)
    handoff_reason = Column(String(40))
    handoff_at = Column(DateTime(timezone=True))
    agent_id = Column(Integer)
    first_response_s = Column(Float)
    first_response_bh_s = Column(Float)
    reply_times_s = Column(JSON)
    reply_times_bh_s = Column(JSON)
    handle_s = Column(Float)
    handle_bh_s = Column(Float)
    queue_wait_s = Column(Float)
    sla_met = Column(Boolean)
    """None while the SLA cannot be judged yet (no due time, or unanswered and not yet due)."""
    resolved = Column(Boolean)
    """Whether the (latest) handoff was resolved; None for conversations never handed off."""
    reopened = Column(Boolean)
    csat_agent = Column(Integer)
    csat_bot = Column(Integer)
    sentiment_mean = Column(Float)
    sentiment_last = Column(Float)
    next_started_at = Column(DateTime(timezone=True))
    """When the same customer's next conversation started: durable containment reads it."""
    computed_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConversationIntentFact(Base):
    """How many of a conversation's customer messages got each intent (and how many of them
    fell back), with the conversation's filters copied so the intent mix needs no join."""

    __tablename__ = "conversation_intent_facts"
    __table_args__ = (Index("ix_conversation_intent_facts_day", "day"),)

    conversation_id = Column(String(255), ForeignKey("conversations.id"), primary_key=True)
    intent = Column(String(100), primary_key=True)
    day = Column(String(10), nullable=False)
    channel = Column(String(50))
    segment_id = Column(Integer)
    messages = Column(Integer, nullable=False)


GRAINS = ("day", "segment", "channel", "intent", "full")
"""The grains of the daily rollups: the dimension kept besides the day (`full`: all three)."""


class DailyFact(Base):
    """The summable figures of a day's counted conversations (those with a customer
    message) per segment, channel and opening intent, rebuilt from `conversation_facts` by
    `DailyFactStore.refresh`: summaries and charts add up about a row per day instead of a row
    per conversation. The same figures are kept at several grains (`GRAINS`): per day only,
    per day and segment, channel or opening intent, and per day and all three (`full`); a
    grain's other dimension columns are NULL, and a query reads the coarsest grain that
    answers it. Durable containment depends on the time of asking, so a row also keeps
    its contained conversations' latest end: until that is 7 days old the day is read from
    the conversation facts."""

    __tablename__ = "daily_facts"
    __table_args__ = (Index("ix_daily_facts_grain_day", "grain", "day"),)

    id = Column(Integer, primary_key=True)
    grain = Column(String(10), nullable=False)
    day = Column(String(10), nullable=False)
    segment_id = Column(Integer)
    channel = Column(String(50))
    intent = Column(String(100))
    conversations = Column(Integer, nullable=False)
    customer_messages = Column(Integer, nullable=False)
    fallback_messages = Column(Integer, nullable=False)
    handed_off = Column(Integer, nullable=False)
    durable = Column(Integer, nullable=False)
    """Contained conversations whose customer did not come back within the window."""
    contained_ended_max = Column(DateTime(timezone=True))
    sla_judged = Column(Integer, nullable=False)
    sla_met = Column(Integer, nullable=False)
    resolved = Column(Integer, nullable=False)
    reopen_judged = Column(Integer, nullable=False)
    reopened = Column(Integer, nullable=False)
    agent_rated = Column(Integer, nullable=False)
    agent_good = Column(Integer, nullable=False)
    bot_rated = Column(Integer, nullable=False)
    bot_good = Column(Integer, nullable=False)
    sentiment_sum = Column(Float, nullable=False)
    sentiment_n = Column(Integer, nullable=False)
    sentiment_last_sum = Column(Float, nullable=False)
    sentiment_last_n = Column(Integer, nullable=False)
    first_response_values = Column(Text)
    """The handed-off conversations' duration values, comma-separated numbers (a JSON array's
    inside; NULL for none), reply times flattened: percentiles parse a row per day, not a
    value per conversation."""
    first_response_bh_values = Column(Text)
    reply_time_values = Column(Text)
    reply_time_bh_values = Column(Text)
    handle_time_values = Column(Text)
    handle_time_bh_values = Column(Text)
    queue_wait_values = Column(Text)


class DailyIntentFact(Base):
    """Customer messages per message intent of a day's conversations, per segment, channel
    and the conversations' opening intent (the intent mix, from `conversation_intent_facts`),
    at the same grains as `DailyFact`."""

    __tablename__ = "daily_intent_facts"
    __table_args__ = (Index("ix_daily_intent_facts_grain_day", "grain", "day"),)

    id = Column(Integer, primary_key=True)
    grain = Column(String(10), nullable=False)
    day = Column(String(10), nullable=False)
    segment_id = Column(Integer)
    channel = Column(String(50))
    conversation_intent = Column(String(100))
    intent = Column(String(100), nullable=False)
    messages = Column(Integer, nullable=False)


class AnalyticsWatermark(Base):
    """How far an incremental rollup has read: everything changed before `at` is rolled up."""

    __tablename__ = "analytics_watermarks"

    name = Column(String(40), primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False)


class Topic(Base):
    """A topic of customer messages from one `topics` run (the latest succeeded run's are shown)."""

    __tablename__ = "topics"

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("job_runs.id"), nullable=False, index=True)
    label = Column(String(200), nullable=False)
    keywords = Column(JSON, nullable=False)
    examples = Column(JSON, nullable=False)
    digest = Column(JSON)
    """Complaints and requests summarised per segment by the NLP layer's summariser."""


class TopicWeek(Base):
    """How many customer messages of a topic a week had, per segment and channel."""

    __tablename__ = "topic_weeks"
    __table_args__ = (Index("ix_topic_weeks_week", "week"),)

    id = Column(Integer, primary_key=True)
    topic_id = Column(Integer, ForeignKey("topics.id"), nullable=False, index=True)
    week = Column(String(10), nullable=False)
    """The ISO date of the week's Monday."""
    segment_id = Column(Integer)
    channel = Column(String(50))
    messages = Column(Integer, nullable=False)


class QualityFlag(Base):
    """A conversation that needs a look (`FlagKind`); a reviewed flag keeps its verdict when
    the rules run again."""

    __tablename__ = "quality_flags"
    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", name="uq_quality_flags_conversation_kind"),
        Index("ix_quality_flags_status_severity", "status", "severity"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), ForeignKey("conversations.id"), nullable=False)
    kind = Column(String(30), nullable=False)
    severity = Column(Integer, nullable=False)
    """1 (worth a look) to 3 (look first)."""
    detail = Column(JSON, nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reviewer_id = Column(Integer, ForeignKey("staff_users.id"))
    reviewed_at = Column(DateTime(timezone=True))
    note = Column(Text)
    outcome = Column(String(30))


class InboxItem(Base):
    """A customer message the bot may have misunderstood (`InboxSource`), and the intent a
    supervisor says it has; labelled items are the `retrain` job's extra training data."""

    __tablename__ = "nlu_inbox"
    __table_args__ = (Index("ix_nlu_inbox_status", "status"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False, unique=True)
    text = Column(Text, nullable=False)
    """The message as stored: already redacted of personal data."""
    predicted_intent = Column(String(100))
    confidence = Column(Float)
    source = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    intent = Column(String(100))
    response = Column(Text)
    """The answer for a new intent the supervisor created with this label."""
    labelled_by = Column(Integer, ForeignKey("staff_users.id"))
    labelled_at = Column(DateTime(timezone=True))
    trained_run_id = Column(Integer, ForeignKey("job_runs.id"))
