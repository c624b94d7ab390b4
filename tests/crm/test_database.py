"""The SQLite CRM file is its owner's alone, from its first byte, with the files SQLite adds."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from bot.crm.database import create_crm_engine, migrate


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_private(tmp_path) -> None:
    path = tmp_path / "var" / "crm.sqlite3"
    url = f"sqlite:///{path}"

    engine = create_crm_engine(url)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    migrate(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        wal = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
        assert all(file.exists() for file in wal)
        assert [mode(file) for file in [path, *wal]] == [0o600, 0o600, 0o600]
    engine.dispose()


def test_an_existing_world_readable_database_is_narrowed(tmp_path) -> None:
    path = tmp_path / "crm.sqlite3"
    for file in (path, tmp_path / "crm.sqlite3-wal"):
        file.touch(mode=0o644)
        file.chmod(0o644)

    create_crm_engine(f"sqlite:///{path}").dispose()

    assert mode(path) == 0o600
    assert mode(tmp_path / "crm.sqlite3-wal") == 0o600
