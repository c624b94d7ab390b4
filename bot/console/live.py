"""Live events for agents: new handoffs and new messages, pushed to their websockets.

New messages can come from any Rasa server, so the console follows the CRM store (a
cheap indexed query every POLL_INTERVAL_S) rather than a side channel from Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.crm.repository import CRMRepository

logger = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.25


class LiveFeed:
    def __init__(self, repository: CRMRepository) -> None:
        self.repository = repository
        self.sockets: set[web.WebSocketResponse] = set()
        self._last_message_id = 0
        self._last_ticket_id = 0

    async def start(self) -> None:
        ids = await asyncio.to_thread(self.repository.last_ids)
        self._last_message_id, self._last_ticket_id = ids

    async def publish(self, event: dict[str, Any]) -> None:
        for socket in list(self.sockets):
            try:
                await socket.send_json(event)
            except (ConnectionResetError, RuntimeError):
                self.sockets.discard(socket)

    async def poll_once(self) -> None:
        changes = await asyncio.to_thread(
            self.repository.changes_since, self._last_message_id, self._last_ticket_id
        )
        self._last_message_id = changes["last_message_id"]
        self._last_ticket_id = changes["last_ticket_id"]
        for handoff in changes["handoffs"]:
            await self.publish({"type": "handoff_created", "handoff": handoff})
        for message in changes["messages"]:
            kind = "customer_message" if message["sender"] == "customer" else "message"
            await self.publish({"type": kind, "message": message})

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                logger.exception("live feed poll failed; retrying")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def close(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
