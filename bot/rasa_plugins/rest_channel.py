"""Rasa's REST channel with input limits, customer identity and PII redaction.

Bad requests get a clear 4xx, never a crash (bot.rasa_plugins.limits). Each message's
customer token is checked by the gate (bot.rasa_plugins.customer_gate): a refused message
is answered with 401 or 403 and stored nowhere. Personal data is redacted here, before
Rasa sees the message, so the raw text never reaches the tracker store, the logs or the CRM.
A customer waiting for a person, whom the paused bot does not answer, is told their place in
the queue (bot.rasa_plugins.queue_notice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_input import HttpError, InputError, error_body, json_object
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import (
    MAX_BODY_BYTES,
    CustomerRateLimits,
    RateLimited,
    check_metadata,
    check_sender,
    check_text,
)
from bot.rasa_plugins.queue_notice import queue_notice
from bot.settings import load_settings
from nlp.pii import redact_text

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    return response.json(error_body(code, message), status=status)


def parse_webhook_body(body: bytes) -> tuple[str, str, dict[str, Any]]:
    """Sender, text and metadata of a webhook request, or InputError saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise InputError(
            413, "body_too_large", f"The request body is over the limit of {MAX_BODY_BYTES} bytes."
        )
    payload = json_object(body)
    sender = check_sender(payload.get("sender"))
    text = check_text(payload.get("message"))
    return sender, text, check_metadata(payload.get("metadata"))


class RestWebhook:
    """`POST /webhooks/rest/webhook`: checked, rate-limited, admitted, then handed to Rasa."""

    def __init__(
        self,
        gate: CustomerGate,
        limits: CustomerRateLimits,
        on_new_message: Callable[[UserMessage], Awaitable[None]],
    ) -> None:
        self.gate = gate
        self.limits = limits
        self.on_new_message = on_new_message

    async def handle(self, body: bytes, client_ip: str) -> HTTPResponse:
        """The bot's replies as a JSON list, or a 4xx/503 error body."""
        try:
            sender, text, metadata = parse_webhook_body(body)
            await self.limits.check(sender, client_ip)
            admitted = await asyncio.to_thread(self.gate.admit, sender, metadata)
        except RateLimited as error:
            refused = error_response(error.status, error.code, error.message)
            refused.headers["Retry-After"] = str(error.retry_after)
            return refused
        except HttpError as error:
            return error_response(error.status, error.code, error.message)
        collector = CollectingOutputChannel()
        try:
            await self.on_new_message(
                UserMessage(
                    redact_text(text),
                    collector,
                    sender,
                    input_channel=ValidatedRestInput.name(),
                    metadata=admitted,
                )
            )
        except Exception:
            logger.exception("could not handle a message of conversation %s", sender)
            return error_response(
                503,
                "bot_unavailable",
                "The assistant could not answer just now; please try again.",
            )
        if not collector.messages:
            notice = await asyncio.to_thread(queue_notice, self.gate.store, sender)
            if notice is not None:
                collector.messages.append({"recipient_id": sender, "text": notice})
        return response.json(collector.messages)


class ValidatedRestInput(RestInput):
    """Serves `POST /webhooks/rest/webhook` like Rasa's REST channel, after checking the input.

    The channel name is fixed to `rest` (a client cannot claim another channel), and the
    reply is the bot's messages as a JSON list, as with Rasa's own channel.
    """

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = Blueprint("validated_rest_webhook", __name__)
        settings = load_settings()
        gate = CustomerGate.from_settings(settings)
        webhook = RestWebhook(gate, CustomerRateLimits.from_settings(settings), on_new_message)
        redact_text("warm up the recognizers before the first customer arrives")

        @blueprint.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await webhook.handle(request.body, request.ip)

        @blueprint.listener("after_server_stop")
        async def close_stores(*_args: Any) -> None:
            gate.close()
            await webhook.limits.close()

        return blueprint
