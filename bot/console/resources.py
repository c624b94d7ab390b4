"""The console's resources, one cleanup context each: made at startup, released at cleanup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from bot.console.auth import PasswordPool, WsTickets
from bot.console.context import (
    HTTP,
    JOB_LAUNCHER,
    JOB_SCHEDULE,
    LIVE,
    LOGIN_THROTTLE,
    PASSWORDS,
    RASA,
    SETTINGS,
    STORE,
    TICKET_SEARCH,
    WS_TICKETS,
)
from bot.console.live import LiveFeed
from bot.console.rasa_client import RasaClient
from bot.console.rollup import ROLLUP, Rollup
from bot.console.throttle import LoginThrottle
from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.crm.ticket_search import TicketSearch
from bot.jobs.runner import JobLauncher
from bot.jobs.schedule import JobSchedule

logger = logging.getLogger(__name__)
CleanupContext = Callable[[web.Application], AsyncIterator[None]]
JOBS_GRACE_SECONDS = 10.0
"""How long the console waits at shutdown for job runs in progress (bot.runner gives it 15 s)."""


def add_resources(app: web.Application, store: CRMStore | None) -> None:
    """Register the resources; `store`, when given, is used and left open (tests pass one)."""
    app.cleanup_ctx.extend(
        [_crm_store(store), staff_access, ticket_search, rasa_client, live_feed, batch_jobs]
    )
    app.on_shutdown.extend([close_live_feed, finish_rollup])
    app[ROLLUP] = Rollup()


def _crm_store(given: CRMStore | None) -> CleanupContext:
    async def crm_store(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[STORE] = given
            yield
            return
        store = CRMStore(create_crm_engine(app[SETTINGS].database_url))
        app[STORE] = store
        yield
        store.dispose()

    return crm_store


async def staff_access(app: web.Application) -> AsyncIterator[None]:
    """Sign-in state: the login throttle, websocket tickets and the password-hashing threads."""
    app[LOGIN_THROTTLE] = LoginThrottle()
    app[WS_TICKETS] = WsTickets()
    passwords = PasswordPool()
    app[PASSWORDS] = passwords
    yield
    passwords.shutdown()


async def ticket_search(app: web.Application) -> AsyncIterator[None]:
    """The console writes the similar-ticket index: it adds each handoff it resolves."""
    directory = app[SETTINGS].similar_index_dir
    app[TICKET_SEARCH] = TicketSearch(app[STORE].tickets, directory, writer=True)
    yield


async def rasa_client(app: web.Application) -> AsyncIterator[None]:
    """One HTTP session for the health probes and the calls to Rasa."""
    async with aiohttp.ClientSession() as http:
        app[HTTP] = http
        app[RASA] = RasaClient(http, app[SETTINGS])
        yield


async def live_feed(app: web.Application) -> AsyncIterator[None]:
    feed = LiveFeed(app[STORE])
    app[LIVE] = feed
    yield
    await feed.close()


async def batch_jobs(app: web.Application) -> AsyncIterator[None]:
    """Jobs started from the API or the schedule run in threads of the console. At cleanup the
    schedule stops and runs in progress get a grace period; one still going after it is
    reaped as abandoned by the next start of its job, once its heartbeat is stale."""
    launcher = JobLauncher(app[STORE], app[SETTINGS])
    schedule = JobSchedule(launcher, app[SETTINGS].job_schedule)
    app[JOB_LAUNCHER] = launcher
    app[JOB_SCHEDULE] = schedule
    schedule.start()
    yield
    await asyncio.to_thread(schedule.shutdown)
    unfinished = await asyncio.to_thread(launcher.wait, JOBS_GRACE_SECONDS)
    if unfinished:
        logger.warning("the console stops with job runs %s still in progress", unfinished)


async def finish_rollup(app: web.Application) -> None:
    """A roll-up in progress ends before the store it writes closes."""
    await app[ROLLUP].finish(JOBS_GRACE_SECONDS)


async def close_live_feed(app: web.Application) -> None:
    """Close the agents' sockets on shutdown, before the server waits for open handlers."""
    await app[LIVE].close()
