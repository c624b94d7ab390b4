"""The NLU improvement inbox: customer messages the bot may have misunderstood, the intents
supervisors say they have, and which of those labels a `retrain` run has trained on.

Items come from the messages table (fallbacks and low-confidence answers, collected since a
watermark) and from reviewed conversations (`ReviewOutcome.BOT_MISUNDERSTOOD`); a message is
in the inbox at most once. Labels are supervisors' work: nothing here recomputes them away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from analytics.inbox_groups import group
from bot.crm import models
from bot.crm.enums import InboxSource, InboxStatus, Sender
from bot.crm.models import Conversation, Message
from bot.crm.models_supervision import AnalyticsWatermark, InboxItem
from bot.crm.store.base import Conflict, NotFound, StoreBase, as_utc, batches, iso
from bot.training import domain_intents

LOW_CONFIDENCE = 0.7
"""Answers the model gave with less confidence than this are collected. Below the fallback
threshold (0.49, config.yml) the bot already falls back; the intent model's confidences are
calibrated (docs/benchmarks.md: ECE 0.02-0.04), so an answer given just under 0.7 is wrong
about one time in three: the near misses most worth a supervisor's label."""

FALLBACK_INTENT = "nlu_fallback"

NOT_MODEL_CONFIDENCE = frozenset({"frustrated", "other_language"})
"""Intents a rule component sets with its own score as the confidence (a frustration score,
a language probability: nlp/rasa_sentiment.py, nlp/rasa_language.py), which may be low
without the message being misunderstood."""

RASA_DEFAULT_INTENTS = frozenset(
    {"restart", "back", "out_of_scope", "session_start", "nlu_fallback"}
)
"""Rasa's own intents (rasa.shared.core.constants.DEFAULT_INTENTS): never a new intent's name."""

INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
"""A new intent's name: lower-case snake case, as Rasa domains and our YAML files spell them."""

MAX_RESPONSE = 500
"""A chat answer, not a page: longer text belongs in a help article the answer links to."""
UNSAFE_IN_RESPONSE = re.compile(r"[{}\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Braces (Rasa fills `{slot}` in a response with the conversation's values), control
characters and bidirectional overrides (which make text read other than it is stored)."""
"""A bot answer longer than this is a document, not a chat message."""

WATERMARK = "inbox"
LATE_DELIVERY = timedelta(hours=1)
"""A message's time is its Rasa event's; one delivered late (a consumer restart) is stored
with an older time. Each collection reads back this far before the watermark; the unique
message id makes the re-read free of duplicates."""

MAX_GROUPED = 2000
"""Grouping compares every pair of items: 2000 items is a 32 MB distance matrix and a few
seconds, more than a supervisor works through in a sitting."""

BATCH = 500
"""Rows per executemany, and ids per `IN (...)`: within psycopg2's page and parameter limits."""


class InboxItemView(TypedDict):
    id: int
    message_id: int
    conversation_id: str
    customer_id: int | None
    text: str
    predicted_intent: str | None
    confidence: float | None
    source: InboxSource
    status: InboxStatus
    created_at: str | None
    intent: str | None
    response: str | None
    labelled_by: int | None
    labelled_at: str | None
    trained_run_id: int | None


class TrainingLabel(TypedDict):
    id: int
    text: str
    intent: str
    response: str | None


def read_watermark(session: Session, name: str) -> datetime | None:
    return as_utc(
        session.scalar(select(AnalyticsWatermark.at).where(AnalyticsWatermark.name == name))
    )


def move_watermark(session: Session, insert: Insert, name: str, at: datetime) -> None:
    """Set the watermark forward only (`insert` is the store's dialect INSERT of the table)."""
    statement = insert.values(name=name, at=at)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"at": statement.excluded.at},
            where=AnalyticsWatermark.at < statement.excluded.at,
        )
    )


def insert_new(session: Session, statement: Insert, rows: list[dict[str, Any]]) -> int:
    """Run an INSERT ... ON CONFLICT DO NOTHING over `rows`; returns how many were new.

    One compiled statement executed for many rows (a multi-row VALUES is compiled again for
    every batch, slowly), in batches under psycopg2's page of 1000 rows: past a page, its
    rowcount is only the last page's.
    """
    return sum(session.execute(statement, batch).rowcount for batch in batches(rows, BATCH))


def add_items(session: Session, insert: Insert, rows: list[dict[str, Any]]) -> int:
    """Add inbox items (`insert` is the store's dialect INSERT of the table), skipping
    messages already in the inbox; returns how many were new."""
    return insert_new(session, insert.on_conflict_do_nothing(index_elements=["message_id"]), rows)


def add_conversation(session: Session, insert: Insert, conversation_id: str, now: datetime) -> int:
    """Put the conversation's customer messages that the bot answered into the inbox (source
    review): a reviewer found the bot misunderstood one of them, not which one."""
    if session.get(Conversation, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id!r} not found")
    messages = session.execute(
        select(Message.id, Message.sender, Message.text, Message.intent, Message.confidence)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.seq, Message.id)
    ).all()
    rows, answerer = [], None
    for message in reversed(messages):
        if message.sender != Sender.CUSTOMER:
            answerer = message.sender
        elif answerer == Sender.BOT and (message.text or "").strip():
            rows.append(_row(message, InboxSource.REVIEW, now))
    return add_items(session, insert, rows[::-1])


