"""The live feed over a scripted store: it polls only with subscribers and survives failures."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSCloseCode

from bot.console.live import LiveFeed

INTERVAL_S = 0.01
HANDOFF = {"id": 3, "status": "open"}
CUSTOMER_MESSAGE = {"id": 7, "sender": "customer", "text": "hello"}
BOT_MESSAGE = {"id": 8, "sender": "bot", "text": "hi"}


def changes(last_message_id: int, last_ticket_id: int, handoffs=(), messages=()) -> dict[str, Any]:
    return {
        "handoffs": list(handoffs),
        "messages": list(messages),
        "last_message_id": last_message_id,
        "last_ticket_id": last_ticket_id,
    }


class ScriptedHandoffs:
    """The store calls the feed makes: answers come from a script, then "nothing changed"."""

    def __init__(self, *answers: dict[str, Any] | Exception, start: Any = (0, 0)) -> None:
        self.answers = list(answers)
        self.start = start
        self.calls: list[tuple[int, int]] = []

    def last_ids(self) -> tuple[int, int]:
        if isinstance(self.start, Exception):
            error, self.start = self.start, (0, 0)
            raise error
        return self.start

    def changes_since(self, message_id: int, ticket_id: int) -> dict[str, Any]:
        self.calls.append((message_id, ticket_id))
        answer = self.answers.pop(0) if self.answers else changes(message_id, ticket_id)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def polled(self, times: int) -> None:
        async def enough() -> None:
            while len(self.calls) < times:
                await asyncio.sleep(INTERVAL_S)

        await asyncio.wait_for(enough(), timeout=2)


class ScriptedStore:
    def __init__(self, handoffs: ScriptedHandoffs) -> None:
        self.handoffs = handoffs


class RecordingSocket:
    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None

    async def send_json(self, event: dict[str, Any]) -> None:
        await self.events.put(event)

    async def close(self, *, code: int, message: bytes) -> None:
        self.close_code = code

    async def next_event(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout=2)


def feed_over(handoffs: ScriptedHandoffs) -> LiveFeed:
    return LiveFeed(ScriptedStore(handoffs), interval_s=INTERVAL_S)


async def test_new_handoffs_and_messages_reach_every_subscriber() -> None:
    handoffs = ScriptedHandoffs(
        changes(8, 3, handoffs=[HANDOFF], messages=[CUSTOMER_MESSAGE, BOT_MESSAGE]),
        start=(6, 2),
    )
    feed = feed_over(handoffs)
    first, second = RecordingSocket(), RecordingSocket()
    await feed.subscribe(first)
    await feed.subscribe(second)
    for socket in (first, second):
        assert await socket.next_event() == {"type": "handoff_created", "handoff": HANDOFF}
        assert await socket.next_event() == {
            "type": "customer_message",
            "message": CUSTOMER_MESSAGE,
        }
        assert await socket.next_event() == {"type": "message", "message": BOT_MESSAGE}
    await handoffs.polled(2)
    assert handoffs.calls[:2] == [(6, 2), (8, 3)]
    await feed.close()


async def test_nothing_is_polled_without_a_subscriber() -> None:
    handoffs = ScriptedHandoffs()
    feed = feed_over(handoffs)
    await asyncio.sleep(INTERVAL_S * 10)
    assert handoffs.calls == []
    assert not feed.polling
    socket = RecordingSocket()
    await feed.subscribe(socket)
    assert feed.polling
    await handoffs.polled(1)
    await feed.unsubscribe(socket)
    calls = len(handoffs.calls)
    await asyncio.sleep(INTERVAL_S * 10)
    assert len(handoffs.calls) == calls
    assert not feed.polling


async def test_the_last_subscriber_leaving_ends_the_polling_task() -> None:
    feed = feed_over(ScriptedHandoffs())
    first, second = RecordingSocket(), RecordingSocket()
    before = asyncio.all_tasks()
    await feed.subscribe(first)
    await feed.subscribe(second)
    (task,) = asyncio.all_tasks() - before
    await feed.unsubscribe(first)
    assert feed.polling and not task.done()
    await feed.unsubscribe(second)
    assert task.cancelled()
    assert not feed.polling


async def test_closing_stops_polling_and_closes_the_sockets() -> None:
    handoffs = ScriptedHandoffs()
    feed = feed_over(handoffs)
    sockets = [RecordingSocket(), RecordingSocket()]
    before = asyncio.all_tasks()
    for socket in sockets:
        await feed.subscribe(socket)
    (task,) = asyncio.all_tasks() - before
    await feed.close()
    assert task.cancelled()
    assert [socket.close_code for socket in sockets] == [WSCloseCode.GOING_AWAY] * 2
    calls = len(handoffs.calls)
    await asyncio.sleep(INTERVAL_S * 10)
    assert len(handoffs.calls) == calls


async def test_a_failing_poll_is_logged_and_retried(caplog) -> None:
    handoffs = ScriptedHandoffs(
        RuntimeError("database is restarting"),
        changes(7, 3, handoffs=[HANDOFF], messages=[CUSTOMER_MESSAGE]),
    )
    feed = feed_over(handoffs)
    socket = RecordingSocket()
    with caplog.at_level(logging.ERROR, logger="bot.console.live"):
        await feed.subscribe(socket)
        assert await socket.next_event() == {"type": "handoff_created", "handoff": HANDOFF}
    assert "live feed poll failed; retrying" in caplog.text
    assert "database is restarting" in caplog.text
    assert handoffs.calls[:2] == [(0, 0), (0, 0)]
    assert await socket.next_event() == {"type": "customer_message", "message": CUSTOMER_MESSAGE}
    assert feed.polling
    await feed.close()


async def test_a_store_unreachable_at_the_first_subscriber_is_retried(caplog) -> None:
    handoffs = ScriptedHandoffs(
        changes(9, 4, handoffs=[HANDOFF]), start=RuntimeError("no database")
    )
    feed = feed_over(handoffs)
    socket = RecordingSocket()
    with caplog.at_level(logging.ERROR, logger="bot.console.live"):
        await feed.subscribe(socket)
        assert feed.polling
        assert await socket.next_event() == {"type": "handoff_created", "handoff": HANDOFF}
    assert "live feed could not read the store; retrying" in caplog.text
    await feed.close()


async def test_a_socket_that_went_away_is_dropped() -> None:
    class GoneSocket(RecordingSocket):
        async def send_json(self, event: dict[str, Any]) -> None:
            raise ConnectionResetError("gone")

    feed = feed_over(ScriptedHandoffs())
    gone, alive = GoneSocket(), RecordingSocket()
    await feed.subscribe(gone)
    await feed.subscribe(alive)
    await feed.publish({"type": "handoff_claimed"})
    await feed.publish({"type": "handoff_resolved"})
    assert await alive.next_event() == {"type": "handoff_claimed"}
    assert await alive.next_event() == {"type": "handoff_resolved"}
    await feed.close()
    assert gone.close_code is None
    assert alive.close_code == WSCloseCode.GOING_AWAY
