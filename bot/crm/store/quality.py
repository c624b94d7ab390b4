"""Quality flags: conversations the rules in `analytics.quality` say a supervisor should look
at, and the supervisors' verdicts on them.

Open flags are derived data: each detection raises, updates or withdraws them to match the
current facts. A reviewed flag is a supervisor's work and is never changed by detection.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import and_, delete, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from analytics.quality import UNRESOLVED_FLIPS, flags
from bot.crm import models
from bot.crm.enums import FlagKind, FlagStatus, ReviewOutcome
from bot.crm.models import Conversation, StaffUser
from bot.crm.models_supervision import AnalyticsWatermark, ConversationFact, InboxItem, QualityFlag
from bot.crm.store.base import (
    MAX_DB_INT,
    Conflict,
    InvalidCursor,
    NotFound,
    StoreBase,
    as_utc,
    batches,
    decode_cursor,
    encode_cursor,
    iso,
)
from bot.crm.store.nlu_inbox import (
    add_conversation,
    insert_new,
    move_watermark,
    read_watermark,
)

WATERMARK = "quality"
"""The newest `computed_at` judged. The fact refresh stamps each batch after taking the lock
that serialises its batches and commits it before the next one stamps, so a fact this
detection cannot see yet is stamped later than every fact it sees: the next one reads the
facts stamped after the watermark, each exactly once."""
CLOCK = "quality:now"
"""The `now` the open flags were last judged at: the next detection re-judges only the
handoffs whose age crossed one of `UNRESOLVED_FLIPS` between the two."""
SLACK = timedelta(milliseconds=1)
"""Each window reaches this far past its ends: the rules compare ages in float seconds, and a
handoff judged twice changes nothing, one missed would keep a stale flag."""
LOCK_KEY = 0x7175616C  # "qual": the advisory lock that serialises detections on PostgreSQL

MAX_NOTE = 2000
"""A review note is a few sentences; longer text belongs in a ticket."""

MAX_PAGE = 500
BATCH = 500
"""Facts per round of flag reads and writes: bounded memory and `IN (...)` lists."""

FACT_TIMES = ("started_at", "ended_at", "handoff_at", "next_started_at", "computed_at")


class FlagView(TypedDict):
    id: int
    conversation_id: str
    kind: FlagKind
    severity: int
    detail: dict[str, Any]
    status: FlagStatus
    created_at: str | None
    reviewer_id: int | None
    reviewer: str | None
    reviewed_at: str | None
    note: str | None
    outcome: ReviewOutcome | None
    customer_id: int | None
    channel: str | None
    started_at: str | None


class QualityStore(StoreBase):
    def detect(self, now: datetime | None = None) -> int:
        """Judge the facts computed since the last detection, and the unresolved handoffs
        whose flag can have changed with the time alone since then (their age crossed a
        bound in `UNRESOLVED_FLIPS`); everything the first time. Returns how many new flags
        were raised. Running it again changes nothing and judges nothing."""
        raised = 0
        with self._session() as session:
            self._lock(session)
            now = as_utc(now) if now else models.utcnow()  # not before a wait for the lock
            since = read_watermark(session, WATERMARK)
            last = read_watermark(session, CLOCK)
            if since is None:
                facts = session.scalars(select(ConversationFact)).all()
                changed = facts
            else:
                changed = session.scalars(
                    select(ConversationFact).where(
                        ConversationFact.computed_at > self._db_time(since)
                    )
                ).all()
                facts = [
                    *changed,
                    *self._aged(session, last, now, {f.conversation_id for f in changed}),
                ]
            facts.sort(key=lambda fact: fact.conversation_id)
            for batch in batches(facts, BATCH):
                raised += self._judge(session, batch, now)
            newest = max((as_utc(fact.computed_at) for fact in changed), default=None)
            if newest is not None:
                move_watermark(
                    session, self._insert(AnalyticsWatermark), WATERMARK, self._db_time(newest)
                )
            if last != now:
                statement = self._insert(AnalyticsWatermark).values(
                    name=CLOCK, at=self._db_time(now)
                )
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["name"], set_={"at": statement.excluded.at}
                    )
                )
        return raised

    def _lock(self, session: Session) -> None:
        """One detection at a time, each reading the watermarks the last one left."""
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        else:  # pysqlite starts no transaction before a read: take the write lock now
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _aged(
        self, session: Session, last: datetime | None, now: datetime, seen: set[str]
    ) -> list[ConversationFact]:
        """The unresolved handoffs not in `seen` whose age crossed a bound between the
        last detection's `now` and this one (either way: a test may go back in time); every
        unresolved handoff when the last `now` is unknown (detections before it was kept)."""
        waiting = and_(
            ConversationFact.handed_off.is_(True),
            or_(ConversationFact.resolved.is_(None), ConversationFact.resolved.is_(False)),
        )
        if last is None:
            crossed = ConversationFact.handoff_at.is_not(None)
        elif last == now:
            return []
        else:
            early, late = sorted((last, now))
            crossed = or_(
                *(
                    ConversationFact.handoff_at.between(
                        self._db_time(early - age - SLACK), self._db_time(late - age + SLACK)
                    )
                    for age in UNRESOLVED_FLIPS
                )
            )
        return [
            fact
            for fact in session.scalars(select(ConversationFact).where(waiting, crossed))
            if fact.conversation_id not in seen
        ]

    def _judge(self, session: Session, facts: list[ConversationFact], now: datetime) -> int:
        """Make the batch's open flags match the rules: raise, update or withdraw them."""
        existing = {
            (flag.conversation_id, flag.kind): flag
            for flag in session.scalars(
                select(QualityFlag).where(
                    QualityFlag.conversation_id.in_([fact.conversation_id for fact in facts])
                )
            )
        }
        new, withdrawn = [], []
        for fact in facts:
            wanted = {flag.kind.value: flag for flag in flags(_fact(fact), now)}
            for kind in FlagKind.values():
                current = existing.get((fact.conversation_id, kind))
                if current is not None and current.status == FlagStatus.REVIEWED:
                    continue
                flag = wanted.get(kind)
                if flag is None:
                    if current is not None:
                        withdrawn.append(current.id)
                elif current is None:
                    new.append(
                        {
                            "conversation_id": fact.conversation_id,
                            "kind": kind,
                            "severity": flag.severity,
                            "detail": flag.detail,
                            "status": FlagStatus.OPEN,
                            "created_at": now,
                        }
                    )
                elif (current.severity, current.detail) != (flag.severity, flag.detail):
                    # Only while still open: a review that lands meanwhile keeps what it saw.
                    session.execute(
                        update(QualityFlag)
                        .where(QualityFlag.id == current.id, QualityFlag.status == FlagStatus.OPEN)
                        .values(severity=flag.severity, detail=flag.detail)
                        .execution_options(synchronize_session=False)
                    )
        if withdrawn:
            session.execute(
                delete(QualityFlag)
                .where(QualityFlag.id.in_(withdrawn), QualityFlag.status == FlagStatus.OPEN)
                .execution_options(synchronize_session=False)
            )
        return insert_new(
            session,
            self._insert(QualityFlag).on_conflict_do_nothing(
                index_elements=["conversation_id", "kind"]
            ),
            new,
        )

    def list(
        self,
        status: FlagStatus | str | None,
        kind: FlagKind | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[FlagView], str | None]:
        """Flags most severe first, then newest, with the conversation's customer, channel and
        start; an opaque cursor for the next page (or None). ValueError for a bad filter."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        query = _with_context(select(QualityFlag))
        if status is not None:
            query = query.where(QualityFlag.status == _member(FlagStatus, status, "status"))
        if kind is not None:
            query = query.where(QualityFlag.kind == _member(FlagKind, kind, "kind"))
        if cursor:
            query = query.where(self._after(cursor))
        query = query.order_by(
            QualityFlag.severity.desc(), QualityFlag.created_at.desc(), QualityFlag.id.desc()
        ).limit(limit + 1)
        with self._session() as session:
            rows = session.execute(query).all()
        page = [_view(*row) for row in rows[:limit]]
        if len(rows) <= limit:
            return page, None
        last = rows[limit - 1][0]
        return page, encode_cursor(last.created_at, f"{last.severity}.{last.id}")

    def _after(self, cursor: str) -> ColumnElement:
        """Flags after the cursor's in (severity desc, created_at desc, id desc) order."""
        at, key = decode_cursor(cursor)
        try:
            severity, flag_id = (int(part) for part in key.split("."))
        except ValueError as error:
            raise InvalidCursor(f"invalid cursor {cursor!r}") from error
        if not (1 <= severity <= 3 and 0 < flag_id <= MAX_DB_INT):
            raise InvalidCursor(f"invalid cursor {cursor!r}")
        at = self._db_time(at)
        return or_(
            QualityFlag.severity < severity,
            and_(
                QualityFlag.severity == severity,
                or_(
                    QualityFlag.created_at < at,
                    and_(QualityFlag.created_at == at, QualityFlag.id < flag_id),
                ),
            ),
        )

    def review(
        self, flag_id: int, staff_id: int, note: str | None, outcome: ReviewOutcome | str
    ) -> dict[str, Any]:
        """Record a supervisor's verdict, once: NotFound, Conflict when already reviewed,
        ValueError for a bad outcome or note. A bot misunderstanding puts the conversation's
        bot-answered customer messages into the NLU inbox in the same transaction; the
        result is the flag with `inbox_added`, how many messages that added."""
        outcome = _member(ReviewOutcome, outcome, "outcome")
        if note is not None and not isinstance(note, str):
            raise ValueError("note must be text")
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise ValueError(f"note is longer than {MAX_NOTE} characters")
        now = models.utcnow()
        with self._session() as session:
            reviewed = session.execute(
                update(QualityFlag)
                .where(QualityFlag.id == flag_id, QualityFlag.status == FlagStatus.OPEN)
                .values(
                    status=FlagStatus.REVIEWED,
                    reviewer_id=staff_id,
                    reviewed_at=now,
                    note=note,
                    outcome=outcome,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            row = session.execute(
                _with_context(select(QualityFlag)).where(QualityFlag.id == flag_id)
            ).first()
            if row is None:
                raise NotFound(f"quality flag {flag_id} not found")
            if not reviewed:
                raise Conflict(f"quality flag {flag_id} is already reviewed")
            added = 0
            if outcome == ReviewOutcome.BOT_MISUNDERSTOOD:
                added = add_conversation(
                    session, self._insert(InboxItem), row[0].conversation_id, now
                )
            return {**_view(*row), "inbox_added": added}


def _with_context(query: Any) -> Any:
    return (
        query.add_columns(
            Conversation.customer_id,
            Conversation.channel,
            Conversation.started_at,
            StaffUser.username,
        )
        .join(Conversation, Conversation.id == QualityFlag.conversation_id)
        .outerjoin(StaffUser, StaffUser.id == QualityFlag.reviewer_id)
    )


def _member(vocabulary: type, value: Any, name: str) -> Any:
    try:
        return vocabulary(value)
    except ValueError:
        raise ValueError(
            f"{name} must be one of {', '.join(vocabulary.values())}, not {value!r}"
        ) from None


def _fact(fact: ConversationFact) -> dict[str, Any]:
    """The fact's columns, with SQLite's zone-less times back in UTC."""
    values = {column.key: getattr(fact, column.key) for column in ConversationFact.__table__.c}
    return {**values, **{name: as_utc(values[name]) for name in FACT_TIMES}}


def _view(
    flag: QualityFlag,
    customer_id: int | None,
    channel: str | None,
    started_at: datetime | None,
    reviewer: str | None,
) -> FlagView:
    return {
        "id": flag.id,
        "conversation_id": flag.conversation_id,
        "kind": FlagKind(flag.kind),
        "severity": flag.severity,
        "detail": flag.detail,
        "status": FlagStatus(flag.status),
        "created_at": iso(flag.created_at),
        "reviewer_id": flag.reviewer_id,
        "reviewer": reviewer,
        "reviewed_at": iso(flag.reviewed_at),
        "note": flag.note,
        "outcome": ReviewOutcome(flag.outcome) if flag.outcome else None,
        "customer_id": customer_id,
        "channel": channel,
        "started_at": iso(started_at),
    }
