"""The Rasa launcher's guards: the routes it serves, and the JWT the console signs for them."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import jwt
import pytest
from rasa.core.utils import AvailableEndpoints
from sanic.compat import Header

from bot.console.rasa_client import API_JWT_ALGORITHM, api_jwt
from bot.rasa_server import build_app, served
from bot.settings import load_settings


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("POST", "/webhooks/rest/webhook"),
        ("POST", "/webhooks/socketio/agent_message"),
        ("GET", "/socket.io/"),
        ("POST", "/conversations/web%2F1/tracker/events"),
        ("POST", "/conversations/c-1/trigger_intent"),
    ],
)
def test_the_channels_and_the_consoles_calls_are_served(method: str, path: str) -> None:
    assert served(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/model"),
        ("DELETE", "/model"),
        ("POST", "/model/train"),
        ("POST", "/model/parse"),
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


def test_a_jwt_rasa_cannot_verify_is_a_401_not_a_500(tmp_path) -> None:
    """sanic-jwt lets an `alg: none` token's InvalidAlgorithmError out of Rasa's check."""
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
