"""`crm run`: prepares everything, starts Rasa, the action server and the console (and
`crm drain` when RabbitMQ carries the CRM's writes), stops them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

from bot.endpoints import write_endpoints
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.setup import ADMIN_USERNAME, prepare_store
from bot.training import ensure_model, labels_dir

STARTUP_TIMEOUT_S = 600
NOT_WAITED_FOR = frozenset({"outbox"})
STOP_GRACE_S = 15
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_PROBE_TIMEOUT_S = 1.0


def redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_PROBE_TIMEOUT_S,
            socket_timeout=REDIS_PROBE_TIMEOUT_S,
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def with_local_redis(settings: Settings) -> Settings:
    """`crm run` on a machine with Redis uses every core: when neither CRM_REDIS_URL nor
    CRM_RASA_WORKERS says otherwise and a Redis answers on this machine, the processes it
    starts coordinate through it (set in the environment they inherit)."""
    if settings.redis_url or "CRM_RASA_WORKERS" in os.environ:
        return settings
    if not redis_answers(LOCAL_REDIS_URL):
        return settings
    os.environ["CRM_REDIS_URL"] = LOCAL_REDIS_URL
    return load_settings()


def describe_rasa(settings: Settings) -> str:
    if settings.rasa_workers > 1:
        return f"{settings.rasa_workers} processes, coordinated through {settings.redis_url}"
    if settings.redis_url:
        return "one process (CRM_RASA_WORKERS=1)"
    return f"one process: no Redis at {LOCAL_REDIS_URL} (set CRM_REDIS_URL to use every core)"


def service_commands(model: Path, endpoints: Path, drain: bool = False) -> dict[str, list[str]]:
    """Our own entries: they read ports, keys and origins from the settings, so no secret is
    ever on a command line (anyone on the machine can read those). `drain`: also the process
    that writes RabbitMQ's queue to the CRM store."""
    commands = {
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
    if drain:
        commands["drain"] = [sys.executable, "-m", "bot.cli", "drain"]
    return commands


def start_services(
    model: Path, endpoints: Path, env: dict[str, str] | None = None, drain: bool = False
) -> dict[str, subprocess.Popen]:
    """Start the processes, each in its own process group so they can be stopped whole."""
    env = {**os.environ, **(env or {})}
    return {
        name: subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)
        for name, command in service_commands(model, endpoints, drain).items()
    }


def stop_services(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _started(settings: Settings) -> bool:
    """Whether /healthz says the processes answer. The outbox is left out: a backlog or dead
    entries left by an earlier run are for staff to see on /healthz, not a reason to refuse
    the start (dead entries never go away by themselves)."""
    try:
        with urllib.request.urlopen(f"{settings.console_url}/healthz", timeout=5) as reply:
            body = json.load(reply)
    except urllib.error.HTTPError as error:  # a 503 still lists the components
        try:
            body = json.loads(error.read() or b"null")
        except ValueError:
            return False
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return False
    components = body.get("components") if isinstance(body, dict) else None
    if not isinstance(components, dict) or not components:
        return False
    return all(state == "ok" for name, state in components.items() if name not in NOT_WAITED_FOR)


def wait_healthy(
    settings: Settings, processes: dict[str, subprocess.Popen], timeout: float
) -> None:
    """Poll /healthz until every process answers; fail early if a process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        if _started(settings):
            return
        time.sleep(1)
    raise RuntimeError(f"the services were not healthy within {timeout:.0f} s")


def run(settings: Settings, import_csv: Path | None = None) -> int:
    started = time.monotonic()
    settings = with_local_redis(settings)
    _, new_password = prepare_store(settings)
    endpoints = write_endpoints(settings, settings.var_dir / "endpoints.yml")
    model = ensure_model(import_csv=import_csv, labels=labels_dir(settings.var_dir))
    processes = start_services(model, endpoints, drain=settings.amqp_url is not None)

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        wait_healthy(settings, processes, STARTUP_TIMEOUT_S)
        print(f"\nNorthwind CRM assistant is up ({time.monotonic() - started:.0f} s):")
        print(f"  agent console          {settings.console_url}/agent")
        if settings.demo_site:
            print(f"  demo site              {settings.console_url}/  (visitors are customer 1)")
        else:
            print("  demo site              off; start with CRM_DEMO_SITE=1 to serve it")
        print(f"  health                 {settings.console_url}/healthz")
        print(f"  REST channel           {settings.rasa_url}/webhooks/rest/webhook")
        print(f"  Rasa server            {describe_rasa(settings)}")
        print(f"  action server          {settings.action_url}/health")
        if new_password:
            print(f"  staff login            {ADMIN_USERNAME} / {new_password}  (shown only once)")
        else:
            print(f"  staff login            {ADMIN_USERNAME} (password set at first start)")
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping.", flush=True)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stop_services(processes)
