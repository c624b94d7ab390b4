"""Keeps the supervisors' rollups fresh while they look: before the dashboard, the review
queue or the NLU inbox answers, what changed since the last roll-up is rolled up
(`bot.jobs.analytics.roll_up`: facts, then quality flags and inbox), at most every
`REFRESH_INTERVAL_S` per console.

The roll-up serves the answer, it is not the answer: a request waits for it at most
`ROLLUP_WAIT_S`, then answers from the facts as they are while it finishes in the
background, and a failed roll-up is logged, never the request's error. The `analytics` job
rolls up on its schedule too, so a missed or slow roll-up only delays fresh numbers."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from bot.console.context import STORE
from bot.crm.store import CRMStore
from bot.jobs.analytics import roll_up

logger = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 10.0
"""Fresh enough for a person reading a dashboard; at most one roll-up per interval however
many requests arrive."""
ROLLUP_WAIT_S = 2.0
"""How long a request waits for a roll-up in progress: an incremental one takes well under
this; a long one (a first build, a locked database) must not hold the dashboard."""


class Rollup:
    """This console's roll-up: at most one runs at a time (a task every request waiting
    shares), started again only once `REFRESH_INTERVAL_S` passed since the last one ended,
    failed or not (a failing database is not retried on every request)."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.refreshed_at: float | None = None

    async def refresh(self, store: CRMStore) -> None:
        """Start a roll-up if one is due, and wait for the running one at most
        `ROLLUP_WAIT_S`; never raises for the roll-up's sake."""
        if self.task is None or self.task.done():
            if self.refreshed_at is not None and (
                time.monotonic() - self.refreshed_at < REFRESH_INTERVAL_S
            ):
                return
            self.task = asyncio.create_task(self._roll_up(store), name="analytics-rollup")
        try:
            # shield: a request that stops waiting (timeout, client gone) leaves it running
            await asyncio.wait_for(asyncio.shield(self.task), ROLLUP_WAIT_S)
        except asyncio.TimeoutError:
            logger.info("analytics roll-up still running after %.1f s: answering", ROLLUP_WAIT_S)

    async def finish(self, timeout: float) -> None:
        """At shutdown: let a running roll-up end before the store closes under it (a thread
        cannot be cancelled), for at most `timeout` seconds."""
        if self.task is not None and not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), timeout)
            except asyncio.TimeoutError:
                logger.warning("analytics roll-up still running at shutdown after %.0f s", timeout)

    async def _roll_up(self, store: CRMStore) -> None:
        try:
            await asyncio.to_thread(roll_up, store)
        except Exception:
            logger.exception("analytics roll-up failed: answering from the facts as they are")
        finally:
            self.refreshed_at = time.monotonic()


ROLLUP = web.AppKey("analytics_rollup", Rollup)


async def rolled_up(request: web.Request) -> None:
    """Bring the facts, flags and inbox up to date before answering from them, as far as
    `ROLLUP_WAIT_S` allows."""
    await request.app[ROLLUP].refresh(request.app[STORE])
