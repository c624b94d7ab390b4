"""Starts the real stack once per session: Rasa server (two processes, as `make run` starts
it where Redis answers), action server and console."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from bot.endpoints import write_endpoints
from bot.runner import start_services, stop_services, wait_healthy
from bot.settings import Settings, load_settings
from bot.setup import prepare_store
from bot.training import ensure_model

ADMIN_PASSWORD = "e2e-admin-password"
RATE_LIMIT_RETRIES = 10
E2E_REDIS_URL = "redis://127.0.0.1:6379/10"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: Any


def http(method: str, url: str, body: bytes | None = None, token: str | None = None) -> Reply:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Reply(response.status, json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as error:
        return Reply(error.code, json.loads(error.read() or b"null"))


@dataclass
class Stack:
    settings: Settings
    staff_token: str
    processes: dict[str, subprocess.Popen]

    def say(self, sender: str, text: str, customer_token: str | None = None) -> list[dict]:
        payload = {"sender": sender, "message": text}
        if customer_token:
            payload["metadata"] = {"customer_token": customer_token}
        body = json.dumps(payload).encode()
        reply = self.post_webhook(body)
        for _ in range(RATE_LIMIT_RETRIES):
            if reply.status != 429:
                break
            # A well-behaved client waits out the channel's rate limit (Retry-After is 1-2 s
            # here), as the widget's customers would between messages.
            time.sleep(1)
            reply = self.post_webhook(body)
        assert reply.status == 200, reply.body
        return reply.body

    def post_webhook(self, body: bytes) -> Reply:
        return http("POST", f"{self.settings.rasa_url}/webhooks/rest/webhook", body)

    def api(self, method: str, path: str, body: dict | None = None) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        return http(method, f"{self.settings.console_url}{path}", data, self.staff_token)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("e2e-var")
    env = {
        "CRM_VAR_DIR": str(var_dir),
        "CRM_DATABASE_URL": f"sqlite:///{var_dir / 'crm.sqlite3'}",
        "CRM_SECRET_KEY": "e2e-secret-key",
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "CONSOLE_PORT": str(free_port()),
        "CRM_DEMO_SITE": "1",  # the browser test chats on the demo page
        # As `make run` starts it on a machine with Redis: two Rasa processes on one port.
        "CRM_REDIS_URL": E2E_REDIS_URL,
        "CRM_RASA_WORKERS": "2",
    }
    redis.Redis.from_url(E2E_REDIS_URL).flushdb()  # this suite's own database
    settings = load_settings(env)
    engine, _ = prepare_store(settings)
    engine.dispose()
    endpoints = write_endpoints(settings, var_dir / "endpoints.yml")
    processes = start_services(ensure_model(), endpoints, env)
    try:
        wait_healthy(settings, processes, timeout=300)
        login = http(
            "POST",
            f"{settings.console_url}/api/v1/auth/login",
            json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode(),
        )
        yield Stack(settings, login.body["token"], processes)
    finally:
        stop_services(processes)
