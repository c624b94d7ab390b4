"""The console's JSON API through a real aiohttp server over a real CRM store."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate_spec

from bot.console.openapi import DOCUMENTED_ENUMS, load_openapi
from bot.crm.enums import SHARED_WITH_CONSOLE
from bot.identity import customer_id_from_token
from bot.settings import KeyPurpose
from tests.console.helpers import JSON_TYPE, assert_error, bearer, login, open_handoff, token
from tests.crm_queries import conversation_ids_of

DOCUMENTED_OUTSIDE_API = ("/healthz", "/static/lib/enums.js")


async def test_health_names_the_failing_components(client) -> None:
    reply = await client.get("/healthz")
    assert reply.status == 503
    payload = await reply.json()
    assert payload["status"] == "unavailable"
    assert payload["components"]["db"] == "ok"
    assert payload["components"]["rasa"].startswith("error")
    assert payload["components"]["actions"].startswith("error")


async def test_login_returns_a_token_and_role(client) -> None:
    reply = await client.post(
        "/api/v1/auth/login", json={"username": "agent", "password": "agent-password"}
    )
    payload = await reply.json()
    assert reply.status == 200
    assert payload["role"] == "agent"
    assert payload["token"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"username": "boss", "password": "wrong"}', 401, "invalid_credentials"),
        (b'{"username": "ghost", "password": "whatever1"}', 401, "invalid_credentials"),
        (b"{broken", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_utf8"),
        (b'["boss"]', 400, "invalid_body"),
        (b'{"username": 5, "password": "x"}', 400, "invalid_field"),
        (b'{"username": "boss"}', 400, "invalid_field"),
        (b"x" * 70_000, 413, "payload_too_large"),
    ],
)
async def test_bad_logins_get_clear_errors(client, body: bytes, status: int, code: str) -> None:
    reply = await client.post("/api/v1/auth/login", data=body, headers=JSON_TYPE)
    await assert_error(reply, status, code)


async def test_conversation_detail_lists_messages_in_order(client) -> None:
    reply = await client.get("/api/v1/conversations/conv-1", headers=await login(client))
    assert reply.status == 200
    conversation = await reply.json()
    assert conversation["id"] == "conv-1"
    assert conversation["customer_id"] == 1
    assert [(m["sender"], m["intent"]) for m in conversation["messages"]] == [
        ("customer", "greet"),
        ("bot", None),
    ]


async def test_conversation_list_pages_and_filters(client, console_store) -> None:
    headers = await login(client)
    # Customer 1 has conv-1, the seeded past handoffs and chats: more than one page each.
    expected = conversation_ids_of(console_store, 1)
    assert "conv-1" in expected and len(expected) > 3
    listed, cursor = [], ""
    while cursor is not None:
        reply = await client.get(
            f"/api/v1/conversations?customer_id=1&limit=1{cursor and f'&cursor={cursor}'}",
            headers=headers,
        )
        payload = await reply.json()
        assert len(payload["conversations"]) == 1
        assert payload["conversations"][0]["customer_id"] == 1
        listed.append(payload["conversations"][0]["id"])
        cursor = payload["next_cursor"]
    assert sorted(listed) == sorted(expected)
    reply = await client.get("/api/v1/conversations?customer_id=999", headers=headers)
    assert (await reply.json())["conversations"] == []


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=abc", "limit=1000", "customer_id=x", "status=weird", "cursor=%%%"],
)
async def test_bad_list_parameters_are_rejected(client, query: str) -> None:
    reply = await client.get(f"/api/v1/conversations?{query}", headers=await login(client))
    await assert_error(reply, 400, "invalid_parameter")


async def test_unknown_conversation_and_route_are_json_404s(client) -> None:
    headers = await login(client)
    await assert_error(
        await client.get("/api/v1/conversations/nope", headers=headers), 404, "not_found"
    )
    await assert_error(await client.get("/api/v1/nothing-here", headers=headers), 404, "not_found")


async def test_the_api_needs_a_valid_token_and_role(client) -> None:
    await assert_error(await client.get("/api/v1/conversations"), 401, "unauthorized")
    forged = {"Authorization": "Bearer forged.token.value"}
    await assert_error(
        await client.get("/api/v1/conversations", headers=forged), 401, "unauthorized"
    )
    agent = await login(client, "agent", "agent-password")
    await assert_error(await client.get("/api/v1/staff", headers=agent), 403, "forbidden")


async def test_supervisors_manage_staff(client, console_store) -> None:
    headers = await login(client)
    reply = await client.post(
        "/api/v1/staff",
        json={"username": "newbie", "password": "long enough pw", "role": "agent"},
        headers=headers,
    )
    assert reply.status == 201
    assert (await reply.json())["role"] == "agent"
    assert console_store.staff.authenticate("newbie", "long enough pw") is not None
    again = await client.post(
        "/api/v1/staff",
        json={"username": "newbie", "password": "long enough pw", "role": "agent"},
        headers=headers,
    )
    await assert_error(again, 409, "conflict")
    weak = await client.post(
        "/api/v1/staff",
        json={"username": "x", "password": "short", "role": "agent"},
        headers=headers,
    )
    await assert_error(weak, 400, "weak_password")
    look_alike = await client.post(
        "/api/v1/staff",
        json={"username": "\u202enimda", "password": "long enough pw", "role": "agent"},
        headers=headers,
    )
    await assert_error(look_alike, 400, "invalid_field")
    listed = await (await client.get("/api/v1/staff", headers=headers)).json()
    assert [s["username"] for s in listed["staff"]] == ["boss", "agent", "root", "newbie"]
    assert all(s["active"] for s in listed["staff"])


async def test_widget_tokens_name_the_customer(client, settings) -> None:
    headers = await login(client)
    reply = await client.post("/api/v1/customers/3/widget-token", headers=headers)
    assert reply.status == 200
    issued = (await reply.json())["token"]
    assert (await reply.json())["expires_in"] == 3600
    assert customer_id_from_token(settings.key_for(KeyPurpose.CUSTOMER_TOKEN), issued) == 3
    assert customer_id_from_token(settings.secret_key, issued) is None, "a key of its own"
    missing = await client.post("/api/v1/customers/999/widget-token", headers=headers)
    await assert_error(missing, 404, "not_found")
    profile = await (await client.get("/api/v1/customers/3", headers=headers)).json()
    assert profile["id"] == 3 and profile["cards"]


async def test_the_openapi_document_is_valid_and_covers_every_route(client) -> None:
    reply = await client.get("/api/v1/openapi.json")
    spec = await reply.json()
    validate_spec(spec)
    assert spec == load_openapi()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = set()
    for resource in client.server.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if path is None or not (path.startswith("/api/") or path in DOCUMENTED_OUTSIDE_API):
            continue
        for route in resource:
            if route.method != "HEAD":
                served.add((path, route.method))
    assert served == documented
    assert all(re.fullmatch(r"[a-z0-9/_{}.-]+", path) for path, _ in served)


def test_the_openapi_document_takes_its_enums_from_python() -> None:
    schemas = load_openapi()["components"]["schemas"]
    for enum in DOCUMENTED_ENUMS:
        assert schemas[enum.__name__]["enum"] == list(enum.values())


async def test_enums_js_exports_every_shared_enum(client) -> None:
    reply = await client.get("/static/lib/enums.js")
    assert reply.status == 200
    assert reply.content_type == "application/javascript"
    assert reply.headers["Cache-Control"] == "no-cache"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    script = await reply.text()
    assert (
        'export const TicketStatus = Object.freeze({"OPEN": "open", "CLAIMED": "claimed", '
        '"RESOLVED": "resolved"});'
    ) in script.splitlines()
    exported = re.findall(r"^export const (\w+) = Object\.freeze\(", script, re.MULTILINE)
    assert exported == [enum.__name__ for enum in SHARED_WITH_CONSOLE]


async def test_the_live_websocket_needs_an_agent_ticket_or_header(client) -> None:
    await assert_error(await client.get("/api/v1/ws"), 401, "unauthorized")
    await assert_error(await client.get("/api/v1/ws?token=forged"), 401, "unauthorized")
    await assert_error(await client.get("/api/v1/ws?ticket=forged"), 401, "unauthorized")
    agent_token = await token(client, "agent", "agent-password")
    in_url = await client.get(f"/api/v1/ws?token={agent_token}")
    await assert_error(in_url, 401, "unauthorized")


async def ws_ticket(client, session_token: str) -> str:
    reply = await client.post("/api/v1/ws-ticket", headers=bearer(session_token))
    assert reply.status == 200
    payload = await reply.json()
    assert payload["expires_in"] == 30
    return payload["ticket"]


async def test_the_live_websocket_pushes_new_and_claimed_handoffs(client, console_store) -> None:
    agent_token = await token(client, "agent", "agent-password")
    ticket = await ws_ticket(client, agent_token)
    async with client.ws_connect(f"/api/v1/ws?ticket={ticket}") as socket:
        handoff_id = open_handoff(console_store)
        created = await socket.receive_json(timeout=5)
        assert created["type"] == "handoff_created"
        assert created["handoff"]["id"] == handoff_id
        headers = bearer(agent_token)
        reply = await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=headers)
        assert reply.status == 200
        claimed = await socket.receive_json(timeout=5)
        assert claimed["type"] == "handoff_claimed"
        assert claimed["handoff"]["status"] == "claimed"


async def test_the_live_websocket_also_takes_the_bearer_header(client, console_store) -> None:
    """Clients that can send headers on the upgrade (not browsers) need no ticket."""
    headers = await login(client, "agent", "agent-password")
    async with client.ws_connect("/api/v1/ws", headers=headers) as socket:
        handoff_id = open_handoff(console_store)
        created = await socket.receive_json(timeout=5)
        assert (created["type"], created["handoff"]["id"]) == ("handoff_created", handoff_id)
