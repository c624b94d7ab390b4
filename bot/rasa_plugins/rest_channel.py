"""Rasa's REST channel with strict input checks and PII redaction.

Bad requests get a clear 4xx, never a crash. Personal data is redacted here, before Rasa
sees the message, so the raw text never reaches the tracker store, the logs or the CRM.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_input import InputError, error_body, json_object
from nlp.pii import redact_text

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 255


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    return response.json(error_body(code, message), status=status)


def parse_webhook_body(body: bytes) -> tuple[str, str, dict[str, Any]]:
    """Sender, text and metadata of a webhook request, or InputError saying what is wrong."""
    payload = json_object(body)
    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise InputError(400, "invalid_sender", "'sender' must be a non-empty string.")
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise InputError(
            400,
            "invalid_sender",
            f"'sender' must be at most {MAX_SENDER_CHARS} printable characters.",
        )
    text = payload.get("message")
    if not isinstance(text, str):
        raise InputError(400, "invalid_message", "'message' must be a string.")
    if not text.strip():
        raise InputError(400, "empty_message", "'message' must not be empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(
            413,
            "message_too_long",
            f"'message' has {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}.",
        )
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError(400, "invalid_metadata", "'metadata' must be a JSON object.")
    return sender, text, metadata


class ValidatedRestInput(RestInput):
    """Serves `POST /webhooks/rest/webhook` like Rasa's REST channel, after checking the input.

    The channel name is fixed to `rest` (a client cannot claim another channel), and the
    reply is the bot's messages as a JSON list, as with Rasa's own channel.
    """

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("validated_rest_webhook", __name__)
        redact_text("warm up the recognizers before the first customer arrives")

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_webhook_body(request.body)
            except InputError as error:
                return error_response(error.status, error.code, error.message)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        redact_text(text),
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except Exception:
                logger.exception("could not handle a message of conversation %s", sender)
                return error_response(
                    503,
                    "bot_unavailable",
                    "The assistant could not answer just now; please try again.",
                )
            return response.json(collector.messages)

        return webhook
