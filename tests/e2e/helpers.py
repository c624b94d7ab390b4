"""What the browser tests that run a console of their own share: a fresh environment, the
console process, and signing in to a staff page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.crm.enums import Sender
from bot.crm.store import CRMStore, MessageRecord
from bot.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import free_port
from tests.e2e.test_browser import wait_for

T = TypeVar("T")

CONSOLE_START_S = 60
SIGN_IN_S = 15
CRM_SETTLE_S = 10
"""The CRM store gets a turn's messages from Rasa's outbox, shortly after the reply."""


def eventually(check: Callable[[], T], timeout: float = CRM_SETTLE_S, interval: float = 0.1) -> T:
    """`check()`'s result once it stops failing an assertion, retried for up to `timeout` s.

    The CRM store is written asynchronously (the outbox), so what a turn stored is read
    with a bounded wait; the last assertion error is raised when time runs out.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(interval)


def fresh_env(var_dir: Path) -> dict[str, str]:
    """A store of its own in `var_dir`, and free ports for the console, Rasa and the actions."""
    return {
        "CRM_VAR_DIR": str(var_dir),
        "CRM_DATABASE_URL": f"sqlite:///{var_dir / 'crm.sqlite3'}",
        "CRM_SECRET_KEY": "e2e-secret-key",
        "CRM_ADMIN_PASSWORD": "e2e-admin-password",
        "CONSOLE_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
    }


def record_turn(
    store: CRMStore,
    conversation: str,
    index: int,
    at: datetime,
    sender: Sender,
    text: str,
    **fields: Any,
) -> None:
    """The conversation's `index`th message, said at `at`, as the bot records it (the event's
    key and order follow from the index and the time); `fields`: channel, intent and so on."""
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation,
            event_key=f"{conversation}-{index}",
            seq=at.timestamp(),
            sender=sender,
            text=text,
            created_at=at,
            **fields,
        )
    )


def console_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_console(settings: Settings, env: dict[str, str]) -> Iterator[str]:
    """The console alone (`python -m bot.console`) with `env`, until it answers; its URL."""
    console = subprocess.Popen(
        [sys.executable, "-m", "bot.console"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        url = settings.console_url
        deadline = time.monotonic() + CONSOLE_START_S
        while not console_ready(url):
            assert console.poll() is None, "the console exited"
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.2)
        yield url
    finally:
        console.terminate()
        console.wait(timeout=30)


def fill_sign_in(driver: WebDriver, username: str, password: str, failure: str = "") -> None:
    """Signs in with the page's form once it shows (after loading, or after logging out)."""
    field = wait_for(driver, lambda d: d.find_element(By.ID, "username"), SIGN_IN_S, failure)
    wait_for(driver, lambda _: field.is_displayed(), SIGN_IN_S, failure or "no sign-in form")
    field.clear()
    field.send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)


def sign_in(driver: WebDriver, page: str, username: str, password: str) -> None:
    """Opens a staff page (/agent, /supervisor) and signs in on it."""
    driver.get(page)
    fill_sign_in(driver, username, password)