def _row(message: Any, source: InboxSource, now: datetime) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "text": message.text,
        "predicted_intent": message.intent,
        "confidence": message.confidence,
        "source": source,
        "status": InboxStatus.OPEN,
        "created_at": now,
    }


def _with_context(query: Any) -> Any:
    """The item's conversation and customer: where a reviewer goes to read the message."""
    return (
        query.add_columns(Message.conversation_id, Conversation.customer_id)
        .join(Message, Message.id == InboxItem.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
    )


def _view(item: InboxItem, conversation_id: str, customer_id: int | None) -> InboxItemView:
    return {
        "id": item.id,
        "message_id": item.message_id,
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "text": item.text,
        "predicted_intent": item.predicted_intent,
        "confidence": item.confidence,
        "source": InboxSource(item.source),
        "status": InboxStatus(item.status),
        "created_at": iso(item.created_at),
        "intent": item.intent,
        "response": item.response,
        "labelled_by": item.labelled_by,
        "labelled_at": iso(item.labelled_at),
        "trained_run_id": item.trained_run_id,
    }


def check_label(
    intent: str, response: str | None, known: set[str], labelled: Callable[[str], bool]
) -> tuple[str, str | None]:
    """The intent and response to store, or ValueError saying what is wrong.

    A domain intent keeps the domain's responses, so it takes none (its names are accepted as
    the domain spells them: `Refund_not_showing_up`). A new intent needs a valid name and a
    response, unless an earlier label (`labelled(intent)`) already gave it one.
    """
    intent = (intent or "").strip() if isinstance(intent, str) else ""
    if response is not None and not isinstance(response, str):
        raise ValueError("response must be text")
    response = (response or "").strip() or None
    if response is not None and len(response) > MAX_RESPONSE:
        raise ValueError(f"response is longer than {MAX_RESPONSE} characters")
    if response is not None and UNSAFE_IN_RESPONSE.search(response):
        raise ValueError(
            "response may not contain braces (Rasa would fill them with the conversation's "
            "slots), control characters or text-direction overrides"
        )
    if intent in known:
        if response is not None:
            raise ValueError(
                f"intent {intent!r} is in the domain and keeps its own responses: send no response"
            )
        return intent, None
    if not INTENT_NAME.fullmatch(intent):
        raise ValueError(
            f"intent name {intent!r} must be 2-60 characters of a-z, 0-9 and _, "
            "starting with a letter"
        )
    if intent in RASA_DEFAULT_INTENTS:
        raise ValueError(f"intent {intent!r} is one of Rasa's own intents")
    if response is None and not labelled(intent):
        raise ValueError(
            f"intent {intent!r} is new (not in the domain): give the response the bot should send"
        )
    return intent, response


LIVE = (InboxStatus.OPEN, InboxStatus.LABELLED)
"""A label may change until a `retrain` run has trained on it."""


class InboxStore(StoreBase):
    def collect(self, now: datetime | None = None) -> int:
        """Add customer messages since the watermark that fell back or were answered with
        low confidence; returns how many were new to the inbox."""
        now = as_utc(now) if now else models.utcnow()
        with self._session() as session:
            since = read_watermark(session, WATERMARK)
            query = select(Message.id, Message.text, Message.intent, Message.confidence).where(
                Message.sender == Sender.CUSTOMER,
                func.trim(func.coalesce(Message.text, "")) != "",
                Message.created_at <= self._db_time(now),
                or_(
                    Message.intent == FALLBACK_INTENT,
                    and_(
                        Message.confidence < LOW_CONFIDENCE,
                        Message.intent.not_in(NOT_MODEL_CONFIDENCE),
                    ),
                ),
            )
            if since is not None:
                query = query.where(Message.created_at >= self._db_time(since - LATE_DELIVERY))
            rows = [
                _row(
                    message,
                    InboxSource.FALLBACK
                    if message.intent == FALLBACK_INTENT
                    else InboxSource.LOW_CONFIDENCE,
                    now,
                )
                for message in session.execute(query.order_by(Message.id))
            ]
            added = add_items(session, self._insert(InboxItem), rows)
            move_watermark(session, self._insert(AnalyticsWatermark), WATERMARK, self._db_time(now))
            return added

    def add_from_conversation(self, conversation_id: str) -> int:
        """The conversation's bot-answered customer messages, as review items; NotFound."""
        with self._session() as session:
            return add_conversation(
                session, self._insert(InboxItem), conversation_id, models.utcnow()
            )

    def groups(self, status: InboxStatus = InboxStatus.OPEN, limit: int = 500) -> list[dict]:
        """The newest `limit` items of a status, grouped by similar text (inbox_groups)."""
        status = _status(status)
        if not 1 <= limit <= MAX_GROUPED:
            raise ValueError(f"limit must be between 1 and {MAX_GROUPED}")
        with self._session() as session:
            rows = session.execute(
                _with_context(select(InboxItem))
                .where(InboxItem.status == status)
                .order_by(InboxItem.id.desc())
                .limit(limit)
            ).all()
        return group([_view(*row) for row in reversed(rows)])

    def label(
        self, item_id: int, staff_id: int, intent: str, response: str | None
    ) -> InboxItemView:
        """Say which intent the message has (relabelling allowed until trained); ValueError
        for a bad label, NotFound, Conflict for a dismissed or trained item."""
        with self._session() as session:
            intent, response = check_label(
                intent,
                response,
                domain_intents(),
                lambda name: _has_response(session, name, item_id),
            )
            return self._move(
                session,
                item_id,
                "labelled",
                status=InboxStatus.LABELLED,
                intent=intent,
                response=response,
                labelled_by=staff_id,
            )

    def dismiss(self, item_id: int, staff_id: int) -> InboxItemView:
        """Not a bot error: never training data. NotFound; Conflict once dismissed or trained."""
        with self._session() as session:
            return self._move(
                session,
                item_id,
                "dismissed",
                status=InboxStatus.DISMISSED,
                intent=None,
                response=None,
                labelled_by=staff_id,
            )

    def _move(self, session: Session, item_id: int, verb: str, **values: Any) -> InboxItemView:
        """Change a live item (open or labelled) in one conditional UPDATE, so two supervisors
        racing on one item cannot both act on a state that changed under them."""
        changed = session.execute(
            update(InboxItem)
            .where(InboxItem.id == item_id, InboxItem.status.in_(LIVE))
            .values(**values, labelled_at=models.utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        row = session.execute(
            _with_context(select(InboxItem)).where(InboxItem.id == item_id)
        ).first()
        if row is None:
            raise NotFound(f"inbox item {item_id} not found")
        if not changed:
            raise Conflict(f"inbox item {item_id} is {row[0].status}, it cannot be {verb}")
        return _view(*row)

    def training_labels(self) -> list[TrainingLabel]:
        """Every label a model should learn: new ones and those already trained (each retrain
        trains from scratch, so earlier labels must stay in)."""
        with self._session() as session:
            items = session.scalars(
                select(InboxItem)
                .where(InboxItem.status.in_((InboxStatus.LABELLED, InboxStatus.TRAINED)))
                .order_by(InboxItem.id)
            ).all()
        return [
            {"id": item.id, "text": item.text, "intent": item.intent, "response": item.response}
            for item in items
        ]

    def new_intents(self) -> list[dict[str, str]]:
        """Intents that labels created (not in the domain), each with the response its
        newest label gave, as `write_labels` trains it: a supervisor labelling another
        message with one of them need not give the response again."""
        with self._session() as session:
            rows = session.execute(
                select(InboxItem.intent, InboxItem.response)
                .where(
                    InboxItem.status.in_((InboxStatus.LABELLED, InboxStatus.TRAINED)),
                    InboxItem.response.is_not(None),
                )
                .order_by(InboxItem.id)
            ).all()
        known = domain_intents()
        latest = {intent: response for intent, response in rows if intent not in known}
        return [{"intent": intent, "response": latest[intent]} for intent in sorted(latest)]

    def mark_trained(self, labels: Sequence[TrainingLabel], run_id: int) -> int:
        """The run trained on these labels (as `training_labels` gave them); returns how many
        items were marked. An item relabelled during the run (another intent or response)
        stays labelled for the next run, and one dismissed meanwhile is left alone: the
        model never learned what they say now."""
        by_label: dict[tuple[str, str | None], list[int]] = {}
        for label in labels:
            by_label.setdefault((label["intent"], label["response"]), []).append(label["id"])
        marked = 0
        with self._session() as session:
            for (intent, response), ids in sorted(by_label.items(), key=str):
                for batch in batches(sorted(set(ids)), BATCH):
                    marked += session.execute(
                        update(InboxItem)
                        .where(
                            InboxItem.id.in_(batch),
                            InboxItem.status == InboxStatus.LABELLED,
                            InboxItem.intent == intent,
                            InboxItem.response.is_not_distinct_from(response),
                        )
                        .values(status=InboxStatus.TRAINED, trained_run_id=run_id)
                        .execution_options(synchronize_session=False)
                    ).rowcount
        return marked


def _status(status: InboxStatus | str) -> InboxStatus:
    try:
        return InboxStatus(status)
    except ValueError:
        raise ValueError(
            f"status must be one of {', '.join(InboxStatus.values())}, not {status!r}"
        ) from None


def _has_response(session: Session, intent: str, item_id: int) -> bool:
    """Whether another item's label already created this new intent with a response."""
    return (
        session.scalar(
            select(InboxItem.id)
            .where(
                InboxItem.intent == intent,
                InboxItem.id != item_id,
                InboxItem.response.is_not(None),
                InboxItem.status.in_((InboxStatus.LABELLED, InboxStatus.TRAINED)),
            )
            .limit(1)
        )
        is not None
    )
