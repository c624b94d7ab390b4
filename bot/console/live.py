"""Live events for agents: new handoffs and new messages, pushed to their websockets.

New messages can come from any Rasa server, so the feed follows the CRM store (a cheap
indexed query every POLL_INTERVAL_S) rather than a side channel from Rasa. It polls only
while an agent is connected: the first subscriber starts it, the last one stops it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSCloseCode, web

from bot.crm.enums import Sender
from bot.crm.store import CRMStore

logger = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.25
Cursor = tuple[int, int]
"""The last message id and the last ticket id already published."""


class LiveFeed:
    def __init__(self, store: CRMStore, interval_s: float = POLL_INTERVAL_S) -> None:
        self._store = store
        self._interval_s = interval_s
        self._sockets: set[web.WebSocketResponse] = set()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @property
    def polling(self) -> bool:
        return self._task is not None

    async def follow(self) -> None:
        """Start polling from where the store is now, unless the feed is polling already."""
        async with self._starting:
            if self._task is None:
                self._task = asyncio.create_task(self._follow(await self._cursor_now()))

    async def subscribe(self, socket: web.WebSocketResponse) -> None:
        """Send this socket every event from now on; the first subscriber starts the polling."""
        await self.follow()
        self._sockets.add(socket)

    async def unsubscribe(self, socket: web.WebSocketResponse) -> None:
        """Stop sending to this socket; the last subscriber to leave stops the polling."""
        self._sockets.discard(socket)
        if not self._sockets:
            await self._stop()

    async def publish(self, event: dict[str, Any]) -> None:
        for socket in list(self._sockets):
            try:
                await socket.send_json(event)
            except (ConnectionResetError, RuntimeError):
                self._sockets.discard(socket)

    async def close(self) -> None:
        """Stop polling and close every socket: the console is shutting down."""
        await self._stop()
        for socket in list(self._sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Waits for the task to end; a cancellation of the caller itself still propagates.
            await asyncio.gather(task, return_exceptions=True)

    async def _cursor_now(self) -> Cursor | None:
        """Where the store is now; None (and a later retry) when it cannot be read."""
        try:
            return await asyncio.to_thread(self._store.handoffs.last_ids)
        except Exception:
            logger.exception("live feed could not read the store; retrying")
            return None

    async def _follow(self, cursor: Cursor | None) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            if cursor is None:
                cursor = await self._cursor_now()
            else:
                cursor = await self._poll(cursor)

    async def _poll(self, cursor: Cursor) -> Cursor:
        """Publish what changed after `cursor`; on a failure, log it and keep the cursor."""
        try:
            changes = await asyncio.to_thread(self._store.handoffs.changes_since, *cursor)
            cursor = changes["last_message_id"], changes["last_ticket_id"]
            for handoff in changes["handoffs"]:
                await self.publish({"type": "handoff_created", "handoff": handoff})
            for message in changes["messages"]:
                kind = "customer_message" if message["sender"] == Sender.CUSTOMER else "message"
                await self.publish({"type": kind, "message": message})
        except Exception:
            logger.exception("live feed poll failed; retrying")
        return cursor
