"""A Rasa server with two Sanic workers and Redis: the retrain job's `PUT /model` reaches one
worker, and answers only once both serve the new model (bot/rasa_plugins/model_sync.py).

The models folder holds the trained model under two names, so which one a worker serves is
its file name; each worker reports the model its agent has in its Redis registration.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import redis

from bot.endpoints import write_endpoints
from bot.jobs.retrain import load_into_rasa, predict
from bot.rasa_plugins.model_sync import ALIVE_S, PREFIX
from bot.settings import load_settings
from bot.setup import prepare_store
from bot.training import ensure_model
from tests.faults.harness import RASA_START_S, Node, Stack, base_env, eventually

pytestmark = pytest.mark.e2e
REDIS_URL = "redis://127.0.0.1:6379/15"
WORKERS = 2
FIRST, SECOND = "northwind-first.tar.gz", "northwind-second.tar.gz"
CAUGHT_UP_S = 60
"""A worker stopped during a load loads the model (seconds) once it runs again."""


def registrations() -> dict[str, str]:
    """Worker id -> the file name of the model it serves, for every live registration."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ids = sorted(member.decode() for member in client.smembers(f"{PREFIX}:workers"))
        states = client.mget([f"{PREFIX}:worker:{worker}" for worker in ids]) if ids else []
    finally:
        client.close()
    return {
        worker: Path(json.loads(state)["model"] or "").name
        for worker, state in zip(ids, states, strict=True)
        if state
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    var_dir = tmp_path_factory.mktemp("model-sync-var")
    models = var_dir / "models"
    models.mkdir()
    trained = ensure_model()
    for name in (FIRST, SECOND):
        shutil.copyfile(trained, models / name)
    env = base_env(
        var_dir,
        f"sqlite:///{var_dir / 'crm.sqlite3'}",
        CRM_REDIS_URL=REDIS_URL,
        CRM_RASA_WORKERS=str(WORKERS),
    )
    settings = load_settings(env)
    engine, _ = prepare_store(settings)
    engine.dispose()
    node = Node(settings, write_endpoints(settings, var_dir / "endpoints.yml"))
    (var_dir / "logs").mkdir()
    stack = Stack(env, settings, models / FIRST, [node], logs=var_dir / "logs")
    seen: set[str] = set()
    try:
        stack.start("rasa")
        stack.wait_rasa()

        def both_registered() -> None:
            workers = registrations()
            seen.update(workers)
            assert list(workers.values()) == [FIRST] * WORKERS, (workers, stack.tail("rasa"))

        eventually(both_registered, timeout=RASA_START_S)
        yield stack, models
    finally:
        stack.stop_all()
        client = redis.Redis.from_url(REDIS_URL)
        try:
            seen.update(registrations())
            client.delete(f"{PREFIX}:latest", *(f"{PREFIX}:worker:{w}" for w in seen))
            if seen:
                client.srem(f"{PREFIX}:workers", *seen)
        finally:
            client.close()


def test_a_model_put_on_one_worker_is_served_by_every_worker(server) -> None:
    stack, models = server
    questions = ["how do I change my PIN?"] * 4 * WORKERS
    before = predict(stack.settings, questions)

    load_into_rasa(stack.settings, models / SECOND)

    workers = registrations()  # no waiting: the PUT answered once every worker had it
    assert list(workers.values()) == [SECOND] * WORKERS, workers
    assert len({worker.split(":")[1] for worker in workers}) == WORKERS, "two processes"
    assert predict(stack.settings, questions) == before  # the same model under another name


def test_a_worker_stopped_during_a_load_follows_it_when_it_runs_again(server) -> None:
    """A worker that misses the announcement is no longer live once its key expires: the
    `PUT` does not wait for it, and it loads the model as soon as it runs again."""
    stack, models = server
    stopped, running = sorted(registrations())
    pid = int(stopped.split(":")[1])
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        load_into_rasa(stack.settings, models / FIRST)
        assert time.monotonic() - started < ALIVE_S + 30
        assert registrations() == {running: FIRST}
    finally:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)

    def caught_up() -> None:
        assert registrations() == {stopped: FIRST, running: FIRST}

    eventually(caught_up, timeout=CAUGHT_UP_S)
