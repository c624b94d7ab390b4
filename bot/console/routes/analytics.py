"""Analytics for supervisors: the metrics of docs/metrics.md over a date range and filters, per
day, split by a dimension, the conversations behind a number, and the topics customers raise.

Every answer about conversations first rolls up those that changed since the last roll-up (at
most every ten seconds per console), so its figures are that fresh without a job having run.
Every answer is JSON, or CSV with `?format=csv`, and recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

from bot.console.access import Route
from bot.console.audit import record_analytics_read
from bot.console.context import STORE
from bot.console.csv_export import EXPORT_PAGE, csv_response, every_page, summary_rows, wants_csv
from bot.console.errors import ApiError
from bot.console.requests import MAX_DB_INT, cursor_param, int_param, text_param
from bot.console.rollup import rolled_up
from bot.crm.enums import StaffRole
from bot.crm.store.metric_defs import NO_SEGMENT, check_dimension, metric_def
from bot.crm.store.metrics import LISTS, METRICS, MetricFilter

Result = TypeVar("Result")
DEFAULT_DAYS = 30
MAX_DAYS = 366
"""A leap year: a whole year compared with itself is the longest range asked for."""
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_INTENT_CHARS = 100
MAX_CHANNEL_CHARS = 50
"""As long as the facts' `intent` and `channel` columns hold."""


