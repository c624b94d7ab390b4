"""The Rasa launcher's guards: the routes it serves, and the JWT the console signs for them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import jwt
import pytest
from rasa.core.utils import AvailableEndpoints
from sanic import Sanic
from sanic.compat import Header

from bot.console.rasa_client import API_JWT_ALGORITHM, api_jwt
from bot.rasa_server import build_app, check_event_broker, loadable, served
from bot.settings import PROJECT_ROOT, load_settings


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("POST", "/webhooks/rest/webhook"),
        ("POST", "/webhooks/socketio/agent_message"),
        ("GET", "/socket.io/"),
        ("POST", "/conversations/web%2F1/tracker/events"),
        ("POST", "/conversations/c-1/trigger_intent"),
        ("PUT", "/model"),
        ("POST", "/model/parse"),
    ],
)
def test_the_channels_and_the_consoles_calls_are_served(method: str, path: str) -> None:
    assert served(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/model"),
        ("POST", "/model/train"),
        ("GET", "/model/parse"),
        ("GET", "/status"),
        ("GET", "/version"),
        ("GET", "/domain"),
        ("GET", "/conversations/c-1/tracker"),
        ("PUT", "/conversations/c-1/tracker/events"),
        ("POST", "/conversations/c-1/messages"),
        ("POST", "/conversations/a/b/trigger_intent"),
        ("POST", "/auth"),
        ("GET", "/socket.io.evil"),
    ],
)
def test_everything_else_is_not(method: str, path: str) -> None:
    assert not served(method, path)


def test_the_consoles_jwt_is_a_short_lived_admin_token() -> None:
    token = api_jwt("a-secret-of-thirty-two-bytes-or-more", now=1_000)

    claims = jwt.decode(
        token,
        "a-secret-of-thirty-two-bytes-or-more",
        algorithms=[API_JWT_ALGORITHM],
        options={"verify_exp": False},
    )

    assert claims["user"] == {"username": "console", "role": "admin"}
    assert 0 < claims["exp"] - claims["iat"] <= 300
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, "a-secret-of-thirty-two-bytes-or-more", algorithms=[API_JWT_ALGORITHM])


def test_a_jwt_rasa_cannot_verify_is_a_401_not_a_500(tmp_path, monkeypatch) -> None:
    """sanic-jwt lets an `alg: none` token's InvalidAlgorithmError out of Rasa's check."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # other tests built an app of this name
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"})
    app = build_app(settings, tmp_path / "model.tar.gz", AvailableEndpoints())
    none_token = jwt.encode({"user": {"username": "x", "role": "admin"}}, None, algorithm="none")
    request = SimpleNamespace(
        headers=Header({"Authorization": f"Bearer {none_token}"}), cookies={}, args={}, app=app
    )
    with pytest.raises(jwt.InvalidAlgorithmError) as raised:
        asyncio.run(app.ctx.auth.is_authenticated(request))

    handler = app.error_handler.lookup(raised.value, None)
    reply = asyncio.run(handler(request, raised.value))

    assert reply.status == 401
    assert json.loads(reply.body)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"model_file": "{models}/northwind-0123.tar.gz"}, True),
        ({"model_file": "{models}/../models/northwind-0123.tar.gz"}, True),
        ({"model_file": "{models}/../elsewhere/northwind-0123.tar.gz"}, False),
        ({"model_file": "/tmp/northwind-0123.tar.gz"}, False),
        ({"model_file": "{models}/northwind-0123.zip"}, False),
        ({"model_file": "{models}/a.tar.gz", "model_server": {"url": "http://x"}}, False),
        ({"model_file": "{models}/a.tar.gz", "remote_storage": "aws"}, False),
        ({"model_server": {"url": "http://evil.example/model"}}, False),
        ({"model_file": 3}, False),
        (["{models}/a.tar.gz"], False),
        (None, False),
    ],
)
def test_only_a_model_from_the_servers_own_models_folder_is_loaded(tmp_path, body, accepted):
    """Loading a model runs its code: the retrain job's models, nothing fetched or foreign."""
    models = tmp_path / "models"
    filled = json.loads(json.dumps(body).replace("{models}", str(models)))
    assert loadable(filled, models) is accepted


async def asgi_call(app, method: str, path: str, body: object, token: str | None) -> tuple:
    """One request through the real Sanic app (its ASGI interface), middleware and Rasa's
    handlers included; the status and the JSON body."""
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5005),
    }
    incoming = [{"type": "http.request", "body": data, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    reply = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(status), json.loads(reply)


@pytest.mark.filterwarnings("ignore:You have set a listener")
def test_the_model_guard_answers_only_after_rasas_authentication(tmp_path, monkeypatch) -> None:
    """Without a valid JWT, `PUT /model` is Rasa's 401, whatever the body: the guard's 400
    (which names the models folder) is for authenticated callers only."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # other tests built an app of this name
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"})
    app = build_app(settings, tmp_path / "models" / "model.tar.gz", AvailableEndpoints())
    foreign = {"model_file": "/tmp/elsewhere/evil.tar.gz"}
    none_token = jwt.encode({"user": {"username": "x", "role": "admin"}}, None, algorithm="none")
    wrong_key = api_jwt("another-secret-of-thirty-two-bytes-or-more")

    valid = api_jwt(settings.rasa_api_token)

    async def replies() -> list[tuple]:
        await app._startup()  # what the server does before serving: the routes are finalised
        tokens = (None, none_token, wrong_key, valid)
        return [await asgi_call(app, "PUT", "/model", foreign, token) for token in tokens]

    *refused, (status, body) = asyncio.run(replies())

    for refused_status, refused_body in refused:
        assert refused_status == 401
        assert "models" not in json.dumps(refused_body)
    assert status == 400
    assert body["error"]["code"] == "invalid_model"


def endpoints_with_broker(tmp_path, broker: dict | None) -> AvailableEndpoints:
    path = tmp_path / "endpoints.yml"
    path.write_text(json.dumps({"event_broker": broker} if broker else {}))
    return AvailableEndpoints.read_endpoints(str(path))


@pytest.mark.parametrize(
    "broker",
    [None, {"type": "bot.nowhere.Broker"}],
    ids=["none_configured", "not_importable"],
)
def test_a_broker_that_cannot_be_created_stops_the_start(tmp_path, broker) -> None:
    with pytest.raises(SystemExit) as stopped:
        check_event_broker(endpoints_with_broker(tmp_path, broker))
    assert str(stopped.value).startswith("error: ")


def test_the_crm_broker_passes_the_check(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRM_SECRET_KEY", "rasa-server-secret")
    monkeypatch.setenv("RASA_PORT", "5293")
    check_event_broker(
        endpoints_with_broker(tmp_path, {"type": "bot.rasa_plugins.broker.CRMEventBroker"})
    )
    assert (tmp_path / "var" / "outbox" / "rasa-5293.sqlite3").exists()


def test_the_server_exits_non_zero_with_a_clear_message(tmp_path) -> None:
    """The real entry point: Rasa alone would warn and run without recording anything."""
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(json.dumps({"event_broker": {"type": "bot.nowhere.Broker"}}))
    env = {**os.environ, "CRM_VAR_DIR": str(tmp_path / "var"), "CRM_SECRET_KEY": "s"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            "m.tar.gz",
            "--endpoints",
            str(endpoints),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=180,
    )
    assert done.returncode != 0
    assert "error: the event broker 'bot.nowhere.Broker' could not be loaded" in done.stderr
