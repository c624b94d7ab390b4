"""The console's calls to the Rasa server: agent replies, hand-back to the bot, CSAT prompts."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

import aiohttp
import jwt

from bot.console.errors import ApiError
from bot.settings import KeyPurpose, Settings
from bot.signing import SIGNATURE_HEADER, sign

TIMEOUT = aiohttp.ClientTimeout(total=10)
"""For the delivery worker's retries (bot/console/delivery.py)."""
QUICK_TIMEOUT = aiohttp.ClientTimeout(total=3)
"""For the first attempt made while an agent's request waits: a slow Rasa leaves it pending."""
API_JWT_ALGORITHM = "HS256"
API_JWT_LIFETIME_S = 60
API_JWT_USER = {"username": "console", "role": "admin"}
"""Rasa's HTTP API lets the `admin` role act on any conversation (rasa.server.requires_auth)."""


def api_jwt(secret: str, now: float | None = None) -> str:
    """A short-lived JWT for Rasa's HTTP API, signed with its secret (var/rasa_api_token)."""
    issued = int(time.time() if now is None else now)
    claims = {"user": API_JWT_USER, "iat": issued, "exp": issued + API_JWT_LIFETIME_S}
    return jwt.encode(claims, secret, algorithm=API_JWT_ALGORITHM)


class RasaClient:
    """Wraps the Rasa HTTP API (JWT in the Authorization header) and the socket.io agent
    endpoint (body signed with the agent-message key)."""

    def __init__(self, http: aiohttp.ClientSession, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def _api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_jwt(self.settings.rasa_api_token)}"}

    async def _post(
        self,
        path: str,
        body: object,
        headers: dict[str, str] | None = None,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
        **params: str,
    ) -> object:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        url = f"{self.settings.rasa_url}{path}"
        try:
            async with self.http.post(
                url, data=data, headers=headers, params=params, timeout=timeout
            ) as reply:
                if reply.status >= 400:
                    raise ApiError(502, "rasa_error", f"Rasa answered HTTP {reply.status}.")
                return await reply.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ApiError(502, "rasa_unreachable", f"Rasa is not reachable: {error}") from None

    def _conversation(self, conversation_id: str) -> str:
        return f"/conversations/{quote(conversation_id, safe='')}"

    async def deliver_agent_message(
        self,
        conversation_id: str,
        message: dict[str, object],
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        """Push an agent's message (`text`, `agent`, `message_id`, `seq`) into the customer's
        widget, in whichever Rasa process holds its socket; a widget that is not connected
        fetches it when it reconnects."""
        body = json.dumps({**message, "conversation_id": conversation_id})
        data = body.encode()  # signed and sent as the same bytes
        signature = sign(self.settings.key_for(KeyPurpose.AGENT_MESSAGE), data)
        await self._post(
            "/webhooks/socketio/agent_message",
            data,
            headers={SIGNATURE_HEADER: signature},
            timeout=timeout,
        )

    async def resume(self, conversation_id: str, timeout: aiohttp.ClientTimeout = TIMEOUT) -> None:
        """Let the bot answer again (Rasa's ConversationResumed).

        While paused, Rasa logs the customer's messages without an `action_listen` after
        them; appending one makes the policies see a bot waiting for its next message.
        """
        await self._post(
            f"{self._conversation(conversation_id)}/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
            headers=self._api_headers(),
            timeout=timeout,
        )

    async def trigger_intent(
        self, conversation_id: str, intent: str, timeout: aiohttp.ClientTimeout = TIMEOUT
    ) -> None:
        """Make the bot act as if the customer had this intent, answering on their channel."""
        await self._post(
            f"{self._conversation(conversation_id)}/trigger_intent",
            {"name": intent},
            headers=self._api_headers(),
            timeout=timeout,
            output_channel="latest",
        )
