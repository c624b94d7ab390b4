"""Two Rasa servers (each with its own action server) share conversations through PostgreSQL,
Redis and RabbitMQ: every message lands in the CRM store once, in the conversation's order; a
widget's socket on one server hears what the other sends its room; a customer's rate limit is
one budget over both servers.

The stores: PostgreSQL for the tracker and the CRM (one database of the test's own), Redis as
Rasa's lock store (so two servers never run the same conversation at once), RabbitMQ between
the servers' outboxes and the single `crm drain` that writes the CRM store.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import aio_pika
import pytest
from sqlalchemy import create_engine, text

from bot.outbox.amqp import dead_queue
from bot.outbox.status import outbox_status
from bot.rasa_plugins.limits import PER_SENDER_RATE
from bot.settings import KeyPurpose
from bot.signing import SIGNATURE_HEADER, sign
from tests.e2e.conftest import http
from tests.faults.harness import Stack, base_env, eventually, postgres_databases, running_stack
from tests.faults.widget import Widget, until

pytestmark = pytest.mark.e2e
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/13"
CONVERSATIONS = 6
ROUNDS = 3
STORED_S = 90
QUESTIONS = (
    "how do I change my PIN?",
    "can I pay with apple pay?",
    "what exchange rate do you use?",
    "my top-up failed",
    "how do I activate my card?",
    "which countries do you support?",
    "my pin is blocked",
    "is there a fee for card payments?",
    "thank you",
)


async def _delete_queues(queue: str) -> None:
    connection = await aio_pika.connect(AMQP_URL, timeout=10)
    async with connection:
        channel = await connection.channel()
        for name in (queue, dead_queue(queue)):
            await channel.queue_delete(name)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    queue = f"faults_scaleout_{uuid.uuid4().hex[:10]}"
    with postgres_databases("scaleout") as urls:
        var_dir = tmp_path_factory.mktemp("scaleout-var")
        env = base_env(
            var_dir,
            urls["scaleout"],
            CRM_REDIS_URL=REDIS_URL,
            CRM_AMQP_URL=AMQP_URL,
            CRM_AMQP_QUEUE=queue,
            CRM_RASA_WORKERS="1",
        )
        try:
            with running_stack(var_dir, env, rasa_servers=2) as stack:
                yield stack
        finally:
            asyncio.run(_delete_queues(queue))


def tracker_messages(stack: Stack, sender: str) -> list[tuple[str, str]]:
    """User and bot events in Rasa's shared tracker store: the order both servers agreed on."""
    engine = create_engine(stack.settings.tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT type_name, data FROM events WHERE sender_id = :sender"
                    " AND type_name IN ('user', 'bot') ORDER BY id"
                ),
                {"sender": sender},
            ).all()
    finally:
        engine.dispose()
    return [
        ("customer" if kind == "user" else "bot", json.loads(data)["text"]) for kind, data in rows
    ]


def test_interleaved_turns_on_two_rasa_servers_are_stored_once_in_order(
    two_servers: Stack,
) -> None:
    stack = two_servers
    prefix = f"scaleout-{uuid.uuid4().hex[:8]}"
    senders = [f"{prefix}-{number}" for number in range(CONVERSATIONS)]
    sent: dict[str, list[str]] = {sender: [] for sender in senders}
    answered: dict[str, list[str]] = {sender: [] for sender in senders}
    lock = threading.Lock()

    def turn(sender: str, question: int, node: int) -> None:
        text_ = QUESTIONS[question % len(QUESTIONS)]
        lines = [reply["text"] for reply in stack.say(sender, text_, node=node) if "text" in reply]
        assert lines, f"no answer to {text_!r} on server {node + 1}"
        with lock:
            sent[sender].append(text_)
            answered[sender].extend(lines)

    def converse(sender: str, number: int) -> None:
        """Each round: two messages at once, one to each server, then one to each in turn."""
        with ThreadPoolExecutor(2) as both:
            for round_ in range(ROUNDS):
                base = round_ * 3 + number
                pair = [both.submit(turn, sender, base + node, node) for node in (0, 1)]
                for future in pair:
                    future.result()
                turn(sender, base + 2, (round_ + number) % 2)

    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        for future in [pool.submit(converse, s, n) for n, s in enumerate(senders)]:
            future.result()

    def all_stored_once_in_order() -> None:
        for sender in senders:
            stored = stack.stored(sender)
            assert stored == tracker_messages(stack, sender), sender
            customer = [line for who, line in stored if who == "customer"]
            bot = [line for who, line in stored if who == "bot"]
            assert Counter(customer) == Counter(sent[sender]), sender
            assert Counter(bot) == Counter(answered[sender]), sender

    eventually(all_stored_once_in_order, timeout=STORED_S, interval=0.5)
    status = outbox_status(stack.settings)
    assert (status["backlog"], status["dead"], status["queue"]) == (0, 0, 0), status


def post_agent_message(stack: Stack, node: int, conversation_id: str, text_: str) -> dict:
    """What the console does to reach a widget, sent to the server `node` (signed)."""
    body = json.dumps({"conversation_id": conversation_id, "text": text_, "agent": "Ana"}).encode()
    signature = sign(stack.settings.key_for(KeyPurpose.AGENT_MESSAGE), body)
    request = urllib.request.Request(
        f"{stack.nodes[node].settings.rasa_url}/webhooks/socketio/agent_message",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


async def test_a_widget_on_one_server_hears_what_the_other_server_sends_its_room(
    two_servers: Stack,
) -> None:
    async with Widget(two_servers, None, None) as widget:
        await widget.say("hello")
        await until(lambda: widget.shown, 60, "the bot's answer on server 1")
        for number in range(3):
            sent = await asyncio.to_thread(
                post_agent_message, two_servers, 1, widget.session_id, f"agent line {number}"
            )
            assert sent == {"sent": True}
        await until(
            lambda: {"agent line 0", "agent line 1", "agent line 2"} <= set(widget.texts()),
            30,
            "the agent's lines sent through server 2",
        )


def test_a_conversations_rate_limit_is_one_budget_over_both_servers(two_servers: Stack) -> None:
    """Each server alone would take a burst: together they must not take two."""
    rate, burst = PER_SENDER_RATE
    sender = f"scaleout-rate-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"sender": sender, "message": "thank you"}).encode()
    urls = [f"{node.settings.rasa_url}/webhooks/rest/webhook" for node in two_servers.nodes]
    with ThreadPoolExecutor(2 * burst) as pool:
        statuses = list(
            pool.map(lambda n: http("POST", urls[n % 2], body).status, range(2 * burst))
        )
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(429) >= burst // 2, statuses
