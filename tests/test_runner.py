"""`crm run` starts our own entries, and nothing secret goes on their command lines."""

from __future__ import annotations

import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

from bot import runner
from bot.runner import _started, describe_rasa, service_commands, with_local_redis
from bot.settings import KeyPurpose, load_settings


def test_the_services_are_started_through_our_entries_without_secrets(tmp_path) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"})
    model, endpoints = Path("models/m.tar.gz"), tmp_path / "endpoints.yml"

    commands = service_commands(model, endpoints)

    assert commands == {
        "actions": [sys.executable, "-m", "bot.action_server"],
        "rasa": [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
        ],
        "console": [sys.executable, "-m", "bot.console"],
    }
    secrets = [settings.secret_key, settings.rasa_api_token]
    secrets += [settings.key_for(purpose) for purpose in KeyPurpose]
    arguments = " ".join(" ".join(command) for command in commands.values())
    assert not [secret for secret in secrets if secret in arguments]


def test_rabbitmq_adds_the_drain_process() -> None:
    model, endpoints = Path("models/m.tar.gz"), Path("var/endpoints.yml")
    assert "drain" not in service_commands(model, endpoints)
    commands = service_commands(model, endpoints, drain=True)
    assert commands["drain"] == [sys.executable, "-m", "bot.cli", "drain"]
    assert set(commands) == {"actions", "rasa", "console", "drain"}


class _Health(http.server.BaseHTTPRequestHandler):
    """Answers /healthz with the status and body the test puts on the server."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, body = self.server.reply  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def health_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _settings_for(server, tmp_path: Path):
    port = str(server.server_address[1])
    return load_settings({"CRM_VAR_DIR": str(tmp_path), "CONSOLE_PORT": port})


UP = {"db": "ok", "rasa": "ok", "actions": "ok"}


def test_a_start_waits_for_the_processes_but_not_for_an_old_outbox(health_server, tmp_path):
    settings = _settings_for(health_server, tmp_path)
    health_server.reply = (200, {"status": "ok", "components": {**UP, "outbox": "ok"}})
    assert _started(settings)
    health_server.reply = (503, {"components": {**UP, "outbox": "error: 1 dead"}})
    assert _started(settings), "dead entries from an earlier run must not block the start"
    health_server.reply = (503, {"components": {**UP, "db": "error: OperationalError"}})
    assert not _started(settings)
    health_server.reply = (503, {"components": {}})
    assert not _started(settings)


@pytest.fixture
def plain_env(tmp_path, monkeypatch) -> None:
    """`crm run`'s environment with nothing said about Redis or workers."""
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_SECRET_KEY", "master")
    monkeypatch.delenv("CRM_REDIS_URL", raising=False)
    monkeypatch.delenv("CRM_RASA_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)


def test_a_run_uses_every_core_through_the_local_redis_when_one_answers(plain_env) -> None:
    settings = with_local_redis(load_settings())
    assert (settings.redis_url, settings.rasa_workers) == (runner.LOCAL_REDIS_URL, 2)
    assert load_settings().redis_url == runner.LOCAL_REDIS_URL, "the started processes inherit it"
    assert describe_rasa(settings) == f"2 processes, coordinated through {runner.LOCAL_REDIS_URL}"


def test_a_run_without_redis_keeps_one_rasa_process_and_says_why(plain_env, monkeypatch) -> None:
    monkeypatch.setattr(runner, "LOCAL_REDIS_URL", "redis://127.0.0.1:1/0")
    settings = with_local_redis(load_settings())
    assert (settings.redis_url, settings.rasa_workers) == (None, 1)
    assert "no Redis at" in describe_rasa(settings)


def test_a_run_told_its_workers_probes_nothing(plain_env, monkeypatch) -> None:
    monkeypatch.setenv("CRM_RASA_WORKERS", "1")
    settings = with_local_redis(load_settings())
    assert (settings.redis_url, settings.rasa_workers) == (None, 1)
