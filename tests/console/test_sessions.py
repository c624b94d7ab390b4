"""Server-side staff sessions: logout, deactivation and role changes are refused at once."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import WSCloseCode, WSMsgType

from bot.console.auth import WsTickets
from bot.console.routes import live
from bot.crm.store import CRMStore
from tests.console.helpers import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    assert_error,
    bearer,
    login,
    token,
)


def staff_id(store: CRMStore, username: str) -> int:
    return next(member.id for member in store.staff.list() if member.username == username)


async def test_a_login_opens_a_session_in_the_store(client, console_store) -> None:
    reply = await client.post(
        "/api/v1/auth/login",
        json={"username": "agent", "password": AGENT_PASSWORD},
        headers={"User-Agent": "console-test"},
    )
    payload = await reply.json()
    assert payload["expires_in"] == 12 * 3600
    staff = console_store.sessions.identity(payload["token"])
    assert (staff.id, staff.username, staff.role) == (payload["staff_id"], "agent", "agent")


async def test_logout_ends_that_session_at_once_and_only_that_one(client) -> None:
    first, second = (
        await token(client, "agent", AGENT_PASSWORD),
        await token(client, "agent", AGENT_PASSWORD),
    )
    reply = await client.post("/api/v1/auth/logout", headers=bearer(first))
    assert reply.status == 204
    await assert_error(
        await client.get("/api/v1/handoffs", headers=bearer(first)), 401, "unauthorized"
    )
    await assert_error(
        await client.post("/api/v1/auth/logout", headers=bearer(first)), 401, "unauthorized"
    )
    assert (await client.get("/api/v1/handoffs", headers=bearer(second))).status == 200


@pytest.mark.parametrize(
    ("change", "still_in"),
    [({"active": False}, False), ({"role": "supervisor"}, False), ({"active": True}, True)],
)
async def test_an_account_change_ends_its_sessions_at_once(
    client, console_store, change, still_in
) -> None:
    agent = await token(client, "agent", AGENT_PASSWORD)
    reply = await client.patch(
        f"/api/v1/staff/{staff_id(console_store, 'agent')}",
        json=change,
        headers=await login(client),
    )
    assert reply.status == 200
    assert {key: (await reply.json())[key] for key in change} == change
    answer = await client.get("/api/v1/handoffs", headers=bearer(agent))
    assert (answer.status == 200) is still_in
    if not still_in:
        await assert_error(answer, 401, "unauthorized")


async def test_a_deactivated_account_cannot_log_in_and_a_promoted_one_gets_its_new_role(
    client, console_store
) -> None:
    supervisor = await login(client)
    agent_id = staff_id(console_store, "agent")
    await client.patch(f"/api/v1/staff/{agent_id}", json={"role": "supervisor"}, headers=supervisor)
    promoted = await login(client, "agent", AGENT_PASSWORD)
    assert (await client.get("/api/v1/staff", headers=promoted)).status == 200
    await client.patch(f"/api/v1/staff/{agent_id}", json={"active": False}, headers=supervisor)
    reply = await client.post(
        "/api/v1/auth/login", json={"username": "agent", "password": AGENT_PASSWORD}
    )
    await assert_error(reply, 401, "invalid_credentials")


async def test_only_an_admin_grants_admin_or_changes_an_admin(client, console_store) -> None:
    supervisor = await login(client)
    agent_id, root_id = staff_id(console_store, "agent"), staff_id(console_store, "root")
    for path, body in [
        (f"/api/v1/staff/{agent_id}", {"role": "admin"}),
        (f"/api/v1/staff/{root_id}", {"active": False}),
        (f"/api/v1/staff/{root_id}", {"role": "agent"}),
    ]:
        await assert_error(
            await client.patch(path, json=body, headers=supervisor), 403, "forbidden"
        )
    new_admin = {"username": "second", "password": "long enough pw", "role": "admin"}
    await assert_error(
        await client.post("/api/v1/staff", json=new_admin, headers=supervisor), 403, "forbidden"
    )
    assert console_store.staff.get(root_id).active
    assert console_store.staff.get(agent_id).role == "agent"
    admin = await login(client, "root", ADMIN_PASSWORD)
    reply = await client.patch(f"/api/v1/staff/{agent_id}", json={"role": "admin"}, headers=admin)
    assert (await reply.json())["role"] == "admin"
    assert (await client.post("/api/v1/staff", json=new_admin, headers=admin)).status == 201


async def test_the_last_active_admin_stays(client, console_store) -> None:
    admin = await login(client, "root", ADMIN_PASSWORD)
    root_id = staff_id(console_store, "root")
    reply = await client.patch(f"/api/v1/staff/{root_id}", json={"active": False}, headers=admin)
    await assert_error(reply, 409, "conflict")
    assert (await client.get("/api/v1/staff", headers=admin)).status == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/staff/{agent}", {}, 400, "invalid_body"),
        ("/api/v1/staff/{agent}", {"role": "owner"}, 400, "invalid_field"),
        ("/api/v1/staff/{agent}", {"active": "no"}, 400, "invalid_field"),
        ("/api/v1/staff/999999", {"active": False}, 404, "not_found"),
        ("/api/v1/staff/99999999999", {"active": False}, 404, "not_found"),
        ("/api/v1/staff/x", {"active": False}, 404, "not_found"),
    ],
)
async def test_bad_account_changes_are_refused(
    client, console_store, path, body, status, code
) -> None:
    path = path.format(agent=staff_id(console_store, "agent"))
    reply = await client.patch(path, json=body, headers=await login(client))
    await assert_error(reply, status, code)
    assert console_store.staff.get(staff_id(console_store, "agent")).active


async def test_a_ws_ticket_opens_the_socket_once(client) -> None:
    agent = await token(client, "agent", AGENT_PASSWORD)
    ticket = (await (await client.post("/api/v1/ws-ticket", headers=bearer(agent))).json())[
        "ticket"
    ]
    assert agent not in ticket
    async with client.ws_connect(f"/api/v1/ws?ticket={ticket}"):
        pass
    await assert_error(await client.get(f"/api/v1/ws?ticket={ticket}"), 401, "unauthorized")


async def test_a_ticket_is_no_good_after_its_session_ended(client) -> None:
    agent = await token(client, "agent", AGENT_PASSWORD)
    ticket = (await (await client.post("/api/v1/ws-ticket", headers=bearer(agent))).json())[
        "ticket"
    ]
    await client.post("/api/v1/auth/logout", headers=bearer(agent))
    await assert_error(await client.get(f"/api/v1/ws?ticket={ticket}"), 401, "unauthorized")


async def test_an_open_socket_is_closed_when_its_session_ends(client, monkeypatch) -> None:
    monkeypatch.setattr(live, "SESSION_RECHECK_S", 0.05)
    agent = await token(client, "agent", AGENT_PASSWORD)
    async with client.ws_connect("/api/v1/ws", headers=bearer(agent)) as socket:
        await client.post("/api/v1/auth/logout", headers=bearer(agent))
        message = await socket.receive(timeout=5)
        assert message.type == WSMsgType.CLOSE
        assert message.data == WSCloseCode.POLICY_VIOLATION


def test_tickets_are_single_use_short_lived_and_bounded() -> None:
    now = [100.0]
    tickets = WsTickets(ttl_s=30, max_tickets=3, clock=lambda: now[0])
    first = tickets.issue("session-a")
    assert tickets.redeem(first) == "session-a"
    assert tickets.redeem(first) is None
    late = tickets.issue("session-b")
    now[0] += 30
    assert tickets.redeem(late) is None
    issued = [tickets.issue(f"session-{n}") for n in range(5)]
    assert tickets.redeem(issued[0]) is None, "the oldest ticket made room for newer ones"
    assert [tickets.redeem(ticket) for ticket in issued[2:]] == [
        "session-2",
        "session-3",
        "session-4",
    ]
    assert tickets.redeem("made-up") is None


async def test_concurrent_redemptions_of_one_ticket_let_one_in(client) -> None:
    agent = await token(client, "agent", AGENT_PASSWORD)
    ticket = (await (await client.post("/api/v1/ws-ticket", headers=bearer(agent))).json())[
        "ticket"
    ]
    replies = await asyncio.gather(*(client.get(f"/api/v1/ws?ticket={ticket}") for _ in range(4)))
    # A plain GET is no websocket upgrade: the one that got past the guard is refused with 400.
    assert sorted(reply.status for reply in replies) == [400, 401, 401, 401]
