"""DELETE /api/v1/customers/{id}: supervisors only, erases everywhere, audited with who did
it, idempotent (a second call is 200 with nothing left), 404 for an unknown customer."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

import pytest

from bot.console.app import init_app
from bot.console.routes import customers as customers_routes
from bot.crm.enums import AuditAction
from bot.crm.store import CRMStore
from tests.console.helpers import AGENT_PASSWORD, assert_error, login
from tests.crm.test_erasure import (
    DUPLICATE,
    OTHER,
    PERSON,
    conversations_of,
    furnish,
    save_trackers,
    settings_for,
    tracker_senders,
)


@pytest.fixture
def settings(database_url, tmp_path):
    """The console's settings with this test's tracker store (Rasa and actions are down)."""
    return replace(settings_for(database_url, tmp_path), rasa_port=1, action_port=2)


@pytest.fixture
async def client(aiohttp_client, settings, console_store):
    return await aiohttp_client(await init_app(settings, console_store))


async def test_a_supervisor_erases_a_customer_once(
    client, console_store: CRMStore, settings
) -> None:
    talk = furnish(console_store)
    mine = conversations_of(console_store, PERSON)
    await asyncio.to_thread(save_trackers, settings.tracker_url, [mine[0], talk["theirs"]])
    supervisor = await login(client)
    agent = await login(client, "agent", AGENT_PASSWORD)
    url = f"/api/v1/customers/{DUPLICATE}"

    await assert_error(await client.delete(url, headers=agent), 403, "forbidden")
    reply = await client.delete(url, headers=supervisor)
    assert reply.status == 200, await reply.text()
    body = await reply.json()
    assert body["customer_id"] == PERSON and body["erased_ids"] == [PERSON, DUPLICATE]
    assert body["already_erased"] is False and body["conversations"] == len(mine)
    assert body["erased"]["customers"] == 2 and body["erased"]["tracker_events"] == 2
    assert body["erased"]["messages"] > 0 and body["erased"]["tickets"] > 0
    assert tracker_senders(settings.tracker_url) == {talk["theirs"]}

    profile = await client.get(f"/api/v1/customers/{PERSON}", headers=agent)
    await assert_error(profile, 404, "not_found")
    assert "was erased on" in (await profile.json())["error"]["message"]
    listed = await (await client.get("/api/v1/customers?limit=200", headers=agent)).json()
    assert PERSON not in [c["id"] for c in listed["customers"]]
    assert OTHER in [c["id"] for c in listed["customers"]]
    conversation = await client.get(f"/api/v1/conversations/{mine[0]}", headers=agent)
    assert {m["text"] for m in (await conversation.json())["messages"]} == {None}

    again = await client.delete(f"/api/v1/customers/{PERSON}", headers=supervisor)
    assert again.status == 200
    second = await again.json()
    assert second["already_erased"] is True and second["erased_at"] == body["erased_at"]
    assert set(second["erased"].values()) == {0}

    entries, _ = console_store.audit.list(customer_id=PERSON)
    erasures = [e for e in entries if e["action"] == AuditAction.ERASE_CUSTOMER]
    assert [(e["actor_username"], e["target_id"]) for e in erasures] == [
        ("boss", str(PERSON)),
        ("boss", str(DUPLICATE)),
    ]
    assert erasures[1]["detail"]["erased"] == body["erased"]


async def test_an_unknown_customer_is_404(client) -> None:
    supervisor = await login(client)
    reply = await client.delete("/api/v1/customers/99999", headers=supervisor)
    await assert_error(reply, 404, "not_found")
    for bad in ("0", "abc", str(2**31)):
        reply = await client.delete(f"/api/v1/customers/{bad}", headers=supervisor)
        await assert_error(reply, 404, "not_found")


async def test_a_turn_in_flight_that_saves_its_tracker_again_is_erased_by_the_follow_up(
    client, console_store: CRMStore, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's tracker store writes back every event it does not find: a turn that was running
    during the erasure brings the history back; the follow-up pass takes it away again."""
    monkeypatch.setattr(customers_routes, "FOLLOW_UP_ERASURES_S", (0.5,))
    furnish(console_store)
    mine = conversations_of(console_store, PERSON)
    supervisor = await login(client)
    reply = await client.delete(f"/api/v1/customers/{PERSON}", headers=supervisor)
    assert reply.status == 200
    await asyncio.to_thread(save_trackers, settings.tracker_url, [mine[0]])
    assert mine[0] in tracker_senders(settings.tracker_url)
    for _ in range(50):
        await asyncio.sleep(0.1)
        if mine[0] not in tracker_senders(settings.tracker_url):
            break
    assert mine[0] not in tracker_senders(settings.tracker_url)


async def test_a_locked_store_answers_503_and_changes_nothing(client, settings) -> None:
    supervisor = await login(client)
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the lock is SQLite's; PostgreSQL's refusal is covered by tests/scaleout")
    path = settings.database_url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, timeout=1)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        reply = await client.delete(f"/api/v1/customers/{PERSON}", headers=supervisor)
    finally:
        locker.rollback()
        locker.close()
    await assert_error(reply, 503, "store_unavailable")
    profile = await client.get(f"/api/v1/customers/{PERSON}", headers=supervisor)
    assert profile.status == 200, "nothing was erased"
