"""The action server's key check: only Rasa's key passes, and no header value makes it fail."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from bot.action_server import build_app
from bot.endpoints import ACTION_KEY_HEADER
from bot.settings import KeyPurpose, load_settings


@pytest.fixture(scope="module")
def check_and_key(tmp_path_factory):
    """Built once: Sanic refuses a second app of the same name in one process."""
    var_dir = tmp_path_factory.mktemp("var")
    settings = load_settings({"CRM_VAR_DIR": str(var_dir), "CRM_SECRET_KEY": "master"})
    (require_key,) = build_app(settings).request_middleware
    return require_key, settings.key_for(KeyPurpose.ACTION_SERVER)


def checked(require_key, headers: dict[str, str]):
    request = SimpleNamespace(path="/webhook", headers=headers)
    return asyncio.run(require_key(request))


# Sanic decodes header bytes with surrogateescape: a raw 0xE9 byte arrives as "\udce9".
@pytest.mark.parametrize("given", ["", "x", "é", "\udce9", "\udce9" * 64])
def test_a_wrong_key_is_a_401_that_says_nothing_of_the_body(check_and_key, given: str) -> None:
    require_key, _ = check_and_key
    reply = checked(require_key, {ACTION_KEY_HEADER: given})

    assert reply.status == 401
    assert json.loads(reply.body)["error"]["code"] == "unauthorized"


def test_rasas_key_passes(check_and_key) -> None:
    require_key, key = check_and_key

    assert checked(require_key, {ACTION_KEY_HEADER: key}) is None
