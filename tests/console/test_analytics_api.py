"""The analytics API over a real seeded store: the store's numbers for the same filter, CSV
rows equal to the JSON, drill-down links that lead to the conversations behind a number,
a throttled roll-up before each answer, an audit entry for each read, and a 400 for bad input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import threading
import time
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from jsonschema import RefResolver
from openapi_schema_validator import OAS30Validator, validate

from bot.console import rollup
from bot.console.openapi import load_openapi
from bot.console.rollup import REFRESH_INTERVAL_S, ROLLUP
from bot.crm.enums import Sender
from bot.crm.store import CRMStore, MessageRecord
from bot.crm.store.metric_defs import NO_SEGMENT
from bot.crm.store.metrics import LISTS, METRICS, MetricFilter
from tests.console.helpers import AGENT_PASSWORD, assert_error, login, open_handoff
from tests.crm.test_strategies import add_segment, assign
from tests.crm.test_topics import new_run, succeed, topic, week

DOCUMENT = load_openapi()
DAY = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
RANGE = {"from": "2026-11-10", "to": "2026-11-20"}
INJECTION = '=HYPERLINK("http://evil.example","click")'


def check_schema(body: object, name: str) -> None:
    validate(
        body,
        {"$ref": f"#/components/schemas/{name}"},
        cls=OAS30Validator,
        resolver=RefResolver.from_schema(DOCUMENT),
    )


def say(
    store: CRMStore,
    conversation: str,
    at: datetime,
    text: str,
    *,
    sender: Sender = Sender.CUSTOMER,
    intent: str | None = None,
    confidence: float | None = None,
    channel: str | None = "rest",
    customer_id: int | None = None,
) -> None:
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation,
            event_key=f"{conversation}-{at.timestamp()}-{sender}",
            seq=at.timestamp(),
            sender=sender,
            text=text,
            created_at=at,
            channel=channel,
            intent=intent,
            confidence=confidence,
            customer_id=customer_id,
        )
    )


@pytest.fixture
def traffic(console_store: CRMStore) -> dict[str, int]:
    """Four conversations in the range besides conv-1 (2026-11-20, rest, customer 1): two of
    customer 3 (in a segment) on the 10th, one handed off; one anonymous on the 11th on a
    channel named like a spreadsheet formula; one on the 12th on a non-Latin channel."""
    segment = add_segment(console_store, "Loyal", ["high_value"])
    assign(console_store, 3, segment)
    say(console_store, "a-1", DAY, "where is my card", intent="card_arrival", customer_id=3)
    say(console_store, "a-1", DAY + timedelta(minutes=1), "On its way.", sender=Sender.BOT)
    say(
        console_store,
        "a-2",
        DAY + timedelta(hours=2),
        "I want a human",
        customer_id=3,
        intent="ask_for_human",
    )
    open_handoff(console_store, "a-2", 3)
    say(
        console_store,
        "a-3",
        DAY + timedelta(days=1),
        "hello?",
        channel=INJECTION,
        intent="nlu_fallback",
    )
    say(
        console_store,
        "a-4",
        DAY + timedelta(days=2),
        "カードが届かない",
        channel="渠道",
        intent="card_arrival",
        customer_id=5,
    )
    return {"segment": segment}


def store_filter(**overrides: object) -> MetricFilter:
    return MetricFilter(date(2026, 11, 10), date(2026, 11, 20), **overrides)


def csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def get_json(client, path: str, headers: dict, **query: object) -> dict:
    reply = await client.get(path, params={k: str(v) for k, v in query.items()}, headers=headers)
    assert reply.status == 200, await reply.text()
    return await reply.json()


async def test_the_summary_is_the_stores_for_the_same_filter(client, console_store, traffic):
    boss = await login(client)
    body = await get_json(client, "/api/v1/analytics/summary", boss, **RANGE)
    check_schema(body, "AnalyticsSummary")
    assert body.pop("filter") == {**RANGE, "segment": None, "intent": None, "channel": None}
    assert body == console_store.metrics.summary(store_filter())
    assert (body["conversations"], body["unique_customers"], body["handoffs"]) == (5, 3, 1)
    for query, expected in [
        ({"channel": "rest"}, ["a-1", "a-2"]),
        ({"channel": "unknown"}, ["conv-1"]),
        ({"channel": INJECTION}, ["a-3"]),
        ({"channel": "渠道"}, ["a-4"]),
        ({"segment": traffic["segment"]}, ["a-1", "a-2"]),
        ({"segment": NO_SEGMENT}, ["conv-1", "a-3", "a-4"]),
        ({"intent": "card_arrival"}, ["a-1", "a-4"]),
        ({"intent": "card_arrival", "channel": "rest"}, ["a-1"]),
    ]:
        narrowed = await get_json(client, "/api/v1/analytics/summary", boss, **RANGE, **query)
        assert narrowed["conversations"] == len(expected), query
        overrides = {"segment_id" if k == "segment" else k: v for k, v in query.items()}
        assert narrowed.pop("filter") == {
            **RANGE,
            "segment": None,
            "intent": None,
            "channel": None,
            **query,
        }
        assert narrowed == console_store.metrics.summary(store_filter(**overrides))


async def test_the_range_defaults_to_the_last_30_days(client) -> None:
    body = await get_json(client, "/api/v1/analytics/summary", await login(client))
    today = datetime.now(timezone.utc).date()
    assert body["filter"]["to"] == today.isoformat()
    assert body["filter"]["from"] == (today - timedelta(days=29)).isoformat()
    only_to = await get_json(
        client, "/api/v1/analytics/summary", await login(client), to="2026-11-20"
    )
    assert only_to["filter"]["from"] == "2026-10-22"


async def test_a_timeseries_has_every_day_and_its_csv_the_same_rows(
    client, console_store, traffic
) -> None:
    boss = await login(client)
    query = {**RANGE, "metric": "handoff_rate"}
    body = await get_json(client, "/api/v1/analytics/timeseries", boss, **query)
    assert [point["day"] for point in body["points"]] == [
        (date(2026, 11, 10) + timedelta(days=n)).isoformat() for n in range(11)
    ]
    assert body["points"] == console_store.metrics.timeseries("handoff_rate", store_filter())
    assert body["points"][0] == {"day": "2026-11-10", "value": 0.5, "n": 2}
    reply = await client.get(
        "/api/v1/analytics/timeseries", params={**query, "format": "csv"}, headers=boss
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="timeseries-handoff_rate-2026-11-10-2026-11-20.csv"'
    )
    rows = csv_rows(await reply.text())
    assert rows == [
        {"day": p["day"], "value": "" if p["value"] is None else str(p["value"]), "n": str(p["n"])}
        for p in body["points"]
    ]


async def test_breakdown_rows_drill_down_to_their_conversations(client, traffic) -> None:
    boss = await login(client)
    for by in ("channel", "segment", "intent"):
        body = await get_json(
            client, "/api/v1/analytics/breakdown", boss, **RANGE, metric="conversations", by=by
        )
        assert sum(row["n"] for row in body["rows"]) == 5
        for row in body["rows"]:
            url = urlsplit(row["conversations_url"])
            assert url.path == "/api/v1/analytics/conversations"
            assert parse_qs(url.query)[by] == [str(row["key"])]
            listed = await get_json(client, row["conversations_url"], boss)
            assert len(listed["conversations"]) == row["n"]
            field = {"segment": "segment_id"}.get(by, by)
            wanted = None if row["key"] == NO_SEGMENT and by == "segment" else row["key"]
            assert {item[field] for item in listed["conversations"]} == {wanted}
    handed = await get_json(
        client, "/api/v1/analytics/breakdown", boss, **RANGE, metric="handoff_rate", by="segment"
    )
    [loyal] = [row for row in handed["rows"] if row["key"] == traffic["segment"]]
    assert (loyal["label"], loyal["value"], loyal["n"]) == ("Loyal", 0.5, 2)
    behind = await get_json(client, loyal["conversations_url"], boss)
    assert [item["conversation_id"] for item in behind["conversations"]] == ["a-2"]


async def test_drill_down_rows_link_to_the_audited_transcript(
    client, console_store, traffic
) -> None:
    boss = await login(client)
    body = await get_json(client, "/api/v1/analytics/conversations", boss, **RANGE, limit=2)
    for item in body["conversations"]:
        check_schema(item, "DrillDownConversation")
    assert [item["conversation_id"] for item in body["conversations"]] == ["conv-1", "a-4"]
    rest = await get_json(
        client, "/api/v1/analytics/conversations", boss, **RANGE, cursor=body["next_cursor"]
    )
    assert [item["conversation_id"] for item in rest["conversations"]] == ["a-3", "a-2", "a-1"]
    assert rest["next_cursor"] is None
    transcript = await get_json(client, rest["conversations"][-1]["url"], boss)
    assert transcript["id"] == "a-1" and transcript["messages"][0]["text"] == "where is my card"
    entries, _ = console_store.audit.list(actor="boss")
    actions = [(entry["action"], entry["target_id"]) for entry in entries]
    assert ("read_conversation", "a-1") in actions
    drill = [e for e in entries if e["action"] == "read_analytics"]
    assert drill[-1]["detail"]["conversation_ids"] == ["conv-1", "a-4"]
    assert drill[-1]["detail"]["filter"]["from"] == "2026-11-10"


async def test_csv_exports_equal_the_json_and_cannot_run_formulas(
    client, console_store, traffic
) -> None:
    boss = await login(client)
    summary = await get_json(client, "/api/v1/analytics/summary", boss, **RANGE)
    reply = await client.get(
        "/api/v1/analytics/summary", params={**RANGE, "format": "csv"}, headers=boss
    )
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="summary-2026-11-10-2026-11-20.csv"'
    )
    rows = {row["metric"]: row["value"] for row in csv_rows(await reply.text())}
    for name in METRICS:
        assert rows.pop(name) == ("" if summary[name] is None else str(summary[name])), name
    for entry in summary["intents"]:
        assert rows.pop(f"intents.{entry['intent']}") == str(entry["count"])
    for entry in summary["handoff_reasons"]:
        assert rows.pop(f"handoff_reasons.{entry['reason']}") == str(entry["count"])
    assert rows == {}
    query = {**RANGE, "metric": "conversations", "by": "channel"}
    breakdown = await get_json(client, "/api/v1/analytics/breakdown", boss, **query)
    reply = await client.get(
        "/api/v1/analytics/breakdown", params={**query, "format": "csv"}, headers=boss
    )
    exported = csv_rows(await reply.text())
    assert [row["key"] for row in exported] == [
        "'" + row["key"] if row["key"] == INJECTION else row["key"] for row in breakdown["rows"]
    ]
    assert "'" + INJECTION in {row["key"] for row in exported}
    assert [row["conversations_url"] for row in exported] == [
        row["conversations_url"] for row in breakdown["rows"]
    ]
    entries, _ = console_store.audit.list(actor="boss")
    assert [e["detail"]["endpoint"] for e in entries if e["action"] == "export_analytics"] == [
        "breakdown",
        "summary",
    ]


async def test_topics_are_the_stores_and_their_csv_the_same_rows(client, console_store) -> None:
    run_id = new_run(console_store)
    digest = {"complaints": {"all": "Customer: fees are too high."}, "requests": {}}
    fees = {**topic("fees", digest), "examples": [INJECTION, "why a fee"]}
    weeks = [
        week(0, "2026-11-02", 4),
        week(0, "2026-11-09", 9, channel="rest"),
        week(1, "2026-11-09", 2, segment=None),
    ]
    console_store.topics.replace(run_id, [fees, topic("cards")], weeks)
    succeed(console_store, run_id)
    boss = await login(client)
    query = {"from": "2026-11-02", "to": "2026-11-15"}
    body = await get_json(client, "/api/v1/analytics/topics", boss, **query)
    for found in body["topics"]:
        check_schema(found, "Topic")
    f = MetricFilter(date(2026, 11, 2), date(2026, 11, 15))
    assert body["topics"] == console_store.topics.report(f)
    assert [(t["label"], t["messages"], t["change"]) for t in body["topics"]] == [
        ("fees", 13, 1.25),
        ("cards", 2, None),
    ]
    narrowed = await get_json(client, "/api/v1/analytics/topics", boss, **query, channel="rest")
    assert [(t["label"], t["messages"]) for t in narrowed["topics"]] == [("fees", 9)]
    none = await get_json(client, "/api/v1/analytics/topics", boss, **query, segment=NO_SEGMENT)
    assert [(t["label"], t["messages"]) for t in none["topics"]] == [("cards", 2)]
    reply = await client.get(
        "/api/v1/analytics/topics", params={**query, "format": "csv"}, headers=boss
    )
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="topics-2026-11-02-2026-11-15.csv"'
    )
    rows = csv_rows(await reply.text())
    assert [(row["label"], row["messages"]) for row in rows] == [("fees", "13"), ("cards", "2")]
    assert rows[0]["examples"] == "'" + INJECTION + "; why a fee"
    assert rows[0]["digest.complaints.all"] == "Customer: fees are too high."
    assert json.loads(rows[0]["keywords"]) == [{"word": "fees", "weight": 1.0}]


async def test_every_analytics_read_is_audited_with_its_filter(client, console_store) -> None:
    boss = await login(client)
    await get_json(
        client,
        "/api/v1/analytics/breakdown",
        boss,
        **RANGE,
        metric="csat_bot",
        by="intent",
        channel="rest",
    )
    entries, _ = console_store.audit.list(actor="boss")
    [entry] = [e for e in entries if e["action"] == "read_analytics"]
    assert (entry["target_type"], entry["target_id"]) == ("conversation", "*")
    assert entry["detail"] == {
        "endpoint": "breakdown",
        "filter": {**RANGE, "segment": None, "intent": None, "channel": "rest"},
        "metric": "csat_bot",
        "by": "intent",
    }


async def test_the_rollup_runs_at_most_once_per_interval(client, console_store, monkeypatch):
    """Concurrent requests share one roll-up; a new message shows once the interval passed."""
    boss = await login(client)
    calls = []
    refresh = console_store.facts.refresh
    monkeypatch.setattr(console_store.facts, "refresh", lambda: calls.append(1) or refresh())
    path = "/api/v1/analytics/summary"
    first = await asyncio.gather(*(get_json(client, path, boss) for _ in range(5)))
    assert len(calls) == 1
    before = first[0]["conversations"]
    say(console_store, "late-1", datetime.now(timezone.utc), "my card is lost")
    assert (await get_json(client, path, boss))["conversations"] == before, "not rolled up yet"
    assert len(calls) == 1
    client.app[ROLLUP].refreshed_at -= REFRESH_INTERVAL_S
    assert (await get_json(client, path, boss))["conversations"] == before + 1
    assert len(calls) == 2


async def test_a_failing_rollup_is_logged_and_the_answer_is_the_current_facts(
    client, console_store, monkeypatch, caplog
):
    """A roll-up error (a locked database...) is not the dashboard's: 200 from the facts as
    they are, the error in the log, and another try only after the interval."""
    boss = await login(client)
    path = "/api/v1/analytics/summary"
    before = (await get_json(client, path, boss))["conversations"]
    say(console_store, "late-2", datetime.now(timezone.utc), "my card is lost")
    calls = []

    def broken() -> int:
        calls.append(1)
        raise RuntimeError("database is locked")

    monkeypatch.setattr(console_store.facts, "refresh", broken)
    client.app[ROLLUP].refreshed_at -= REFRESH_INTERVAL_S
    with caplog.at_level(logging.ERROR, logger="bot.console.rollup"):
        assert (await get_json(client, path, boss))["conversations"] == before
    assert "analytics roll-up failed" in caplog.text
    assert "database is locked" in caplog.text
    assert (await get_json(client, "/api/v1/nlu/inbox", boss))["groups"] is not None
    assert len(calls) == 1, "a failed roll-up is not retried on every request"

    monkeypatch.undo()
    client.app[ROLLUP].refreshed_at -= REFRESH_INTERVAL_S
    assert (await get_json(client, path, boss))["conversations"] == before + 1


async def test_a_slow_rollup_finishes_in_the_background(client, console_store, monkeypatch):
    """Requests wait for a running roll-up at most ROLLUP_WAIT_S, then answer from the facts
    as they are; all of them share the one roll-up, whose result the next request shows."""
    boss = await login(client)
    path = "/api/v1/analytics/summary"
    before = (await get_json(client, path, boss))["conversations"]
    say(console_store, "late-3", datetime.now(timezone.utc), "my card is lost")
    release, calls = threading.Event(), []
    refresh = console_store.facts.refresh

    def slow() -> int:
        calls.append(1)
        assert release.wait(timeout=30), "the test never released the roll-up"
        return refresh()

    monkeypatch.setattr(console_store.facts, "refresh", slow)
    monkeypatch.setattr(rollup, "ROLLUP_WAIT_S", 0.2)
    client.app[ROLLUP].refreshed_at -= REFRESH_INTERVAL_S
    started = time.monotonic()
    answers = await asyncio.gather(*(get_json(client, path, boss) for _ in range(3)))
    assert time.monotonic() - started < 10
    assert [answer["conversations"] for answer in answers] == [before] * 3
    assert (await get_json(client, path, boss))["conversations"] == before
    assert len(calls) == 1, "one roll-up at a time"

    release.set()
    await asyncio.wait_for(client.app[ROLLUP].task, timeout=30)
    assert (await get_json(client, path, boss))["conversations"] == before + 1
    assert len(calls) == 1


async def test_the_metric_definitions_are_the_stores(client) -> None:
    boss = await login(client)
    body = await get_json(client, "/api/v1/analytics/metrics", boss)
    for definition in body["metrics"]:
        check_schema(definition, "MetricDefinition")
    assert [(d["name"], d["kind"]) for d in body["metrics"]] == [
        *((name, "number") for name in METRICS),
        *((name, "list") for name in LISTS),
    ]
    assert body["metrics"][0]["definition"] == METRICS["conversations"].definition
    reply = await client.get("/api/v1/analytics/metrics?format=csv", headers=boss)
    assert reply.headers["Content-Disposition"] == 'attachment; filename="metrics.csv"'
    assert [row["name"] for row in csv_rows(await reply.text())] == [
        d["name"] for d in body["metrics"]
    ]


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=yesterday",
        "from=2026-11-1",
        "from=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11-01",
        "to=2026-02-30",
        "from=2026-11-20&to=2026-11-10",
        "from=2025-01-01&to=2026-01-02",
        "from=0001-01-01&to=9999-12-31",
        "to=0001-01-01",
        "segment=abc",
        "segment=1.5",
        "segment=-1",
        "segment=99999999999999",
        "segment=1%20OR%201=1",
        "intent=" + "x" * 101,
        "channel=a%00b",
        "format=xml",
        "format=CSV",
    ],
)
async def test_bad_query_input_is_a_400(client, query: str) -> None:
    reply = await client.get(f"/api/v1/analytics/summary?{query}", headers=await login(client))
    await assert_error(reply, 400, "invalid_parameter")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("timeseries", ""),
        ("timeseries", "metric=intents"),
        ("timeseries", "metric=conversations;DROP%20TABLE%20messages"),
        ("breakdown", "metric=conversations"),
        ("breakdown", "metric=conversations&by=customer"),
        ("breakdown", "metric=conversations&by=day"),
        ("conversations", "metric=nope"),
        ("conversations", "limit=0"),
        ("conversations", "limit=201"),
        ("conversations", "cursor=not-a-cursor"),
        ("topics", "from=2026-11-20&to=2026-11-10"),
        ("metrics", "format=pdf"),
    ],
)
async def test_bad_metric_dimension_or_page_is_a_400(client, path: str, query: str) -> None:
    reply = await client.get(f"/api/v1/analytics/{path}?{query}", headers=await login(client))
    await assert_error(reply, 400, "invalid_parameter")


async def test_filter_values_are_plain_values_never_sql(client, console_store, traffic):
    boss = await login(client)
    for hostile in ["' OR '1'='1", "card_arrival' --", "%", "_", "ünïcødé 🚀", "\u202e"]:
        for name in ("intent", "channel"):
            body = await get_json(
                client, "/api/v1/analytics/summary", boss, **RANGE, **{name: hostile}
            )
            assert body["conversations"] == 0, (name, hostile)
            assert body["filter"][name] == hostile
    assert len(console_store.conversations.get("a-1")["messages"]) == 2


async def test_agents_are_forbidden_and_other_methods_not_allowed(client) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    for path in ("summary", "timeseries", "breakdown", "conversations", "topics", "metrics"):
        reply = await client.get(f"/api/v1/analytics/{path}", headers=agent)
        await assert_error(reply, 403, "forbidden")
        await assert_error(await client.get(f"/api/v1/analytics/{path}"), 401, "unauthorized")
        reply = await client.post(f"/api/v1/analytics/{path}", headers=await login(client))
        await assert_error(reply, 405, "method_not_allowed")
