"""The supervisors' numbers: aggregates over `conversation_facts`, as docs/metrics.md defines.

Every query filters the rollup on its day (and segment, intent or channel) columns and sums
in the database, only the components the metric needs; only the few columns percentiles
need (response and handling times of handed-off conversations) come back as values, for
numpy. The arithmetic lives in `metric_calc`, the definitions in `metric_defs`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, literal_column, select, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ColumnElement

from bot.crm.models import Segment
from bot.crm.models_supervision import ConversationFact, DailyFact, DailyIntentFact
from bot.crm.store.base import StoreBase, split_page
from bot.crm.store.daily_facts import DailyFactStore, returned
from bot.crm.store.metric_calc import (
    NEEDS,
    VALUE_COLUMNS,
    Components,
    collect_values,
    drill_row,
    duration_of,
    durations_of,
    empty,
    metric_value,
    now_or_utcnow,
)
from bot.crm.store.metric_defs import (
    LISTS,
    METRICS,
    NO_SEGMENT,
    MetricDef,
    MetricFilter,
    check_dimension,
    metric_def,
)
from bot.crm.store.metric_facts import RETURN_WINDOW

__all__ = ["LISTS", "METRICS", "MetricDef", "MetricFilter", "MetricStore"]

F = ConversationFact
D = DailyFact
I = DailyIntentFact  # noqa: E741
DAILY_SUMS: dict[str, Any] = {
    "conv": D.conversations,
    "cmsg": D.customer_messages,
    "fallback": D.fallback_messages,
    "handed": D.handed_off,
    "durable_all": D.durable,
    "sla_judged": D.sla_judged,
    "sla_met": D.sla_met,
    "resolved": D.resolved,
    "reopen_judged": D.reopen_judged,
    "reopened": D.reopened,
    "agent_rated": D.agent_rated,
    "agent_good": D.agent_good,
    "bot_rated": D.bot_rated,
    "bot_good": D.bot_good,
    "sentiment_sum": D.sentiment_sum,
    "sentiment_n": D.sentiment_n,
    "sentiment_last_sum": D.sentiment_last_sum,
    "sentiment_last_n": D.sentiment_last_n,
}
"""The daily rollup column summed into each component."""


def dimension(by: str | None, table: Any) -> Any:
    """The grouping key of `by` on a rollup table (a constant for the whole range)."""
    if by is None:
        return literal_column("0")
    if by == "segment":
        return func.coalesce(table.segment_id, NO_SEGMENT)
    return getattr(table, by)


def grouping(by: str | None, table: Any) -> list[Any]:
    """GROUP BY terms of `by` (none for the whole range: a constant would be a position)."""
    return [] if by is None else [dimension(by, table)]


def grain_of(f: MetricFilter, by: str | None) -> str:
    """The coarsest daily rollup grain that answers the filter grouped `by`: the day only,
    the one dimension filtered or grouped on, or `full` for two or more."""
    dims = {name for name in ("segment", "channel", "intent") if name == by}
    if f.segment_id is not None:
        dims.add("segment")
    if f.channel is not None:
        dims.add("channel")
    if f.intent is not None:
        dims.add("intent")
    if not dims:
        return "day"
    return dims.pop() if len(dims) == 1 else "full"


def check_range(f: MetricFilter) -> None:
    """Every public query starts here, so a reversed range is refused here."""
    if f.date_from > f.date_to:
        raise ValueError(f"the range starts ({f.date_from}) after it ends ({f.date_to})")


def _mean(parts: Components, name: str) -> float | None:
    total, n = parts.pop(f"{name}_sum", 0), parts[f"{name}_n"]
    return float(total) / n if n else None


class MetricStore(StoreBase):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.daily = DailyFactStore(engine)

    def summary(self, f: MetricFilter, now: datetime | None = None) -> dict[str, Any]:
        """Every metric over the filter, plus the intent mix and the handoff reasons."""
        now = now_or_utcnow(now)
        check_range(f)
        self.daily.refresh_if_behind()
        with self.engine.connect() as connection:
            components = self._components(connection, f, now, None, None)
            components = components.get(None, empty())
            values = self._values(connection, f, None, list(durations_of(METRICS)))
            result: dict[str, Any] = {}
            for name in METRICS:
                result[name] = metric_value(name, components, values.get(None, {}))[0]
            result["intents"] = self._intents(connection, f)
            result["handoff_reasons"] = self._reasons(connection, f)
        return result

    def timeseries(
        self, metric: str, f: MetricFilter, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """[{"day", "value", "n"}] for every day of the range (n: the value's denominator)."""
        metric_def(metric)
        rows = self._grouped(metric, "day", f, now_or_utcnow(now))
        days = (f.date_to - f.date_from).days + 1
        series = []
        for offset in range(max(days, 0)):
            day = (f.date_from + timedelta(days=offset)).isoformat()
            value, n = rows.get(day, metric_value(metric, empty(), {}))
            series.append({"day": day, "value": value, "n": n})
        return series

    def breakdown(
        self, metric: str, by: str, f: MetricFilter, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """[{"key", "label", "value", "n"}] per intent, segment or channel, biggest n first.
        A segment's key is its id (`NO_SEGMENT` for none), an intent's or channel's its name."""
        metric_def(metric)
        check_dimension(by)
        rows = self._grouped(metric, by, f, now_or_utcnow(now))
        labels = self._segment_names(list(rows)) if by == "segment" else {}
        result = [
            {"key": k, "label": labels.get(k, str(k)), "value": value, "n": n}
            for k, (value, n) in rows.items()
        ]
        result.sort(key=lambda row: (-row["n"], str(row["key"])))
        return result

    def conversations(
        self,
        f: MetricFilter,
        *,
        metric: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        now: datetime | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The conversations behind a number, newest first: all counted ones, or those
        `metric` is about (its denominator; handed off for handoff_rate, contained for
        containment_rate, those with a fallback for fallback_rate)."""
        check_range(f)
        start = datetime.combine(f.date_from, time(), timezone.utc)
        end = datetime.combine(f.date_to + timedelta(days=1), time(), timezone.utc)
        where = and_(
            # the same range as the days, on the column the page is ordered by: read newest
            # first through `ix_conversation_facts_started`, it stops at the page's last row
            F.started_at >= self._db_time(start),
            F.started_at < self._db_time(end),
            self._where(f, scan=self.engine.dialect.name == "sqlite"),
        )
        if metric is not None:
            metric_def(metric)
            where = and_(where, self._subset(metric, now_or_utcnow(now)))
        if cursor:
            where = and_(where, self._after_cursor(cursor, F.started_at, F.conversation_id))
        query = (
            select(F)
            .where(where)
            .order_by(F.started_at.desc(), F.conversation_id.desc())
            .limit(limit + 1)
        )
        with self._session() as session:
            rows = session.scalars(query).all()
        page, next_cursor = split_page(
            rows, limit, lambda row: (row.started_at, row.conversation_id)
        )
        return [drill_row(row) for row in page], next_cursor

    # -- queries ---------------------------------------------------------------------------

    def _grouped(
        self, metric: str, by: str, f: MetricFilter, now: datetime
    ) -> dict[Any, tuple[Any, int]]:
        check_range(f)
        self.daily.refresh_if_behind()
        with self.engine.connect() as connection:
            needed = set(NEEDS.get(metric, ()))
            components = self._components(connection, f, now, by, needed)
            values = self._values(connection, f, by, list(durations_of([metric])))
        return {
            group: metric_value(metric, parts, values.get(group, {}))
            for group, parts in components.items()
        }

    def _where(
        self, f: MetricFilter, table: Any = F, scan: bool = False, by: str | None = None
    ) -> ColumnElement:
        """The filter on `conversation_facts` or a daily rollup (whose rows are counted
        conversations only; read at the grain `grain_of(f, by)`). `scan` hides the day index
        from SQLite's planner, and the segment's, channel's and intent's (`day || ''`,
        `segment_id + 0` are not the indexed columns): the drill-down's started_at range is
        the one to read by (`ix_conversation_facts_started`)."""
        day = table.day.concat("") if scan else table.day
        segment = table.segment_id + 0 if scan else table.segment_id
        clauses = [day >= f.date_from.isoformat(), day <= f.date_to.isoformat()]
        if table is F:
            clauses.append(F.customer_messages > 0)
        else:
            clauses.insert(0, table.grain == grain_of(f, by))
        if f.segment_id == NO_SEGMENT:
            clauses.append(segment.is_(None))
        elif f.segment_id is not None:
            clauses.append(segment == f.segment_id)
        if f.intent is not None:
            opening = I.conversation_intent if table is I else table.intent
            clauses.append((opening.concat("") if scan else opening) == f.intent)
        if f.channel is not None:
            clauses.append((table.channel.concat("") if scan else table.channel) == f.channel)
        return and_(*clauses)

    def _components(
        self,
        connection: Connection,
        f: MetricFilter,
        now: datetime,
        by: str | None,
        needed: set[str] | None,
    ) -> dict[Any, Components]:
        """Each group's summed components (all of them, or `needed` and `conv`): from the
        daily rollup, except durable containment on days whose contained conversations are not
        all old enough to judge (read from the facts) and unique customers (distinct)."""
        every = {*DAILY_SUMS, "customers", "judged", "durable"}
        wanted = every if needed is None else {"conv", *needed}
        durable = bool(wanted & {"judged", "durable"})
        if durable:
            wanted |= {"handed", "durable_all"}
        sums = {n: func.sum(DAILY_SUMS[n]) for n in sorted(wanted & set(DAILY_SUMS))}
        columns = [dimension(by, D).label("key"), D.day.label("day")]
        columns += [c.label(n) for n, c in sums.items()]
        if durable:
            columns.append(func.max(D.contained_ended_max).label("ended_max"))
        where = self._where(f, D, by=by)
        query = select(*columns).where(where).group_by(*grouping(by, D), D.day)
        cutoff = self._db_time(now - RETURN_WINDOW)
        result: dict[Any, Components] = defaultdict(empty)
        pending: set[tuple[Any, str]] = set()
        for row in connection.execute(query).mappings():
            parts = result[row["key"] if by else None]
            for name in sums.keys() - {"durable_all"}:
                parts[name] += row[name] or 0
            if durable:
                if row["ended_max"] is None or row["ended_max"] <= cutoff:
                    parts["judged"] += row["conv"] - row["handed"]
                    parts["durable_all"] += row["durable_all"]
                else:
                    pending.add((row["key"], row["day"]))
        if pending:
            self._recent_durable(connection, f, by, cutoff, pending, result)
        if "customers" in wanted:
            customers = func.count(F.customer_id.distinct())
            query = select(dimension(by, F), customers).where(self._where(f))
            for key, count in connection.execute(query.group_by(*grouping(by, F))):
                result[key if by else None]["customers"] = count
        for key, parts in list(result.items()):
            if not parts["conv"]:
                del result[key]
                continue
            parts["durable"] = parts.pop("durable_all", 0)
            parts["sentiment"] = _mean(parts, "sentiment")
            parts["sentiment_last"] = _mean(parts, "sentiment_last")
        return result

    def _recent_durable(
        self,
        connection: Connection,
        f: MetricFilter,
        by: str | None,
        cutoff: datetime,
        pending: set[tuple[Any, str]],
        result: dict[Any, Components],
    ) -> None:
        """Durable containment of the (group, day)s not all judged yet, from the facts."""
        judged = and_(F.handed_off.is_(False), F.ended_at <= cutoff)
        count_if = lambda condition: func.coalesce(func.sum(case((condition, 1), else_=0)), 0)  # noqa: E731
        returned_ = returned(self.engine.dialect.name)
        key = dimension(by, F)
        query = (
            select(key, F.day, count_if(judged), count_if(and_(judged, ~returned_)))
            .where(self._where(f), F.day.in_(sorted({day for _, day in pending})))
            .group_by(*grouping(by, F), F.day)
        )
        for group, day, judged_n, durable_n in connection.execute(query):
            if (group, day) in pending:
                parts = result[group if by else None]
                parts["judged"] += judged_n
                parts["durable_all"] += durable_n

    def _values(
        self, connection: Connection, f: MetricFilter, by: str | None, wanted: list[str]
    ) -> dict[Any, dict[str, list[float]]]:
        """Each group's duration values (reply times flattened), for percentiles: the daily
        rollup keeps them per row as comma-separated text, parsed once per group and column."""
        if not wanted:
            return {}
        lists = (getattr(D, f"{name}_values") for name in wanted)
        query = select(dimension(by, D), *lists).where(self._where(f, D, by=by))
        result = connection.execute(query)
        try:
            rows = result.cursor.fetchall()  # raw rows: Row objects cost more
        finally:
            result.close()
        return collect_values(rows, wanted, grouped=by is not None)

    def _intents(self, connection: Connection, f: MetricFilter) -> list[dict[str, Any]]:
        """The intent mix, from the daily intent rollup."""
        total = func.sum(I.messages)
        query = (
            select(I.intent, total)
            .where(self._where(f, I))
            .group_by(I.intent)
            .order_by(total.desc(), I.intent)
        )
        return [{"intent": i, "count": int(n)} for i, n in connection.execute(query)]

    def _reasons(self, connection: Connection, f: MetricFilter) -> list[dict[str, Any]]:
        reason = func.coalesce(F.handoff_reason, "unknown")
        count = func.count()
        query = (
            select(reason, count)
            .where(F.handed_off.is_(True), self._where(f))
            .group_by(reason)
            .order_by(count.desc(), reason)
        )
        return [{"reason": r, "count": int(n)} for r, n in connection.execute(query)]

    def _segment_names(self, ids: list[Any]) -> dict[Any, str]:
        names: dict[Any, str] = {NO_SEGMENT: "No segment"}
        known = [segment_id for segment_id in ids if segment_id != NO_SEGMENT]
        if known:
            with self.engine.connect() as connection:
                query = select(Segment.id, Segment.name).where(Segment.id.in_(known))
                names.update(dict(connection.execute(query).all()))
        return names

    def _subset(self, metric: str, now: datetime) -> ColumnElement:
        contained = F.handed_off.is_(False)
        handed = F.handed_off.is_(True)
        if self.engine.dialect.name == "sqlite":  # not through ix_conversation_facts_handed_day
            contained = type_coerce(F.handed_off, Integer) + 0 == 0
            handed = type_coerce(F.handed_off, Integer) + 0 == 1
        resolved = F.resolved.is_(True)
        duration = duration_of(metric)
        if duration is not None:
            column = VALUE_COLUMNS[duration[1]]
            return (
                handed if column in (F.reply_times_s, F.reply_times_bh_s) else column.is_not(None)
            )
        subsets: dict[str, ColumnElement] = {
            "handoffs": handed,
            "containment_rate": contained,
            "handoff_rate": handed,
            "durable_containment_rate": and_(
                contained, F.ended_at <= self._db_time(now - RETURN_WINDOW)
            ),
            "fallback_rate": F.fallback_messages > 0,
            "sla_met_rate": F.sla_met.is_not(None),
            "csat_agent": and_(resolved, F.csat_agent.is_not(None)),
            "csat_agent_response_rate": resolved,
            "csat_bot": and_(contained, F.csat_bot.is_not(None)),
            "csat_bot_response_rate": contained,
            "sentiment_mean": F.sentiment_mean.is_not(None),
            "sentiment_last": F.sentiment_last.is_not(None),
            "reopen_rate": and_(resolved, F.reopened.is_not(None)),
            "resolution_rate": handed,
        }
        return subsets.get(metric, literal(True))
