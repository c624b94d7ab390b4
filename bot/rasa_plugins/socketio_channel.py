"""Rasa's socket.io channel for the web widget: server-issued sessions, identity, redaction.

Rasa's own handlers let a client name its session and so join any room and write into any
conversation; these replace them. The server issues every session id
(bot.rasa_plugins.socket_sessions) and a socket joins a conversation bound to a customer
only with that customer's token; each message is spoken by the session its socket joined,
checked by the customer gate, redacted and echoed back to that socket alone (the widget
keeps only what the server echoed). A customer waiting for a person, whom the paused bot does
not answer, is told their place in the queue (bot.rasa_plugins.queue_notice). The console
delivers an agent's reply through `POST /webhooks/socketio/agent_message` (signed), which
emits it into the session's room: the widget keeps one connection for the bot and the person.

Every message the server sends a widget carries `seq`, the time the CRM stores it under
(see StampedOutput); a widget that reconnects to its session sends the last `seq` it showed
(`last_seq`) and gets the bot's and agents' messages stored after it replayed from the CRM
store (`replayed: true`), to that socket only and at most MAX_REPLAYED of them. An agent's
message carries its CRM `message_id`, so a widget shows it once whether it came live,
replayed, or both (a delivery retried after Rasa came back).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.crm.enums import Sender
from bot.crm.store.deliveries import MissedMessage
from bot.identity import CLAIM_FIELD, TOKEN_FIELD
from bot.json_input import (
    MAX_JSON_DEPTH,
    HttpError,
    InputError,
    error_body,
    json_object,
    nesting_depth,
)
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import (
    MAX_BODY_BYTES,
    CustomerRateLimits,
    check_metadata,
    check_text,
)
from bot.rasa_plugins.queue_notice import queue_notice
from bot.rasa_plugins.rest_channel import error_response
from bot.rasa_plugins.socket_rooms import SharedRooms, room_manager, transports
from bot.rasa_plugins.socket_sessions import SocketSessions, issue_session_id, was_issued
from bot.settings import KeyPurpose, load_settings
from bot.signing import SIGNATURE_HEADER, verify
from nlp.pii import redact_text

logger = logging.getLogger(__name__)
ECHO_EVENT = "user_echo"
"""The customer's message as the server keeps it (redacted), sent back to the sending socket."""
REFUSED_EVENT = "message_refused"
"""Why a message was not taken (`{"error": {"code", "message"}}`), to the sending socket."""
MAX_REPLAYED = 50
"""The most messages a reconnecting widget is sent back; older ones it has missed stay in
the CRM (a widget is a chat, not an archive)."""
REPLAY_TIMEOUT_S = 5.0
"""A store that does not answer in time costs the widget its replay, not its connection."""
REPLAY_SETTLE_S = 2.0
"""When the second look of a replay comes: after a turn in flight has saved its messages."""


class DepthLimitedJson:
    """JSON for socket.io packets, with the depth limit every JSON body has: a deeply
    nested packet is refused before the decoder recurses, not by a RecursionError."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if nesting_depth(raw) > MAX_JSON_DEPTH:
            raise ValueError(f"socket.io packet nested deeper than {MAX_JSON_DEPTH}")
        return json.loads(text, **kwargs)


class StampedOutput(SocketIOOutput):
    """Rasa's socket.io output, each bot message stamped with `seq`: the widget's place in the
    conversation when it reconnects.

    A bot message's stamp is its event's timestamp, the `seq` the CRM stores it under, so a
    replay after it starts exactly past it. The send time would not do: a turn's events are
    made before any is sent, so the second message's stored `seq` is older than the first
    one's send time and a widget that dropped in between would never get it back. A message
    without an event (a queue notice) is stamped with the time it is sent.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self._event_time: float | None = None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        stamp = message.get("timestamp")
        self._event_time = float(stamp) if isinstance(stamp, int | float) else None
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._event_time = None

    async def _send_message(self, socket_id: str, response: Any) -> None:
        seq = self._event_time if self._event_time is not None else time.time()
        await super()._send_message(socket_id, {**response, "seq": seq})


