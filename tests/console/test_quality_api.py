"""The quality review queue through the API: the store's flags in severity order with links
to their transcripts, one verdict per flag (checked, audited), CSV rows equal to the JSON."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from bot.crm.enums import FlagKind, FlagStatus
from bot.crm.store import CRMStore
from tests.console.helpers import AGENT_PASSWORD, JSON_TYPE, assert_error, login
from tests.console.test_analytics_api import check_schema

FLAGS = "/api/v1/quality/flags"


@pytest.fixture
def flagged(console_store: CRMStore) -> list[dict]:
    """The seeded history's flags, as the analytics job leaves them."""
    console_store.facts.refresh()
    console_store.quality.detect()
    flags, _ = console_store.quality.list(None, limit=500)
    assert len({flag["kind"] for flag in flags}) >= 2, "the seed flags several kinds"
    return flags


def review_url(flag_id: object) -> str:
    return f"{FLAGS}/{flag_id}/review"


async def test_flags_come_most_severe_first_with_their_transcripts(
    client, console_store, flagged
) -> None:
    boss = await login(client)
    reply = await client.get(FLAGS, params={"limit": "500"}, headers=boss)
    body = await reply.json()
    assert [flag.pop("url") for flag in body["flags"]] == [
        f"/api/v1/conversations/{flag['conversation_id']}" for flag in flagged
    ]
    assert body == {"flags": flagged, "next_cursor": None}
    severities = [flag["severity"] for flag in body["flags"]]
    assert severities == sorted(severities, reverse=True)
    first = await (await client.get(FLAGS, params={"limit": "3"}, headers=boss)).json()
    for flag in first["flags"]:
        check_schema(flag, "QualityFlag")
    rest = await (
        await client.get(
            FLAGS, params={"limit": "500", "cursor": first["next_cursor"]}, headers=boss
        )
    ).json()
    assert [f["id"] for f in first["flags"] + rest["flags"]] == [f["id"] for f in flagged]
    transcript = await client.get(first["flags"][0]["url"], headers=boss)
    assert (await transcript.json())["id"] == first["flags"][0]["conversation_id"]


async def test_flags_filter_by_status_and_kind(client, console_store, flagged) -> None:
    boss = await login(client)
    kind = flagged[-1]["kind"]
    reply = await client.get(FLAGS, params={"kind": kind, "status": "open"}, headers=boss)
    listed = (await reply.json())["flags"]
    assert [flag["id"] for flag in listed] == [
        flag["id"] for flag in flagged if flag["kind"] == kind
    ][:100]
    reviewed = await client.get(FLAGS, params={"status": "reviewed"}, headers=boss)
    assert (await reviewed.json())["flags"] == []
    for query in ("status=closed", "kind=rude", "limit=0", "limit=501", "cursor=abc", "format=x"):
        await assert_error(
            await client.get(f"{FLAGS}?{query}", headers=boss), 400, "invalid_parameter"
        )


async def test_a_flag_is_reviewed_once_and_audited(client, console_store, flagged) -> None:
    boss = await login(client)
    flag = flagged[0]
    note = "Replied after 9 hours.\nCoach on the SLA."
    reply = await client.post(
        review_url(flag["id"]), json={"outcome": "agent_coaching", "note": note}, headers=boss
    )
    assert reply.status == 200
    reviewed = await reply.json()
    check_schema(reviewed, "QualityFlag")
    assert (reviewed["status"], reviewed["outcome"], reviewed["note"], reviewed["reviewer"]) == (
        FlagStatus.REVIEWED,
        "agent_coaching",
        note,
        "boss",
    )
    assert reviewed["inbox_added"] == 0
    again = await client.post(review_url(flag["id"]), json={"outcome": "no_issue"}, headers=boss)
    await assert_error(again, 409, "conflict")
    entries, _ = console_store.audit.list(actor="boss")
    [entry] = [e for e in entries if e["action"] == "review_flag"]
    assert (entry["target_type"], entry["target_id"], entry["customer_id"]) == (
        "conversation",
        flag["conversation_id"],
        flag["customer_id"],
    )
    assert entry["detail"] == {
        "flag_id": flag["id"],
        "kind": flag["kind"],
        "outcome": "agent_coaching",
    }
    listed = await client.get(FLAGS, params={"status": "reviewed"}, headers=boss)
    assert [f["id"] for f in (await listed.json())["flags"]] == [flag["id"]]


