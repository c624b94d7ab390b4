"""Loading the analytics benchmark's data, and the live writes of its incremental refresh.

SQLite: a fresh migrated file under var/bench/, `executemany` in one transaction with
journaling off and the bulk tables' indexes dropped and rebuilt after. PostgreSQL: a
database of its own (`CREATE DATABASE`, so the test suite's tables in `test` are never
touched), migrated, then `COPY` per table; dropped at the end unless `--keep`.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url
from tqdm import tqdm

from bench.analytics_data import BANKING, PHRASES, SEGMENTS, Dataset
from bot.crm.database import migrate
from bot.crm.enums import Sender
from bot.crm.models import Conversation
from bot.crm.store.conversations import ConversationStore
from bot.crm.store.records import MessageRecord

DATABASE = "crm_bench_analytics"


def create_database(kind: str, sqlite_path: Path, postgres_url: str) -> str:
    """A fresh, migrated, empty database of `kind`; returns its URL."""
    if kind == "sqlite":
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite_path}"
    else:
        _admin(postgres_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        _admin(postgres_url, f'CREATE DATABASE "{DATABASE}"')
        url = make_url(postgres_url).set(database=DATABASE).render_as_string(hide_password=False)
    migrate(url)
    return url


def drop_database(kind: str, url: str) -> None:
    parsed = make_url(url)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    _admin(admin, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def _admin(url: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def load(kind: str, url: str, data: Dataset) -> None:
    if kind == "sqlite":
        write_sqlite(make_url(url).database, data)
    else:
        write_postgres(make_url(url).render_as_string(hide_password=False), data)


def gather_statistics(engine: Engine) -> None:
    """PostgreSQL's `ANALYZE` after the rollup and jobs filled their tables, as autovacuum
    would soon do (a server may run with it off); SQLite's planner is left as the app has it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def new_messages(engine: Engine, data: Dataset, count: int, now: datetime) -> int:
    """`count` messages through `ConversationStore.record_message`, as Rasa's event stream
    delivers them: half continue the latest conversations, half open new ones (ten each)."""
    store = ConversationStore(engine)
    with engine.connect() as connection:
        latest = connection.scalars(
            select(Conversation.id).order_by(Conversation.last_message_at.desc()).limit(count // 20)
        ).all()
    fresh = [f"bench-live-{i:05d}" for i in range(max(1, count // 20))]
    rng = np.random.default_rng(1)
    customers = len(data.tables["customers"])
    written = 0
    for n, conversation in enumerate([*latest, *fresh]):
        customer = int(rng.integers(1, customers + 1))
        for turn in range(10):
            if written == count:
                return written
            sender = Sender.CUSTOMER if turn % 2 == 0 else Sender.BOT
            intent = str(BANKING[int(rng.integers(0, len(BANKING)))])
            store.record_message(
                MessageRecord(
                    conversation_id=conversation,
                    event_key=f"live-{n}-{turn}",
                    seq=1000.0 + turn,
                    sender=sender,
                    text=f"question about {intent}" if sender == Sender.CUSTOMER else "Sure.",
                    created_at=now + timedelta(milliseconds=turn),
                    channel="socketio",
                    intent=intent if sender == Sender.CUSTOMER else None,
                    confidence=0.9 if sender == Sender.CUSTOMER else None,
                    sentiment=0.1 if sender == Sender.CUSTOMER else None,
                    customer_id=customer,
                )
            )
            written += 1
    return written


def _sqlite_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Columns as SQLAlchemy stores them in SQLite: naive UTC text times, None for missing."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = np.datetime_as_string(values.to_numpy(dtype="datetime64[us]"), unit="us")
            text = np.char.replace(text.astype(str), "T", " ").astype(object)
            text[values.isna().to_numpy()] = None
            columns.append(text.tolist())
        elif pd.api.types.is_bool_dtype(values):
            columns.append(values.astype(int).tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    return columns


def write_sqlite(path: str, data: Dataset, chunk: int = 200_000) -> None:
    """Bulk-load a freshly migrated SQLite file in one transaction, indexes rebuilt at the end."""
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;")
    tables = tuple(data.tables)
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name "
        f"IN ({','.join('?' * len(tables))})",
        tables,
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    total = sum(len(frame) for frame in data.tables.values())
    with tqdm(total=total, desc="sqlite load", unit="row", unit_scale=True) as bar:
        for table, frame in data.tables.items():
            sql = (
                f"INSERT INTO {table} ({', '.join(frame.columns)}) "
                f"VALUES ({', '.join('?' * len(frame.columns))})"
            )
            for start in range(0, len(frame), chunk):
                part = frame.iloc[start : start + chunk]
                db.executemany(sql, zip(*_sqlite_columns(part), strict=True))
                bar.update(len(part))
    for _, sql in tqdm(indexes, desc="sqlite indexes", unit="index"):
        db.execute(sql)
    db.commit()
    db.close()


def write_postgres(dsn: str, data: Dataset, chunk: int = 200_000) -> None:
    """Bulk-load a freshly migrated PostgreSQL database with COPY, then set its sequences and
    gather planner statistics (as autovacuum soon would)."""
    import psycopg2

    connection = psycopg2.connect(dsn)
    total = sum(len(frame) for frame in data.tables.values())
    try:
        with (
            connection,
            connection.cursor() as cursor,
            tqdm(total=total, desc="postgres copy", unit="row", unit_scale=True) as bar,
        ):
            cursor.execute("SET TIME ZONE 'UTC'")
            for table, frame in data.tables.items():
                for start in range(0, len(frame), chunk):
                    part = frame.iloc[start : start + chunk]
                    buffer = io.StringIO()
                    part.to_csv(
                        buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f"
                    )
                    buffer.seek(0)
                    cursor.copy_expert(
                        f"COPY {table} ({', '.join(part.columns)}) FROM STDIN WITH (FORMAT csv)",
                        buffer,
                    )
                    bar.update(len(part))
                if "id" in frame.columns and frame["id"].dtype.kind == "i":
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()


def topic_rows(data: Dataset) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What a `topics` run would store for this data: a topic per banking intent plus one for
    the requests the bot could not place, and customer messages per topic, ISO week, segment
    and channel (the `TopicStore.replace` arguments)."""
    names = [*BANKING, "nlu_fallback"]
    messages = data.tables["messages"]
    conversation = messages["conversation_id"].str.slice(6).astype(int).to_numpy()
    frame = pd.DataFrame(
        {
            "topic": pd.Categorical(messages["intent"], categories=names).codes,
            "week": (
                messages["created_at"]
                - pd.to_timedelta(messages["created_at"].dt.weekday, unit="D")
            ).dt.strftime("%Y-%m-%d"),
            "segment_id": data.segment_at_start[conversation],
            "channel": data.tables["conversations"]["channel"].to_numpy()[conversation],
        }
    )
    frame = frame[frame["topic"] >= 0]
    weeks = frame.groupby(["topic", "week", "segment_id", "channel"]).size().reset_index()
    topics = [
        {
            "label": name.replace("_", " ").lower(),
            "keywords": [[word, 1.0] for word in name.lower().split("_")[:3]],
            "examples": list(PHRASES.get(name, (f"question about {name}",))),
            "digest": {
                "complaints": {
                    str(s + 1): f"Customers in {segment} complain about {name}."
                    for s, segment in enumerate(SEGMENTS)
                },
                "requests": {"all": f"Customers ask about {name}."},
            },
        }
        for name in names
    ]
    rows = [
        {"topic": int(t), "week": w, "segment_id": int(s) or None, "channel": c, "messages": int(n)}
        for t, w, s, c, n in weeks.itertuples(index=False, name=None)
    ]
    return topics, rows
