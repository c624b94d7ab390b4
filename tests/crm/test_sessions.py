"""Staff sessions on SQLite and PostgreSQL: tokens, expiry, logout, account changes at once."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.crm.enums import StaffRole
from bot.crm.models import StaffSession
from bot.crm.store import Conflict, CRMStore, NotFound, StaffInfo
from bot.crm.store.base import as_utc
from tests.crm.conftest import Clock


def stored_session(store: CRMStore, token: str) -> StaffSession:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with Session(store.engine, future=True) as session:
        return session.scalars(select(StaffSession).where(StaffSession.token_hash == digest)).one()


def test_a_session_token_names_its_account_and_only_its_hash_is_stored(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    token = store.sessions.open(ana.id, user_agent="Firefox", ip="192.0.2.7")
    assert len(token) >= 43
    assert store.sessions.identity(token) == ana
    row = stored_session(store, token)
    assert (row.staff_id, row.user_agent, row.ip, row.revoked_at) == (
        ana.id,
        "Firefox",
        "192.0.2.7",
        None,
    )
    with store.engine.connect() as connection:
        dump = connection.execute(text("SELECT * FROM staff_sessions")).all()
    assert token not in repr(dump)
    assert store.sessions.open(ana.id) != token


def test_unknown_and_empty_tokens_name_nobody(store: CRMStore) -> None:
    store.sessions.open(store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id)
    assert store.sessions.identity("made-up-token") is None
    assert store.sessions.identity("") is None


@pytest.mark.parametrize("token", ["é", "\udce9", "é" * 43, "tok\udce9en"])
def test_tokens_that_are_not_ascii_name_nobody_without_raising(store: CRMStore, token: str) -> None:
    """A raw non-UTF-8 header byte reaches the console as a lone surrogate."""
    store.sessions.open(store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id)
    assert store.sessions.identity(token) is None


def test_a_session_ends_when_it_expires(store: CRMStore, clock: Clock) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    token = store.sessions.open(ana.id, ttl_s=600)
    clock.advance(seconds=599)
    assert store.sessions.identity(token) == ana
    clock.advance(seconds=1)
    assert store.sessions.identity(token) is None
    assert store.sessions.revoke(token) is False, "an expired session is no longer live"


def test_last_seen_is_written_at_most_once_a_minute(store: CRMStore, clock: Clock) -> None:
    token = store.sessions.open(store.staff.create("ana", "ana-password-1", StaffRole.AGENT).id)
    opened = clock.now
    clock.advance(seconds=59)
    store.sessions.identity(token)
    assert as_utc(stored_session(store, token).last_seen_at) == opened
    clock.advance(seconds=1)
    store.sessions.identity(token)
    assert as_utc(stored_session(store, token).last_seen_at) == clock.now


def test_logout_ends_one_session(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    laptop, phone = store.sessions.open(ana.id), store.sessions.open(ana.id)
    assert store.sessions.revoke(laptop) is True
    assert store.sessions.identity(laptop) is None
    assert store.sessions.revoke(laptop) is False
    assert store.sessions.identity(phone) == ana
    assert stored_session(store, laptop).revoked_at is not None


def test_revoke_all_ends_every_session_of_one_account_only(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    bob = store.staff.create("bob", "bob-password-1", StaffRole.AGENT)
    anas = [store.sessions.open(ana.id) for _ in range(3)]
    bobs = store.sessions.open(bob.id)
    store.sessions.revoke(anas[0])
    assert store.sessions.revoke_all(ana.id) == 2
    assert [store.sessions.identity(token) for token in anas] == [None, None, None]
    assert store.sessions.identity(bobs) == bob
    assert store.sessions.revoke_all(ana.id) == 0


def test_identity_reads_the_account_as_it_is_now(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    token = store.sessions.open(ana.id)
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE staff_users SET role = 'supervisor' WHERE id = :id"), {"id": ana.id}
        )
    assert store.sessions.identity(token).role == StaffRole.SUPERVISOR
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE staff_users SET active = :off WHERE id = :id"),
            {"off": False, "id": ana.id},
        )
    assert store.sessions.identity(token) is None


def test_a_role_change_ends_the_sessions_and_the_next_one_has_the_new_role(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    bob = store.staff.create("bob", "bob-password-1", StaffRole.AGENT)
    old, bobs = store.sessions.open(ana.id), store.sessions.open(bob.id)
    promoted = store.staff.update(ana.id, role=StaffRole.SUPERVISOR)
    assert promoted == StaffInfo(ana.id, "ana", StaffRole.SUPERVISOR, active=True)
    assert store.sessions.identity(old) is None
    assert store.sessions.identity(store.sessions.open(ana.id)) == promoted
    assert store.sessions.identity(bobs) == bob


def test_an_update_that_changes_nothing_keeps_the_sessions(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    token = store.sessions.open(ana.id)
    assert store.staff.update(ana.id, role=StaffRole.AGENT, active=True) == ana
    assert store.sessions.identity(token) == ana


def test_deactivation_ends_the_sessions_and_reactivation_does_not_revive_them(
    store: CRMStore,
) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    token = store.sessions.open(ana.id)
    assert store.staff.update(ana.id, active=False).active is False
    assert store.sessions.identity(token) is None
    assert store.staff.authenticate("ana", "ana-password-1") is None
    assert store.staff.update(ana.id, active=True) == ana
    assert store.sessions.identity(token) is None
    assert stored_session(store, token).revoked_at is not None


def test_get_and_update_reject_unknown_accounts_and_roles(store: CRMStore) -> None:
    ana = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    assert store.staff.get(ana.id) == ana
    with pytest.raises(NotFound):
        store.staff.get(ana.id + 100)
    with pytest.raises(NotFound):
        store.staff.update(ana.id + 100, active=False)
    with pytest.raises(ValueError, match="role"):
        store.staff.update(ana.id, role="owner")
    assert store.staff.get(ana.id) == ana


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(store: CRMStore) -> None:
    root = store.staff.create("root", "root-password-1", StaffRole.ADMIN)
    token = store.sessions.open(root.id)
    with pytest.raises(Conflict):
        store.staff.update(root.id, role=StaffRole.SUPERVISOR)
    with pytest.raises(Conflict):
        store.staff.update(root.id, active=False)
    assert store.sessions.identity(token) == root
    second = store.staff.create("second", "second-password-1", StaffRole.ADMIN)
    assert store.staff.update(root.id, active=False).active is False
    with pytest.raises(Conflict):
        store.staff.update(second.id, role=StaffRole.AGENT)
