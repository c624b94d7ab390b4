"""The SQLite CRM store is write-locked while eight conversations go on (outbox)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from tests.faults.harness import Stack
from tests.faults.outage import converse_through_outage

pytestmark = pytest.mark.e2e
LOCK_TAKEN_S = 10
OUTAGE_S = 20
"""Longer than SQLite's 10 s busy timeout, which held every turn before the outbox: turns in
the first half of the lock would each have waited it out. The relay's first delivery waits
out that busy timeout and fails (it starts once the first turn in the lock is in the outbox,
a few seconds in, so it fails well before the lock ends); its retry waits until the lock is
released and delivers, in order."""
HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(3600)
"""


@contextmanager
def sqlite_locked(path: str) -> Iterator[None]:
    """Another process holds the CRM file's write lock (as a long batch job or backup would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked", "the lock was not taken"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=LOCK_TAKEN_S)


def test_sqlite_crm_locked_while_conversations_go_on(sqlite_stack: Stack) -> None:
    path = make_url(sqlite_stack.settings.database_url).database
    assert path
    converse_through_outage(
        sqlite_stack, lambda: sqlite_locked(path), outage_s=OUTAGE_S, relay_failed_s=0
    )
