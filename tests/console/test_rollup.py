"""The console's roll-up at shutdown: a roll-up in progress ends before the store closes."""

from __future__ import annotations

import threading
import time

from bot.console import rollup


async def test_shutdown_waits_for_a_running_roll_up(monkeypatch) -> None:
    ended = threading.Event()

    def slow_roll_up(_store) -> None:
        time.sleep(0.5)
        ended.set()

    monkeypatch.setattr(rollup, "roll_up", slow_roll_up)
    monkeypatch.setattr(rollup, "ROLLUP_WAIT_S", 0.01)
    pending = rollup.Rollup()
    await pending.refresh(store=None)  # answers after ROLLUP_WAIT_S, the roll-up goes on
    assert not ended.is_set()
    await pending.finish(timeout=5)
    assert ended.is_set()


async def test_shutdown_does_not_wait_past_its_bound(monkeypatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(rollup, "roll_up", lambda _store: release.wait(5))
    monkeypatch.setattr(rollup, "ROLLUP_WAIT_S", 0.01)
    stuck = rollup.Rollup()
    await stuck.refresh(store=None)
    started = time.monotonic()
    await stuck.finish(timeout=0.2)
    assert time.monotonic() - started < 2
    release.set()
    await stuck.finish(timeout=5)
