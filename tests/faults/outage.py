"""Eight conversations carry on while the CRM store is unavailable for some seconds.

Each conversation says one thing before the outage, four things spread over it and one
after; every turn must be answered quickly, and afterwards the CRM store must hold every
message of every conversation exactly once, in the order the REST channel gave them. Rasa's
log must show that its outbox relay failed and then came back, so the outage did reach the
relay's retries rather than ending before its first attempt.

How long an outage must last depends on how the store fails (each test says why): longer
than the gate's 2 s store timeout in any case, and long enough for the relay to retry.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

from bot.outbox.status import outbox_status
from tests.faults.harness import Stack, eventually

CONVERSATIONS = 8
TURN_LIMIT_S = 8.0
"""Before the outbox a locked store held every turn for SQLite's 10 s busy timeout."""
CATCH_UP_S = 120
"""The relays' backoff is capped well below this; the store is back when it starts."""
RELAY_BACK = re.compile(r"outbox delivery is back after (\d+) s of failures")
QUESTIONS = (
    "how do I change my PIN?",
    "can I pay with apple pay?",
    "what exchange rate do you use?",
    "my top-up failed",
    "how do I activate my card?",
    "thank you",
)
"""Answered from the domain's responses: no custom action (which may read the CRM) runs."""


class Conversations:
    """What each conversation sent and got back, and how long each turn took."""

    def __init__(self, stack: Stack, senders: list[str], node_of: Callable[[str, int], int]):
        self.stack = stack
        self.node_of = node_of
        self.expected: dict[str, list[tuple[str, str]]] = {sender: [] for sender in senders}
        self.turn_times: list[float] = []
        self.lock = threading.Lock()

    def turn(self, sender: str, index: int) -> None:
        text = QUESTIONS[index]
        started = time.monotonic()
        replies = self.stack.say(sender, text, node=self.node_of(sender, index))
        took = time.monotonic() - started
        lines = [reply["text"] for reply in replies if "text" in reply]
        assert lines, f"{sender} got no answer to {text!r}"
        with self.lock:
            self.turn_times.append(took)
        self.expected[sender] += [("customer", text)] + [("bot", line) for line in lines]

    def assert_stored(self, timeout: float) -> None:
        """Every message once, in order; polled because the CRM writes follow the turn."""

        def check() -> None:
            for sender, expected in self.expected.items():
                stored = self.stack.stored(sender)
                assert stored == expected, (sender, stored, expected)

        eventually(check, timeout=timeout, interval=0.5)


def converse_through_outage(
    stack: Stack,
    outage: Callable[[], AbstractContextManager[object]],
    outage_s: float,
    relay_failed_s: int,
    node_of: Callable[[str, int], int] = lambda _sender, _index: 0,
) -> Conversations:
    """`outage` lasts `outage_s` (longer if the turns in it take longer); afterwards Rasa's
    relay must report having failed for at least `relay_failed_s` (whole seconds)."""
    prefix = f"faults-outage-{uuid.uuid4().hex[:8]}"
    senders = [f"{prefix}-{number}" for number in range(CONVERSATIONS)]
    talks = Conversations(stack, senders, node_of)
    middle = range(1, len(QUESTIONS) - 1)
    spacing = (outage_s - 5) / len(middle)
    log_before = len(stack.log_text("rasa"))

    def during(sender: str, offset: float, started: float) -> None:
        for step, index in enumerate(middle):
            time.sleep(max(0.0, started + offset + step * spacing - time.monotonic()))
            talks.turn(sender, index)

    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        for future in [pool.submit(talks.turn, sender, 0) for sender in senders]:
            future.result()
        with outage():
            started = time.monotonic()
            futures = [
                pool.submit(during, sender, number * spacing / CONVERSATIONS, started)
                for number, sender in enumerate(senders)
            ]
            for future in futures:
                future.result()
            time.sleep(max(0.0, started + outage_s - time.monotonic()))
        last = len(QUESTIONS) - 1
        for future in [pool.submit(talks.turn, sender, last) for sender in senders]:
            future.result()

    slowest = max(talks.turn_times)
    print(f"{len(talks.turn_times)} turns, slowest {slowest:.2f} s")
    assert slowest < TURN_LIMIT_S, f"a turn took {slowest:.1f} s"
    talks.assert_stored(CATCH_UP_S)
    status = outbox_status(stack.settings)
    assert (status["backlog"], status["dead"]) == (0, 0), status
    failed_for = [int(s) for s in RELAY_BACK.findall(stack.log_text("rasa")[log_before:])]
    print(f"the relay failed for {failed_for} s")
    assert failed_for, "the relay never failed: the outage ended before it tried"
    assert max(failed_for) >= relay_failed_s, failed_for
    return talks
