"""A console app over a real, seeded CRM store, with a supervisor, an agent and an admin."""

from __future__ import annotations

from dataclasses import replace

import pytest
from argon2 import PasswordHasher

from bot.console.app import init_app
from bot.crm.enums import Sender, StaffRole
from bot.crm.store import CRMStore
from bot.crm.store import staff as staff_store
from bot.settings import load_settings
from tests.console.helpers import ADMIN_PASSWORD, AGENT_PASSWORD, PASSWORD
from tests.crm.test_conversations import record


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost: these tests log in often and are not about the hash's cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(staff_store, "_password_hasher", cheap)


@pytest.fixture
def settings(tmp_path):
    base = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "test-secret"})
    # Nothing listens on these ports: health must report Rasa and actions as down.
    return replace(base, rasa_port=1, action_port=2)


@pytest.fixture
def console_store(seeded_store: CRMStore) -> CRMStore:
    """The seeded store with three staff accounts and one conversation."""
    store = seeded_store
    store.staff.create("boss", PASSWORD, StaffRole.SUPERVISOR)
    store.staff.create("agent", AGENT_PASSWORD, StaffRole.AGENT)
    store.staff.create("root", ADMIN_PASSWORD, StaffRole.ADMIN)
    for index, (sender, intent) in enumerate([(Sender.CUSTOMER, "greet"), (Sender.BOT, None)]):
        store.conversations.record_message(
            record("conv-1", f"k{index}", index, sender, intent=intent, customer_id=1)
        )
    return store


@pytest.fixture
async def client(aiohttp_client, settings, console_store):
    return await aiohttp_client(await init_app(settings, console_store))
