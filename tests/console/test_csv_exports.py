"""A CSV download is the whole table, not the first page the JSON list would answer with."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from bot.console import csv_export
from bot.console.routes import quality as quality_routes
from bot.crm.store import CRMStore
from tests.console.helpers import assert_error, login


async def every_json_page(client, path: str, params: dict, headers: dict, key: str) -> list[dict]:
    rows, cursor = [], None
    while True:
        query = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get(path, params=query, headers=headers)).json()
        rows.extend(body[key])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_drill_down_csv_has_every_conversation(client, console_store: CRMStore):
    boss = await login(client)
    today = datetime.now(timezone.utc).date()
    params = {"from": str(today - timedelta(days=365)), "to": str(today)}
    path = "/api/v1/analytics/conversations"
    listed = await every_json_page(client, path, params, boss, "conversations")
    reply = await client.get(path, params={**params, "format": "csv"}, headers=boss)
    exported = csv_rows(await reply.text())
    assert len(listed) > 50, "more than one default page, or the test proves nothing"
    assert [row["conversation_id"] for row in exported] == [
        row["conversation_id"] for row in listed
    ]


async def test_the_review_queue_csv_has_every_flag(client, console_store: CRMStore, monkeypatch):
    monkeypatch.setattr(quality_routes, "EXPORT_PAGE", 9)
    console_store.facts.refresh()
    console_store.quality.detect()
    boss = await login(client)
    path = "/api/v1/quality/flags"
    listed = await every_json_page(client, path, {}, boss, "flags")
    reply = await client.get(path, params={"format": "csv"}, headers=boss)
    exported = csv_rows(await reply.text())
    assert len(listed) > 2 * 9, "the export collects several pages, or the test proves nothing"
    assert [int(row["id"]) for row in exported] == [row["id"] for row in listed]


async def test_a_download_past_the_limit_asks_to_narrow_it(client, console_store, monkeypatch):
    monkeypatch.setattr(csv_export, "MAX_EXPORT_ROWS", 10)
    monkeypatch.setattr(quality_routes, "EXPORT_PAGE", 9)
    boss = await login(client)
    reply = await client.get("/api/v1/quality/flags", params={"format": "csv"}, headers=boss)
    await assert_error(reply, 400, "export_too_large")
