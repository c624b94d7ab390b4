"""The simulated customers of bench.turns: asyncio clients of a Rasa server's REST or socket.io
channel, each from its own loopback address, each turn sent as soon as the previous one is
answered.

Real customers come from different addresses, and the product limits messages per address
(bot.rasa_plugins.limits): every customer here has its own source address in 127.0.0.0/8
(Linux routes all of it to the loopback device), so the bench measures the product's turns,
not its rate limit. A 429 that still happens is counted as an error, never retried. Every
request has a timeout and a run has a deadline, so a stuck server ends the run, not the bench.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio
from tqdm import tqdm

from bench.turns_figures import CONNECTION, TIMEOUT, Sample, tree_rss_mb
from bench.turns_scripts import Script, script_for

REST_PATH = "/webhooks/rest/webhook"
SOCKETIO_PATH = "/socket.io"
RUN_GRACE_S = 30.0
"""How long past its deadline (plus one request timeout) a run may take before it is cut."""
LONG_PACE_S = 0.55
"""The long conversation's least gap between sends: under the product's 2 messages a second
per conversation (burst 10), so pacing, not retrying, keeps it under the limit."""
MEMORY_EVERY_S = 1.0


def loopback(customer: int) -> str:
    """Customer 0's source address is 127.0.0.2, customer 1's 127.0.0.3, and so on."""
    number = customer + 2
    if number >= 256 * 256 * 255:
        raise ValueError("too many customers for 127.0.0.0/8")
    return f"127.{number // 65536}.{number // 256 % 256}.{number % 256}"


def fit(script: Script, turns: int) -> Script:
    """The script cut or repeated to `turns` messages."""
    return tuple(script[n % len(script)] for n in range(turns))


@dataclass
class Budget:
    """The run's shared limits: a deadline (monotonic) and at most `max_messages` sent."""

    deadline: float
    max_messages: int | None = None
    taken: int = 0

    def take(self) -> bool:
        """Whether one more message may be sent (and count it)."""
        if time.monotonic() >= self.deadline:
            return False
        if self.max_messages is not None and self.taken >= self.max_messages:
            return False
        self.taken += 1
        return True


@dataclass
class Memory:
    """Resident memory of named process trees, sampled while a run goes: peaks and the last."""

    pids: dict[str, int]
    peak_mb: dict[str, float] = field(default_factory=dict)
    last_mb: dict[str, float] = field(default_factory=dict)
    total_peak_mb: float = 0.0

    def sample(self) -> None:
        now = {name: tree_rss_mb(pid) for name, pid in self.pids.items()}
        for name, mb in now.items():
            self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), mb)
        self.last_mb = now
        self.total_peak_mb = max(self.total_peak_mb, sum(now.values()))

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), MEMORY_EVERY_S)


