"""Daily rollups of the conversation facts (`daily_facts`, `daily_intent_facts`).

A conversation's day is its start day and never changes, but its figures do: so a refresh
takes the days of every fact computed since its own watermark and rebuilds those days from
`conversation_facts` whole (DELETE, then INSERT ... SELECT ... GROUP BY), in one
transaction. Rebuilding is idempotent, and it needs nothing from `FactStore` but its rows.

Each day is kept at every grain of `GRAINS`: the `full` grain (day x segment x channel x
opening intent) is grouped from the facts, the coarser ones (day only; day x segment; day x
channel; day x opening intent) are summed from the day's `full` rows in the same transaction
(every column is a sum, but the contained conversations' latest end, a max).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    String,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import type_coerce

from bot.crm.models_supervision import (
    GRAINS,
    AnalyticsWatermark,
    ConversationFact,
    ConversationIntentFact,
    DailyFact,
    DailyIntentFact,
)
from bot.crm.store.base import StoreBase, batches
from bot.crm.store.metric_calc import VALUE_COLUMNS
from bot.crm.store.metric_facts import RETURN_WINDOW

F = ConversationFact
WATERMARK = "daily"
DAYS_PER_STATEMENT = 200
DIMENSIONS = {"segment": "segment_id", "channel": "channel", "intent": "intent"}
"""Each coarse grain's dimension column on `daily_facts` (the opening intent: `intent`)."""


def returned(dialect: str) -> ColumnElement:
    """The customer started another conversation within the window after this one ended."""
    if dialect == "sqlite":
        gap = func.julianday(F.next_started_at) - func.julianday(F.ended_at)
        return and_(F.next_started_at.is_not(None), gap <= RETURN_WINDOW.days)
    return and_(F.next_started_at.is_not(None), F.next_started_at <= F.ended_at + RETURN_WINDOW)


def concat(dialect: str, text: Any) -> Any:
    """The group's non-NULL texts joined by commas (NULL for none)."""
    if dialect == "sqlite":
        return func.group_concat(text, ",")
    return func.string_agg(text, ",")


def value_list(dialect: str, column: Any, when: ColumnElement) -> Any:
    """The group's values of a duration column where `when`, as comma-separated numbers that
    parse back to the same floats (SQLite's own REAL to text keeps 15 digits, `%.17g` all);
    a JSON list column (reply times) gives its items."""
    if isinstance(column.type, JSON):
        if dialect == "sqlite":
            raw, items = type_coerce(column, String), func.trim(type_coerce(column, String), "[] ")
        else:
            raw = cast(column, Text)
            items = func.btrim(raw, "[] ")
        return concat(
            dialect, case((and_(when, column.is_not(None), items != "", raw != "null"), items))
        )
    number = func.printf("%.17g", column) if dialect == "sqlite" else cast(column, Text)
    return concat(dialect, case((and_(when, column.is_not(None)), number)))


