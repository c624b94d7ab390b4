"""Staff accounts on SQLite and PostgreSQL: passwords, unique names, known roles only."""

from __future__ import annotations

import pytest

from bot.crm.enums import StaffRole
from bot.crm.store import CRMStore
from bot.setup import ADMIN_USERNAME, ensure_admin


def test_staff_accounts_authenticate_by_password(store: CRMStore) -> None:
    created = store.staff.create("ana", "correct horse battery", StaffRole.AGENT)
    assert store.staff.authenticate("ana", "correct horse battery") == created
    assert store.staff.authenticate("ana", "wrong password") is None
    assert store.staff.authenticate("nobody", "correct horse battery") is None
    with pytest.raises(ValueError, match="already exists"):
        store.staff.create("ana", "another password", StaffRole.AGENT)
    with pytest.raises(ValueError, match="role"):
        store.staff.create("bob", "another password", "owner")


def test_the_bootstrap_account_is_an_admin_made_once(store: CRMStore) -> None:
    password = ensure_admin(store.staff, None)
    admin = store.staff.authenticate(ADMIN_USERNAME, password)
    assert admin.role == "admin"
    assert admin.role.allows(StaffRole.SUPERVISOR)
    assert ensure_admin(store.staff, "another password") is None
    assert [account.username for account in store.staff.list()] == [ADMIN_USERNAME]
