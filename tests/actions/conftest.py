"""The action server's CRM store, shared by the action tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import Session

from actions import resources
from bot.crm.models import Account, Customer
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore

SECRET = "actions-test-secret"


@pytest.fixture
def seeded_store(store: CRMStore, database_url: str, tmp_path, monkeypatch) -> Iterator[CRMStore]:
    """The demo CRM as of today (card deliveries are relative to now), and the action
    server's own store pointed at the same database."""
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_SECRET_KEY", SECRET)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    resources.settings.cache_clear()
    resources.crm_store.cache_clear()
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    seed_demo(store.engine, customers=5, today=today)
    yield store
    resources.crm_store().dispose()
    resources.settings.cache_clear()
    resources.crm_store.cache_clear()


@pytest.fixture
def newcomer(seeded_store: CRMStore) -> int:
    """A customer who just joined: an empty account, no card, no identity check."""
    with Session(seeded_store.engine) as session, session.begin():
        customer = Customer(name="Nia Newcomer", created_at=datetime.now(timezone.utc))
        session.add(customer)
        session.flush()
        session.add(Account(customer_id=customer.id, iban="GB00NWBK00000000009999"))
        session.flush()
        return customer.id