def _count_if(condition: ColumnElement) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class DailyFactStore(StoreBase):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._watermark_seen: Any = None

    def refresh(self) -> int:
        """Rebuild the days of the facts computed since the watermark; how many days."""
        with self.engine.begin() as connection:
            since = self._watermark(connection)
            query = select(F.day, func.max(F.computed_at)).group_by(F.day)
            if since is not None:
                query = query.where(F.computed_at > since)
            changed = connection.execute(query).all()
            if not changed:
                return 0
            days = sorted(day for day, _ in changed)
            for chunk in batches(days, DAYS_PER_STATEMENT):
                self._rebuild(connection, list(chunk))
            top = max(at for _, at in changed)
            statement = self._insert(AnalyticsWatermark).values(name=WATERMARK, at=top)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[AnalyticsWatermark.name], set_={"at": statement.excluded.at}
                )
            )
        self._watermark_seen = top
        return len(days)

    def refresh_if_behind(self) -> None:
        """Catch up when facts were computed after the watermark (one index lookup when not)."""
        with self.engine.connect() as connection:
            latest = connection.execute(select(func.max(F.computed_at))).scalar()
            if latest is None:
                return
            if self._watermark_seen is not None and latest <= self._watermark_seen:
                return
            since = self._watermark(connection)
        if since is None or latest > since:
            self.refresh()
        else:
            self._watermark_seen = since

    def _watermark(self, connection: Connection) -> Any:
        return connection.execute(
            select(AnalyticsWatermark.at).where(AnalyticsWatermark.name == WATERMARK)
        ).scalar()

    def _rebuild(self, connection: Connection, days: list[str]) -> None:
        connection.execute(delete(DailyFact).where(DailyFact.day.in_(days)))
        connection.execute(delete(DailyIntentFact).where(DailyIntentFact.day.in_(days)))
        dialect = self.engine.dialect.name
        contained = F.handed_off.is_(False)
        resolved = F.resolved.is_(True)
        columns = {
            "grain": literal("full"),
            "day": F.day,
            "segment_id": F.segment_id,
            "channel": F.channel,
            "intent": F.intent,
            "conversations": func.count(),
            "customer_messages": func.sum(F.customer_messages),
            "fallback_messages": func.sum(F.fallback_messages),
            "handed_off": _count_if(F.handed_off.is_(True)),
            "durable": _count_if(and_(contained, ~returned(dialect))),
            "contained_ended_max": func.max(case((contained, F.ended_at))),
            "sla_judged": func.count(F.sla_met),
            "sla_met": _count_if(F.sla_met.is_(True)),
            "resolved": _count_if(resolved),
            "reopen_judged": _count_if(and_(resolved, F.reopened.is_not(None))),
            "reopened": _count_if(and_(resolved, F.reopened.is_(True))),
            "agent_rated": _count_if(and_(resolved, F.csat_agent.is_not(None))),
            "agent_good": _count_if(and_(resolved, F.csat_agent >= 4)),
            "bot_rated": _count_if(and_(contained, F.csat_bot.is_not(None))),
            "bot_good": _count_if(and_(contained, F.csat_bot >= 4)),
            "sentiment_sum": func.coalesce(func.sum(F.sentiment_mean), 0.0),
            "sentiment_n": func.count(F.sentiment_mean),
            "sentiment_last_sum": func.coalesce(func.sum(F.sentiment_last), 0.0),
            "sentiment_last_n": func.count(F.sentiment_last),
        }
        handed = F.handed_off.is_(True)
        for key, column in VALUE_COLUMNS.items():
            columns[f"{key}_values"] = value_list(dialect, column, handed)
        facts = (
            select(*(c.label(n) for n, c in columns.items()))
            .where(F.day.in_(days), F.customer_messages > 0)
            .group_by(F.day, F.segment_id, F.channel, F.intent)
        )
        connection.execute(insert(DailyFact).from_select(list(columns), facts))
        intents = ConversationIntentFact
        mix = (
            select(
                literal("full"),
                *(F.day, F.segment_id, F.channel, F.intent, intents.intent),
                func.sum(intents.messages),
            )
            .join(F, F.conversation_id == intents.conversation_id)
            .where(intents.day.in_(days), F.customer_messages > 0)
            .group_by(F.day, F.segment_id, F.channel, F.intent, intents.intent)
        )
        names = ["grain", "day", "segment_id", "channel", "conversation_intent", "intent"]
        connection.execute(insert(DailyIntentFact).from_select([*names, "messages"], mix))
        for grain in GRAINS:
            if grain != "full":
                self._coarsen(connection, grain, days)

    def _coarsen(self, connection: Connection, grain: str, days: list[str]) -> None:
        """The days' rows at `grain`, summed from their `full` rows."""
        D, I = DailyFact, DailyIntentFact  # noqa: E741
        kept = DIMENSIONS.get(grain)
        sums = [c.name for c in D.__table__.columns if c.name not in {"id", "grain", "day"}]
        columns: dict[str, Any] = {"grain": literal(grain), "day": D.day}
        for name in sums:
            column = getattr(D, name)
            if name in DIMENSIONS.values():
                columns[name] = column if name == kept else null()
            elif name == "contained_ended_max":
                columns[name] = func.max(column)
            elif name.endswith("_values"):
                columns[name] = concat(self.engine.dialect.name, column)
            else:
                columns[name] = func.sum(column)
        keys = [D.day] + ([getattr(D, kept)] if kept else [])
        rows = (
            select(*(c.label(n) for n, c in columns.items()))
            .where(D.grain == "full", D.day.in_(days))
            .group_by(*keys)
        )
        connection.execute(insert(D).from_select(list(columns), rows))
        dims = {"segment": "segment_id", "channel": "channel", "intent": "conversation_intent"}
        selected: list[Any] = [literal(grain), I.day]
        for dim, name in dims.items():
            selected.append(getattr(I, name) if dim == grain else null())
        selected += [I.intent, func.sum(I.messages)]
        keys_i = [I.day] + ([getattr(I, dims[grain])] if grain in dims else []) + [I.intent]
        mix = select(*selected).where(I.grain == "full", I.day.in_(days)).group_by(*keys_i)
        names = ["grain", "day", *dims.values(), "intent", "messages"]
        connection.execute(insert(I).from_select(names, mix))
