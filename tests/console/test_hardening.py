"""Console hardening: security headers on every answer, refused control characters, ids out of
range, deep JSON, and an access log that one request cannot split into two lines."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.console.__main__ import PathOnlyAccessLogger
from bot.console.headers import NOTHING_POLICY, PAGE_POLICY
from bot.console.routes.pages import AGENT_PAGE_POLICY
from tests.console.helpers import AGENT_PASSWORD, JSON_TYPE, assert_error, login, open_handoff


def assert_common_headers(reply) -> None:
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [
        ("/api/v1/openapi.json", False),
        ("/api/v1/conversations", True),
        ("/api/v1/conversations", False),
        ("/api/v1/no-such-route", False),
        ("/api/v1/ws", False),
    ],
)
async def test_api_answers_load_nothing_and_are_never_cached(
    client, path: str, authenticated: bool
) -> None:
    reply = await client.get(path, headers=await login(client) if authenticated else None)
    assert_common_headers(reply)
    assert reply.headers["Content-Security-Policy"] == NOTHING_POLICY
    assert reply.headers["Cache-Control"] == "no-store"


async def test_the_agent_page_keeps_its_policy_and_cannot_be_framed(client) -> None:
    reply = await client.get("/agent")
    assert_common_headers(reply)
    assert reply.headers["Content-Security-Policy"] == AGENT_PAGE_POLICY
    assert reply.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/healthz", "/static/agent.css", "/static/lib/enums.js"])
async def test_pages_files_and_health_carry_the_headers(client, path: str) -> None:
    reply = await client.get(path)
    assert_common_headers(reply)
    if reply.content_type == "text/html":
        assert reply.headers["Content-Security-Policy"] in (PAGE_POLICY, AGENT_PAGE_POLICY)
    else:
        assert reply.headers["Content-Security-Policy"] == NOTHING_POLICY


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "bo\x00ss"), ("username", "bo\x1bss"), ("password", "pass\x07word1")],
)
async def test_control_characters_in_login_fields_are_refused(client, field, value) -> None:
    body = {"username": "boss", "password": "supervisor-password", field: value}
    reply = await client.post("/api/v1/auth/login", data=json.dumps(body), headers=JSON_TYPE)
    assert reply.status == 400
    assert (await reply.json())["error"]["code"] in ("invalid_field", "nul_character")


async def test_agent_text_keeps_line_breaks_but_no_other_control_characters(
    client, console_store
) -> None:
    handoff_id = open_handoff(console_store)
    agent = await login(client, "agent", AGENT_PASSWORD)
    await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)
    path = f"/api/v1/handoffs/{handoff_id}/messages"
    bell = await client.post(path, json={"text": "ring\x07ring"}, headers=agent)
    await assert_error(bell, 400, "invalid_field")
    escape = await client.post(path, json={"text": "\x1b[2Jcleared"}, headers=agent)
    await assert_error(escape, 400, "invalid_field")
    lines = await client.post(path, json={"text": "Line one\nLine two\tend"}, headers=agent)
    assert lines.status == 202, "stored, delivery pending: no Rasa listens in these tests"
    stored = console_store.conversations.get("conv-1")["messages"]
    assert stored[-1]["text"] == "Line one\nLine two\tend"
    assert [m["text"] for m in stored].count("Line one\nLine two\tend") == 1
    assert not any("ring" in (m["text"] or "") for m in stored)


async def test_deep_json_is_a_clear_400(client) -> None:
    body = '{"username": ' + "[" * 5000 + "]" * 5000 + "}"
    reply = await client.post("/api/v1/auth/login", data=body, headers=JSON_TYPE)
    await assert_error(reply, 400, "too_deep")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/conversations/conv%00-1",
        "/api/v1/conversations/conv%0A-1",
        "/api/v1/conversations/" + "x" * 300,
        "/api/v1/customers/99999999999999999999",
        "/api/v1/customers/0",
        "/api/v1/customers/%D9%A3",
        "/api/v1/customers/+3",
    ],
)
async def test_ids_no_record_could_have_are_404s(client, path: str) -> None:
    await assert_error(await client.get(path, headers=await login(client)), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/tickets/similar?q=card%01declined",
        "/api/v1/tickets/similar?q=card&k=%D9%A3",
        "/api/v1/conversations?customer_id=99999999999",
        "/api/v1/conversations?cursor=a%00b",
    ],
)
async def test_bad_query_text_and_numbers_are_400s(client, query: str) -> None:
    await assert_error(
        await client.get(query, headers=await login(client)), 400, "invalid_parameter"
    )


def test_the_access_log_keeps_one_request_on_one_line(caplog) -> None:
    logger = logging.getLogger("test.access")
    access_log = PathOnlyAccessLogger(logger, "")
    request = make_mocked_request(
        "GET", "/api/v1/conversations/a%0A1.2.3.4 - forged%0D?ticket=secret-ticket"
    )
    with caplog.at_level(logging.INFO, logger="test.access"):
        access_log.log(request, web.Response(status=404), 0.01)
    (line,) = caplog.messages
    assert "\n" not in line and "\r" not in line
    assert "/api/v1/conversations/a%0A1.2.3.4 - forged%0D" in line
    assert "secret-ticket" not in line and "?" not in line


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_bodies_not_sent_as_json_are_415s(client, content_type: str | None) -> None:
    """A cross-site page can send these without a preflight; the console refuses them."""
    body = json.dumps({"username": "boss", "password": "supervisor-password"})
    headers = {} if content_type is None else {"Content-Type": content_type}
    login_reply = await client.post("/api/v1/auth/login", data=body, headers=headers)
    await assert_error(login_reply, 415, "unsupported_media_type")
    staff = json.dumps({"username": "newbie", "password": "long enough pass", "role": "agent"})
    staff_headers = {**headers, **(await login(client))}
    create_reply = await client.post("/api/v1/staff", data=staff, headers=staff_headers)
    await assert_error(create_reply, 415, "unsupported_media_type")


async def test_json_with_a_charset_is_json(client) -> None:
    body = json.dumps({"username": "boss", "password": "supervisor-password"})
    headers = {"Content-Type": "application/json; charset=utf-8"}
    assert (await client.post("/api/v1/auth/login", data=body, headers=headers)).status == 200
