"""Real stacks whose processes the fault and scale-out tests stop, kill and start one by one.

Every process runs in a session of its own, so it is stopped whole (Rasa's Sanic workers too);
every wait is bounded, and `running_stack` stops everything it started, also when a test fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.endpoints import write_endpoints
from bot.runner import service_commands
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.setup import prepare_store
from bot.training import ensure_model
from tests.e2e.conftest import Reply, free_port, http

ADMIN_PASSWORD = "faults-admin-password"
RASA_START_S = 300
"""A Rasa server loads its model in 1-2 minutes on a busy 2-core machine."""
SERVICE_START_S = 120
STOP_GRACE_S = 15
TEARDOWN_GRACE_S = 5
"""After the tests a stack gets this long to stop on SIGTERM, then is killed: nothing is
checked any more, and a server waiting out its open connections would only cost time."""
READY_POLL_S = 0.25
RATE_LIMIT_RETRIES = 10
POSTGRES_ENV = "CRM_TEST_POSTGRES_URL"
T = TypeVar("T")
TERMINATE = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = :name AND pid <> pg_backend_pid()"
)


def eventually(check: Callable[[], T], timeout: float, interval: float = 0.5) -> T:
    """`check()` once it returns without an AssertionError, or its last failure at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(interval)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Node:
    """One Rasa server with its own action server (the scale-out runs two)."""

    settings: Settings
    endpoints: Path


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    model: Path
    nodes: list[Node]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Path | None = None
    staff_token: str = ""

    def command(self, name: str) -> tuple[list[str], dict[str, str]]:
        """`rasa`, `actions` (first node), `rasa2`, `actions2` (second node), `console`,
        `drain`: the product's own commands with each node's ports."""
        index = int(name[-1]) - 1 if name[-1].isdigit() else 0
        role = name.rstrip("0123456789")
        node = self.nodes[index]
        env = {
            **self.env,
            "RASA_PORT": str(node.settings.rasa_port),
            "ACTION_PORT": str(node.settings.action_port),
        }
        return service_commands(self.model, node.endpoints, drain=True)[role], env

    def start(self, name: str) -> None:
        assert self.processes.get(name) is None or self.processes[name].poll() is not None
        command, env = self.command(name)
        assert self.logs is not None
        log = (self.logs / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the process's whole group and wait (bounded) until it is gone."""
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_GRACE_S)

    def stop_all(self, grace_s: float = TEARDOWN_GRACE_S) -> None:
        """SIGTERM to every group at once, then SIGKILL to whatever is left at the deadline."""
        running = [process for process in self.processes.values() if process.poll() is None]
        for process in running:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_GRACE_S)

    def wait_until(self, ready: Callable[[], bool], names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name in names:
                code = self.processes[name].poll()
                assert code is None, f"{name} exited with {code} while starting: {self.tail(name)}"
            assert time.monotonic() < deadline, f"{names} not ready in {timeout:.0f} s"
            time.sleep(READY_POLL_S)

    def wait_rasa(self, index: int = 0, timeout: float = RASA_START_S) -> None:
        name = "rasa" if index == 0 else f"rasa{index + 1}"
        url = f"{self.nodes[index].settings.rasa_url}/"
        self.wait_until(lambda: answers(url), [name], timeout)

    def wait_actions(self, index: int = 0, timeout: float = SERVICE_START_S) -> None:
        name = "actions" if index == 0 else f"actions{index + 1}"
        url = f"{self.nodes[index].settings.action_url}/health"
        self.wait_until(lambda: answers(url), [name], timeout)

    def wait_console(self, timeout: float = SERVICE_START_S) -> None:
        url = f"{self.settings.console_url}/api/v1/openapi.json"
        self.wait_until(lambda: answers(url), ["console"], timeout)
        login = http(
            "POST",
            f"{self.settings.console_url}/api/v1/auth/login",
            json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode(),
        )
        assert login.status == 200, login.body
        self.staff_token = login.body["token"]

    def wait_ready(self) -> None:
        """Until the console (signed in), every action server and every Rasa server answer
        (all started at once, they load side by side)."""
        self.wait_console()
        for index in range(len(self.nodes)):
            self.wait_actions(index)
            self.wait_rasa(index)

    def log_text(self, name: str) -> str:
        assert self.logs is not None
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self, name: str, lines: int = 30) -> str:
        return "\n".join(self.log_text(name).splitlines()[-lines:])

    def say(self, sender: str, message: str, node: int = 0) -> list[dict[str, Any]]:
        """What the REST channel answers; a 429 is waited out as a polite client would."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        url = f"{self.nodes[node].settings.rasa_url}/webhooks/rest/webhook"
        reply = http("POST", url, body)
        for _ in range(RATE_LIMIT_RETRIES):
            if reply.status != 429:
                break
            time.sleep(1)
            reply = http("POST", url, body)
        assert reply.status == 200, (reply.status, reply.body)
        return reply.body

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        return http(method, f"{self.settings.console_url}{path}", data, self.staff_token)

    def stored(self, conversation_id: str) -> list[tuple[str, str]]:
        """The conversation's messages in the CRM store as (sender, text), in its order."""
        reply = self.api("GET", f"/api/v1/conversations/{conversation_id}")
        assert reply.status == 200, (reply.status, reply.body)
        return [(m["sender"], m["text"]) for m in reply.body["messages"]]


