"""The stack's internal surfaces against the real processes: only Rasa may run actions, only
the console may use Rasa's HTTP API, browsers only from allowed origins, no secret in `ps`."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
import jwt
import pytest
import rasa

from bot.console.rasa_client import RasaClient, api_jwt
from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.endpoints import ACTION_KEY_HEADER
from bot.settings import KeyPurpose
from tests.crm_queries import tickets_for_conversation
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
EVIL_ORIGIN = "https://evil.example"


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def request(method: str, url: str, body: bytes | None = None, **headers: str) -> Raw:
    """Any request, any headers; the reply's status, headers (lower-case names) and body."""
    prepared = urllib.request.Request(url, data=body, method=method)
    for name, value in headers.items():
        prepared.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(prepared, timeout=60) as reply:
            return Raw(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read())
    except urllib.error.HTTPError as error:
        return Raw(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def action_call(action: str, sender: str) -> bytes:
    """What Rasa posts to the action server to run one action."""
    tracker = {
        "sender_id": sender,
        "slots": {},
        "latest_message": {"text": "a person please", "intent": {"name": "human_handoff"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    call = {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}}
    return json.dumps({**call, "version": rasa.__version__}).encode()


def test_the_action_server_runs_actions_only_for_rasa(stack: Stack) -> None:
    sender = "e2e-action-key"
    stack.say(sender, "hello")
    webhook = f"{stack.settings.action_url}/webhook"
    key = stack.settings.key_for(KeyPurpose.ACTION_SERVER)
    handoff = action_call("action_handoff", sender)

    # A web page's form post: text/plain, no header. Then a JSON call with a wrong key.
    form_post = request("POST", webhook, handoff, Content_Type="text/plain")
    wrong_key = request(
        "POST",
        webhook,
        handoff,
        Content_Type="application/json",
        **{ACTION_KEY_HEADER: stack.settings.key_for(KeyPurpose.AGENT_MESSAGE)},
    )

    for refused in (form_post, wrong_key):
        assert refused.status == 401
        assert refused.json()["error"]["code"] == "unauthorized"
    store = CRMStore(create_crm_engine(stack.settings.database_url))
    try:
        assert tickets_for_conversation(store, sender) == [], "no handoff was opened"
    finally:
        store.dispose()
    assert request("GET", f"{stack.settings.action_url}/actions").status == 401
    assert request("GET", f"{stack.settings.action_url}/health").status == 200
    # The same kind of call with Rasa's key runs (an anonymous card question: no side effect).
    with_key = request(
        "POST",
        webhook,
        action_call("action_card_status", sender),
        Content_Type="application/json",
        **{ACTION_KEY_HEADER: key},
    )
    assert with_key.status == 200
    assert with_key.json()["responses"]


def test_rasa_http_api_needs_the_consoles_jwt(stack: Stack) -> None:
    settings = stack.settings
    path = f"/conversations/{quote('e2e-api-auth', safe='')}/tracker/events"
    url = f"{settings.rasa_url}{path}"
    events = json.dumps([{"event": "action", "name": "action_listen"}]).encode()
    secret = settings.rasa_api_token
    user_role = {"user": {"username": "someone-else", "role": "user"}}

    def post(url: str, authorization: str | None = None) -> int:
        headers = {"Authorization": authorization} if authorization else {}
        return request("POST", url, events, Content_Type="application/json", **headers).status

    assert post(url) == 401
    assert post(f"{url}?token={quote(secret)}") == 401, "a token in the URL is not accepted"
    assert post(url, f"Bearer {api_jwt(settings.key_for(KeyPurpose.AGENT_MESSAGE))}") == 401, (
        "signed with another key"
    )
    assert post(url, f"Bearer {api_jwt(secret, now=0)}") == 401, "expired"
    assert post(url, f"Bearer {jwt.encode(user_role, secret, algorithm='HS256')}") == 403
    assert post(url, f"Bearer {api_jwt(secret)}") == 200


async def test_the_consoles_calls_pass(stack: Stack) -> None:
    stack.say("e2e-console-calls", "hello")

    async with aiohttp.ClientSession() as http:
        rasa_client = RasaClient(http, stack.settings)
        await rasa_client.resume("e2e-console-calls")
        await rasa_client.trigger_intent("e2e-console-calls", "greet")


def test_rasa_serves_only_the_routes_the_crm_uses(stack: Stack) -> None:
    admin = {"Authorization": f"Bearer {api_jwt(stack.settings.rasa_api_token)}"}
    rasa_url = stack.settings.rasa_url
    foreign = json.dumps({"model_file": "/tmp/elsewhere/any.tar.gz"}).encode()

    for method, path, body in [
        ("DELETE", "/model", None),
        ("POST", "/model/train", b"{}"),
        ("GET", "/status", None),
        ("GET", "/domain", None),
        ("GET", "/conversations/e2e-api-auth/tracker", None),
    ]:
        reply = request(method, f"{rasa_url}{path}", body, Content_Type="application/json", **admin)
        assert reply.status == 404, (method, path)
        assert reply.json()["error"]["code"] == "not_found"
    loaded = request("PUT", f"{rasa_url}/model", foreign, Content_Type="application/json", **admin)
    assert loaded.status == 400, "the retrain job's route loads only a model from models/"
    assert loaded.json()["error"]["code"] == "invalid_model"


def test_rasa_replies_carry_security_headers_and_bodies_are_bounded(stack: Stack) -> None:
    rasa_url = stack.settings.rasa_url
    webhook = f"{rasa_url}/webhooks/rest/webhook"
    message_20k = json.dumps({"sender": "e2e-limits", "message": "x" * 20_000}).encode()
    body_70k = json.dumps({"sender": "e2e-limits", "message": "hi", "pad": "x" * 70_000}).encode()

    replies = [
        request("GET", f"{rasa_url}/"),
        request("POST", webhook, message_20k, Content_Type="application/json"),
        request("POST", webhook, body_70k, Content_Type="application/json"),
    ]

    for reply in replies:
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
        assert reply.headers["cache-control"] == "no-store"
    assert replies[0].status == 200
    assert replies[1].status == 413
    assert replies[1].json()["error"]["code"] == "message_too_long", "the channel's own check"
    assert replies[2].status == 413
    assert replies[2].json()["error"]["code"] == "payload_too_large"
    conversation = stack.api("GET", "/api/v1/conversations/e2e-limits")
    assert conversation.status == 404, "nothing was stored"


def test_browsers_may_call_rasa_only_from_allowed_origins(stack: Stack) -> None:
    allowed = stack.settings.allowed_origins[0]
    preflight = {"Access_Control_Request_Method": "POST"}
    webhook = f"{stack.settings.rasa_url}/webhooks/rest/webhook"

    from_evil = request("OPTIONS", webhook, Origin=EVIL_ORIGIN, **preflight)
    from_console = request("OPTIONS", webhook, Origin=allowed, **preflight)
    to_actions = request(
        "OPTIONS", f"{stack.settings.action_url}/webhook", Origin=allowed, **preflight
    )

    assert "access-control-allow-origin" not in from_evil.headers
    assert from_console.headers.get("access-control-allow-origin") == allowed
    assert "access-control-allow-origin" not in to_actions.headers


def _process_group(leader: int) -> list[int]:
    """The leader and every process it started (each service runs in its own group)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == leader:
                    members.append(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def test_no_secret_is_on_any_command_line(stack: Stack) -> None:
    settings = stack.settings
    secrets = [settings.rasa_api_token, settings.secret_key]
    secrets += [settings.key_for(purpose) for purpose in KeyPurpose]
    command_lines = []
    for process in stack.processes.values():
        for pid in _process_group(process.pid):
            command_lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode())

    assert len(command_lines) >= len(stack.processes)
    assert any("bot.rasa_server" in line for line in command_lines)
    for line in command_lines:
        for secret in secrets:
            assert secret not in line
