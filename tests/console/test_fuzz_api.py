"""Schemathesis against the console's OpenAPI document: no operation answers with a server error.

Every operation gets valid and invalid requests generated from the document and sent, as a
signed-in supervisor, to a real console over HTTP. Each operation starts from the same
seeded database and a fresh console (fresh login throttle), so one operation's fuzzing
(a logout, a deactivated account) cannot hide another's errors. Derandomized and bounded.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings

from bot.console.app import init_app
from bot.console.openapi import load_openapi
from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import Sender, StaffRole
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore
from bot.settings import load_settings
from tests.conftest import SEED_DAY
from tests.crm.test_conversations import record

USERNAME = "boss"
PASSWORD = "supervisor-password"
schema = schemathesis.openapi.from_dict(load_openapi())


@dataclass(frozen=True)
class Console:
    url: str
    session: requests.Session


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop in a thread: the console serves there while the test calls it over HTTP."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture(scope="module")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file with staff and a conversation, copied for each operation."""
    path = tmp_path_factory.mktemp("fuzz") / "crm.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url)
    store = CRMStore(create_crm_engine(url))
    seed_demo(store.engine, customers=20, today=SEED_DAY)
    store.staff.create(USERNAME, PASSWORD, StaffRole.SUPERVISOR)
    store.staff.create("agent", "agent-password", StaffRole.AGENT)
    for index, sender in enumerate([Sender.CUSTOMER, Sender.BOT]):
        store.conversations.record_message(record("conv-1", f"k{index}", index, sender))
    store.dispose()
    return path


@pytest.fixture
def console(loop, template_database: Path, tmp_path: Path) -> Iterator[Console]:
    """A fresh console on a free port over a copy of the template, signed in as the supervisor."""
    database = tmp_path / "crm.sqlite3"
    shutil.copy(template_database, database)
    store = CRMStore(create_crm_engine(f"sqlite:///{database}"))
    base = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "fuzz-secret"})
    # Nothing listens on these ports: the Rasa server and the action server are down.
    console_settings = replace(base, rasa_port=1, action_port=2)

    async def start() -> web.AppRunner:
        runner = web.AppRunner(await init_app(console_settings, store))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    session = requests.Session()
    reply = session.post(
        f"{url}/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    session.headers["Authorization"] = f"Bearer {reply.json()['token']}"
    yield Console(url, session)
    session.close()
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
    store.dispose()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_an_undeclared_server_error(case, console: Console) -> None:
    response = case.call(base_url=console.url, session=console.session, timeout=30)
    declared = set(case.operation.definition.raw["responses"])
    assert response.status_code < 500 or str(response.status_code) in declared, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.text[:500]}\n{case.as_curl_command()}"
    )