def base_env(var_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CRM_VAR_DIR": str(var_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_SECRET_KEY": "faults-secret-key",
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CRM_JOB_SCHEDULE": "off",
        "CONSOLE_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        **extra,
    }


@contextmanager
def running_stack(var_dir: Path, env: dict[str, str], rasa_servers: int = 1) -> Iterator[Stack]:
    """Prepare the store, write each node's endpoints, start every process and wait for them.

    With `CRM_AMQP_URL` in `env`, one `crm drain` process runs too.
    """
    settings = load_settings(env)
    engine, _ = prepare_store(settings)
    engine.dispose()
    nodes = [Node(settings, write_endpoints(settings, var_dir / "endpoints.yml"))]
    for number in range(2, rasa_servers + 1):
        ports = {"RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port())}
        node_settings = load_settings({**env, **ports})
        path = write_endpoints(node_settings, var_dir / f"endpoints-{number}.yml")
        nodes.append(Node(node_settings, path))
    logs = var_dir / "logs"
    logs.mkdir(exist_ok=True)
    stack = Stack(env, settings, ensure_model(), nodes, logs=logs)
    names = ["console"]
    for number in range(1, rasa_servers + 1):
        suffix = "" if number == 1 else str(number)
        names += [f"actions{suffix}", f"rasa{suffix}"]
    if env.get("CRM_AMQP_URL"):
        names.append("drain")
    try:
        for name in names:
            stack.start(name)
        stack.wait_ready()
        yield stack
    finally:
        stack.stop_all()


@contextmanager
def postgres_databases(*roles: str) -> Iterator[dict[str, str]]:
    """Databases of their own on the test PostgreSQL, by role (`crm`, `tracker`), dropped after.

    Skips when CRM_TEST_POSTGRES_URL is not set, as the other PostgreSQL tests do.
    """
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; the PostgreSQL variant runs in CI")
    suffix = uuid.uuid4().hex[:10]
    names = {role: f"faults_{role}_{suffix}" for role in roles}
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    try:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        url = make_url(base)
        yield {
            role: url.set(database=name).render_as_string(hide_password=False)
            for role, name in names.items()
        }
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                connection.execute(TERMINATE, {"name": name})
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def refuse_connections(database_url: str, refuse: bool) -> None:
    """The database takes no new connections and loses its open ones (or takes them again)."""
    name = make_url(database_url).database
    admin = create_engine(os.environ[POSTGRES_ENV], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            allow = "false" if refuse else "true"
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allow}'))
            if refuse:
                connection.execute(TERMINATE, {"name": name})
    finally:
        admin.dispose()
