"""Shared fixtures: a migrated CRM store on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bot.crm.database import create_crm_engine, migrate
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore

POSTGRES_ENV = "CRM_TEST_POSTGRES_URL"
SEED_DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set; the PostgreSQL variant runs in CI")
    schema = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    yield f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[CRMStore]:
    migrate(database_url)
    crm = CRMStore(create_crm_engine(database_url))
    yield crm
    crm.dispose()


@pytest.fixture
def seeded_store(store: CRMStore) -> CRMStore:
    seed_demo(store.engine, customers=20, today=SEED_DAY)
    return store
