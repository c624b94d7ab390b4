"""Rasa's socket.io channel for the web widget, with redaction, input limits and agent replies.

Customer messages are checked and redacted before Rasa sees them, as on the REST channel.
The console delivers an agent's reply through `POST /webhooks/socketio/agent_message`
(signed with the shared secret), which emits it into the customer's session room: the
widget keeps one connection for the bot and the person.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.crm.enums import Sender
from bot.json_input import InputError, json_object
from bot.rasa_plugins.rest_channel import MAX_MESSAGE_CHARS, error_response
from bot.settings import load_settings
from bot.signing import SIGNATURE_HEADER, verify
from nlp.pii import redact_text

logger = logging.getLogger(__name__)
TOO_LONG_REPLY = (
    f"Sorry, I can only read messages of up to {MAX_MESSAGE_CHARS} characters. "
    "Could you say it more briefly?"
)


class CRMSocketIOInput(SocketIOInput):
    """Serves `/socket.io` like Rasa's socket.io channel, plus the agent reply endpoint."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        secret_key = load_settings().secret_key

        async def checked(message: UserMessage) -> None:
            text = message.text
            if not isinstance(text, str) or not text.strip():
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await message.output_channel.send_text_message(message.sender_id, TOO_LONG_REPLY)
                return
            message.text = redact_text(text)
            if not isinstance(message.metadata, dict):
                message.metadata = {}
            await on_new_message(message)

        webhook = super().blueprint(checked)

        @webhook.route("/agent_message", methods=["POST"])
        async def agent_message(request: Request) -> HTTPResponse:
            signature = request.headers.get(SIGNATURE_HEADER, "")
            if not verify(secret_key, request.body, signature):
                return error_response(401, "unauthorized", "Missing or wrong signature.")
            try:
                payload = json_object(request.body)
                conversation_id = payload["conversation_id"]
                text = payload["text"]
            except (InputError, KeyError):
                return error_response(400, "invalid_body", "Expected conversation_id and text.")
            room = self.sio.manager.rooms.get(self.namespace or "/", {}).get(conversation_id)
            message = {"text": text, "sender": Sender.AGENT, "agent": payload.get("agent", "")}
            await self.sio.emit(self.bot_message_evt, message, room=conversation_id)
            return response.json({"delivered": bool(room)})

        return webhook
