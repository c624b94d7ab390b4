"""Login throttling and the password pool: a flood of guesses is cut off and starves nothing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.console.auth import PasswordPool
from bot.console.errors import ApiError
from bot.console.throttle import IP_LIMIT, USER_LIMIT, WINDOW_S, LoginThrottle
from bot.crm.store import CRMStore, StaffInfo
from tests.console.helpers import AGENT_PASSWORD, PASSWORD, assert_error, bearer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SpiedAuthentication:
    """Wraps `store.staff.authenticate`: which threads it ran on, and optionally a gate."""

    def __init__(self, store: CRMStore, gate: threading.Event | None = None) -> None:
        self.original = store.staff.authenticate
        self.gate = gate
        self.threads: list[str] = []

    def __call__(self, username: str, password: str) -> StaffInfo | None:
        self.threads.append(threading.current_thread().name)
        if self.gate is not None:
            self.gate.wait(timeout=30)
        return self.original(username, password)


@pytest.fixture
def spied(console_store: CRMStore, monkeypatch: pytest.MonkeyPatch) -> SpiedAuthentication:
    spy = SpiedAuthentication(console_store)
    monkeypatch.setattr(console_store.staff, "authenticate", spy)
    return spy


async def attempt(client, username: str, password: str = "wrong password"):
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


def test_a_username_gets_five_tries_per_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    assert [throttle.admit("ana", "192.0.2.1") for _ in range(USER_LIMIT)] == [0.0] * USER_LIMIT
    clock.now += 60
    assert throttle.admit("ana", "192.0.2.2") == WINDOW_S - 60
    assert throttle.admit("ben", "192.0.2.1") == 0.0
    clock.now += WINDOW_S - 60
    assert throttle.admit("ana", "192.0.2.1") == 0.0


def test_an_address_gets_a_hundred_tries_across_usernames() -> None:
    throttle = LoginThrottle(clock=Clock())
    for n in range(IP_LIMIT):
        assert throttle.admit(f"user-{n}", "192.0.2.1") == 0.0
    assert throttle.admit("someone-new", "192.0.2.1") > 0
    assert throttle.admit("someone-new", "192.0.2.9") == 0.0


def test_one_address_guessing_cannot_lock_out_the_others_behind_it() -> None:
    throttle = LoginThrottle(clock=Clock())
    for username in ("admin", "boss", "agent", "ana"):
        for _ in range(USER_LIMIT):
            throttle.admit(username, "192.0.2.1")
    assert IP_LIMIT >= 20 * USER_LIMIT
    assert throttle.admit("ben", "192.0.2.1") == 0.0


def test_spellings_of_one_username_share_its_count() -> None:
    throttle = LoginThrottle(clock=Clock())
    for spelling in ("admin", "Admin", "admin ", "ADMIN", "ａｄｍｉｎ"):
        assert throttle.admit(spelling, "192.0.2.1") == 0.0
    assert throttle.admit("aDmIn", "192.0.2.2") > 0


def test_a_success_clears_the_username_and_forgives_the_address() -> None:
    throttle = LoginThrottle(user_limit=2, ip_limit=3, clock=Clock())
    throttle.admit("ana", "192.0.2.1")
    throttle.admit("ana", "192.0.2.1")
    throttle.succeeded("ana", "192.0.2.1")
    assert throttle.admit("ana", "192.0.2.1") == 0.0
    assert throttle.admit("ana", "192.0.2.1") == 0.0
    assert throttle.admit("ben", "192.0.2.1") > 0, "two failures and one forgiven success"


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(user_limit=1, clock=clock)
    throttle.admit("ana", "192.0.2.1")
    for _ in range(10):
        clock.now += 60
        throttle.admit("ana", "192.0.2.1")
    clock.now = 1000.0 + WINDOW_S
    assert throttle.admit("ana", "192.0.2.1") == 0.0


def test_memory_is_bounded_under_a_spray_of_usernames() -> None:
    throttle = LoginThrottle(ip_limit=10_000, max_keys=50, clock=Clock())
    for n in range(5000):
        throttle.admit(f"user-{n}", f"198.51.100.{n % 256}")
    assert throttle.remembered <= 100


async def test_the_sixth_bad_login_is_refused_without_hashing(client, spied) -> None:
    for _ in range(USER_LIMIT):
        await assert_error(await attempt(client, "agent"), 401, "invalid_credentials")
    refused = await attempt(client, "agent", AGENT_PASSWORD)
    await assert_error(refused, 429, "too_many_attempts")
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW_S
    assert len(spied.threads) == USER_LIMIT, "the refused attempt never reached argon2"
    assert (await attempt(client, "boss", PASSWORD)).status == 200, "other accounts still log in"


async def test_a_successful_login_resets_the_count(client, spied) -> None:
    for _ in range(USER_LIMIT - 1):
        await attempt(client, "agent")
    assert (await attempt(client, "agent", AGENT_PASSWORD)).status == 200
    for _ in range(USER_LIMIT):
        await assert_error(await attempt(client, "agent"), 401, "invalid_credentials")
    await assert_error(await attempt(client, "agent"), 429, "too_many_attempts")


async def test_one_address_spraying_usernames_is_refused(client, spied) -> None:
    for n in range(IP_LIMIT):
        await assert_error(await attempt(client, f"guess-{n}"), 401, "invalid_credentials")
    await assert_error(await attempt(client, "boss", PASSWORD), 429, "too_many_attempts")
    assert len(spied.threads) == IP_LIMIT


async def test_passwords_are_hashed_on_the_dedicated_threads(client, spied) -> None:
    assert (await attempt(client, "boss", PASSWORD)).status == 200
    await attempt(client, "agent")
    assert spied.threads and all(name.startswith("password-hash") for name in spied.threads)


async def test_a_login_flood_does_not_hold_up_other_requests(
    client, console_store, monkeypatch
) -> None:
    """Every hashing thread is stuck, logins queue behind them, and the API still answers."""
    gate = threading.Event()
    spy = SpiedAuthentication(console_store, gate)
    monkeypatch.setattr(console_store.staff, "authenticate", spy)
    agent = console_store.staff.list()[1]
    session = console_store.sessions.open(agent.id)
    flood = [asyncio.ensure_future(attempt(client, f"flood-{n}")) for n in range(10)]
    try:
        while len(spy.threads) < 2:
            await asyncio.sleep(0.01)
        reply = await asyncio.wait_for(
            client.get("/api/v1/conversations", headers=bearer(session)), timeout=30
        )
        assert reply.status == 200
        assert len(spy.threads) == 2, "the two hashing threads are still busy with the flood"
        assert not any(login.done() for login in flood)
    finally:
        gate.set()
    assert [reply.status for reply in await asyncio.gather(*flood)] == [401] * 10


async def test_a_full_password_pool_refuses_instead_of_queueing() -> None:
    gate = threading.Event()
    pool = PasswordPool(workers=1, max_waiting=2)
    try:
        running = [asyncio.ensure_future(pool.run(gate.wait, 30)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(ApiError) as refused:
            await pool.run(gate.wait, 30)
        assert (refused.value.status, refused.value.code) == (503, "busy")
        assert refused.value.headers["Retry-After"]
        gate.set()
        assert await asyncio.gather(*running) == [True, True]
        assert await pool.run(sum, [1, 2]) == 3
    finally:
        gate.set()
        pool.shutdown()
