"""The audit log through the API: every staff read or change of customer data leaves an entry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from bot.crm.store import CRMStore
from tests.console.helpers import AGENT_PASSWORD, assert_error, login, open_handoff


async def entries(client, query: str = "", headers=None) -> list[dict]:
    reply = await client.get(f"/api/v1/audit?{query}", headers=headers or await login(client))
    assert reply.status == 200
    return (await reply.json())["entries"]


def actions(store: CRMStore, **filters) -> list[tuple[str, str, str, str, int | None]]:
    """The log, oldest first, as (actor, action, target type, target id, customer id)."""
    log, _ = store.audit.list(limit=200, **filters)
    return [
        (e["actor_username"], e["action"], e["target_type"], e["target_id"], e["customer_id"])
        for e in reversed(log)
    ]


async def test_reads_of_customer_data_are_recorded(client, console_store) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    listed = await client.get("/api/v1/conversations?customer_id=1", headers=agent)
    listed_ids = [c["id"] for c in (await listed.json())["conversations"]]
    await client.get("/api/v1/conversations/conv-1", headers=agent)
    await client.get("/api/v1/customers/3", headers=agent)
    await client.get("/api/v1/tickets/similar?q=card%20declined", headers=agent)
    await client.get("/api/v1/conversations/nope", headers=agent)
    assert actions(console_store, actor="agent") == [
        ("agent", "login", "staff", str(console_store.staff.list()[1].id), None),
        ("agent", "list_conversations", "conversation", "*", 1),
        ("agent", "read_conversation", "conversation", "conv-1", 1),
        ("agent", "read_customer", "customer", "3", 3),
        ("agent", "search_tickets", "tickets", "*", None),
    ]
    listed, _ = console_store.audit.list(actor="agent", limit=5)
    by_action = {entry["action"]: entry for entry in listed}
    # The seed's past conversations of customer 1 are listed with conv-1, and logged as listed.
    assert "conv-1" in listed_ids
    assert by_action["list_conversations"]["detail"]["conversation_ids"] == listed_ids
    assert isinstance(by_action["search_tickets"]["detail"]["ticket_ids"], list)


async def test_handoff_work_is_recorded(client, console_store) -> None:
    handoff_id = open_handoff(console_store)
    agent = await login(client, "agent", AGENT_PASSWORD)
    await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)
    await client.post(
        f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "On it"}, headers=agent
    )
    await client.post(
        f"/api/v1/handoffs/{handoff_id}/resolve",
        json={"resolution": "Card unblocked.\nAsked for a rating.", "return_to_bot": False},
        headers=agent,
    )
    handoff = [(a, t, i, c) for _, a, t, i, c in actions(console_store, actor="agent")[1:]]
    assert handoff == [
        ("claim_handoff", "handoff", str(handoff_id), 1),
        ("reply_handoff", "handoff", str(handoff_id), 1),
        ("resolve_handoff", "handoff", str(handoff_id), 1),
    ]


async def test_staff_changes_tokens_and_logout_are_recorded(client, console_store) -> None:
    boss = await login(client)
    created = await client.post(
        "/api/v1/staff",
        json={"username": "cleo", "password": "long enough pw", "role": "agent"},
        headers=boss,
    )
    cleo = (await created.json())["id"]
    await client.patch(f"/api/v1/staff/{cleo}", json={"active": False}, headers=boss)
    await client.post("/api/v1/customers/4/widget-token", headers=boss)
    await client.post("/api/v1/auth/logout", headers=boss)
    assert [(a, t, i, c) for _, a, t, i, c in actions(console_store, actor="boss")[1:]] == [
        ("create_staff", "staff", str(cleo), None),
        ("update_staff", "staff", str(cleo), None),
        ("issue_widget_token", "customer", "4", 4),
        ("logout", "staff", str(console_store.staff.list()[0].id), None),
    ]
    (update,) = [e for e in console_store.audit.list()[0] if e["action"] == "update_staff"]
    assert update["detail"]["before"]["active"] is True
    assert update["detail"]["after"]["active"] is False


async def test_supervisors_read_the_log_newest_first_with_filters(client, console_store) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    await client.get("/api/v1/customers/3", headers=agent)
    await client.get("/api/v1/customers/5", headers=agent)
    boss = await login(client)
    newest_first = await entries(client, "actor=agent", boss)
    assert [e["action"] for e in newest_first] == ["read_customer", "read_customer", "login"]
    assert [e["customer_id"] for e in newest_first[:2]] == [5, 3]
    assert [e["target_id"] for e in await entries(client, "customer_id=3", boss)] == ["3"]
    page = await client.get("/api/v1/audit?actor=agent&limit=2", headers=boss)
    cursor = (await page.json())["next_cursor"]
    rest = await entries(client, f"actor=agent&limit=2&cursor={quote(cursor)}", boss)
    assert [e["action"] for e in rest] == ["login"]
    later = quote((datetime.now(timezone.utc) + timedelta(hours=1)).isoformat())
    assert await entries(client, f"from={later}", boss) == []
    assert len(await entries(client, "to=2000-01-01T00:00Z", boss)) == 0
    reads = actions(console_store, actor="boss")
    assert reads[-1][1:3] == ("read_audit", "audit_log")
    assert console_store.audit.list(actor="boss", limit=1)[0][0]["detail"] == {
        "to": "2000-01-01T00:00Z"
    }


async def test_agents_cannot_read_the_log(client) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    await assert_error(await client.get("/api/v1/audit", headers=agent), 403, "forbidden")


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2026-13-01",
        "from=0001-01-01T00:00%2B01:00",
        "limit=0",
        "limit=201",
        "customer_id=-1",
        "actor=a%00b",
        "cursor=nonsense",
    ],
)
async def test_bad_audit_filters_are_refused(client, query: str) -> None:
    reply = await client.get(f"/api/v1/audit?{query}", headers=await login(client))
    await assert_error(reply, 400, "invalid_parameter")
