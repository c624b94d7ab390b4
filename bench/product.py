"""What the reliability benches share: the product started from a source tree, a customer
talking over the REST channel, and the CRM store's copy checked against what was said.

A tree (the working tree, or a `git worktree` of an older commit) is started with its own
code: the launcher below runs in the tree's folder, so `import bot` finds that tree's
package, migrates its store with its own migrations and starts its own `bot.runner`
services, in a var dir and on ports of its own. The model is passed in, so a tree whose
training data is the same as the working tree's needs no training of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ADMIN_PASSWORD = "bench-admin-password"
START_TIMEOUT_S = 300
STOP_TIMEOUT_S = 30
HTTP_TIMEOUT_S = 60
RATE_LIMIT_RETRIES = 20
LAUNCHER = """
import signal, sys, time
from pathlib import Path
from bot.endpoints import write_endpoints
from bot.runner import start_services, stop_services, wait_healthy
from bot.settings import load_settings
from bot.setup import prepare_store

def stop(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, stop)
settings = load_settings()
engine, _ = prepare_store(settings)
engine.dispose()
endpoints = write_endpoints(settings, settings.var_dir / "endpoints.yml")
processes = start_services(Path(sys.argv[1]), endpoints)
try:
    wait_healthy(settings, processes, float(sys.argv[2]))
    print("BENCH-PIDS", *(f"{n}={p.pid}" for n, p in processes.items()), flush=True)
    print("BENCH-READY", flush=True)
    while all(p.poll() is None for p in processes.values()):
        time.sleep(1)
    print("BENCH-EXITED", {n: p.returncode for n, p in processes.items()}, flush=True)
except KeyboardInterrupt:
    pass
