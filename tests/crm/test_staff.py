"""Staff accounts on SQLite and PostgreSQL: passwords, unique names, known roles only."""

from __future__ import annotations

import pytest

from bot.crm.enums import StaffRole
from bot.crm.store import CRMStore
from bot.crm.store.staff import InvalidUsername
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


@pytest.mark.parametrize("lookalike", ["admin ", " admin", "Admin", "ADMIN", "ａｄｍｉｎ"])
def test_a_username_has_one_spelling_whatever_the_case_or_width(
    store: CRMStore, lookalike: str
) -> None:
    created = store.staff.create("admin", "correct horse battery", StaffRole.ADMIN)

    with pytest.raises(ValueError, match="already exists"):
        store.staff.create(lookalike, "another password", StaffRole.AGENT)
    assert store.staff.authenticate(lookalike, "correct horse battery") == created
    assert [account.username for account in store.staff.list()] == ["admin"]


@pytest.mark.parametrize(
    "username",
    [
        "\u0430dmin",  # Cyrillic a
        "ad\u200bmin",  # zero-width space
        "\u202enimda",  # right-to-left override
        "ad\u00admin",  # soft hyphen
        "ad min",
        "ad\tmin",
        "ad\x00min",
        "josé",
        "a",
        "-admin",
        "",
        "a" * 81,
    ],
)
def test_lookalike_and_invisible_usernames_are_refused(store: CRMStore, username: str) -> None:
    with pytest.raises(InvalidUsername, match="a-z, 0-9"):
        store.staff.create(username, "correct horse battery", StaffRole.AGENT)
    assert store.staff.list() == []
    assert store.staff.authenticate(username, "correct horse battery") is None


def test_usernames_of_the_rule_are_kept_as_typed_in_lower_case(store: CRMStore) -> None:
    for username in ("ab", "queue-agent", "j.smith_2", "0day", "a" * 80):
        assert store.staff.create(username, "correct horse battery", StaffRole.AGENT).username == (
            username
        )
    assert store.staff.create("Mixed.Case", "correct horse battery", StaffRole.AGENT).username == (
        "mixed.case"
    )
