"""Logging in and checking error answers, for the console's API tests."""

from __future__ import annotations

from bot.crm.enums import HandoffReason
from bot.crm.store import CRMStore

PASSWORD = "supervisor-password"
AGENT_PASSWORD = "agent-password"
ADMIN_PASSWORD = "admin-password"
JSON_TYPE = {"Content-Type": "application/json"}
"""For bodies posted as raw bytes: the console reads only bodies sent as JSON."""


async def token(client, username="boss", password=PASSWORD) -> str:
    reply = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert reply.status == 200
    return (await reply.json())["token"]


async def login(client, username="boss", password=PASSWORD) -> dict[str, str]:
    return bearer(await token(client, username, password))


def bearer(session_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token}"}


async def assert_error(reply, status: int, code: str) -> None:
    assert reply.status == status
    payload = await reply.json()
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]


def open_handoff(store: CRMStore, conversation_id: str = "conv-1", customer_id: int = 1) -> int:
    return store.handoffs.open(
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=2,
        subject="Wants a person",
        text="let me talk to a human",
        packet={},
    )
