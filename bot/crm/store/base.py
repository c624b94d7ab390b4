"""What every part of the CRM store shares: its errors, UTC times, cursors and sessions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

Row = TypeVar("Row")


MAX_DB_INT = 2**31 - 1
"""The largest id an Integer column holds on either database (PostgreSQL's int4); a
cursor or path naming a bigger one names nothing."""


class NotFound(LookupError):
    """The requested record does not exist."""


class Conflict(RuntimeError):
    """The record is not in a state that allows this change."""


class InvalidCursor(ValueError):
    """A pagination cursor that this store did not issue."""


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite drops time zones; every stored time is UTC, so put it back."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def encode_cursor(at: datetime, key: str) -> str:
    raw = f"{as_utc(at).isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = raw.split("|", 1)
        return datetime.fromisoformat(at), key
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from error


def split_page(
    rows: Sequence[Row], limit: int, position: Callable[[Row], tuple[datetime, object]]
) -> tuple[Sequence[Row], str | None]:
    """The first `limit` of `limit + 1` fetched rows, and a cursor after them (None if no more)."""
    if len(rows) <= limit:
        return rows, None
    at, key = position(rows[limit - 1])
    return rows[:limit], encode_cursor(at, str(key))


def batches(items: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """`items` in lists of `size` (the last may be shorter): bounded statements and memory
    for any number of rows, and `IN (...)` lists within the database's parameter limit."""
    batch: list[Row] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class StoreBase:
    """One domain of the store over a shared engine; callers get plain values, never sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def _insert(self, model: type) -> Insert:
        """An INSERT that can skip duplicates (`on_conflict_do_nothing`) on either database."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(model)
        if dialect == "sqlite":
            return sqlite.insert(model)
        raise NotImplementedError(f"the CRM store supports SQLite and PostgreSQL, not {dialect}")

    def _db_time(self, value: datetime) -> datetime:
        """A time as this database compares it: UTC, and naive on SQLite, which stores no zone."""
        value = as_utc(value).astimezone(timezone.utc)
        return value.replace(tzinfo=None) if self.engine.dialect.name == "sqlite" else value

    def _after_cursor(
        self,
        cursor: str,
        at_column: Any,
        key_column: Any,
        key_type: Callable[[str], object] = str,
    ) -> ColumnElement:
        """Rows that come after `cursor` in newest-first (time, key) order."""
        at, raw_key = decode_cursor(cursor)
        try:
            key = key_type(raw_key)
        except ValueError as error:
            raise InvalidCursor(f"invalid cursor {cursor!r}") from error
        if isinstance(key, int) and not -MAX_DB_INT - 1 <= key <= MAX_DB_INT:
            raise InvalidCursor(f"invalid cursor {cursor!r}")
        at = self._db_time(at)
        return or_(at_column < at, and_(at_column == at, key_column < key))
