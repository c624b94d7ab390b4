"""Model loads spread through a real Redis (db 15, keys under a prefix of the test's own):
registrations, announcements and the wait for every worker. Rasa's loading is stood in for
by a loader that records the path; tests/scaleout/test_model_load_everywhere.py runs the
real servers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from rasa.core.utils import AvailableEndpoints
from sanic import Sanic

from bot.rasa_plugins.model_sync import ModelSync
from bot.rasa_server import build_app, loadable
from bot.settings import load_settings

REDIS_URL = "redis://127.0.0.1:6379/15"
WAIT_S = 10


class Worker:
    """A stand-in for one Sanic worker: the model it serves, and the ones it was told to load."""

    def __init__(self, serving: Path | None, fail: str | None = None) -> None:
        self.model: Path | None = serving
        self.loaded: list[Path] = []
        self.fail = fail

    async def load(self, path: Path) -> None:
        if self.fail:
            raise RuntimeError(self.fail)
        self.loaded.append(path)
        self.model = path


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"crm:model:test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{name}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("old.tar.gz", "new.tar.gz", "newer.tar.gz"):
        (folder / name).write_bytes(b"a model")
    return folder


@pytest.fixture
async def syncs(prefix: str, models: Path) -> AsyncIterator[Callable[..., ModelSync]]:
    """Makes a worker's ModelSync; every one made is stopped (and unregistered) at the end."""
    made: list[ModelSync] = []

    def make(worker: Worker) -> ModelSync:
        sync = ModelSync(
            aioredis.from_url(REDIS_URL),
            models,
            loadable,
            load=worker.load,
            serving=lambda: worker.model,
            prefix=prefix,
        )
        made.append(sync)
        return sync

    yield make
    for sync in made:
        await sync.stop()


async def started(*syncs: ModelSync) -> None:
    """Start each worker and wait (bounded) until all of them are registered and subscribed."""
    for sync in syncs:
        await sync.start()
    deadline = time.monotonic() + WAIT_S
    channel = syncs[0].channel
    while len(await syncs[0].live_workers()) < len(syncs) or (
        (await syncs[0].client.pubsub_numsub(channel))[0][1] < len(syncs)
    ):
        assert time.monotonic() < deadline, "the workers did not register in time"
        await asyncio.sleep(0.05)


def announcement(name: str, generation: int) -> str:
    return json.dumps({"model": name, "generation": generation})


async def test_a_worker_is_registered_with_its_model_until_it_stops(syncs, models) -> None:
    sync = syncs(Worker(models / "old.tar.gz"))
    await started(sync)

    workers = await sync.live_workers()
    assert workers == {
        sync.worker_id: {
            "model": str(models / "old.tar.gz"),
            "born": sync.born,
            "generation": sync.born,
            "error": None,
        }
    }
    assert abs(sync.born / 1e6 - time.time()) < WAIT_S  # Redis's clock, in microseconds
    await sync.stop()
    other = syncs(Worker(None))
    assert await other.live_workers() == {}
    assert not await other.client.exists(sync.worker_key)


async def test_a_registration_not_refreshed_expires_and_is_forgotten(syncs, models) -> None:
    sync = syncs(Worker(models / "old.tar.gz"))
    await sync.register(ttl_s=1)
    await asyncio.sleep(1.2)

    assert await sync.live_workers() == {}
    assert await sync.client.smembers(sync.workers_key) == set()


async def test_a_model_loaded_by_one_worker_is_loaded_by_every_other(syncs, models) -> None:
    workers = [Worker(models / "old.tar.gz") for _ in range(3)]
    first, *others = [syncs(worker) for worker in workers]
    await started(first, *others)
    workers[0].model = models / "new.tar.gz"  # what Rasa's `PUT /model` handler did here

    assert await asyncio.wait_for(first.spread(models / "new.tar.gz"), WAIT_S) is None

    assert workers[0].loaded == []
    assert [worker.loaded for worker in workers[1:]] == [[models / "new.tar.gz"]] * 2
    reported = {Path(state["model"]).name for state in (await first.live_workers()).values()}
    assert reported == {"new.tar.gz"}


async def test_only_an_announcement_newer_than_the_last_one_followed_is_loaded(
    syncs, models
) -> None:
    worker = Worker(models / "old.tar.gz")
    sync = syncs(worker)
    sync.born = sync.generation = 5

    for generation, name in [(7, "new"), (7, "newer"), (6, "newer"), (5, "newer"), (4, "newer")]:
        await sync.handle(announcement(f"{name}.tar.gz", generation))
    await sync.handle(b"not json")

    assert worker.loaded == [models / "new.tar.gz"]