class CountingOutput(StampedOutput):
    """The stamped output that also remembers whether the bot said anything."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)


class CustomerSockets:
    """The widget's socket.io events over one server: sessions, then messages."""

    def __init__(
        self,
        sio: AsyncServer,
        gate: CustomerGate,
        session_key: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        limits: CustomerRateLimits,
        *,
        bot_message_evt: str = "bot_uttered",
        metadata_key: str = "metadata",
        namespace: str | None = None,
    ) -> None:
        self.sio = sio
        self.gate = gate
        self.session_key = session_key
        self.on_new_message = on_new_message
        self.limits = limits
        self.bot_message_evt = bot_message_evt
        self.metadata_key = metadata_key
        self.namespace = namespace or "/"
        self.sessions = SocketSessions()
        self.verified: dict[str, int] = {}
        """The customer each socket showed a valid token for (at join or with a message)."""

    def register(self, user_message_evt: str) -> None:
        self.sio.on("session_request", self.session_request, namespace=self.namespace)
        self.sio.on(user_message_evt, self.user_uttered, namespace=self.namespace)
        self.sio.on("disconnect", self.disconnect, namespace=self.namespace)
        if isinstance(self.sio.manager, SharedRooms):
            self.sio.manager.on_bound = self.drop_others

    async def _to_socket(self, sid: str, event: str, data: Any) -> None:
        """Straight to the socket: it is this process's (its event just arrived here)."""
        await self.sio.emit(event, data, room=sid, namespace=self.namespace, ignore_queue=True)

    async def session_request(self, sid: str, data: object = None) -> None:
        """Join the session asked for if the server issued it and the socket may hear it;
        else a fresh one. The session the socket ends up in is confirmed to it."""
        data = data if isinstance(data, dict) else {}
        requested = data.get("session_id")
        customer_id = await asyncio.to_thread(self.gate.token_customer, data.get(TOKEN_FIELD))
        if customer_id is None:
            self.verified.pop(sid, None)
        else:
            self.verified[sid] = customer_id
        if was_issued(self.session_key, requested) and await asyncio.to_thread(
            self.gate.may_join_as, requested, customer_id
        ):
            session_id = requested
        else:
            session_id = issue_session_id(self.session_key)
        if not self.sio.manager.is_connected(sid, self.namespace):
            return  # gone while the store answered
        previous = self.sessions.join(sid, session_id)
        if previous is not None and previous != session_id:
            self.sio.leave_room(sid, previous, namespace=self.namespace)
        self.sio.enter_room(sid, session_id, namespace=self.namespace)
        await self._to_socket(sid, "session_confirm", session_id)
        if session_id == requested:
            await self._replay(sid, session_id, data.get("last_seq"))

    async def _replay(self, sid: str, session_id: str, last_seq: object) -> None:
        """Send this socket what its session said after `last_seq` while it was away.

        Only a socket that rejoined its session (the checks above) gets here, and only that
        socket hears the replay; a widget that showed nothing yet (no `last_seq`) gets none.
        A message sent just before the socket joined reaches the CRM only when its turn is
        saved, after the first look: a second look once that has happened sends what was
        said before the join and not yet replayed (what came after the join came live).
        """
        since = _finite_seq(last_seq)
        if since is None:
            return
        joined_at = time.time()
        since = await self._replay_between(sid, session_id, since, joined_at)
        if since is not None:
            await asyncio.sleep(REPLAY_SETTLE_S)
            await self._replay_between(sid, session_id, since, joined_at)

    async def _replay_between(
        self, sid: str, session_id: str, since: float, before: float
    ) -> float | None:
        """Replay the stored messages with `since < seq < before`; the last `seq` sent (or
        `since`), None when the store did not answer."""
        try:
            missed = await asyncio.wait_for(
                asyncio.to_thread(
                    self.gate.store.deliveries.missed_messages,
                    session_id,
                    since,
                    MAX_REPLAYED,
                ),
                REPLAY_TIMEOUT_S,
            )
        except Exception:
            logger.exception("no replay for session %s: the CRM store did not answer", session_id)
            return None
        for message in missed:
            if message["seq"] < before:
                await self._to_socket(sid, self.bot_message_evt, replayed(message))
                since = max(since, message["seq"])
        return since

    def _client_ip(self, sid: str) -> str:
        environ = self.sio.get_environ(sid, namespace=self.namespace) or {}
        request = environ.get("sanic.request")
        return request.ip if request is not None else environ.get("REMOTE_ADDR", "")

    async def user_uttered(self, sid: str, data: object = None) -> None:
        """A customer message, spoken by the socket's session whatever the data names.

        A refused message gets `message_refused` on this socket and is stored nowhere.
        """
        session_id = self.sessions.of(sid)
        data = data if isinstance(data, dict) else {}
        try:
            if session_id is None:
                raise InputError(400, "no_session", "Send session_request before messages.")
            text = check_text(data.get("message"))
            metadata = check_metadata(data.get(self.metadata_key))
            await self.limits.check(session_id, self._client_ip(sid))
            admitted = await asyncio.to_thread(self.gate.admit, session_id, metadata)
        except HttpError as error:
            await self._to_socket(sid, REFUSED_EVENT, error_body(error.code, error.message))
            return
        claim = admitted.get(CLAIM_FIELD)
        if claim is not None:
            self.verified[sid] = claim["id"]
            await self._bind(session_id, claim["id"])
        redacted = redact_text(text)
        await self._to_socket(sid, ECHO_EVENT, {"text": redacted, "seq": time.time()})
        output = CountingOutput(self.sio, self.bot_message_evt)
        await self.on_new_message(
            UserMessage(
                redacted,
                output,
                session_id,
                input_channel=CRMSocketIOInput.name(),
                metadata=admitted,
            )
        )
        if not output.sent:
            notice = await asyncio.to_thread(queue_notice, self.gate.store, session_id)
            if notice is not None:
                await output.send_text_message(session_id, notice)

    async def _bind(self, session_id: str, customer_id: int) -> None:
        """Once a session belongs to a customer, only sockets that showed that customer's
        token stay in its room: one that joined while it was unbound hears nothing more, in
        whichever process it is."""
        if isinstance(self.sio.manager, SharedRooms):
            await self.sio.manager.bind(self.namespace, session_id, customer_id)
        else:
            self.drop_others(self.namespace, session_id, customer_id)

    def drop_others(self, namespace: str, session_id: str, customer_id: int) -> None:
        """This process's sockets in the session's room that did not show the customer's token
        leave it."""
        if namespace not in self.sio.manager.rooms:
            return  # no socket of this process has connected to it
        for other, _ in list(self.sio.manager.get_participants(namespace, session_id)):
            if self.verified.get(other) != customer_id:
                self.sio.leave_room(other, session_id, namespace=namespace)
                self.sessions.leave(other)

    async def disconnect(self, sid: str) -> None:
        self.sessions.leave(sid)
        self.verified.pop(sid, None)


