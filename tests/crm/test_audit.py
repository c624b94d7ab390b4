"""The audit log on SQLite and PostgreSQL: entries, filters, paging, and no rewriting history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.crm.enums import AuditAction, StaffRole
from bot.crm.store import CRMStore, InvalidCursor, StaffInfo
from bot.crm.store.base import encode_cursor
from tests.crm.conftest import Clock


@pytest.fixture
def staff(store: CRMStore) -> tuple[StaffInfo, StaffInfo]:
    return (
        store.staff.create("ana", "ana-password-1", StaffRole.AGENT),
        store.staff.create("boss", "boss-password-1", StaffRole.SUPERVISOR),
    )


def test_an_entry_records_who_did_what_to_which_record(
    store: CRMStore, staff: tuple[StaffInfo, StaffInfo], clock: Clock
) -> None:
    ana, _ = staff
    entry_id = store.audit.record(
        ana, AuditAction.READ_CUSTOMER, "customer", "7", customer_id=7, detail={"fields": ["cards"]}
    )
    entries, cursor = store.audit.list()
    assert cursor is None
    assert entries == [
        {
            "id": entry_id,
            "at": "2026-11-20T09:00:00Z",
            "actor_id": ana.id,
            "actor_username": "ana",
            "action": "read_customer",
            "target_type": "customer",
            "target_id": "7",
            "customer_id": 7,
            "detail": {"fields": ["cards"]},
        }
    ]


def test_only_known_actions_are_recorded(
    store: CRMStore, staff: tuple[StaffInfo, StaffInfo]
) -> None:
    with pytest.raises(ValueError):
        store.audit.record(staff[0], "delete_everything", "customer", "1")
    assert store.audit.list() == ([], None)


def test_entries_page_newest_first_with_a_cursor(
    store: CRMStore, staff: tuple[StaffInfo, StaffInfo], clock: Clock
) -> None:
    ana, _ = staff
    ids = []
    for index in range(5):
        ids.append(
            store.audit.record(ana, AuditAction.READ_CONVERSATION, "conversation", f"c{index}")
        )
        if index != 2:  # entries 2 and 3 share a time: the id orders them
            clock.advance(seconds=1)
    pages, cursor = [], None
    while True:
        page, cursor = store.audit.list(limit=2, cursor=cursor)
        pages.append([entry["id"] for entry in page])
        if cursor is None:
            break
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


def test_entries_filter_by_actor_customer_and_time(
    store: CRMStore, staff: tuple[StaffInfo, StaffInfo], clock: Clock
) -> None:
    ana, boss = staff
    start = clock.now
    early = store.audit.record(ana, AuditAction.READ_CUSTOMER, "customer", "1", customer_id=1)
    clock.advance(hours=1)
    middle = store.audit.record(boss, AuditAction.READ_CUSTOMER, "customer", "1", customer_id=1)
    clock.advance(hours=1)
    late = store.audit.record(ana, AuditAction.READ_CUSTOMER, "customer", "2", customer_id=2)

    def ids(**filters) -> list[int]:
        return [entry["id"] for entry in store.audit.list(**filters)[0]]

    assert ids(actor="ana") == [late, early]
    assert ids(actor="nobody") == []
    assert ids(customer_id=1) == [middle, early]
    assert ids(since=start + timedelta(hours=1)) == [late, middle]
    assert ids(until=start + timedelta(hours=1)) == [early]
    assert ids(since=start, until=start + timedelta(hours=2), customer_id=1, actor="boss") == [
        middle
    ]
    in_paris = start.astimezone(ZoneInfo("Europe/Paris")) + timedelta(minutes=30)
    assert ids(since=in_paris) == [late, middle], "times in any zone compare as UTC"


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor!", encode_cursor(datetime(2026, 1, 1, tzinfo=timezone.utc), "not-an-id")],
)
def test_a_forged_cursor_is_rejected(store: CRMStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        store.audit.list(cursor=cursor)


def test_the_database_refuses_to_change_or_delete_entries(
    store: CRMStore, staff: tuple[StaffInfo, StaffInfo]
) -> None:
    entry_id = store.audit.record(staff[0], AuditAction.LOGIN, "staff", str(staff[0].id))
    statements = [
        "UPDATE audit_log SET action = 'logout'",
        "DELETE FROM audit_log",
    ]
    if store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    entries, _ = store.audit.list()
    assert [(entry["id"], entry["action"]) for entry in entries] == [(entry_id, "login")]
