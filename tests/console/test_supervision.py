"""Claims that hold up: re-claiming is idempotent, a supervisor releases and reassigns (audited)."""

from __future__ import annotations

import pytest

from bot.crm.store import CRMStore
from tests.console.helpers import AGENT_PASSWORD, assert_error, login, open_handoff


def logged(store: CRMStore, action: str) -> list[dict]:
    return [entry for entry in store.audit.list(limit=200)[0] if entry["action"] == action]


def staff_id(store: CRMStore, username: str) -> int:
    return next(member.id for member in store.staff.list() if member.username == username)


async def claimed_by_agent(client, store: CRMStore) -> int:
    handoff_id = open_handoff(store)
    agent = await login(client, "agent", AGENT_PASSWORD)
    reply = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)
    assert reply.status == 200
    return handoff_id


async def test_re_claiming_your_own_handoff_answers_it_again(client, console_store) -> None:
    handoff_id = open_handoff(console_store)
    agent = await login(client, "agent", AGENT_PASSWORD)
    first = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)
    again = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)
    assert (first.status, again.status) == (200, 200)
    assert await again.json() == await first.json()
    other = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=await login(client))
    await assert_error(other, 409, "conflict")


async def test_a_supervisor_releases_a_claimed_handoff(client, console_store) -> None:
    handoff_id = await claimed_by_agent(client, console_store)
    boss = await login(client)
    reply = await client.post(f"/api/v1/handoffs/{handoff_id}/release", headers=boss)
    assert reply.status == 200
    released = await reply.json()
    assert (released["status"], released["assigned_to"]) == ("open", None)
    queue = await (await client.get("/api/v1/handoffs?status=open", headers=boss)).json()
    assert [h["id"] for h in queue["handoffs"]] == [handoff_id]
    again = await client.post(f"/api/v1/handoffs/{handoff_id}/release", headers=boss)
    await assert_error(again, 409, "conflict")
    [entry] = logged(console_store, "release_handoff")
    assert (entry["target_id"], entry["customer_id"]) == (str(handoff_id), 1)
    assert entry["detail"] == {"from_staff_id": staff_id(console_store, "agent")}


async def test_a_supervisor_reassigns_a_handoff_to_another_agent(client, console_store) -> None:
    handoff_id = await claimed_by_agent(client, console_store)
    boss = await login(client)
    to = staff_id(console_store, "boss")
    reply = await client.post(
        f"/api/v1/handoffs/{handoff_id}/reassign", json={"staff_id": to}, headers=boss
    )
    assert reply.status == 200
    assert ((await reply.json())["status"], (await reply.json())["assigned_to"]) == ("claimed", to)
    said = await client.post(
        f"/api/v1/handoffs/{handoff_id}/messages",
        json={"text": "hi"},
        headers=await login(client, "agent", AGENT_PASSWORD),
    )
    await assert_error(said, 409, "conflict")
    [entry] = logged(console_store, "reassign_handoff")
    assert entry["detail"] == {"from_staff_id": staff_id(console_store, "agent"), "to_staff_id": to}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_field"),
        ({"staff_id": "2"}, 400, "invalid_field"),
        ({"staff_id": True}, 400, "invalid_field"),
        ({"staff_id": 0}, 400, "invalid_field"),
        ({"staff_id": 999_999}, 404, "not_found"),
    ],
)
async def test_a_reassignment_needs_an_existing_staff_member(
    client, console_store, body: dict, status: int, code: str
) -> None:
    handoff_id = await claimed_by_agent(client, console_store)
    reply = await client.post(
        f"/api/v1/handoffs/{handoff_id}/reassign", json=body, headers=await login(client)
    )
    await assert_error(reply, status, code)