class Run:
    """One load run against one server through one channel."""

    def __init__(
        self,
        url: str,
        channel: str,
        scripts: Sequence[Script],
        turns: int,
        prefix: str,
        timeout: float,
        budget: Budget,
        progress: tqdm,
    ) -> None:
        self.url = url
        self.channel = channel
        self.scripts = [fit(s, turns) for s in scripts]
        self.prefix = prefix
        self.timeout = timeout
        self.budget = budget
        self.progress = progress
        self.samples: list[Sample] = []
        self.started = time.monotonic()

    def record(self, sample: Sample) -> None:
        self.samples.append(sample)
        self.progress.update(1)

    def session(self, customer: int) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(local_addr=(loopback(customer), 0), limit=4)
        return aiohttp.ClientSession(connector=connector)

    async def rest_turn(
        self, session: aiohttp.ClientSession, sender: str, position: int, text: str
    ) -> Sample:
        sent_at = time.monotonic()
        started = time.perf_counter()
        status: int | str
        replies = 0
        try:
            async with session.post(
                f"{self.url}{REST_PATH}",
                json={"sender": sender, "message": text},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as reply:
                body: Any = await reply.json(content_type=None)
                status = reply.status
                replies = len(body) if status == 200 and isinstance(body, list) else 0
        except asyncio.TimeoutError:
            status = TIMEOUT
        except (aiohttp.ClientError, OSError, ValueError):
            status = CONNECTION
        seconds = time.perf_counter() - started
        return Sample(sender, position, text, sent_at - self.started, seconds, status, replies)

    async def rest_customer(self, customer: int) -> None:
        async with self.session(customer) as session:
            number = 0
            while True:
                sender = f"{self.prefix}-c{customer:03d}-{number:03d}"
                for position, text in enumerate(script_for(self.scripts, customer, number), 1):
                    if not self.budget.take():
                        return
                    self.record(await self.rest_turn(session, sender, position, text))
                number += 1

    async def socket_conversation(self, session: aiohttp.ClientSession, script: Script) -> bool:
        """One conversation over its own socket; False when it ended for want of budget."""
        client = socketio.AsyncClient(http_session=session, reconnection=False)
        received: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        client.on("bot_uttered", received.append)
        client.on("message_refused", refused.append)
        client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        conversation = "(not connected)"
        try:
            await client.connect(
                self.url,
                socketio_path=SOCKETIO_PATH,
                transports=["websocket"],
                wait_timeout=int(self.timeout),
            )
            await client.emit("session_request", {})
            conversation = await asyncio.wait_for(confirmed, self.timeout)
            for position, text in enumerate(script, 1):
                if not self.budget.take():
                    return False
                received.clear()
                refused.clear()
                sent_at = time.monotonic()
                started = time.perf_counter()
                status: int | str = 200
                try:
                    # The server acknowledges `user_uttered` when its handler returns, after
                    # the turn's bot messages were emitted: the ack ends the turn.
                    await client.call("user_uttered", {"message": text}, timeout=self.timeout)
                except socketio.exceptions.TimeoutError:
                    status = TIMEOUT
                except socketio.exceptions.SocketIOError:
                    status = CONNECTION
                seconds = time.perf_counter() - started
                if refused and status == 200:
                    code = (refused[0].get("error") or {}).get("code")
                    status = 429 if code == "rate_limited" else f"refused: {code}"
                self.record(
                    Sample(
                        conversation,
                        position,
                        text,
                        sent_at - self.started,
                        seconds,
                        status,
                        len(received),
                    )
                )
                if status == CONNECTION:
                    break
        except (socketio.exceptions.SocketIOError, asyncio.TimeoutError, OSError):
            if not self.budget.take():
                return False
            self.record(
                Sample(conversation, 0, "", time.monotonic() - self.started, 0.0, CONNECTION, 0)
            )
            await asyncio.sleep(1.0)  # a refused connection must not become a hot loop
        finally:
            if client.connected:
                await client.disconnect()
        return True

    async def socket_customer(self, customer: int) -> None:
        async with self.session(customer) as session:
            number = 0
            while await self.socket_conversation(
                session, script_for(self.scripts, customer, number)
            ):
                number += 1

    async def go(self, customers: int, memory: Memory | None) -> float:
        """Run the customers until the budget ends; the measured window in seconds."""
        one = self.rest_customer if self.channel == "rest" else self.socket_customer
        stop = asyncio.Event()
        watcher = asyncio.create_task(memory.watch(stop)) if memory else None
        self.started = time.monotonic()
        limit = max(0.0, self.budget.deadline - self.started) + self.timeout + RUN_GRACE_S
        tasks = [asyncio.create_task(one(n)) for n in range(customers)]
        done, pending = await asyncio.wait(tasks, timeout=limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        stop.set()
        if watcher:
            await watcher
        ends = [s.sent_at + s.seconds for s in self.samples]
        return max(ends) if ends else time.monotonic() - self.started


@dataclass(frozen=True)
class Load:
    """A run's shape: customers at once, turns a conversation, how long, how much, timeout."""

    customers: int
    turns: int
    duration: float
    max_messages: int | None
    timeout: float


def load(
    url: str,
    channel: str,
    scripts: Sequence[Script],
    spec: Load,
    prefix: str,
    memory: Memory | None,
    label: str,
) -> tuple[list[Sample], float]:
    """`spec.customers` customers for `spec.duration` seconds (or `spec.max_messages`): the
    samples and the measured window."""
    budget = Budget(time.monotonic() + spec.duration, spec.max_messages)
    with tqdm(desc=label, unit="msg", total=spec.max_messages, mininterval=5) as progress:
        run = Run(url, channel, scripts, spec.turns, prefix, spec.timeout, budget, progress)
        window = asyncio.run(run.go(spec.customers, memory))
    return run.samples, window


async def _long(
    url: str, messages: Sequence[str], sender: str, timeout: float, tick: Callable[[], object]
) -> list[Sample]:
    run = Run(url, "rest", [], 1, sender, timeout, Budget(float("inf")), tqdm(disable=True))
    samples = []
    async with run.session(0) as session:
        last = 0.0
        for position, text in enumerate(messages, 1):
            await asyncio.sleep(max(0.0, last + LONG_PACE_S - time.monotonic()))
            last = time.monotonic()
            samples.append(await run.rest_turn(session, sender, position, text))
            tick()
    return samples


def long_conversation_run(
    url: str, messages: Sequence[str], sender: str, timeout: float, label: str
) -> list[Sample]:
    """One conversation, one turn after the other, paced to at most ~2 messages a second."""
    with tqdm(desc=label, unit="turn", total=len(messages), mininterval=5) as progress:
        return asyncio.run(_long(url, messages, sender, timeout, progress.update))
