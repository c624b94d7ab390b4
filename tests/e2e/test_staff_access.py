"""Staff access on the real stack: an ended session is refused at once, its socket closed,
and the audit log shows who did what."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.e2e.conftest import Stack, http

pytestmark = pytest.mark.e2e
DORA = {"username": "dora", "password": "dora-password-1"}


def login(stack: Stack) -> str:
    reply = http(
        "POST", f"{stack.settings.console_url}/api/v1/auth/login", json.dumps(DORA).encode()
    )
    assert reply.status == 200, reply.body
    return reply.body["token"]


def status(stack: Stack, method: str, path: str, token: str) -> int:
    return http(
        method, f"{stack.settings.console_url}{path}", b"" if method == "POST" else None, token
    ).status


async def test_a_revoked_staff_session_is_refused_at_once(stack: Stack) -> None:
    created = stack.api("POST", "/api/v1/staff", {**DORA, "role": "agent"})
    assert created.status == 201, created.body
    dora_id = created.body["id"]
    first, second = login(stack), login(stack)
    base = stack.settings.console_url

    assert status(stack, "GET", "/api/v1/handoffs", first) == 200
    assert status(stack, "POST", "/api/v1/auth/logout", first) == 204
    assert status(stack, "GET", "/api/v1/handoffs", first) == 401
    assert status(stack, "GET", "/api/v1/handoffs", second) == 200

    ticket = http("POST", f"{base}/api/v1/ws-ticket", b"", second).body["ticket"]
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(f"{base}/api/v1/ws?ticket={ticket}") as socket:
            deactivated = stack.api("PATCH", f"/api/v1/staff/{dora_id}", {"active": False})
            assert (deactivated.status, deactivated.body["active"]) == (200, False)
            assert status(stack, "GET", "/api/v1/handoffs", second) == 401
            closed = await asyncio.wait_for(socket.receive(), 20)
            assert closed.type == aiohttp.WSMsgType.CLOSE
        again = await client.get(f"{base}/api/v1/ws?ticket={ticket}")
        assert again.status == 401, "a ticket opens one socket, once"

    refused = http("POST", f"{base}/api/v1/auth/login", json.dumps(DORA).encode())
    assert refused.status == 401
    log = stack.api("GET", "/api/v1/audit?actor=dora").body["entries"]
    assert [entry["action"] for entry in log] == ["logout", "login", "login"]
    changes = stack.api("GET", "/api/v1/audit?actor=admin&limit=200").body["entries"]
    assert {"create_staff", "update_staff"} <= {entry["action"] for entry in changes}
