"""Shared fixtures: a migrated CRM store on SQLite and, when configured, on PostgreSQL.

Migrating and seeding cost seconds, so each backend migrates (and seeds) once per session
into a template, built fresh from the current migrations and seed code, and each test gets
a cheap copy of it: a copied file on SQLite, a database cloned from a template database on
PostgreSQL. What a test gets is decided from its fixture closure: an empty database when it
asks for `database_url` alone, a migrated one under `store`, a seeded one under this
module's `seeded_store`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.crm.database import SQLITE_COMPANIONS, create_crm_engine, migrate
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore

POSTGRES_ENV = "CRM_TEST_POSTGRES_URL"
SEED_DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)

EMPTY, MIGRATED, SEEDED = "empty", "migrated", "seeded"


def _seed(engine: Engine) -> None:
    seed_demo(engine, customers=20, today=SEED_DAY)


def _postgres_url(base_url: str, database: str) -> str:
    return make_url(base_url).set(database=database).render_as_string(hide_password=False)


def _sqlite_companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS]


def _settle_sqlite(path: Path) -> None:
    """Fold the WAL into the file so that the file alone is the whole database."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for companion in _sqlite_companions(path):
        if companion.exists() and companion.stat().st_size:
            raise RuntimeError(f"{companion} is not empty after a checkpoint")
        companion.unlink(missing_ok=True)


def _copy_sqlite(template: Path, target: Path) -> None:
    """Replace `target` (and any companion files) with a copy of the template file."""
    for companion in _sqlite_companions(target):
        companion.unlink(missing_ok=True)
    shutil.copyfile(template, target)
    target.chmod(0o600)


class _Templates:
    """The session's template databases, built on first use and dropped at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.session = uuid.uuid4().hex[:12]
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}
        self._admin: Engine | None = None
        self._base_url: str | None = None

    # SQLite

    def sqlite(self, kind: str) -> Path:
        if kind not in self._sqlite:
            path = self.directory / f"{kind}.sqlite3"
            if kind == MIGRATED:
                migrate(f"sqlite:///{path}")
            else:
                shutil.copyfile(self.sqlite(MIGRATED), path)
                engine = create_crm_engine(f"sqlite:///{path}")
                try:
                    _seed(engine)
                finally:
                    engine.dispose()
            _settle_sqlite(path)
            self._sqlite[kind] = path
        return self._sqlite[kind]

    # PostgreSQL

    def admin(self, base_url: str) -> Engine:
        if self._admin is None:
            self._base_url = base_url
            self._admin = create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
        return self._admin

    def postgres(self, base_url: str, kind: str) -> str:
        """The name of the template database for `kind`; no one is connected to it."""
        if kind not in self._postgres:
            name = f"crm_tmpl_{kind}_{self.session}"
            admin = self.admin(base_url)
            if kind == MIGRATED:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                self._postgres[kind] = name  # dropped at the end even if building fails
                migrate(_postgres_url(base_url, name))
            else:
                source = self.postgres(base_url, MIGRATED)
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
                self._postgres[kind] = name
                engine = create_crm_engine(_postgres_url(base_url, name))
                try:
                    _seed(engine)
                finally:
                    engine.dispose()
            with admin.connect() as connection:
                # A template may have no sessions while it is cloned: refuse them outright.
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
        return self._postgres[kind]

    def create_postgres(self, base_url: str, name: str, kind: str) -> None:
        admin = self.admin(base_url)
        template = "" if kind == EMPTY else f' TEMPLATE "{self.postgres(base_url, kind)}"'
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{template}'))

    def drop_postgres(self, name: str) -> None:
        assert self._admin is not None
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._admin is None:
            return
        for name in self._postgres.values():
            self.drop_postgres(name)
        self._postgres.clear()
        self._admin.dispose()


@pytest.fixture(scope="session")
def crm_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("crm_templates"))
    yield templates
    templates.close()


@dataclass
class _TestDatabase:
    """One test's database, and what is in it."""

    url: str
    backend: str
    kind: str
    templates: _Templates
    path: Path | None = None  # SQLite
    name: str | None = None  # PostgreSQL
    base_url: str | None = None  # PostgreSQL

    def replace(self, kind: str) -> None:
        """Make the database a fresh copy of `kind`'s template; no one may be connected."""
        if self.backend == "sqlite":
            assert self.path is not None
            if kind == EMPTY:
                self.path.unlink(missing_ok=True)
                for companion in _sqlite_companions(self.path):
                    companion.unlink(missing_ok=True)
            else:
                _copy_sqlite(self.templates.sqlite(kind), self.path)
        else:
            assert self.name is not None and self.base_url is not None
            self.templates.drop_postgres(self.name)
            self.templates.create_postgres(self.base_url, self.name, kind)
        self.kind = kind


def _uses_our_seeded_store(request: pytest.FixtureRequest) -> bool:
    """Whether the test's `seeded_store` is this module's (a conftest below may seed its own)."""
    if "seeded_store" not in request.fixturenames:
        return False
    try:
        definitions = request._fixturemanager.getfixturedefs("seeded_store", request.node)
    except Exception:  # pytest internals moved: seed the copy in `seeded_store` instead
        return False
    if not definitions:
        return False
    return getattr(definitions[-1].func, "__module__", None) == __name__


def _initial_kind(request: pytest.FixtureRequest) -> str:
    if _uses_our_seeded_store(request):
        return SEEDED
    if "store" in request.fixturenames:
        return MIGRATED
    return EMPTY


@pytest.fixture(params=["sqlite", "postgresql"])
def crm_database(
    request: pytest.FixtureRequest, tmp_path: Path, crm_templates: _Templates
) -> Iterator[_TestDatabase]:
    """The test's database, already holding what its fixtures will need (see module doc)."""
    kind = _initial_kind(request)
    if request.param == "sqlite":
        path = tmp_path / "crm.sqlite3"
        database = _TestDatabase(f"sqlite:///{path}", "sqlite", EMPTY, crm_templates, path=path)
        if kind != EMPTY:
            database.replace(kind)
        yield database
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set; the PostgreSQL variant runs in CI")
    name = f"crm_t_{uuid.uuid4().hex[:16]}"
    crm_templates.create_postgres(base_url, name, kind)
    url = _postgres_url(base_url, name)
    database = _TestDatabase(url, "postgresql", kind, crm_templates, name=name, base_url=base_url)
    try:
        yield database
    finally:
        crm_templates.drop_postgres(name)


@pytest.fixture
def database_url(crm_database: _TestDatabase) -> str:
    """A fresh database: a SQLite file, or a PostgreSQL database of the test's own.

    Empty when the test asks for it alone; under `store` it is already migrated."""
    return crm_database.url


@pytest.fixture
def store(crm_database: _TestDatabase) -> Iterator[CRMStore]:
    if crm_database.kind == EMPTY:  # asked for dynamically: not foreseen in the closure
        crm_database.replace(MIGRATED)
    crm = CRMStore(create_crm_engine(crm_database.url))
    yield crm
    crm.dispose()


@pytest.fixture
def seeded_store(store: CRMStore, crm_database: _TestDatabase) -> CRMStore:
    if crm_database.kind != SEEDED:  # not foreseen: swap the seeded copy in under the store
        store.engine.dispose()
        crm_database.replace(SEEDED)
    return store
