"""Engine creation and migration; SQLite gets WAL and a busy timeout for multi-process use."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps next to a database; it creates them with the database file's mode."""


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 (its folder 0700) before SQLite would make it 0644.

    The file holds customer data, and SQLite gives its -wal and -shm files the same mode.
    A file from before this rule, and still ours, is narrowed with its companions.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    uid = os.getuid()
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists() and file.stat().st_uid == uid:
            file.chmod(0o600)


def create_crm_engine(url: str) -> Engine:
    """Create an engine; for SQLite the private file is created and every connection configured.

    A file database keeps a pool of connections (SQLAlchemy 1.4 opens and closes one for
    every session of a file SQLite, running the PRAGMAs each time).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        pooling: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
            pooling = {"poolclass": QueuePool}
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False}, **pooling
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration; safe to call on every start."""
    command.upgrade(alembic_config(url), "head")
