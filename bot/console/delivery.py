"""Delivers the calls the console owes Rasa (bot/crm/store/deliveries.py), with retries.

The request that records a delivery tries it at once with a short timeout; whatever Rasa
did not confirm stays pending and this worker retries it with capped exponential backoff,
the oldest of each conversation first, until Rasa confirms it or the attempts run out
(then it is `failed`, which the agent sees). Each attempt holds a lease in the store, so
several consoles can run workers over one CRM store. Every change of a delivery's status
is published on the agents' live feed as `{"type": "delivery", "delivery": ...}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.console.context import LIVE, RASA, STORE
from bot.console.errors import ApiError
from bot.console.live import LiveFeed
from bot.console.rasa_client import QUICK_TIMEOUT, TIMEOUT, RasaClient
from bot.crm.enums import DeliveryKind, DeliveryStatus
from bot.crm.store import CRMStore
from bot.crm.store.deliveries import DeliveryView

OUTCOME_POLL_S = 0.1

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. The defaults retry for about 20 minutes, at most
    30 s apart: a Rasa restart or redeploy is well within it and its end is noticed soon;
    a longer outage leaves `failed` deliveries, which the agents see."""

    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_attempts: int = 40
    lease_s: float = 30.0
    """Longer than one attempt's timeout: a lease only lapses when its worker died."""
    poll_s: float = 1.0
    batch: int = 20

    def delay(self, attempts: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempts)


class DeliveryWorker:
    def __init__(
        self,
        store: CRMStore,
        rasa: RasaClient,
        live: LiveFeed,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.live = live
        self.policy = policy or RetryPolicy()
        self.name = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"[:64]
        self._wake = asyncio.Event()

    async def attempt(
        self,
        delivery_id: int,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
        wake_next: bool = True,
    ) -> DeliveryView:
        """Try one delivery now if it is its conversation's next and nobody holds it;
        returns its state afterwards (still `pending` when it could not be tried).

        `wake_next`: once it is delivered, the worker goes on with the conversation's next
        at once rather than at its next poll (a request trying several in turn says no).
        """
        claimed = await asyncio.to_thread(
            self.store.deliveries.claim, delivery_id, self.name, self.policy.lease_s
        )
        if claimed is None:
            return await asyncio.to_thread(self.store.deliveries.get, delivery_id)
        try:
            await self._send(claimed, timeout)
        except ApiError as error:
            give_up = claimed["attempts"] + 1 >= self.policy.max_attempts
            changed = await asyncio.to_thread(
                self.store.deliveries.retry_later,
                delivery_id,
                self.name,
                error.message,
                self.policy.delay(claimed["attempts"]),
                give_up,
            )
            if give_up:
                logger.error("gave up delivering %s: %s", _describe(claimed), error.message)
            else:
                logger.warning("%s not delivered yet: %s", _describe(claimed), error.message)
        else:
            done = await asyncio.to_thread(self.store.deliveries.delivered, delivery_id, self.name)
            changed = [done] if done is not None else []
            if wake_next:
                self.wake()
        for delivery in changed:
            await self.live.publish({"type": "delivery", "delivery": delivery})
        for delivery in changed:
            if delivery["id"] == delivery_id:
                return delivery
        return await asyncio.to_thread(self.store.deliveries.get, delivery_id)

    async def attempt_now(self, pending: DeliveryView) -> DeliveryView:
        """The first try, made while an agent's request waits: short timeout. What it owes is
        committed already, so any failure here leaves it `pending` for the worker, never an
        error answer that would make the agent send it again."""
        try:
            result = await self.attempt(pending["id"], QUICK_TIMEOUT, wake_next=False)
            return await self._while_another_tries(result, pending["attempts"])
        except Exception:
            logger.exception("first try of %s failed; the worker retries it", _describe(pending))
            return pending

    async def _while_another_tries(self, delivery: DeliveryView, attempts: int) -> DeliveryView:
        """Wait, as long as a first try may take, for the outcome of a try this request could
        not make because another (the worker's poll, another console) held the delivery: the
        agent should hear "delivered" when it was, not "pending"."""
        deadline = asyncio.get_running_loop().time() + (QUICK_TIMEOUT.total or 0)
        while (
            delivery["status"] == DeliveryStatus.PENDING
            and delivery["attempts"] == attempts
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(OUTCOME_POLL_S)
            delivery = await asyncio.to_thread(self.store.deliveries.get, delivery["id"])
        return delivery

    async def _send(self, delivery: DeliveryView, timeout: aiohttp.ClientTimeout) -> None:
        conversation_id = delivery["conversation_id"]
        payload = delivery["payload"]
        if delivery["kind"] == DeliveryKind.AGENT_MESSAGE:
            await self.rasa.deliver_agent_message(conversation_id, payload, timeout)
        elif delivery["kind"] == DeliveryKind.RESUME:
            await self.rasa.resume(conversation_id, timeout)
        else:
            await self.rasa.trigger_intent(conversation_id, payload["intent"], timeout)

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Try every delivery that is due, conversations in parallel; returns how many."""
        due = await asyncio.to_thread(self.store.deliveries.due, self.policy.batch)
        await asyncio.gather(*(self.attempt(delivery_id) for delivery_id in due))
        return len(due)

    async def run(self) -> None:
        while True:
            try:
                tried = await self.run_once()
            except Exception:
                logger.exception("delivery worker could not read the store; retrying")
                tried = 0
            if tried < self.policy.batch:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.policy.poll_s)
            self._wake.clear()


def _describe(delivery: DeliveryView) -> str:
    return f"{delivery['kind']} {delivery['id']} of conversation {delivery['conversation_id']}"


DELIVERIES = web.AppKey("deliveries", DeliveryWorker)


async def delivery_worker(app: web.Application) -> AsyncIterator[None]:
    """The console's delivery worker runs from startup to cleanup."""
    worker = DeliveryWorker(app[STORE], app[RASA], app[LIVE])
    app[DELIVERIES] = worker
    task = asyncio.create_task(worker.run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
