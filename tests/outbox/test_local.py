"""The local outbox file: order, durability across reopening, privacy, dead letters, purge."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.outbox.local import EntryKind, LocalOutbox, outbox_path, purge_conversations
from bot.outbox.status import outbox_status
from bot.settings import load_settings


def test_entries_come_back_in_order_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "rasa-1.sqlite3"
    outbox = LocalOutbox(path)
    for index in range(5):
        outbox.append(EntryKind.EVENT, f"conv-{index % 2}", {"n": index})
    outbox.delete([outbox.head(limit=1)[0].id])
    outbox.close()

    reopened = LocalOutbox(path)
    entries = reopened.head()
    assert [entry.payload["n"] for entry in entries] == [1, 2, 3, 4]
    assert [entry.conversation_id for entry in entries] == ["conv-1", "conv-0", "conv-1", "conv-0"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    reopened.close()


def test_an_append_wakes_the_relay(tmp_path: Path) -> None:
    outbox = LocalOutbox(tmp_path / "rasa-1.sqlite3")
    outbox.appended.clear()
    outbox.append(EntryKind.MESSAGE, "conv", {})
    assert outbox.appended.is_set()
    outbox.close()


def test_a_buried_entry_leaves_the_line_and_is_kept(tmp_path: Path) -> None:
    outbox = LocalOutbox(tmp_path / "rasa-1.sqlite3")
    outbox.append(EntryKind.EVENT, "conv", {"n": 1})
    outbox.append(EntryKind.EVENT, "conv", {"n": 2})
    first = outbox.head()[0]
    assert [outbox.failed_attempt(first.id) for _ in range(2)] == [1, 2]
    outbox.bury(first, "ValueError('bad')")
    assert [entry.payload["n"] for entry in outbox.head()] == [2]
    with outbox._transaction() as connection:
        assert connection.execute("SELECT error FROM dead").fetchall() == [("ValueError('bad')",)]
    outbox.close()


def test_purge_removes_those_conversations_from_every_outbox(tmp_path: Path) -> None:
    first, second = (
        LocalOutbox(tmp_path / "rasa-1.sqlite3"),
        LocalOutbox(tmp_path / "rasa-2.sqlite3"),
    )
    for outbox in (first, second):
        for conversation in ("erased", "kept", "erased"):
            outbox.append(EntryKind.EVENT, conversation, {"text": "secret"})
    first.bury(first.head()[0], "dead too")

    assert purge_conversations(tmp_path, ["erased", "unknown"]) == 4
    assert purge_conversations(tmp_path, ["erased"]) == 0
    assert [entry.conversation_id for entry in first.head() + second.head()] == ["kept", "kept"]
    with first._transaction() as connection:
        assert connection.execute("SELECT count(*) FROM dead").fetchone() == (0,)
    assert purge_conversations(tmp_path / "none", ["erased"]) == 0


def test_each_rasa_server_has_its_own_file(tmp_path: Path) -> None:
    settings = load_settings(
        {"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "k", "RASA_PORT": "5301"}
    )
    assert outbox_path(settings) == tmp_path / "outbox" / "rasa-5301.sqlite3"


def test_status_counts_a_file_being_created_as_empty(tmp_path: Path) -> None:
    """/healthz must not fail in the moment between the file's creation and its tables."""
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "k"})
    settings.outbox_dir.mkdir()
    (settings.outbox_dir / "rasa-5301.sqlite3").touch()
    assert outbox_status(settings) == {"backlog": 0, "oldest_age_s": None, "dead": 0}


def test_a_turns_writes_go_in_together_and_in_order(tmp_path: Path) -> None:
    outbox = LocalOutbox(tmp_path / "rasa-1.sqlite3")
    assert outbox.append_many(EntryKind.EVENT, []) == []
    outbox.appended.clear()
    ids = outbox.append_many(EntryKind.EVENT, [("conv", {"n": 1}), ("conv", {"n": 2})])
    assert outbox.appended.is_set()
    assert [(entry.id, entry.payload["n"]) for entry in outbox.head()] == [(ids[0], 1), (ids[1], 2)]
    outbox.delete(ids)
    assert outbox.head() == []
    outbox.close()