def replayed(message: MissedMessage) -> dict[str, Any]:
    """A stored message as the widget receives it live (`bot_uttered`)."""
    shown: dict[str, Any] = {"text": message["text"] or "", "seq": message["seq"]}
    if message["sender"] == Sender.AGENT:
        shown.update(sender=Sender.AGENT, agent=message["agent"] or "", message_id=message["id"])
    else:
        shown = {**(message["data"] or {}), **shown}
    return {**shown, "replayed": True}


class CRMSocketIOInput(SocketIOInput):
    """Serves `/socket.io` for the widget, plus the agent reply endpoint.

    Sessions always persist (a session id is a conversation id), whatever
    `session_persistence` says; browser origins come from `CRM_ALLOWED_ORIGINS`.
    """

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = load_settings()
        agent_key = settings.key_for(KeyPurpose.AGENT_MESSAGE)
        gate = CustomerGate.from_settings(settings)
        manager = room_manager(settings.redis_url)
        self.sio = AsyncServer(
            async_mode="sanic",
            client_manager=manager,
            transports=transports(manager),
            cors_allowed_origins=list(settings.allowed_origins),
            json=DepthLimitedJson,
            max_http_buffer_size=MAX_BODY_BYTES,
        )
        sockets = CustomerSockets(
            self.sio,
            gate,
            settings.key_for(KeyPurpose.SOCKET_SESSION),
            on_new_message,
            CustomerRateLimits.from_settings(settings),
            bot_message_evt=self.bot_message_evt,
            metadata_key=self.metadata_key or "metadata",
            namespace=self.namespace,
        )
        sockets.register(self.user_message_evt)
        webhook = SocketBlueprint(self.sio, self.socketio_path, "socketio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/agent_message", methods=["POST"])
        async def agent_message(request: Request) -> HTTPResponse:
            signature = request.headers.get(SIGNATURE_HEADER, "")
            if not verify(agent_key, request.body, signature):
                return error_response(401, "unauthorized", "Missing or wrong signature.")
            try:
                payload = json_object(request.body)
                conversation_id = payload["conversation_id"]
                text = payload["text"]
            except (InputError, KeyError):
                return error_response(400, "invalid_body", "Expected conversation_id and text.")
            message = {
                "text": text,
                "sender": Sender.AGENT,
                "agent": payload.get("agent", ""),
                "message_id": payload.get("message_id"),
                "seq": payload.get("seq"),
            }
            await self.sio.emit(
                self.bot_message_evt, message, room=conversation_id, namespace=sockets.namespace
            )
            return response.json({"sent": True})

        @webhook.listener("after_server_stop")
        async def close_stores(*_args: Any) -> None:
            gate.close()
            await sockets.limits.close()

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        """Where `trigger_intent` with `output_channel=latest` answers (the rating prompt):
        stamped like every other bot message."""
        if self.sio is None:
            return super().get_output_channel()
        return StampedOutput(self.sio, self.bot_message_evt)


def _finite_seq(value: object) -> float | None:
    """The widget's `last_seq` as a time, or None when it is not a finite number (a client
    can send anything: an integer too big for a float, NaN, a string)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        since = float(value)
    except OverflowError:
        return None
    return since if math.isfinite(since) else None