@pytest.mark.parametrize("name", ["../elsewhere.tar.gz", "new.zip", "/tmp/new.tar.gz"])
async def test_a_model_outside_the_models_folder_is_never_loaded(syncs, models, name) -> None:
    """Anyone who can publish on Redis could announce: loading a model runs its code."""
    worker = Worker(models / "old.tar.gz")
    sync = syncs(worker)

    await sync.handle(announcement(name, 1))

    assert worker.loaded == []
    assert "is not a model file" in (await sync.live_workers())[sync.worker_id]["error"]


async def test_a_worker_that_missed_the_announcement_follows_it_at_its_heartbeat(
    syncs, models
) -> None:
    """Pub/sub keeps nothing for a worker that was not listening (reconnecting, stopped)."""
    first, missed = Worker(models / "new.tar.gz"), Worker(models / "old.tar.gz")
    announcer, late = syncs(first), syncs(missed)
    await started(announcer)
    late.born = late.generation = await late.now()  # started, but neither listening nor beating
    await late.register()
    await announcer.spread(models / "new.tar.gz", timeout_s=0)
    assert missed.loaded == []

    late.tasks = [asyncio.create_task(late.heartbeat())]

    deadline = time.monotonic() + WAIT_S
    while (await late.live_workers())[late.worker_id]["model"] != str(models / "new.tar.gz"):
        assert time.monotonic() < deadline, "the heartbeat did not follow the announcement"
        await asyncio.sleep(0.05)
    assert missed.loaded == [models / "new.tar.gz"]


async def test_a_worker_started_after_an_announcement_keeps_its_own_model(syncs, models) -> None:
    """A server (re)started later was given its model: an old announcement is not for it."""
    announcer = syncs(Worker(models / "new.tar.gz"))
    await started(announcer)
    assert await announcer.spread(models / "new.tar.gz", timeout_s=WAIT_S) is None
    restarted = Worker(models / "newer.tar.gz")
    sync = syncs(restarted)

    await started(sync)
    await sync.handle(await sync.client.get(sync.latest_key))

    assert restarted.loaded == []
    assert restarted.model == models / "newer.tar.gz"


async def test_a_worker_that_cannot_load_fails_the_put_at_once(syncs, models) -> None:
    here, broken = Worker(models / "new.tar.gz"), Worker(models / "old.tar.gz", fail="disk full")
    first, second = syncs(here), syncs(broken)
    await started(first, second)
    began = time.monotonic()

    problem = await first.spread(models / "new.tar.gz", timeout_s=60)

    assert time.monotonic() - began < WAIT_S
    assert problem == (
        "new.tar.gz is loaded here, but 1 of 2 workers still answer with their previous model "
        "(new.tar.gz: disk full)"
    )


async def test_a_worker_that_never_answers_fails_the_put_when_the_time_is_up(syncs, models) -> None:
    """Registered, but not listening (its loop stuck, say): the wait is bounded."""
    first, stuck = syncs(Worker(models / "new.tar.gz")), syncs(Worker(models / "old.tar.gz"))
    await started(first)
    await stuck.register()
    began = time.monotonic()

    problem = await first.spread(models / "new.tar.gz", timeout_s=1)

    assert 1 <= time.monotonic() - began < 1 + WAIT_S
    assert problem == (
        "new.tar.gz is loaded here, but 1 of 2 workers still answer with their previous model "
        "(not loaded within 1 s)"
    )


async def test_a_later_load_ends_the_wait_of_an_earlier_one(syncs, models) -> None:
    first, stuck = syncs(Worker(models / "new.tar.gz")), syncs(Worker(models / "old.tar.gz"))
    await started(first)
    await stuck.register()
    waiting = asyncio.create_task(first.spread(models / "new.tar.gz", timeout_s=WAIT_S))
    await asyncio.sleep(0.5)

    later = announcement("newer.tar.gz", await first.now())  # another worker's `PUT /model`
    await first.client.set(first.latest_key, later)

    problem = await asyncio.wait_for(waiting, WAIT_S)
    assert problem == "another model load began while new.tar.gz was spreading"


def test_without_redis_the_app_is_as_before(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)  # other tests built an app of this name
    env = {"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"}
    alone = build_app(load_settings(env), tmp_path / "m.tar.gz", AvailableEndpoints())
    shared = build_app(
        load_settings({**env, "CRM_REDIS_URL": REDIS_URL, "CRM_RASA_WORKERS": "1"}),
        tmp_path / "m.tar.gz",
        AvailableEndpoints(),
    )

    def syncing(app: Sanic) -> bool:
        return any(h.__module__ == "bot.rasa_plugins.model_sync" for h in app.response_middleware)

    assert syncing(shared) and not syncing(alone)