def date_param(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        if ISO_DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise ApiError(400, "invalid_parameter", f"'{name}' must be a date like 2026-11-01.")


def metric_filter(request: web.Request) -> MetricFilter:
    """The range (the last 30 days up to today, UTC, unless given) and the filters asked for;
    segment NO_SEGMENT (0) asks for the conversations of customers with no segment."""
    date_to = date_param(request, "to") or datetime.now(timezone.utc).date()
    try:
        date_from = date_param(request, "from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:
        raise ApiError(400, "invalid_parameter", "'to' is too early; give 'from' too.") from None
    if date_from > date_to:
        raise ApiError(400, "invalid_parameter", "'from' must not be after 'to'.")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ApiError(400, "invalid_parameter", f"The range must be at most {MAX_DAYS} days.")
    return MetricFilter(
        date_from=date_from,
        date_to=date_to,
        segment_id=int_param(request, "segment", None, NO_SEGMENT, MAX_DB_INT),
        intent=text_param(request, "intent", MAX_INTENT_CHARS),
        channel=text_param(request, "channel", MAX_CHANNEL_CHARS),
    )


def filter_json(f: MetricFilter) -> dict[str, Any]:
    return {
        "from": f.date_from.isoformat(),
        "to": f.date_to.isoformat(),
        "segment": f.segment_id,
        "intent": f.intent,
        "channel": f.channel,
    }


def metric_param(request: web.Request, required: bool) -> str | None:
    """A metric name; None when absent and not required. The store's check names the metrics."""
    name = request.query.get("metric", "")
    if not name and not required:
        return None
    try:
        return metric_def(name).name
    except ValueError as error:
        raise ApiError(400, "invalid_parameter", f"'metric': {error}.") from None


def dimension_param(request: web.Request) -> str:
    try:
        return check_dimension(request.query.get("by", ""))
    except ValueError as error:
        raise ApiError(400, "invalid_parameter", f"'by': {error}.") from None


async def ask(call: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """A store query in a thread; the store's ValueError is a question it cannot answer (a
    metric with no per-day value, say) and says why, for the caller."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except ValueError as error:
        raise ApiError(400, "invalid_parameter", str(error)) from None


async def audit(
    request: web.Request, exported: bool, what: str, f: MetricFilter, **detail: Any
) -> None:
    await record_analytics_read(request, exported, what, filter=filter_json(f), **detail)


def drill_down_url(request: web.Request, f: MetricFilter, metric: str | None, **key: Any) -> str:
    """The drill-down list of the conversations behind a number: the same range and filters,
    narrowed by `key` (a breakdown row's dimension and value)."""
    query = {
        name: str(value)
        for name, value in {**filter_json(f), "metric": metric, **key}.items()
        if value is not None
    }
    return str(request.app.router["analytics_conversations"].url_for().with_query(query))


async def summary(request: web.Request) -> web.Response:
    f, exported = metric_filter(request), wants_csv(request)
    await rolled_up(request)
    figures = await ask(request.app[STORE].metrics.summary, f)
    await audit(request, exported, "summary", f)
    if exported:
        return csv_response("summary", (f.date_from, f.date_to), summary_rows(figures))
    return web.json_response({**figures, "filter": filter_json(f)})


async def timeseries(request: web.Request) -> web.Response:
    f, exported = metric_filter(request), wants_csv(request)
    metric = metric_param(request, required=True)
    await rolled_up(request)
    points = await ask(request.app[STORE].metrics.timeseries, metric, f)
    await audit(request, exported, "timeseries", f, metric=metric)
    if exported:
        return csv_response(f"timeseries-{metric}", (f.date_from, f.date_to), points)
    return web.json_response({"metric": metric, "filter": filter_json(f), "points": points})


async def breakdown(request: web.Request) -> web.Response:
    f, exported = metric_filter(request), wants_csv(request)
    metric, by = metric_param(request, required=True), dimension_param(request)
    await rolled_up(request)
    rows = await ask(request.app[STORE].metrics.breakdown, metric, by, f)
    rows = [
        {**row, "conversations_url": drill_down_url(request, f, metric, **{by: row["key"]})}
        for row in rows
    ]
    await audit(request, exported, "breakdown", f, metric=metric, by=by)
    if exported:
        return csv_response(f"breakdown-{metric}-{by}", (f.date_from, f.date_to), rows)
    return web.json_response({"metric": metric, "by": by, "filter": filter_json(f), "rows": rows})


async def conversations(request: web.Request) -> web.Response:
    """The conversations behind a number, each with the link to its (audited) transcript."""
    f, exported = metric_filter(request), wants_csv(request)
    metric = metric_param(request, required=False)
    limit = int_param(request, "limit", 50, 1, 200)
    cursor = cursor_param(request)
    await rolled_up(request)
    page = partial(request.app[STORE].metrics.conversations, f, metric=metric)
    items, next_cursor = await (
        ask(every_page, partial(page, limit=EXPORT_PAGE))
        if exported
        else ask(page, limit=limit, cursor=cursor)
    )
    transcript = request.app.router["get_conversation"]
    items = [
        {**item, "url": str(transcript.url_for(conversation_id=item["conversation_id"]))}
        for item in items
    ]
    ids = [item["conversation_id"] for item in items]
    await audit(request, exported, "conversations", f, metric=metric, conversation_ids=ids)
    if exported:
        return csv_response("conversations", (f.date_from, f.date_to), items)
    body = {"metric": metric, "filter": filter_json(f), "conversations": items}
    return web.json_response({**body, "next_cursor": next_cursor})


async def topics(request: web.Request) -> web.Response:
    """Topics come from the `topics` job's weekly counts, not from the rolled-up facts."""
    f, exported = metric_filter(request), wants_csv(request)
    found = await ask(request.app[STORE].topics.report, f)
    await audit(request, exported, "topics", f)
    if exported:
        return csv_response("topics", (f.date_from, f.date_to), found)
    return web.json_response({"filter": filter_json(f), "topics": found})


async def metric_definitions(request: web.Request) -> web.Response:
    """What each metric means (docs/metrics.md): definitions, not data, so not audited. The
    numbers (kind "number") have a timeseries and a breakdown; the summary's lists do not."""
    definitions = [
        {**asdict(definition), "kind": kind}
        for kind, defined in (("number", METRICS), ("list", LISTS))
        for definition in defined.values()
    ]
    if wants_csv(request):
        return csv_response("metrics", (), definitions)
    return web.json_response({"metrics": definitions})


ANALYTICS = "/api/v1/analytics"
HANDLERS = {
    "summary": summary,
    "timeseries": timeseries,
    "breakdown": breakdown,
    "conversations": conversations,
    "topics": topics,
    "metrics": metric_definitions,
}
ROUTES = tuple(
    Route("GET", f"{ANALYTICS}/{path}", handler, f"analytics_{path}", StaffRole.SUPERVISOR)
    for path, handler in HANDLERS.items()
)