async def test_a_bot_misunderstanding_sends_the_messages_to_the_inbox(
    client, console_store, flagged
) -> None:
    boss = await login(client)
    flag = next(f for f in flagged if f["kind"] == FlagKind.NEGATIVE_END)
    reply = await client.post(
        review_url(flag["id"]), json={"outcome": "bot_misunderstood"}, headers=boss
    )
    added = (await reply.json())["inbox_added"]
    inbox = await (await client.get("/api/v1/nlu/inbox?status=open", headers=boss)).json()
    items = [item for group in inbox["groups"] for item in group["items"]]
    reviewed = [item for item in items if item["source"] == "review"]
    assert added >= 1 and len(reviewed) == added
    assert {item["conversation_id"] for item in reviewed} == {flag["conversation_id"]}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"outcome": "no_issue", "rating": 5}, 400, "invalid_field"),
        ({"note": "fine"}, 400, "invalid_field"),
        ({"outcome": "great"}, 400, "invalid_field"),
        ({"outcome": ["no_issue"]}, 400, "invalid_field"),
        ({"outcome": "no_issue", "note": 7}, 400, "invalid_field"),
        ({"outcome": "no_issue", "note": "x" * 2001}, 400, "invalid_field"),
        ({"outcome": "no_issue", "note": "bell\x07"}, 400, "invalid_field"),
        (b'{"outcome": "no_issue", "note": "nul\\u0000"}', 400, "nul_character"),
        (b"[1]", 400, "invalid_body"),
        (b"{", 400, "invalid_json"),
    ],
)
async def test_a_bad_review_is_a_400_and_changes_nothing(
    client, console_store, flagged, body, status, code
) -> None:
    boss = await login(client)
    url = review_url(flagged[0]["id"])
    if isinstance(body, bytes):
        reply = await client.post(url, data=body, headers={**boss, **JSON_TYPE})
    else:
        reply = await client.post(url, json=body, headers=boss)
    await assert_error(reply, status, code)
    assert console_store.quality.list(FlagStatus.REVIEWED)[0] == []


async def test_unknown_flags_are_404_and_plain_text_is_415(client, flagged) -> None:
    boss = await login(client)
    for flag_id in ("999999", "0", "abc", "99999999999999", "1%20OR%201=1"):
        reply = await client.post(review_url(flag_id), json={"outcome": "no_issue"}, headers=boss)
        await assert_error(reply, 404, "not_found")
    plain = await client.post(
        review_url(flagged[0]["id"]),
        data='{"outcome": "no_issue"}',
        headers={**boss, "Content-Type": "text/plain"},
    )
    await assert_error(plain, 415, "unsupported_media_type")


async def test_the_flags_csv_is_the_json_and_cannot_run_formulas(
    client, console_store, flagged
) -> None:
    boss = await login(client)
    note = '=HYPERLINK("http://evil.example","click")'
    await client.post(
        review_url(flagged[1]["id"]), json={"outcome": "no_issue", "note": note}, headers=boss
    )
    body = await (await client.get(FLAGS, headers=boss)).json()
    reply = await client.get(FLAGS, params={"format": "csv"}, headers=boss)
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.now(timezone.utc).date()
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="quality-flags-all-{today}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(await reply.text())))
    assert [row["id"] for row in rows] == [str(flag["id"]) for flag in body["flags"]]
    assert [row["url"] for row in rows] == [flag["url"] for flag in body["flags"]]
    [exported] = [row for row in rows if row["id"] == str(flagged[1]["id"])]
    assert exported["note"] == "'" + note
    assert exported["kind"] == flagged[1]["kind"]
    for name, value in flagged[1]["detail"].items():
        assert exported[f"detail.{name}"] == ("" if value is None else str(value))
    entries, _ = console_store.audit.list(actor="boss")
    assert [e["action"] for e in entries][:2] == ["export_analytics", "read_analytics"]


async def test_agents_cannot_see_or_review_flags(client, flagged) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    await assert_error(await client.get(FLAGS, headers=agent), 403, "forbidden")
    reply = await client.post(
        review_url(flagged[0]["id"]), json={"outcome": "no_issue"}, headers=agent
    )
    await assert_error(reply, 403, "forbidden")
    await assert_error(await client.get(FLAGS), 401, "unauthorized")
    boss = await login(client)
    await assert_error(await client.put(FLAGS, headers=boss), 405, "method_not_allowed")
    await assert_error(await client.get(review_url(1), headers=boss), 405, "method_not_allowed")
