"""`PUT /model` loads the model in every Sanic worker and every Rasa server sharing Redis.

Rasa's handler replaces the agent of the one worker the request reached; the others would go
on answering with the old model, which the retrain job's `/model/parse` may reach. With Redis,
each worker keeps a heartbeat key, `crm:model:worker:<id>`, naming the model it serves. The
worker a `PUT /model` loaded announces the file name on `crm:model:load` (and keeps it in
`crm:model:latest` for a worker that missed it); the others load it from their own models
folder, under the route's own check, and the `PUT` answers 204 once every live worker serves
it, else 503 saying how many do not. Announcements are numbered with Redis's clock: a worker
follows only those newer than its start (one started later was given its model) and than
the last it followed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from rasa.core.utils import AvailableEndpoints
from rasa.server import _load_agent  # what Rasa's own `PUT /model` handler calls
from redis.exceptions import RedisError
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_input import error_body

logger = logging.getLogger(__name__)

PREFIX = "crm:model"
HEARTBEAT_S = 2.0
ALIVE_S = 15
"""A worker whose key was not refreshed for this long is dead (killed, or its loop is stuck)."""
LOADING_S = 150
"""A worker loading a model blocks its loop, heartbeat included: it stays registered this long."""
SPREAD_TIMEOUT_S = 120.0
"""With the receiving worker's own load (seconds), within retrain's LOAD_TIMEOUT_S (180 s)."""
POLL_S = 0.25
RETRY_S = 1.0

Loadable = Callable[[object, Path], bool]


class ModelSync:
    """One worker's registration, its listener, and the spreading of a model it loaded."""

    def __init__(
        self,
        client: aioredis.Redis,
        models_dir: Path,
        loadable: Loadable,
        load: Callable[[Path], Awaitable[None]],
        serving: Callable[[], Path | None],
        prefix: str = PREFIX,
    ) -> None:
        self.client = client
        self.models_dir = models_dir
        self.loadable = loadable
        self.load = load
        self.serving = serving
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.prefix = prefix
        self.workers_key = f"{prefix}:workers"
        self.worker_key = self.key_of(self.worker_id)
        self.latest_key = f"{prefix}:latest"
        self.channel = f"{prefix}:load"
        self.born = self.generation = 0
        """When the worker started, and the newest announcement it followed or made."""
        self.error: str | None = None
        self.tasks: list[asyncio.Task] = []

    def key_of(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    async def now(self) -> int:
        """Microseconds on Redis's clock, one clock for every server."""
        seconds, micros = await self.client.time()
        return seconds * 10**6 + micros

    async def register(self, ttl_s: int = ALIVE_S) -> None:
        model = self.serving()
        state = {
            "model": str(model) if model else None,
            "born": self.born,
            "generation": self.generation,
            "error": self.error,
        }
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.worker_key, json.dumps(state), ex=ttl_s)
            pipe.sadd(self.workers_key, self.worker_id)
            await pipe.execute()

    async def live_workers(self) -> dict[str, dict[str, Any]]:
        """Every registered worker whose key has not expired; the expired are forgotten."""
        ids = sorted(member.decode() for member in await self.client.smembers(self.workers_key))
        if not ids:
            return {}
        keys = [self.key_of(worker) for worker in ids]
        states = dict(zip(ids, await self.client.mget(keys), strict=True))
        if dead := [worker for worker, state in states.items() if state is None]:
            await self.client.srem(self.workers_key, *dead)
        return {worker: json.loads(state) for worker, state in states.items() if state}

    async def handle(self, data: bytes | str) -> None:
        """Load an announced model, unless the announcement is not newer than the last one
        followed or names a file outside this server's models folder (loading runs its code)."""
        try:
            message = json.loads(data)
            generation, name = int(message["generation"]), str(message["model"])
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed model announcement: %r", data)
            return
        if generation <= self.generation:
            return
        self.generation = generation
        path = self.models_dir / name
        if not self.loadable({"model_file": str(path)}, self.models_dir):
            self.error = f"{name!r} is not a model file in {self.models_dir}"
        elif (served := self.serving()) and served.name == name:
            self.error = None
        else:
            await self.register(ttl_s=LOADING_S)
            try:
                await self.load(path)
                self.error = None
            except Exception as error:  # Rasa's ErrorResponse, or the loader's own failure
                info = getattr(error, "error_info", None)
                self.error = f"{name}: {info['message'] if info else error}"
        if self.error:
            logger.error("model announcement %d not followed: %s", generation, self.error)
        await self.register()

    async def listen(self) -> None:
        """Follow announcements until cancelled, subscribing again after a lost connection."""
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    await self.handle(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bad announcement must not end the listener
                logger.warning("model announcements: %s; subscribing again", error)
                await asyncio.sleep(RETRY_S)
            finally:
                with suppress(RedisError, OSError):
                    await pubsub.reset()

    async def heartbeat(self) -> None:
        """Refresh the registration, after following an announcement this worker missed."""
        while True:
            try:
                if latest := await self.client.get(self.latest_key):
                    await self.handle(latest)
                await self.register()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bad announcement must not end the heartbeat
                logger.warning("model registration: %s", error)
            await asyncio.sleep(HEARTBEAT_S)

    async def start(self) -> None:
        try:
            self.born = self.generation = await self.now()
        except (RedisError, OSError) as error:  # the local clock stands in; the heartbeat retries
            logger.warning("model registration: %s", error)
            self.born = self.generation = time.time_ns() // 1000
        self.tasks = [asyncio.create_task(self.heartbeat()), asyncio.create_task(self.listen())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with suppress(RedisError, OSError):
            async with self.client.pipeline(transaction=True) as pipe:
                await pipe.delete(self.worker_key).srem(self.workers_key, self.worker_id).execute()
        await self.client.close()

    async def spread(self, model: Path, timeout_s: float = SPREAD_TIMEOUT_S) -> str | None:
        """Have every live worker started before now serve `model`, which this one serves
        already; None once they do, else why not (another load came later, a worker failed
        to load it, or the time ran out)."""
        self.generation, self.error = await self.now(), None
        announcement = json.dumps({"model": model.name, "generation": self.generation})
        await self.client.set(self.latest_key, announcement)
        await self.register()
        await self.client.publish(self.channel, announcement)
        mine, deadline = self.generation, time.monotonic() + timeout_s
        while True:
            if await self.client.get(self.latest_key) != announcement.encode():
                return f"another model load began while {model.name} was spreading"
            workers = {w: s for w, s in (await self.live_workers()).items() if s["born"] < mine}
            behind = [s for s in workers.values() if Path(s["model"] or "").name != model.name]
            if not behind:
                return None
            failed = [s["error"] for s in behind if s["generation"] == mine and s["error"]]
            if failed or time.monotonic() > deadline:
                why = "; ".join(failed) or f"not loaded within {timeout_s:.0f} s"
                return (
                    f"{model.name} is loaded here, but {len(behind)} of {len(workers)} workers "
                    f"still answer with their previous model ({why})"
                )
            await asyncio.sleep(POLL_S)


def _serving(app: Sanic) -> Path | None:
    agent = getattr(app.ctx, "agent", None)
    processor = getattr(agent, "processor", None)
    return processor.model_path.resolve() if processor else None


async def _load(app: Sanic, endpoints: AvailableEndpoints, path: Path) -> None:
    """As Rasa's `PUT /model` handler does (rasa/server.py `load_model`): a new agent with the
    endpoints' tracker store, broker and action server, keeping the worker's lock store."""
    agent = await _load_agent(model_path=str(path), endpoints=endpoints)
    agent.lock_store = app.ctx.agent.lock_store
    app.ctx.agent = agent


def install(
    app: Sanic,
    redis_url: str,
    endpoints: AvailableEndpoints,
    models_dir: Path,
    loadable: Loadable,
) -> None:
    """Register each worker once it serves, and spread every model `PUT /model` loaded."""

    async def start(app: Sanic, _: asyncio.AbstractEventLoop) -> None:
        app.ctx.model_sync = ModelSync(
            aioredis.from_url(redis_url),
            models_dir,
            loadable,
            load=lambda path: _load(app, endpoints, path),
            serving=lambda: _serving(app),
        )
        await app.ctx.model_sync.start()

    async def stop(app: Sanic, _: asyncio.AbstractEventLoop) -> None:
        await app.ctx.model_sync.stop()

    async def spread_loaded_model(request: Request, reply: HTTPResponse | None) -> None:
        """Changes Rasa's 204 in place, so the other response middleware still run."""
        status = getattr(reply, "status", None)
        if status != 204 or (request.method, request.path) != ("PUT", "/model"):
            return
        model = Path(request.json["model_file"])
        try:
            problem = await request.app.ctx.model_sync.spread(model)
        except Exception as error:  # Sanic would log it and send the 204 all the same
            problem = f"{model.name} is loaded here, but spreading it failed: {error!r}"
        if problem:
            reply.status = 503
            reply.content_type = "application/json"
            reply.body = json.dumps(error_body("model_not_loaded_everywhere", problem)).encode()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "after_server_stop")
    app.register_middleware(spread_loaded_model, "response")