finally:
    stop_services(processes)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def http(method: str, url: str, body: Any = None, token: str | None = None) -> Reply:
    """One JSON request; HTTP errors are replies, connection errors raise OSError."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return Reply(response.status, json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = raw.decode(errors="replace")
        return Reply(error.code, payload, dict(error.headers))


@dataclass
class Product:
    """A running product (or one started elsewhere: then `log` is None)."""

    name: str
    rasa_url: str
    console_url: str
    database_url: str
    admin_password: str | None = ADMIN_PASSWORD
    log: Path | None = None
    _token: str | None = None

    def staff_token(self) -> str | None:
        if self._token is None and self.admin_password:
            login = http(
                "POST",
                f"{self.console_url}/api/v1/auth/login",
                {"username": "admin", "password": self.admin_password},
            )
            self._token = login.body["token"] if login.status == 200 else None
        return self._token

    def customer_token(self, customer_id: int) -> str | None:
        """A widget token for the customer, or None (then the customer stays anonymous)."""
        token = self.staff_token()
        if token is None:
            return None
        reply = http(
            "POST", f"{self.console_url}/api/v1/customers/{customer_id}/widget-token", {}, token
        )
        return reply.body["token"] if reply.status == 200 else None

    def pid(self, service: str) -> int | None:
        """The process id of one of the services (`rasa`, `actions`, `console`) we started."""
        if self.log is None:
            return None
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("BENCH-PIDS "):
                pids = dict(item.split("=") for item in line.split()[1:])
                return int(pids[service]) if service in pids else None
        return None

    def health(self) -> Reply:
        return http("GET", f"{self.console_url}/healthz")

    def log_problems(self) -> dict[str, int]:
        """Tracebacks and ERROR lines the processes logged (all of them log to one file)."""
        if self.log is None or not self.log.exists():
            return {}
        lines = self.log.read_text(errors="replace").splitlines()
        return {
            "tracebacks": sum("Traceback (most recent call last)" in line for line in lines),
            "error_lines": sum(" ERROR " in line or "[ERROR]" in line for line in lines),
        }


@contextmanager
def started(
    name: str, tree: Path, model: Path, var_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Product]:
    """The tree's product on free ports with a SQLite store in `var_dir`, until the block ends."""
    var_dir.mkdir(parents=True, exist_ok=True)
    ports = {key: str(free_port()) for key in ("RASA_PORT", "ACTION_PORT", "CONSOLE_PORT")}
    env = {
        **os.environ,
        **ports,
        "CRM_VAR_DIR": str(var_dir),
        "CRM_DATABASE_URL": f"sqlite:///{var_dir / 'crm.sqlite3'}",
        "CRM_SECRET_KEY": f"bench-secret-{name}",
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **(extra_env or {}),
    }
    log = var_dir / "product.log"
    with open(log, "w") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(model), str(START_TIMEOUT_S)],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S + 120
        while "BENCH-READY" not in log.read_text(errors="replace"):
            if launcher.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {log}")
            time.sleep(1)
        yield Product(
            name,
            f"http://127.0.0.1:{ports['RASA_PORT']}",
            f"http://127.0.0.1:{ports['CONSOLE_PORT']}",
            env["CRM_DATABASE_URL"],
            log=log,
        )
    finally:
        stop_group(launcher)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and its children: TERM, then KILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def outbox_of(reply: Reply) -> dict[str, Any] | None:
    """The outbox details of a /healthz answer (None from a product without an outbox)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    outbox = body.get("outbox")
    return outbox if isinstance(outbox, dict) else None


def wait_drained(product: Product, timeout: float) -> float | None:
    """Seconds until /healthz reported an empty outbox (None: no outbox, or not in time)."""
    started_at = time.monotonic()
    while time.monotonic() - started_at < timeout:
        outbox = outbox_of(product.health())
        if outbox is None:
            return None
        if not outbox.get("backlog"):
            return time.monotonic() - started_at
        time.sleep(0.5)
    return None


@dataclass
class Turn:
    """One message sent and what came back; `replies` is None when the turn failed."""

    conversation: str
    text: str
    status: int
    seconds: float
    replies: list[dict[str, Any]] | None
    rate_limited: int = 0


def say(product: Product, conversation: str, message: str, token: str | None) -> Turn:
    """Send one customer message; waits out 429s as a well-behaved client would."""
    payload: dict[str, Any] = {"sender": conversation, "message": message}
    if token:
        payload["metadata"] = {"customer_token": token}
    limited = 0
    while True:
        started_at = time.perf_counter()
        try:
            reply = http("POST", f"{product.rasa_url}/webhooks/rest/webhook", payload)
        except OSError:
            return Turn(conversation, message, 0, time.perf_counter() - started_at, None, limited)
        seconds = time.perf_counter() - started_at
        if reply.status == 429 and limited < RATE_LIMIT_RETRIES:
            limited += 1
            time.sleep(float(reply.headers.get("Retry-After", "1")))
            continue
        replies = reply.body if reply.status == 200 and isinstance(reply.body, list) else None
        return Turn(conversation, message, reply.status, seconds, replies, limited)


def expected_messages(turns: Sequence[Turn]) -> list[tuple[str, str | None]]:
    """What the CRM must hold for a conversation: each answered turn's message, then replies."""
    expected: list[tuple[str, str | None]] = []
    for turn in turns:
        if turn.replies is None:
            continue
        expected.append(("customer", turn.text))
        expected.extend(("bot", reply.get("text")) for reply in turn.replies)
    return expected


def stored_messages(database_url: str, prefix: str) -> dict[str, list[tuple[str, str | None]]]:
    """The CRM store's messages of the conversations whose id starts with `prefix`, in order."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT conversation_id, sender, text FROM messages"
                    " WHERE conversation_id LIKE :prefix ORDER BY conversation_id, seq, id"
                ),
                {"prefix": f"{prefix}%"},
            ).all()
    finally:
        engine.dispose()
    stored: dict[str, list[tuple[str, str | None]]] = {}
    for conversation, sender, body in rows:
        stored.setdefault(conversation, []).append((sender, body))
    return stored


def compare(
    expected: dict[str, list[tuple[str, str | None]]],
    stored: dict[str, list[tuple[str, str | None]]],
) -> dict[str, int]:
    """Lost, duplicated and unexpected messages, and conversations stored out of order."""
    figures = Counter(expected=0, stored=0, lost=0, duplicated=0, unexpected=0, out_of_order=0)
    for conversation in set(expected) | set(stored):
        want, have = expected.get(conversation, []), stored.get(conversation, [])
        figures["expected"] += len(want)
        figures["stored"] += len(have)
        want_count, have_count = Counter(want), Counter(have)
        figures["lost"] += sum((want_count - have_count).values())
        for key, count in (have_count - want_count).items():
            figures["duplicated" if key in want_count else "unexpected"] += count
        if want_count == have_count and want != have:
            figures["out_of_order"] += 1
    return dict(figures)
