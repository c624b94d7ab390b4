"""The widget's socket.io rooms across several Rasa processes (Sanic workers, or servers).

A customer's socket lives in the one process that accepted its websocket, but the bot's
answer to a REST-triggered turn, an agent's reply or the rating prompt may be produced by
any process. With Redis configured, python-socketio's Redis manager publishes every room
emit to all processes and each delivers it to the sockets it holds. Our one addition rides
the same channel: "this session now belongs to customer N", so each process drops its own
sockets in that room that did not show N's token. Being on the same channel, every process
handles it before any answer published after it. Without Redis, one process holds every
socket and the default in-memory manager does all of this.

Only websockets are accepted when rooms are shared: a long-polling client sends each
request anew and could reach a process that does not hold its session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.exceptions import RedisError
from socketio import AsyncManager, AsyncRedisManager
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

ROOM_BOUND = "crm:room-bound"
"""The internal message's event name; it is handled by the manager, never sent to a client."""

OnBound = Callable[[str, str, int], None]
"""Called in every process with (namespace, room, customer id)."""


class SharedRooms(AsyncRedisManager):
    """python-socketio's Redis manager, plus the room-bound message."""

    def __init__(self, url: str, channel: str, on_bound: OnBound | None = None) -> None:
        super().__init__(url, channel=channel)
        self.on_bound = on_bound

    async def _publish(self, data: dict[str, Any]) -> None:
        """As JSON: python-socketio 5.9 pickles, and unpickling what arrives would run any
        code a Redis client published. A failure is retried once on a new connection, then
        logged, as python-socketio does: raising would fail the turn whose answer this is,
        and Rasa would not save it (the widget gets the answer replayed when it reconnects)."""
        payload = json.dumps(data)
        for attempt in range(2):
            try:
                await self.redis.publish(self.channel, payload)
                return
            except RedisError as error:
                logger.error("socket.io emit not published (attempt %d): %r", attempt + 1, error)
                self._redis_connect()

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        """Only JSON objects reach the dispatcher (a dict is never unpickled)."""
        async for raw in super()._listen():
            try:
                message = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if isinstance(message, dict):
                yield message

    async def bind(self, namespace: str, room: str, customer_id: int) -> None:
        """Tell every process, this one included, that `room` belongs to `customer_id`."""
        await self._publish(
            {
                "method": "emit",
                "event": ROOM_BOUND,
                "data": customer_id,
                "namespace": namespace,
                "room": room,
                "host_id": self.host_id,
            }
        )

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") != ROOM_BOUND:
            await super()._handle_emit(message)
        elif self.on_bound is not None:
            self.on_bound(message["namespace"], message["room"], int(message["data"]))


def channel_of(redis_url: str) -> str:
    """The pub/sub channel: named after the Redis database, as pub/sub channels are shared by
    every database of a server and two deployments on one Redis use two databases."""
    return f"crm-socketio:{make_url(redis_url).database or 0}"


def room_manager(redis_url: str | None) -> AsyncManager:
    """The shared manager when Rasa may run as several processes, else the in-memory one."""
    return SharedRooms(redis_url, channel_of(redis_url)) if redis_url else AsyncManager()


def transports(manager: AsyncManager) -> list[str]:
    """What engine.io accepts: websockets only when another process may hold the session."""
    return ["websocket"] if isinstance(manager, SharedRooms) else ["polling", "websocket"]
